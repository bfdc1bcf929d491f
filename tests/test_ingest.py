"""Ingest: bad input is quarantined whole with a specific reason; re-sent files load once."""

from __future__ import annotations

import csv
import gzip
import io
import shutil
from pathlib import Path

import pytest

from hhp.warehouse import open_warehouse
from ingest.landing import REASON_SUFFIX, open_landing
from pipeline.chain import ingest as ingest_pending

from .conftest import STUDY


def _land(settings, source: Path | bytes, key: str) -> None:
    target = Path(settings.landing) / key
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(source, bytes):
        target.write_bytes(source)
    else:
        shutil.copyfile(source, target)


def _rows_from(settings, table: str, file_key: str) -> int:
    with open_warehouse(settings) as wh:
        if not wh.table_exists("raw", table):
            return 0
        return wh.query(f"select count(*) from raw.{table} where _file_key = %s", [file_key])[0][0]


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def _read_csv(path: Path) -> list[list[str]]:
    """A generated CSV's rows, whichever real-export variant it was written in (a byte-order
    mark, PowerShell's #TYPE line): written back, they are its standard form."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    return rows[1:] if rows and rows[0][0].startswith("#TYPE") else rows


def _first(generated: Path, feed: str, pattern: str = "*") -> Path:
    return sorted((generated / STUDY / feed).glob(pattern))[0]


def _plain_bytes(path: Path) -> bytes:
    """A generated file's text, decompressed if the study's partner sends it gzip-compressed."""
    return gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()


def _without_column(rows: list[list[str]], name: str) -> list[list[str]]:
    index = rows[0].index(name)
    return [r[:index] + r[index + 1 :] for r in rows]


def _set_cell(rows: list[list[str]], column: str, row: int, value: str) -> list[list[str]]:
    rows = [list(r) for r in rows]
    rows[row][rows[0].index(column)] = value
    return rows


def _bad_inputs(generated: Path) -> dict[str, tuple[str, bytes, str, tuple[str, ...]]]:
    """name -> (landing key, content, raw table, phrases the reason must contain)."""
    survey = _read_csv(_first(generated, "survey", "*endline*"))
    allocation = _read_csv(_first(generated, "allocation"))
    roster = _read_csv(_first(generated, "roster"))
    leavers = _read_csv(_first(generated, "leavers"))
    absence = _plain_bytes(_first(generated, "absence"))
    s, a, r = f"{STUDY}/survey", f"{STUDY}/allocation", f"{STUDY}/roster"
    return {
        "qualtrics missing ExternalReference": (
            f"{s}/wellbeing_endline_2026-06-20.csv",
            _csv_bytes(_without_column(survey, "ExternalReference")),
            "qualtrics_csv",
            ("missing column(s) 'ExternalReference'", "rule: columns"),
        ),
        "empty file": (f"{a}/allocation_2026-03-03.csv", b"", "allocation_csv", ("the file is empty",)),
        "header only": (
            f"{a}/allocation_2026-03-04.csv",
            _csv_bytes(allocation[:1]),
            "allocation_csv",
            ("header only",),
        ),
        "not UTF-8": (
            f"{r}/hr_roster_2026-03-01.csv",
            _csv_bytes(roster[:5]) + "Zoë,x\n".encode("latin-1") + _csv_bytes(roster[5:9]),
            "hr_roster_csv",
            ("not valid UTF-8", "line 6"),
        ),
        "unparseable date": (
            f"{STUDY}/leavers/hr_leavers_2026-07-01.csv",
            _csv_bytes(_set_cell(leavers, "termination_date", 3, "2026-05-31")),
            "hr_leavers_csv",
            ("termination_date", "DD/MM/YYYY", "line 4", "rule: parseable date"),
        ),
        "Likert answer outside the scale": (
            f"{s}/wellbeing_endline_2026-06-21.csv",
            _csv_bytes(_set_cell(survey, "Q1_3", 5, "7")),
            "qualtrics_csv",
            ("swemwbs_3", "qualtrics_csv.landing", "line 6"),
        ),
        # a roster's FTE of 3 is a row-level fault on a load_good_rows feed: the row is left out
        # and recorded, not the file quarantined (tests/test_row_faults.py)
        "date years in the future": (
            f"{r}/hr_roster_2026-03-05.csv",
            _csv_bytes(_set_cell(roster, "hire_date", 4, "2031-01-01")),
            "hr_roster_csv",
            ("hire_date", "line 5", "rule: plausible date"),
        ),
        "truncated JSON": (
            f"{STUDY}/absence/hris_time_off_2026-07-01.jsonl",
            absence[: len(absence) // 2],
            "hris_absence_json",
            ("unreadable as the declared format", "Malformed JSON", "line "),
        ),
        "absence ends before it starts": (
            f"{STUDY}/absence/hris_time_off_2026-07-02.jsonl",
            b'{"worker_id": "E1", "extract_date": "2026-07-02", "time_off": [{"type": "SICK", '
            b'"reason": "other", "start": "2026-05-10", "end": "2026-05-01", '
            b'"quantity": 1, "unit": "DAYS"}]}\n',
            "hris_absence_json",
            ("ends before it starts", "line 1"),
        ),
        "row with missing fields": (
            f"{a}/allocation_2026-03-05.csv",
            _csv_bytes(allocation[:3] + [allocation[3][:4]] + allocation[4:6]),
            "allocation_csv",
            ("line 4", "expected 7 fields, found 4", "rule: file structure"),
        ),
        "unregistered study": (
            "no_such_study/allocation/allocation_2026-03-02.csv",
            _csv_bytes(allocation),
            "allocation_csv",
            ("study 'no_such_study' is not registered",),
        ),
        "feed the study does not have": (
            f"{STUDY}/payroll/payroll_2026-03-02.csv",
            _csv_bytes(allocation),
            "allocation_csv",
            ("feed 'payroll' is not a known feed",),
        ),
        "file name without extract date": (
            f"{a}/allocation.csv",
            _csv_bytes(allocation),
            "allocation_csv",
            ("_YYYY-MM-DD",),
        ),
    }


BAD_INPUT_NAMES = [
    "qualtrics missing ExternalReference",
    "empty file",
    "header only",
    "not UTF-8",
    "unparseable date",
    "Likert answer outside the scale",
    "date years in the future",
    "truncated JSON",
    "row with missing fields",
    "absence ends before it starts",
    "unregistered study",
    "feed the study does not have",
    "file name without extract date",
]


@pytest.mark.parametrize("name", BAD_INPUT_NAMES)
def test_bad_input_is_quarantined_with_a_specific_reason(name, generated, fresh_home, identifiers):
    key, content, table, phrases = _bad_inputs(generated)[name]
    _land(fresh_home, content, key)

    (result,) = ingest_pending(fresh_home)

    assert result.state == "quarantined"
    assert result.reason.startswith(key + ":"), result.reason
    for phrase in phrases:
        assert phrase in result.reason, result.reason
    assert _rows_from(fresh_home, table, key) == 0
    quarantined = Path(fresh_home.quarantine) / key
    assert quarantined.read_bytes() == content
    assert Path(str(quarantined) + REASON_SUFFIX).read_text().strip() == result.reason
    assert open_landing(fresh_home).list() == []  # nothing left waiting, nothing lost
    for value in identifiers["email"] | identifiers["employee_number"]:
        assert value not in result.reason


def test_the_same_file_twice_loads_once(generated, fresh_home):
    source = _first(generated, "allocation")
    key = f"{STUDY}/allocation/{source.name}"
    _land(fresh_home, source, key)
    (first,) = ingest_pending(fresh_home)
    _land(fresh_home, source, key)  # re-sent under the same name
    (second,) = ingest_pending(fresh_home)
    renamed = f"{STUDY}/allocation/allocation_resent_2026-03-09.csv"
    _land(fresh_home, source, renamed)  # and under another name
    (third,) = ingest_pending(fresh_home)

    assert (first.state, first.rows) == ("loaded", 1200)
    assert second.state == "skipped"
    assert (third.state, third.rows) == ("loaded", 0)
    assert key in third.reason
    assert _rows_from(fresh_home, "allocation_csv", key) == 1200
    assert _rows_from(fresh_home, "allocation_csv", renamed) == 0


def test_a_good_file_loads_with_lineage_and_pseudonyms(generated, fresh_home, identifiers):
    source = _first(generated, "allocation")
    key = f"{STUDY}/allocation/{source.name}"
    _land(fresh_home, source, key)
    (result,) = ingest_pending(fresh_home)
    assert result.state == "loaded"
    with open_warehouse(fresh_home) as wh:
        rows = wh.query(
            "select participant_id, employee_pseudonym, email_pseudonym, _file_key, _file_sha256, "
            "_row_number, _extract_date from raw.allocation_csv order by _row_number limit 2"
        )
    participant, employee, email, file_key, sha, line, extract = rows[0]
    assert participant == "MDI-00001" and line == 2 and rows[1][5] == 3
    assert file_key == key and len(sha) == 64 and str(extract) == "2026-03-02"
    assert len(employee) == 32 and len(email) == 32
    assert employee not in identifiers["employee_number"] and email not in identifiers["email"]
    assert (Path(fresh_home.archive) / key).exists()


def _with_allocation(generated: Path, settings) -> None:
    source = _first(generated, "allocation")
    _land(settings, source, f"{STUDY}/allocation/{source.name}")


def test_a_response_from_someone_not_randomised_quarantines_the_file(generated, fresh_home):
    survey = _read_csv(_first(generated, "survey", "*endline*"))
    key = f"{STUDY}/survey/wellbeing_endline_2026-06-22.csv"
    _with_allocation(generated, fresh_home)
    _land(fresh_home, _csv_bytes(_set_cell(survey, "ExternalReference", 7, "MDI-99999")), key)

    results = {r.file_key: r for r in ingest_pending(fresh_home)}

    assert results[key].state == "quarantined"
    assert "line 8: column 'participant_id' names no one in the study's allocation" in results[key].reason
    assert _rows_from(fresh_home, "qualtrics_csv", key) == 0


def test_roster_rows_for_staff_not_randomised_are_left_out_and_recorded(generated, fresh_home):
    roster = _read_csv(_first(generated, "roster"))
    roster = _set_cell(roster, "employee_number", 2, "E000001")  # nobody was randomised with it
    roster = _set_cell(roster, "employee_number", 5, "E000002")
    key = f"{STUDY}/roster/hr_roster_2026-03-06.csv"
    _with_allocation(generated, fresh_home)
    _land(fresh_home, _csv_bytes(roster), key)

    results = {r.file_key: r for r in ingest_pending(fresh_home)}

    assert (results[key].state, results[key].rows, results[key].rows_rejected) == (
        "loaded",
        len(roster) - 3,
        2,
    )
    with open_warehouse(fresh_home) as wh:
        rejected = wh.query(
            "select row_number, rule, reason from ops.rejected_rows where file_key = %s order by 1", [key]
        )
        ledger_rejected = wh.query("select rows_rejected from ops.landed_files where file_key = %s", [key])
    assert [(line, rule) for line, rule, _ in rejected] == [(3, "reference"), (6, "reference")]
    assert all("names no one in the study's allocation" in reason for _, _, reason in rejected)
    assert ledger_rejected == [(2,)]
    assert _rows_from(fresh_home, "hr_roster_csv", key) == len(roster) - 3


def test_a_spreadsheet_formula_is_stored_neutralised(generated, fresh_home):
    roster = _read_csv(_first(generated, "roster"))
    formula = '=HYPERLINK("http://evil.example","click")'
    key = f"{STUDY}/roster/hr_roster_2026-03-07.csv"
    _with_allocation(generated, fresh_home)
    _land(fresh_home, _csv_bytes(_set_cell(roster, "job_role", 1, formula)), key)

    ingest_pending(fresh_home)

    with open_warehouse(fresh_home) as wh:
        (stored,) = wh.query(
            "select job_role from raw.hr_roster_csv where _file_key = %s and _row_number = 2", [key]
        )
    assert stored == ("'" + formula,)


def test_a_file_waits_for_its_allocation_then_loads(generated, fresh_home):
    survey = _first(generated, "survey", "*endline*")
    key = f"{STUDY}/survey/{survey.name}"
    _land(fresh_home, survey, key)

    (first,) = ingest_pending(fresh_home)
    assert first.state == "waiting" and "allocation" in first.reason
    assert open_landing(fresh_home).list()[0].key == key  # still landed, not lost

    _with_allocation(generated, fresh_home)
    results = {r.file_key: r for r in ingest_pending(fresh_home)}
    assert results[key].state == "loaded" and results[key].rows > 700


def _large_message_trace(generated: Path, copies: int) -> list[list[str]]:
    """The generated message trace repeated, each copy with its own trace ids."""
    header, *rows = _read_csv(_first(generated, "delivery"))
    trace = header.index("MessageTraceId")
    return [header] + [
        [*row[:trace], f"{copy:04d}-{number:06d}", *row[trace + 1 :]]
        for copy in range(copies)
        for number, row in enumerate(rows)
    ]


@pytest.fixture
def streaming(monkeypatch):
    """DuckDB far below the file's size, and batches far below its rows: what a file larger than
    memory meets."""
    import ingest.service

    monkeypatch.setenv("HHP_DUCKDB_MEMORY", "64MB")
    monkeypatch.setattr(ingest.service, "BATCH_ROWS", 20_000)


def test_a_file_larger_than_the_memory_limit_streams_through(generated, fresh_home, streaming):
    rows = _large_message_trace(generated, copies=90)
    content = _csv_bytes(rows)
    assert len(content) > 64 * 2**20
    key = f"{STUDY}/delivery/message_trace_2026-05-01.csv"
    _with_allocation(generated, fresh_home)
    _land(fresh_home, content, key)

    results = {r.file_key: r for r in ingest_pending(fresh_home)}

    assert (results[key].state, results[key].rows) == ("loaded", len(rows) - 1)
    with open_warehouse(fresh_home) as wh:
        loaded = wh.query(
            "select count(*), count(distinct message_trace_id), min(_row_number), max(_row_number) "
            "from raw.exchange_message_trace_csv where _file_key = %s",
            [key],
        )
    assert loaded == [(len(rows) - 1, len(rows) - 1, 2, len(rows))]


@pytest.mark.parametrize(
    ("problem", "phrase"),
    [
        ("status", "column 'status' fails expect_column_values_to_be_in_set in 1 of"),
        (
            "duplicate",
            "column 'message_trace_id, recipient_pseudonym' "
            "fails expect_compound_columns_to_be_unique in 2 of",
        ),
    ],
)
def test_a_problem_deep_in_a_large_file_is_found_by_its_line(
    generated, fresh_home, streaming, problem, phrase
):
    rows = _large_message_trace(generated, copies=20)
    last = len(rows) - 1
    if problem == "status":
        rows = _set_cell(rows, "Status", last, "Bounced")
    else:  # the last row repeats the 20th: same recipient, same trace id
        rows[last] = list(rows[19])
    key = f"{STUDY}/delivery/message_trace_2026-05-02.csv"
    _with_allocation(generated, fresh_home)
    _land(fresh_home, _csv_bytes(rows), key)

    results = {r.file_key: r for r in ingest_pending(fresh_home)}

    line = last + 1 if problem == "status" else 20
    assert results[key].state == "quarantined"
    assert f"line {line}: {phrase}" in results[key].reason
    assert _rows_from(fresh_home, "exchange_message_trace_csv", key) == 0


def test_running_out_of_memory_is_the_machines_fault_not_the_files(generated, fresh_home, monkeypatch):
    import duckdb

    source = _first(generated, "allocation")
    key = f"{STUDY}/allocation/{source.name}"
    _land(fresh_home, source, key)
    monkeypatch.setenv("HHP_DUCKDB_MEMORY", "1MB")

    with pytest.raises(duckdb.OutOfMemoryException):
        ingest_pending(fresh_home)

    assert [f.key for f in open_landing(fresh_home).list()] == [key]  # still landed, not quarantined
    monkeypatch.setenv("HHP_DUCKDB_MEMORY", "256MB")
    (result,) = ingest_pending(fresh_home)
    assert (result.state, result.rows) == ("loaded", 1200)


def test_every_format_has_an_adapter_a_landing_suite_and_a_generator():
    from expectations.landing import SUITES
    from generator.writers import WRITERS
    from ingest.adapters import ADAPTERS

    modules = {p.stem for p in (Path(__file__).parents[1] / "ingest" / "adapters").glob("[!_]*.py")}
    assert len(ADAPTERS) == 12
    assert modules == set(ADAPTERS) == set(SUITES) == set(WRITERS)  # no adapter outside the list


def test_dbt_and_the_adapters_name_the_same_survey_items():
    import yaml

    from hhp import DBT_PROJECT_DIR
    from hhp.instruments import ITEM_COLUMNS

    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    assert tuple(project["vars"]["survey_items"]) == ITEM_COLUMNS


@pytest.mark.parametrize(
    "name", ["o'brien_roster_2026-08-11.csv", "Dépôt légal – Åsa Ørsted (copy) [2]_2026-08-11.csv"]
)
def test_a_sound_file_with_a_partners_name_loads_as_it_is(generated, fresh_home, name):
    """Quotes, spaces, brackets and non-ASCII letters were once read as SQL and refused."""
    _with_allocation(generated, fresh_home)
    source = _first(generated, "roster")
    key = f"{STUDY}/roster/{name}"
    _land(fresh_home, source, key)
    results = {r.file_key: r for r in ingest_pending(fresh_home)}
    expected = _read_csv(source)[1:]
    assert results[key].state == "loaded", results[key].reason
    assert results[key].rows + results[key].rows_rejected == len(expected)
    with open_warehouse(fresh_home) as wh:
        stored = wh.query(
            "select _row_number, snapshot_date, fte, org_unit from raw.hr_roster_csv where _file_key = %s "
            "order by _row_number",
            [key],
        )
    first = expected[0]
    assert stored[0][0] == 2 and str(stored[0][1]) == first[0] and stored[0][2] == float(first[3])
    assert stored[0][3] == (first[5] or None)
    assert (Path(fresh_home.archive) / key).exists()
