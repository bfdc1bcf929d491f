"""Row-level faults follow the feed's rule: reject_file quarantines the file; load_good_rows loads
the others and records each row left out with its line and rule; a fault in rows the outcomes
never use (absence other than sickness) never rejects a file. The gate warns on rows left out."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import yaml

from expectations import trial
from expectations.gate import _status, load_catalogue
from hhp.registry import load_registry
from hhp.warehouse import open_warehouse
from pipeline.chain import ingest as ingest_pending

from .conftest import STUDY, settings_for

ALLOCATION = f"{STUDY}/allocation/allocation_2026-03-02.csv"
ABSENCE = f"{STUDY}/absence/hris_time_off_2026-06-30.jsonl"


def _absence_with(generated: Path, extra: list[dict], worker_line: int = 1) -> tuple[bytes, str, int]:
    """The generated HRIS extract with `extra` records added to one worker's line; (content,
    worker, the line they are on) and the sickness records in the file."""
    lines = gzip.decompress((generated / f"{ABSENCE}.gz").read_bytes()).decode().splitlines()
    worker = json.loads(lines[worker_line - 1])
    worker["time_off"] += extra
    lines[worker_line - 1] = json.dumps(worker)
    sick = sum(1 for line in lines for r in json.loads(line)["time_off"] if r["type"] == "SICK")
    return ("\n".join(lines) + "\n").encode(), worker["worker_id"], sick


def _home(tmp_path, generated, monkeypatch, absence_rule: str | None = None):
    studies = tmp_path / "studies"
    shutil.copytree(Path(__file__).resolve().parents[1] / "studies", studies)
    if absence_rule:
        path = studies / f"{STUDY}.yml"
        entry = yaml.safe_load(path.read_text())
        entry["feeds"]["absence"]["on_bad_rows"] = absence_rule
        path.write_text(yaml.safe_dump(entry, sort_keys=False))
    monkeypatch.setenv("HHP_STUDIES", str(studies))
    settings = settings_for(tmp_path / "home")
    (Path(settings.landing) / ALLOCATION).parent.mkdir(parents=True)
    shutil.copyfile(generated / ALLOCATION, Path(settings.landing) / ALLOCATION)
    return settings


def _land(settings, content: bytes) -> None:
    target = Path(settings.landing) / ABSENCE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)


ANNUAL = {"type": "ANNUAL", "reason": None, "start": "2026-05-11", "unit": "DAYS"}
ANNUAL_TWICE = [
    {**ANNUAL, "end": "2026-05-15", "quantity": 5},
    {**ANNUAL, "end": "2026-05-12", "quantity": 2},
]


def test_two_annual_leave_bookings_on_one_day_never_reject_the_sickness_records(
    tmp_path, generated, monkeypatch
):
    """Absence is reject_file by default (a sickness spell left out would lower absence), but
    annual leave is never an outcome: its duplicate rows are left out and recorded, the file
    loads with every sickness record, and the gate warns."""
    settings = _home(tmp_path, generated, monkeypatch)
    assert load_registry()[STUDY].feeds["absence"]["on_bad_rows"] == "reject_file"
    content, _, sick = _absence_with(generated, ANNUAL_TWICE, worker_line=3)
    _land(settings, content)

    results = {r.file_key: r for r in ingest_pending(settings)}

    loaded = results[ABSENCE]
    assert (loaded.state, loaded.rows_rejected) == ("loaded", 2), loaded.reason
    with open_warehouse(settings) as wh:
        left_out = wh.query(
            "select row_number, rule, reason from ops.rejected_rows where file_key = %s order by 1", [ABSENCE]
        )
        sick_loaded = wh.query(
            "select count(*) from raw.hris_absence_json where _file_key = %s and absence_type = 'SICK'",
            [ABSENCE],
        )[0][0]
        annual_on_the_day = wh.query(
            "select count(*) from raw.hris_absence_json where _file_key = %s and absence_type = 'ANNUAL' "
            "and start_date = date '2026-05-11' and _row_number = 3", [ABSENCE],
        )[0][0]  # fmt: skip
        warning = trial.rows_left_out(wh, load_registry()[STUDY])
    assert left_out == [
        (3, "hris_absence_json.landing",
         "column 'worker_pseudonym, absence_type, start_date' fails expect_compound_columns_to_be_unique"),
    ] * 2  # fmt: skip
    assert sick_loaded == sick and sick > 100 and annual_on_the_day == 0
    assert (warning.violating, warning.denominator) == (2, sum(r.rows for r in results.values()) + 2)
    entry = load_catalogue()["ingest.rows_left_out"]
    assert (entry.severity, _status(entry, warning)) == ("warning", "failed")


def test_a_duplicate_sickness_spell_follows_the_feeds_rule(tmp_path, generated, monkeypatch):
    sick_twice = [{**record, "type": "SICK", "reason": "stress"} for record in ANNUAL_TWICE]
    content, _, _ = _absence_with(generated, sick_twice, worker_line=2)

    rejecting = _home(tmp_path / "a", generated, monkeypatch)
    _land(rejecting, content)
    quarantined = {r.file_key: r for r in ingest_pending(rejecting)}[ABSENCE]
    assert quarantined.state == "quarantined"
    assert ": line 2: column 'worker_pseudonym, absence_type, start_date' fails" in quarantined.reason

    loading = _home(tmp_path / "b", generated, monkeypatch, absence_rule="load_good_rows")
    _land(loading, content)
    loaded = {r.file_key: r for r in ingest_pending(loading)}[ABSENCE]
    assert (loaded.state, loaded.rows_rejected) == ("loaded", 2)


def test_a_value_out_of_range_under_load_good_rows_leaves_out_that_row_alone(
    tmp_path, generated, monkeypatch
):
    """A roster (load_good_rows: it lists all staff) with an FTE of 3 on line 3."""
    settings = _home(tmp_path, generated, monkeypatch)
    roster = f"{STUDY}/roster/hr_roster_2026-03-31.csv"
    lines = (generated / roster).read_text().splitlines()
    cells = lines[2].split(",")
    cells[3] = "3"
    lines[2] = ",".join(cells)
    (Path(settings.landing) / roster).parent.mkdir(parents=True)
    (Path(settings.landing) / roster).write_text("\n".join(lines) + "\n")

    result = {r.file_key: r for r in ingest_pending(settings)}[roster]

    assert (result.state, result.rows, result.rows_rejected) == ("loaded", len(lines) - 2, 1)
    with open_warehouse(settings) as wh:
        assert wh.query(
            "select row_number, rule, reason from ops.rejected_rows where file_key = %s", [roster]
        ) == [(3, "hr_roster_csv.landing", "column 'fte' fails expect_column_values_to_be_between")]
