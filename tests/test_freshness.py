"""Feed freshness: each feed's registered cadence says when its next file is due; `hhp status`
shows the last extract and the due date, and the gate warns on an overdue feed."""

from __future__ import annotations

import json
import shutil
from datetime import date

from typer.testing import CliRunner

from expectations import trial
from expectations.gate import _status, load_catalogue
from hhp.freshness import feed_freshness
from hhp.registry import load_registry
from hhp.warehouse import open_warehouse
from pipeline.chain import ingest as ingest_pending
from pipeline.cli import app

from .conftest import STUDY, land_tree, settings_for

runner = CliRunner()


def _loaded(tmp_path, generated, drop_rosters_after: str | None = None):
    tree = tmp_path / "tree"
    shutil.copytree(generated / STUDY, tree / STUDY)
    if drop_rosters_after:
        for path in (tree / STUDY / "roster").iterdir():
            if path.name[-14:-4] > drop_rosters_after:
                path.unlink()
    settings = settings_for(tmp_path / "home")
    land_tree(settings, tree / STUDY)
    ingest_pending(settings)
    return settings


def test_a_study_whose_files_all_came_is_never_overdue(tmp_path, generated):
    settings = _loaded(tmp_path, generated)
    result = runner.invoke(app, ["status", "--json"], env={"HHP_HOME": str(settings.home)})
    assert result.exit_code == 0, result.output
    feeds = {f["feed"]: f for f in json.loads(result.output)["feeds"] if f["study_id"] == STUDY}
    assert {f for f, v in feeds.items() if "overdue" in v} == {
        "roster",
        "leavers",
        "absence",
        "delivery",
        "survey",
    }
    assert not any(v["overdue"] for v in feeds.values() if "overdue" in v)
    assert feeds["roster"]["last_extract"] == "2026-08-31" and feeds["roster"]["due_by"] is None
    assert feeds["roster"]["freshness"].startswith("complete: a file extracted on or after the end of the HR")


def test_a_missing_monthly_roster_is_overdue_in_status_and_a_gate_warning(tmp_path, generated):
    settings = _loaded(tmp_path, generated, drop_rosters_after="2026-05-31")
    env = {"HHP_HOME": str(settings.home)}

    roster = next(f for f in json.loads(runner.invoke(app, ["status", "--json"], env=env).output)["feeds"]
                  if f["feed"] == "roster" and f["study_id"] == STUDY)  # fmt: skip
    assert (roster["last_extract"], roster["due_by"], roster["overdue"]) == ("2026-05-31", "2026-07-01", True)
    table = runner.invoke(app, ["status"], env=env).output
    assert "overdue since 2026-07-01" in table
    assert (
        f"overdue {STUDY}/roster: overdue since 2026-07-01: a file every 31 days until the end of the HR"
        in table
    )

    with open_warehouse(settings) as wh:
        measures = trial.feeds_overdue(wh, load_registry()[STUDY])
    overdue = measures["ingest.feed_overdue[roster]"]
    entry = load_catalogue()["ingest.feed_overdue"]
    assert (overdue.violating, entry.severity, _status(entry, overdue)) == (1, "warning", "failed")
    assert all(_status(entry, m) == "passed" for name, m in measures.items() if not name.endswith("[roster]"))


def test_while_a_study_runs_the_next_file_is_due_by_its_cadence(tmp_path, generated):
    settings = _loaded(tmp_path, generated, drop_rosters_after="2026-03-31")
    with open_warehouse(settings) as wh:
        during = {f.feed: f for f in feed_freshness(wh, load_registry()[STUDY], as_of=date(2026, 5, 1))}
    assert (during["roster"].due_by, during["roster"].overdue) == (date(2026, 5, 1), False)
    # the baseline window closed on 2 March (day 0); its export came; the endline's closes 25 May
    assert during["survey"].due_by == date(2026, 6, 24) and not during["survey"].overdue
    assert during["survey"].detail == "an export within 30 days after the endline window closes (2026-05-25)"
