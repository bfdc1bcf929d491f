"""No generated email or employee number appears anywhere in the warehouse."""

from __future__ import annotations

import os
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
    """Every text column of every table and view: (columns scanned, columns holding identifiers)."""
    identifiers = {"name": set(), "ip": set(), **identifiers}
    found, scanned = [], 0
    with open_warehouse(settings.transformer) as wh:
        for schema, table, column in _text_columns(wh):
            values = [v for (v,) in wh.query(f'select distinct "{column}" from {schema}."{table}"') if v]
            scanned += 1
            hits = _hits("\n".join(values), identifiers)
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


EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")
MESSAGE_ID_DOMAIN = "@mail.example"  # message ids shaped like addresses name no one


def _every_identifier(tree) -> dict[str, set[str]]:
    """Every email, employee number, name and IP address in the partners' files."""
    import csv

    found: dict[str, set[str]] = {"email": set(), "employee_number": set(), "name": set(), "ip": set()}
    for path in tree.rglob("*.*"):
        if path.name == "truth.json":
            continue
        text = _partner_text(path)
        found["email"] |= {e.lower() for e in EMAIL.findall(text) if not e.endswith(MESSAGE_ID_DOMAIN)}
        found["ip"] |= set(IPV4.findall(text))
        if path.name.removesuffix(".gz").endswith(".csv"):
            lines = text.splitlines()
            rows = list(csv.DictReader(lines[1:] if lines[0].startswith("#TYPE") else lines))
            for row in rows:
                for column in ("employee_number", "Employee Number"):
                    if row.get(column):
                        found["employee_number"].add(row[column])
                if row.get("RecipientFirstName") and row.get("RecipientLastName"):
                    found["name"].add(f"{row['RecipientFirstName']} {row['RecipientLastName']}".lower())
    return found


def _partner_text(path) -> str:
    """A partner file's text, whichever real-export variant it came in (gzip, a byte-order mark)."""
    import gzip

    content = path.read_bytes()
    return (gzip.decompress(content) if path.name.endswith(".gz") else content).decode("utf-8-sig")


def _hits(text: str, identifiers: dict[str, set[str]]) -> list[str]:
    lowered = text.lower()
    employee = re.compile(
        r"(?<![0-9A-Za-z])(" + "|".join(map(re.escape, identifiers["employee_number"])) + r")(?![0-9A-Za-z])"
    )
    return (
        [e for e in identifiers["email"] if e in lowered]
        + [n for n in identifiers["name"] if n in lowered]
        + sorted(set(employee.findall(text)))
        + sorted(set(IPV4.findall(text)) & identifiers["ip"])
    )


def _identifier_laden_bad_inputs(tree) -> dict[str, bytes]:
    """Bad files whose broken cells hold identifiers, so that a reason quoting them would leak."""
    import csv
    import io

    def rows_of(folder: str) -> list[list[str]]:
        return list(csv.reader(io.StringIO(_partner_text(sorted((tree / folder).glob("*.csv"))[0]))))

    allocation, leavers = rows_of("mod_ding/allocation"), rows_of("mod_ding/leavers")
    # by name: the generator writes mod_ding's allocation with its columns in another order
    employee = allocation[1][allocation[0].index("employee_number")]
    email = allocation[1][allocation[0].index("email")]

    def as_bytes(rows) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        return buffer.getvalue().encode()

    reason = leavers[0].index("leaving_reason")
    leavers[2][reason] = f"Dismissed: {email} {employee} from 10.20.30.40"
    duplicated = [allocation[0], allocation[1], allocation[1], *allocation[2:]]
    return {
        "mod_ding/leavers/hr_leavers_2026-07-02.csv": as_bytes(leavers),
        "mod_ding/allocation/allocation_2026-03-06.csv": as_bytes(duplicated),
        "mod_ding/leavers/hr_leavers_2026-07-03.csv": as_bytes(
            [leavers[0], [employee, email, "resignation", "01/05/2026"]]
        ),
    }


@pytest.mark.slow
def test_no_identifier_in_the_warehouse_logs_or_quarantine_reasons_of_a_demo_run(tmp_path):
    """The whole demo, then the bad-input corpus, with logs at INFO: no email, employee number,
    name or IP address of the generated data anywhere we write."""

    from hhp.config import load_settings
    from ingest.landing import REASON_SUFFIX

    from .conftest import run_hhp
    from .test_ingest import _bad_inputs

    home = tmp_path / "home"
    settings = load_settings({"HHP_HOME": str(home), "HHP_PSEUDONYM_KEY": os.environ["HHP_PSEUDONYM_KEY"]})

    def hhp(*args: str) -> str:
        done = run_hhp(settings, *args, HHP_LOG_LEVEL="INFO")
        return done.stdout + done.stderr

    logs = hhp("demo")
    generated = home / "generated"
    identifiers = _every_identifier(generated)
    sizes = {kind: len(values) for kind, values in identifiers.items()}
    assert min(sizes.values()) >= 20, sizes
    assert _hits((generated / "mod_ding/allocation").glob("*.csv").__next__().read_text(), identifiers)

    corpus = {key: content for key, content, _, _ in _bad_inputs(generated).values()}
    corpus |= _identifier_laden_bad_inputs(generated)
    for key, content in corpus.items():
        target = home / "landing" / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    logs += hhp("ingest") + hhp("status")

    with open_warehouse(settings) as wh:
        reasons = [r for (r,) in wh.query("select reason from ops.landed_files where state = 'quarantined'")]
    assert len(reasons) == len(corpus)
    assert any("(e.g. 'D*******" in r for r in reasons), reasons  # the example is shown, masked
    # what we write; the partners' own files, archived and quarantined as they came, are theirs
    written = [p for f in ("dbt/logs", "reports", "data_docs") for p in (home / f).rglob("*") if p.is_file()]
    written = [p for p in written if p.suffix != ".duckdb"]
    written += (home / "quarantine").rglob("*" + REASON_SUFFIX)
    texts = {str(p.relative_to(home)): p.read_text(errors="replace") for p in written}
    assert "INFO" in logs and "dbt/logs/dbt.log" in texts
    assert sum(name.endswith(REASON_SUFFIX) for name in texts) == len(corpus)

    found = {name: _hits(text, identifiers) for name, text in {"logs": logs, **texts}.items()}
    assert {name: hits for name, hits in found.items() if hits} == {}
    key = os.environ["HHP_PSEUDONYM_KEY"]  # nor the key: not logged, not written, not stored
    assert key not in logs and not [name for name, text in texts.items() if key in text]
    stored = (home / "warehouse.duckdb").read_bytes()
    assert key.encode() not in stored and key.encode().hex().encode() not in stored
    scanned, in_warehouse = _scan(settings, identifiers)
    assert scanned > 50 and in_warehouse == []
    assert not set(_hits("\n".join(reasons), identifiers))
