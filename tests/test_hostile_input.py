"""A landing-area writer's worst: hostile file names, header cells, JSON keys and cells, for
every format, landed locally and on S3 (a moto server on 127.0.0.1).

Each file is a sound slice of a generated partner file (a different slice for each name,
so no two share content and every one is parsed). Afterwards the warehouse holds exactly
the tables, views, macros, schemas and databases it held before, no file has appeared
outside the platform's folders, every file is loaded (its rows and key stored as sent)
or quarantined with its true reason, and every reason is one line.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from hhp.pseudonymise import shown_safely

from .conftest import settings_for

pytestmark = pytest.mark.slow

# format -> (study, feed) whose generated file is sliced
SAMPLES = {
    "allocation_csv": ("tea_coffee", "allocation"),
    "hr_roster_csv": ("tea_coffee", "roster"),
    "hr_leavers_csv": ("tea_coffee", "leavers"),
    "esr_absence_csv": ("tea_coffee", "absence"),
    "qualtrics_csv": ("tea_coffee", "survey"),
    "hris_absence_json": ("mod_ding", "absence"),
    "exchange_message_trace_csv": ("mod_ding", "delivery"),
    "sendgrid_events_jsonl": ("dispatch_stories", "delivery"),
    "redcap_csv": ("dispatch_stories", "survey"),
    "postal_dispatch_csv": ("gratitude_letters", "delivery"),
    "xapi_statements_json": ("goal_setting", "delivery"),
}
HEADER_LINES = {"qualtrics_csv": 3}
# the name the issue reported: it ran a second statement in the warehouse
REPORTED = (
    "*', header=false, skip=1, columns={'a':'VARCHAR'}, delim='|', auto_detect=false); "
    "create table main.pwned as select 42 as x; select * from read_csv('*', --"
)
# names any partner's system might produce, and an attacker's: all load when the file is sound
LOADING_NAMES = [
    REPORTED,
    "o'brien_roster",
    "x'); drop table raw.hr_leavers_csv; --",
    'a"; drop table ops.landed_files; --',
    "'; copy (select 42) to 'pwned.csv'; --",
    "'); copy raw.allocation_csv to 'pwned_copy.csv' (header); --",
    "'; attach 'pwned.duckdb' as p; create table p.t as select 1; --",
    "'; install httpfs; load httpfs; --",
    "' || (select 42) || '",
    "*",
    "?[a-z]*{x,y}",
    "-- comment",
    "semi; colons; select 1;",
    "$(touch pwned) `id`",
    "%s %d {0} {path}",
    "''''",
    '""""',
    "name with  spaces (final) [v2]",
    "Ünïcödé 名前 données ÅÄÖ",
    "emoji 😀 file",
    "x" * 170,
]
# names refused with the rule they break (file name)
REFUSED_NAMES = {
    "line\nbreak": "control character(s) \\x0a",
    "tab\there": "control character(s) \\x09",
    "\x1b[31mred": "control character(s) \\x1b",
    "right-to-left \u202egnp.exe": "control character(s) \\u202e",
    "back\\slash": "path separator ('\\')",
    "comment */ x /*": "with no '/' in the name [rule: landing layout]",
    "y" * 230: "bytes long; at most 200",
}
HOSTILE_HEADERS = [
    'x"); drop table raw.allocation_csv; --',
    "a'b",
    "'; attach 'pwned.duckdb' as p; --",
    "名前 ✓",
    "line\nbreak",
]
HOSTILE_CELL = 'x\'); drop table raw.hr_roster_csv; select "1"; --'


@dataclass
class Sample:
    fmt: str
    study: str
    feed: str
    date_and_ext: str  # "_2026-05-12.csv"
    header: list[list[str]]
    records: list  # CSV rows, JSON lines (as objects) or statements


def _json_values(text: str) -> list:
    """Every object in a sequence of JSON values, lists of objects flattened (webhook bodies)."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while (at := len(text) - len(text[at:].lstrip())) < len(text):
        value, at = decoder.raw_decode(text, at)
        found += value if isinstance(value, list) else [value]
    return found


def _load_sample(files: Path, fmt: str) -> Sample:
    """The study's largest file of the format, in its standard form (whichever real-export
    variant the generator wrote it in)."""
    study, feed = SAMPLES[fmt]
    path = max((files / study / feed).iterdir(), key=lambda p: (p.stat().st_size, p.name))
    name = path.name.removesuffix(".gz")
    text = (gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()).decode(
        "utf-8-sig"
    )
    date_and_ext = name[name.rindex("_") :]
    if name.endswith(".csv"):
        rows = list(csv.reader(io.StringIO(text, newline="")))
        rows = rows[1:] if rows[0][0].startswith("#TYPE") else rows
        lines = HEADER_LINES.get(fmt, 1)
        return Sample(fmt, study, feed, date_and_ext, rows[:lines], rows[lines:])
    if name.endswith(".jsonl"):
        return Sample(fmt, study, feed, date_and_ext, [], _json_values(text))
    return Sample(fmt, study, feed, date_and_ext, [], json.loads(text)["statements"])


def _write(sample: Sample, target: Path, records: list, header: list[list[str]] | None = None,
           extra_key: str | None = None) -> int:  # fmt: skip
    """Write records in the sample's format; returns the rows they make in raw."""
    if sample.header:
        with open(target, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows((header or sample.header) + records)
        return len(records)
    if extra_key is not None:
        records = [{**r, extra_key: "hostile"} for r in records]
    if sample.fmt == "xapi_statements_json":
        target.write_text(json.dumps({"statements": records, "more": ""}), encoding="utf-8")
    else:
        target.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    if sample.fmt == "hris_absence_json":
        return sum(len(r["time_off"]) for r in records)
    return len(records)


@dataclass
class Expected:
    key: str
    state: str
    rows: int = 0
    reason: str = ""  # a part the reason must hold
    undeclared: str | None = None  # a column name the ledger must record as sent, unread


def _hostile_files(
    files: Path, out: Path, slice_rows: int = 2
) -> tuple[list[tuple[Path, str]], list[Expected]]:
    """(file, landing key) for every hostile case, and what each must end as."""
    landed, expected = [], []
    for fmt in SAMPLES:
        sample = _load_sample(files, fmt)
        folder = out / fmt
        folder.mkdir(parents=True)
        cases = [(name, None, None) for name in [*LOADING_NAMES, *REFUSED_NAMES]]
        if sample.header:
            cases += [(f"header {i}", cell, None) for i, cell in enumerate(HOSTILE_HEADERS)]
        else:
            cases += [(f"key {i}", None, cell) for i, cell in enumerate(HOSTILE_HEADERS)]
        for i, (name, header_cell, json_key) in enumerate(cases):
            records = sample.records[i : i + slice_rows]
            assert len(records) == slice_rows, f"{fmt}: the sample is too short for the corpus"
            header = None
            if header_cell is not None:
                header = [list(row) for row in sample.header]
                # an undeclared column, named by an attacker (in each of Qualtrics' header rows)
                header = [[*row, header_cell] for row in header]
                records = [[*row, "x"] for row in records]
            source = folder / f"{i}{sample.date_and_ext}"
            rows = _write(sample, source, records, header, json_key)
            key = f"{sample.study}/{sample.feed}/{name}{sample.date_and_ext}"
            landed.append((source, key))
            if name in REFUSED_NAMES:
                reason = REFUSED_NAMES[name]
                reason += "" if "[rule:" in reason else " [rule: file name]"
                expected.append(Expected(key, "quarantined", 0, reason))
            elif header_cell is not None:  # a column the format does not declare: unread, named in the ledger
                expected.append(Expected(key, "loaded", rows, undeclared=shown_safely(header_cell)))
            else:
                named = shown_safely(json_key) if json_key is not None else None
                expected.append(Expected(key, "loaded", rows, undeclared=named))
    # a sound roster whose job role is SQL: stored as sent
    sample = _load_sample(files, "hr_roster_csv")
    source = out / "cell.csv"
    column = sample.header[0].index("job_role")
    record = list(sample.records[-1])
    record[column] = HOSTILE_CELL
    _write(sample, source, [record])
    key = f"{sample.study}/{sample.feed}/cell{sample.date_and_ext}"
    landed.append((source, key))
    expected.append(Expected(key, "loaded", 1))
    return landed, expected


POSTGRES_CATALOGUE = {
    "schemas": "select nspname from pg_namespace where nspname not like 'pg_temp%' "
    "and nspname not like 'pg_toast_temp%' order by 1",
    "relations": "select n.nspname, c.relname, c.relkind, c.relowner::regrole::text "
    "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
    "where n.nspname not like 'pg_temp%' and n.nspname not like 'pg_toast%' order by 1, 2",
    "columns": "select table_schema, table_name, column_name, data_type from information_schema.columns "
    "where table_schema not in ('pg_catalog', 'information_schema') order by 1, 2, 3",
    "functions": "select n.nspname, p.proname, md5(p.prosrc) from pg_proc p "
    "join pg_namespace n on n.oid = p.pronamespace order by 1, 2, 3",
    "extensions": "select extname from pg_extension order by 1",
    "event_triggers": "select evtname from pg_event_trigger order by 1",
    "roles": "select rolname, rolsuper, rolcreaterole from pg_roles order by 1",
    "databases": "select datname from pg_database order by 1",
}


def catalogue(settings) -> dict[str, list[tuple]]:
    """Everything a statement could have made in the warehouse, with its definition."""
    from hhp.warehouse import open_warehouse

    if settings.is_postgres:
        with open_warehouse(settings) as wh:
            return {name: wh.query(sql) for name, sql in POSTGRES_CATALOGUE.items()}
    queries = {
        "databases": "select database_name, path, type from duckdb_databases() order by all",
        "schemas": "select database_name, schema_name from duckdb_schemas() order by all",
        "tables": "select database_name, schema_name, table_name, sql from duckdb_tables() order by all",
        "views": "select database_name, schema_name, view_name, sql from duckdb_views() "
        "where not internal order by all",
        "macros": "select database_name, schema_name, function_name, function_type, macro_definition "
        "from duckdb_functions() where not internal and function_type like '%macro%' order by all",
        "sequences": "select database_name, schema_name, sequence_name from duckdb_sequences() order by all",
        "indexes": "select database_name, schema_name, index_name, sql from duckdb_indexes() order by all",
        "secrets": "select name from duckdb_secrets() order by all",
        "extensions": "select extension_name from duckdb_extensions() where loaded order by all",
    }
    with open_warehouse(settings) as wh:
        return {name: wh.query(sql) for name, sql in queries.items()}


def _ledger(settings) -> dict[str, tuple]:
    from hhp.warehouse import open_warehouse

    with open_warehouse(settings) as wh:
        rows = wh.query(
            "select file_key, state, rows_loaded, rows_rejected, reason, undeclared_columns "
            "from ops.landed_files"
        )
    return {row[0]: row[1:] for row in rows}


def _files_outside_platform(work: Path, home: Path) -> set[Path]:
    """Every file under the test's folder (the working folder too) but the platform's own:
    the landing area, archive, quarantine, the warehouse, and the corpus being landed."""
    platform = [home / "landing", home / "archive", home / "quarantine", work / "corpus"]
    return {
        p
        for p in work.rglob("*")
        if not any(folder == p or folder in p.parents for folder in platform)
        and not p.name.startswith("warehouse.duckdb")
    }


def run_corpus(settings, files: Path, work: Path) -> tuple[list[Expected], dict[str, tuple]]:
    from ingest.landing import open_landing
    from pipeline.chain import ingest as ingest_pending

    landing = open_landing(settings)
    for study in {study for study, _ in SAMPLES.values()}:
        allocation = next((files / study / "allocation").iterdir())
        landing.put(allocation, f"{study}/allocation/{allocation.name}")
    assert all(r.state == "loaded" for r in ingest_pending(settings))
    before = catalogue(settings)
    files_before = _files_outside_platform(work, settings.home)

    landed, expected = _hostile_files(files, work / "corpus")
    refused_uploads = set()
    for source, key in landed:
        try:
            landing.put(source, key)
        except Exception:  # an S3 endpoint may refuse a key itself (moto: line breaks and tabs)
            refused_uploads.add(key)
    assert all(any(c in key for c in "\n\t\r") for key in refused_uploads), refused_uploads
    expected = [case for case in expected if case.key not in refused_uploads]
    results = {r.file_key: r for r in ingest_pending(settings)}

    assert catalogue(settings) == before
    assert _files_outside_platform(work, settings.home) == files_before
    assert len(results) == len(expected)
    return expected, _ledger(settings)


def check_outcomes(settings, expected: list[Expected], ledger: dict[str, tuple]) -> None:
    from hhp.warehouse import open_warehouse

    wrong = []
    for case in expected:
        state, rows, rejected, reason, undeclared = ledger[case.key]
        if state != case.state:
            wrong.append(f"{case.key!r}: {state} ({reason}), expected {case.state}")
        elif state == "loaded" and rows + (rejected or 0) != case.rows:
            wrong.append(f"{case.key!r}: {rows} + {rejected} rows, expected {case.rows}")
        elif state == "quarantined" and (case.reason not in reason or "\n" in reason):
            wrong.append(f"{case.key!r}: reason {reason!r}, expected it to hold {case.reason!r}")
        elif case.undeclared is not None and case.undeclared not in json.loads(undeclared or "[]"):
            wrong.append(f"{case.key!r}: undeclared columns {undeclared!r}, expected {case.undeclared!r}")
    assert not wrong, "\n".join(wrong)

    with open_warehouse(settings) as wh:
        for fmt in SAMPLES:
            stored = dict(wh.query(f"select _file_key, count(*) from raw.{fmt} group by _file_key"))
            for case in expected:
                if case.state == "loaded" and case.key in stored:
                    assert stored[case.key] == ledger[case.key][1], case.key  # the key stored as sent
        loaded_keys = {c.key for c in expected if c.state == "loaded"}
        stored_keys = {k for fmt in SAMPLES for (k,) in wh.query(f"select distinct _file_key from raw.{fmt}")}
        assert loaded_keys <= stored_keys
        roles = wh.query("select job_role from raw.hr_roster_csv where _file_key like %s", ["%/cell_%"])
        assert roles == [(HOSTILE_CELL,)]


def test_hostile_names_headers_and_cells_locally(programme_files, tmp_path, monkeypatch):
    home = tmp_path / "home"
    settings = settings_for(home)
    monkeypatch.chdir(tmp_path)  # a relative `copy ... to` would land here
    expected, ledger = run_corpus(settings, programme_files, tmp_path)
    check_outcomes(settings, expected, ledger)
    platform = {
        "archive",
        "landing",
        "quarantine",
        "warehouse.duckdb",
        "warehouse.duckdb.wal",
        "demo_pseudonym.key",
    }
    assert set(os.listdir(home)) <= platform
    quarantined = sorted((home / "quarantine").rglob("*.reason.txt"))
    assert len(quarantined) == sum(c.state == "quarantined" for c in expected)
    assert [p for p in (home / "landing").rglob("*") if p.is_file()] == []


def test_hostile_names_on_s3(programme_files, tmp_path, monkeypatch, moto_endpoint):
    import boto3

    bucket = "hhp-hostile"
    boto3.client("s3").create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
    )
    settings = settings_for(tmp_path / "home", landing=f"s3://{bucket}/landing")
    monkeypatch.chdir(tmp_path)
    expected, ledger = run_corpus(settings, programme_files, tmp_path)
    check_outcomes(settings, expected, ledger)
    s3 = boto3.client("s3")
    landing_left = s3.list_objects_v2(Bucket=bucket, Prefix="landing/").get("KeyCount", 0)
    assert landing_left == 0
    reasons = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="quarantine/").get("Contents", [])
               if o["Key"].endswith(".reason.txt")]  # fmt: skip
    assert len(reasons) == sum(c.state == "quarantined" for c in expected)
    every = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
             for o in page.get("Contents", [])]  # fmt: skip
    assert [key for key in every if not key.startswith(("archive/", "quarantine/"))] == []


@pytest.mark.postgres
def test_hostile_names_into_postgres(programme_files, tmp_path, monkeypatch, postgres_server):
    """The same corpus loaded into PostgreSQL (as hhp_loader): its catalogue unchanged too."""
    server = postgres_server.another_database("hhp_hostile").provision_roles()
    settings = settings_for(tmp_path / "home", server)
    monkeypatch.chdir(tmp_path)
    expected, ledger = run_corpus(settings, programme_files, tmp_path)
    check_outcomes(settings, expected, ledger)


HOSTILE_ITEM = "Q1_1\"); drop table raw.qualtrics_csv; select ('1"
HOSTILE_PATTERN = r"^(?:'\); drop table raw.exchange_message_trace_csv; --)?Week (\d+):"


def test_hostile_registry_values(generated, tmp_path, monkeypatch):
    """A registry whose survey item column and message pattern are SQL: the study's files load
    with the values under the canonical columns, and nothing else happens."""
    import yaml

    from hhp.registry import load_registry
    from hhp.warehouse import open_warehouse
    from ingest.landing import open_landing
    from ingest.service import prepare_warehouse
    from pipeline.chain import ingest as ingest_pending

    from .conftest import STUDY

    studies = tmp_path / "studies"
    shutil.copytree(Path(__file__).resolve().parents[1] / "studies", studies)
    registry = yaml.safe_load((studies / f"{STUDY}.yml").read_text())
    items = registry["feeds"]["survey"]["items"]["SWEMWBS"]
    original_item = items[0]
    items[0] = HOSTILE_ITEM
    registry["feeds"]["delivery"]["message_no_pattern"] = HOSTILE_PATTERN
    (studies / f"{STUDY}.yml").write_text(yaml.safe_dump(registry, sort_keys=False))
    monkeypatch.setenv("HHP_STUDIES", str(studies))

    survey = sorted((generated / STUDY / "survey").iterdir())[0]
    with open(survey, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index(original_item)
    rows[0][column] = HOSTILE_ITEM
    renamed = tmp_path / survey.name
    with open(renamed, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)

    settings = settings_for(tmp_path / "home")
    landing = open_landing(settings)
    for feed in ("allocation", "delivery"):
        for path in sorted((generated / STUDY / feed).iterdir()):
            landing.put(path, f"{STUDY}/{feed}/{path.name}")
    landing.put(renamed, f"{STUDY}/survey/{survey.name}")
    first = ingest_pending(settings)
    assert [r.state for r in first] == ["loaded"] * len(first), [r.reason for r in first]
    assert {r.format for r in first} == {"allocation_csv", "exchange_message_trace_csv", "qualtrics_csv"}

    with open_warehouse(settings) as wh:
        items_loaded = wh.query("select swemwbs_1 from raw.qualtrics_csv order by _row_number")
        unnumbered = wh.query("select count(*) from raw.exchange_message_trace_csv where message_no is null")
    assert [value for (value,) in items_loaded] == [row[column] or None for row in rows[3:]]
    assert unnumbered == [(0,)]
    # the warehouse holds what a warehouse prepared for the registry holds, and nothing else
    untouched = settings_for(tmp_path / "untouched")
    with open_warehouse(untouched) as wh:
        prepare_warehouse(wh, load_registry(studies))
    found, prepared = catalogue(settings), catalogue(untouched)
    assert [(name, kind) for name, _, kind in found.pop("databases")] == [
        (name, kind) for name, _, kind in prepared.pop("databases")
    ]
    assert found == prepared


def test_a_symbolic_link_in_the_landing_folder_is_never_followed(generated, tmp_path):
    """A writer who can make links (SFTP can) points one at the pseudonym key: it is
    quarantined as a link, and nothing of the key reaches the reason or the warehouse."""
    from hhp.warehouse import open_warehouse
    from pipeline.chain import ingest as ingest_pending

    from .conftest import STUDY

    settings = settings_for(tmp_path / "home")
    secret = tmp_path / "secret.csv"
    secret.write_text("employee_number,termination_date,leaving_reason,notice_given_date\nSECRET-VALUE,,,\n")
    link = Path(settings.landing) / STUDY / "leavers" / "hr_leavers_2026-09-21.csv"
    link.parent.mkdir(parents=True)
    link.symlink_to(secret)
    (result,) = ingest_pending(settings)
    assert result.state == "quarantined"
    assert "a symbolic link, not a file" in result.reason and "[rule: file type]" in result.reason
    assert "SECRET" not in result.reason
    with open_warehouse(settings) as wh:
        assert wh.query("select count(*) from raw.hr_leavers_csv") == [(0,)]
    assert (Path(settings.quarantine) / STUDY / "leavers" / link.name).is_symlink()
    assert secret.read_text().startswith("employee_number")  # the target is untouched
