"""Erasure (docs/instruments.md, withdrawals at level data): after the chain, nothing of an
erased participant is left in any table, archived file or log; the marts equal a run in which
their rows were never sent; the ledger records every rewrite; a later file naming them loads
without them. The generator withdraws some participants of every study at level data."""

from __future__ import annotations

import csv
import gzip
import hashlib
import logging
import os
import shutil
from pathlib import Path

import pytest

from hhp import ledger
from hhp.pseudonymise import pseudonym
from hhp.sql import quote_identifier
from hhp.warehouse import open_warehouse
from ingest.adapters import ADAPTERS

from .conftest import ALL_MARTS, STUDY, VOLATILE_COLUMNS, differing_marts, mart_rows, run_chain, settings_for

KEY = os.environ["HHP_PSEUDONYM_KEY"].encode()


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def erased_people(tree: Path) -> dict[str, list[dict]]:
    """Per study, the allocation rows of everyone its last register withdraws at level data."""
    people = {}
    for study in sorted(p.name for p in tree.iterdir() if p.is_dir()):
        register = sorted((tree / study / "withdrawals").glob("*.csv"))[-1]
        ids = {w["participant_id"] for w in _rows(register) if w["level"] == "data"}
        allocation = next((tree / study / "allocation").glob("*.csv"))
        people[study] = [row for row in _rows(allocation) if row["participant_id"] in ids]
    return people


def needles(study: str, people: list[dict]) -> dict[str, str]:
    """What would betray each person: ids, identifiers and their pseudonyms -> a label."""
    found = {}
    for person in people:
        pid, email, number = person["participant_id"], person["email"], person["employee_number"]
        found |= {
            pid: f"{pid}: participant id",
            email: f"{pid}: email",
            number: f"{pid}: employee number",
            pseudonym(KEY, f"{study}:{email.lower()}"): f"{pid}: email pseudonym",
            pseudonym(KEY, f"{study}:{number.upper()}"): f"{pid}: employee pseudonym",
        }
    return found


def _text(path: Path) -> str:
    content = path.read_bytes()
    return (gzip.decompress(content) if content[:2] == b"\x1f\x8b" else content).decode("utf-8", "replace")


def files_holding(root: Path, found: dict[str, str], skip=()) -> list[str]:
    hits = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not any(part in skip for part in path.parts) and path.suffix != ".duckdb":
            text = _text(path)
            hits += [
                f"{path.relative_to(root)}: {label}" for needle, label in found.items() if needle in text
            ]
    return hits


def tables_holding(settings, found: dict[str, str]) -> list[str]:
    """Every text column of every table and view that holds a needle (whole or in part); the
    register's participant ids are the one thing kept."""
    hits = []
    with open_warehouse(settings.transformer) as wh:
        columns = wh.query(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type in ('VARCHAR', 'text', 'character varying') "
            "and table_schema not in ('information_schema', 'pg_catalog') order by 1, 2, 3"
        )
        for schema, table, column in columns:
            if (schema, table, column) == ("raw", "withdrawal_csv", "participant_id"):
                continue
            name = f"{quote_identifier(schema)}.{quote_identifier(table)}"
            values = list(found)
            text = f"cast({quote_identifier(column)} as varchar)"
            condition = " or ".join([f"strpos({text}, %s) > 0"] * len(values))
            (count,) = wh.query(f"select count(*) from {name} where {condition}", values)[0]
            if count:
                hits.append(f"{schema}.{table}.{column}: {count} row(s)")
    return hits


def _scan(settings, tree: Path) -> None:
    people = erased_people(tree)
    assert all(people.values()), people  # every study erases someone
    found = {k: v for study, group in people.items() for k, v in needles(study, group).items()}
    assert tables_holding(settings, found) == []
    assert files_holding(Path(settings.archive), found, skip=("withdrawals",)) == []
    assert files_holding(Path(settings.home), found, skip=("withdrawals", "archive")) == []
    with open_warehouse(settings.transformer) as wh:
        erased = dict(wh.query("select study_id, sum(participants) from ops.erasures group by study_id"))
        rewrites = wh.query(
            "select file_key, state, old_sha256, new_sha256, rows_removed from ops.file_rewrites"
        )
    assert erased == {study: len(group) for study, group in people.items()}
    assert {state for _, state, *_ in rewrites} == {"done"}
    changed = [(key, new) for key, _, old, new, removed in rewrites if removed]
    assert changed and all(old != new for _, _, old, new, removed in rewrites if removed)
    with open_warehouse(settings.transformer) as wh:  # raw holds what was loaded, less what was erased
        held = ledger.rows_held(wh)
        for fmt in ADAPTERS:
            for key, rows in wh.query(f"select _file_key, count(*) from raw.{fmt} group by _file_key"):
                assert held.get(key) == rows, (key, rows, held.get(key))
    for key, new in changed:  # the archive holds what the ledger says it does
        assert hashlib.sha256((Path(settings.archive) / key).read_bytes()).hexdigest() == new, key


def test_nothing_of_an_erased_participant_is_left_on_duckdb(programme_chain, programme_files):
    _scan(programme_chain, programme_files)


@pytest.mark.postgres
def test_nothing_of_an_erased_participant_is_left_on_postgres(postgres_chain, programme_files):
    _scan(postgres_chain, programme_files)


@pytest.mark.slow
def test_the_marts_equal_a_run_in_which_their_rows_were_never_sent(duckdb_chain, tmp_path):
    """The archive after the erasure, as a partner would have sent it without them (their
    register rows too), gives the same marts as the chain that erased them."""
    never_sent = tmp_path / "never_sent"
    shutil.copytree(duckdb_chain.archive, never_sent)
    for register in (never_sent / STUDY / "withdrawals").glob("*.csv"):
        rows = [r for r in _rows(register) if r["level"] != "data"]
        with open(register, "w", newline="") as handle:
            writer = csv.DictWriter(handle, ["participant_id", "withdrawn_on", "level", "reason_code"])
            writer.writeheader()
            writer.writerows(rows)
    settings = settings_for(tmp_path / "home")
    run_chain(settings, never_sent, with_report=False)
    with open_warehouse(settings) as wh:
        assert wh.query("select count(*) from ops.erasures") == [(0,)]
    erased = mart_rows(duckdb_chain, ALL_MARTS, VOLATILE_COLUMNS)
    assert differing_marts(erased, mart_rows(settings, ALL_MARTS, VOLATILE_COLUMNS)) == []


def test_a_later_file_naming_them_loads_without_them(duckdb_chain, generated, tmp_path, caplog):
    from ingest.landing import open_landing
    from pipeline import chain

    home = tmp_path / "home"
    shutil.copytree(duckdb_chain.home, home)
    settings = settings_for(home)
    person = erased_people(generated)[STUDY][0]
    roster = sorted((generated / STUDY / "roster").glob("hr_roster_2*.csv"))[-1]
    rows = [r for r in _rows(roster) if r["employee_number"] == person["employee_number"]]
    staying = {r["employee_number"] for r in _rows(next((generated / STUDY / "allocation").glob("*.csv")))}
    staying.discard(person["employee_number"])
    others = [r for r in _rows(roster) if r["employee_number"] in staying][:3]
    assert rows and others
    later = tmp_path / "hr_roster_2027-01-31.csv"
    with open(later, "w", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        for row in rows + others:
            writer.writerow(row | {"snapshot_date": "2027-01-31"})
    key = f"{STUDY}/roster/{later.name}"
    open_landing(settings).put(later, key)
    # and the partner sends an old extract again, as it was before the erasure, under a new name
    resent = f"{STUDY}/roster/{roster.stem}_again_2027-02-01.csv"
    open_landing(settings).put(roster, resent)
    with caplog.at_level(logging.DEBUG):
        results = {r.file_key: r for r in chain.ingest(settings)}
    result = results[key]
    assert (result.state, result.rows) == ("loaded", len(others))
    assert results[resent].state == "loaded" and "same content as" in results[resent].reason
    found = needles(STUDY, [person])
    assert files_holding(Path(settings.archive), found, skip=("withdrawals",)) == []
    assert [m for m in caplog.messages if any(n in m for n in found)] == []
    with open_warehouse(settings) as wh:
        (notes,) = wh.query("select notes from ops.landed_files where file_key = %s", [key])[0]
        rewrite = wh.query("select state, rows_removed from ops.file_rewrites where file_key = %s", [key])
    assert "1 row(s) of participants whose data was erased not loaded" in notes
    assert rewrite == [("done", 1)]
    assert tables_holding(settings, found) == []
