"""`hhp airflow` as a new user meets it: a real scheduler, triggerer, dag-processor and API
server on 127.0.0.1, the project's DAGs unpaused and listed in the UI, and a study's files
dropped into the local landing folder running the chain to the report, untouched."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from infra.local_stack import BIN, running_airflow
from ingest.landing import open_landing

from .conftest import CHROMIUM, run_chromium, settings_for

pytestmark = pytest.mark.slow
DAG_IDS = ("hhp_ingest", "hhp_transform", "hhp_gate", "hhp_report", "hhp_freshness")
STUDY = "gratitude_letters"
CHAIN_SECONDS = 1200  # the folder is polled every 2 minutes; a bound, not a target
PARSE_SECONDS = 180  # for the dag-processor's first parse of all five DAGs, unpaused


def _ui_dom(url: str, profile, screenshot) -> str:
    """The UI's page after its scripts have run (the DAG list is drawn by JavaScript)."""
    run_chromium(
        profile, "--virtual-time-budget=20000", "--window-size=1400,900", f"--screenshot={screenshot}", url
    )
    return run_chromium(profile, "--virtual-time-budget=20000", "--dump-dom", url).stdout


def _dags(api) -> dict[str, bool]:
    return {d["dag_id"]: d["is_paused"] for d in api.get("/dags")["dags"]}


def test_hhp_airflow_shows_the_dags_and_a_dropped_file_runs_to_the_report(tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "HHP_HOME": str(home)}
    settings = settings_for(home)
    subprocess.run([str(BIN / "hhp"), "generate", "--out", str(tmp_path / "files"), "--studies", STUDY],
                   env=env, check=True, stdout=subprocess.DEVNULL)  # fmt: skip

    with running_airflow(env) as api:
        # healthy is not yet parsed: on a busy machine the dag-processor may still be on Cosmos's DAG
        expected, listed_by = dict.fromkeys(DAG_IDS, False), time.monotonic() + PARSE_SECONDS
        while (dags := _dags(api)) != expected and time.monotonic() < listed_by:
            time.sleep(5)
        assert dags == expected
        if CHROMIUM:  # the list is drawn by the UI's scripts: on a busy machine, give it a few goes
            url, listed = api.base.replace("/api/v2", "/dags"), False
            for attempt in range(4):
                dom = _ui_dom(url, tmp_path / f"profile{attempt}", home / "airflow_ui.png")
                if listed := all(dag_id in dom for dag_id in DAG_IDS):
                    break
            assert listed, "the UI does not list the DAGs"

        subprocess.run([str(BIN / "hhp"), "land", str(tmp_path / "files" / STUDY)],
                       env=env, check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        report, dropped = settings.reports_dir / "programme_report.html", time.monotonic()
        while not report.exists():
            runs = api.dag_runs()
            assert not [r for r in runs if r["state"] == "failed"], runs
            assert time.monotonic() - dropped < CHAIN_SECONDS, f"no report: {runs}"
            time.sleep(5)
        print(f"dropped in the landing folder to report: {time.monotonic() - dropped:.0f} s")
    assert open_landing(settings).list() == [], "a dropped file is still waiting"
    sent = [p for p in (tmp_path / "files" / STUDY).rglob("*") if p.is_file()]
    assert len(open_landing(settings).archived()) == len(sent)
