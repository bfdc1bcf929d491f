"""No generated email or employee number appears anywhere in the warehouse."""

from __future__ import annotations

import re

import pytest

from hhp.warehouse import open_warehouse

TEXT_TYPES = ("VARCHAR", "TEXT", "CHARACTER VARYING")


def _text_columns(wh) -> list[tuple[str, str, str]]:
    return wh.query(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where upper(data_type) in ('VARCHAR', 'TEXT', 'CHARACTER VARYING') "
        "and table_schema not in ('information_schema', 'pg_catalog')"
    )


def _scan(settings, identifiers) -> tuple[int, list[str]]:
    emails = {e.lower() for e in identifiers["email"]}
    # an employee number counts where it stands alone, not inside a longer hex id or pseudonym
    employee = re.compile(
        r"(?<![0-9A-Za-z])(" + "|".join(map(re.escape, identifiers["employee_number"])) + r")(?![0-9A-Za-z])",
        re.I,
    )
    found, scanned = [], 0
    with open_warehouse(settings) as wh:
        for schema, table, column in _text_columns(wh):
            values = [v for (v,) in wh.query(f'select distinct "{column}" from {schema}."{table}"') if v]
            blob = "\n".join(values)
            scanned += 1
            lowered = blob.lower()
            hits = [e for e in emails if e in lowered] + employee.findall(blob)
            if hits:
                found.append(f"{schema}.{table}.{column}: {len(hits)} identifiers")
    return scanned, found


def test_no_identifier_in_any_text_column_duckdb(duckdb_chain, identifiers):
    scanned, found = _scan(duckdb_chain, identifiers)
    assert scanned > 50
    assert found == []


@pytest.mark.postgres
def test_no_identifier_in_any_text_column_postgres(postgres_chain, programme_files):
    from .conftest import allocation_identifiers

    scanned, found = _scan(postgres_chain, allocation_identifiers(programme_files))
    assert scanned > 50
    assert found == []
