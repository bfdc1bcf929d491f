"""Killed anywhere, lose nothing: ingest and build are killed with SIGKILL at seven points,
one after another on the same platform home, each death followed by a rerun; at the end the
marts equal an uninterrupted run's and the ledger reconciles. After every death the warehouse
is checked too: nothing half-loaded, nothing loaded twice."""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from hhp.ledger import rows_held
from hhp.warehouse import open_warehouse
from ingest.adapters import ADAPTERS
from pipeline.status import ledger_status, reconcile

from .conftest import (
    ALL_MARTS,
    VOLATILE_COLUMNS,
    differing_marts,
    land_tree,
    mart_rows,
    run_hhp,
    settings_for,
)

pytestmark = pytest.mark.slow

BAD_TRACE = "RecipientAddress,Subject\nsomeone@example.org,hello\n"

# (command, point): every kill lands in a different part of the work
INGEST_FAULTS = [
    ("ingest", "ingest.quarantine_recorded"),  # quarantine recorded, the file not yet moved
    ("ingest", "ingest.parsed#2"),  # a file parsed, nothing written
    ("ingest", "ingest.uncommitted#3"),  # rows and ledger entry written, not committed
    ("ingest", "ingest.committed#2"),  # committed, the file not yet archived
]
BUILD_FAULTS = [
    ("build", "build.finished:stg_exchange__message_trace"),  # incremental model committed, children not
    ("build", "build.during:int_delivery_events_linked"),  # in the middle of an incremental model's SQL
    ("build", "build.built"),  # dbt done, the build not yet recorded
]


def _hhp(settings, command: str, fault: str | None = None) -> subprocess.CompletedProcess:
    return run_hhp(settings, command, timeout=600, **({"HHP_FAULT_POINT": fault} if fault else {}))


def _split(generated: Path, root: Path) -> tuple[Path, Path]:
    """Everything but the delivery feed first (with a bad file to quarantine), the delivery feed later."""
    first, later = root / "first", root / "later"
    shutil.copytree(generated, first, ignore=shutil.ignore_patterns("truth.json"))
    (later / "mod_ding").mkdir(parents=True)
    shutil.move(first / "mod_ding" / "delivery", later / "mod_ding" / "delivery")
    (first / "mod_ding" / "delivery").mkdir()
    (first / "mod_ding" / "delivery" / "message_trace_2026-05-20.csv").write_text(BAD_TRACE)
    return first, later


def _consistent(settings, files_landed: int) -> None:
    """Raw holds exactly the rows the ledger says were loaded, each once, and no landed file is
    lost: each is still waiting, archived or quarantined (a file killed between its commit and
    its move waits, and the next run moves it)."""
    found = reconcile(ledger_status(settings))
    assert found.landed == files_landed, found
    with open_warehouse(settings) as wh:
        ledger = rows_held(wh)  # loaded, less any erased since
        for fmt in ADAPTERS:
            for file_key, rows in wh.query(f"select _file_key, count(*) from raw.{fmt} group by _file_key"):
                assert ledger.get(file_key) == rows, (file_key, rows, ledger.get(file_key))


def test_killed_at_any_point_the_rerun_gives_the_uninterrupted_marts(generated, tmp_path):
    first, later = _split(generated, tmp_path / "files")

    reference = settings_for(tmp_path / "reference")
    for tree in (first, later):
        land_tree(reference, tree)
    assert _hhp(reference, "ingest").returncode == 0
    assert _hhp(reference, "build").returncode == 0
    expected = mart_rows(reference, ALL_MARTS, VOLATILE_COLUMNS)

    settings = settings_for(tmp_path / "killed")
    landed = land_tree(settings, first)
    for command, fault in INGEST_FAULTS:
        killed = _hhp(settings, command, fault)
        assert killed.returncode == -signal.SIGKILL, (fault, killed.stderr[-2000:])
        _consistent(settings, landed)
    assert _hhp(settings, "ingest").returncode == 0
    assert _hhp(settings, "build").returncode == 0

    landed += land_tree(settings, later)
    assert _hhp(settings, "ingest").returncode == 0
    for command, fault in BUILD_FAULTS:
        killed = _hhp(settings, command, fault)
        assert killed.returncode == -signal.SIGKILL, (fault, killed.stderr[-2000:])
        _consistent(settings, landed)
    rebuilt = _hhp(settings, "build")
    assert rebuilt.returncode == 0, rebuilt.stdout[-2000:]

    _consistent(settings, landed)
    settled = reconcile(ledger_status(settings))
    assert settled.holds and settled.waiting == 0 and settled.landed == landed
    with open_warehouse(settings) as wh:
        states = dict(wh.query("select state, count(*) from ops.landed_files group by state"))
        reason = wh.query("select reason from ops.landed_files where state = 'quarantined'")[0][0]
    assert states["quarantined"] == 1 and "missing column" in reason
    assert differing_marts(mart_rows(settings, ALL_MARTS, VOLATILE_COLUMNS), expected) == []
