"""Alerts reach a person, through a real Airflow scheduler, triggerer, dag-processor and API
server: a failed task, a failed gate and an overdue feed each send an email to a local mail
server and a POST to a local webhook (both on 127.0.0.1), configured as Airflow connections;
no message holds an identifier."""

from __future__ import annotations

import email
import json
import os
import re
import shutil
import time

import pytest

from hhp.warehouse import open_warehouse
from infra.local_stack import local_smtp, local_webhook, running_airflow

from .conftest import STUDY, settings_for

pytestmark = pytest.mark.slow
PARSE_SECONDS = 240
RUN_SECONDS = 300
IDENTIFIER = re.compile(r"[\w.+-]+@(?!platform\.example)[\w-]+\.[\w.]+|\bE\d{6}\b")


def _wait_for(what: str, seconds: float, ready):
    deadline = time.monotonic() + seconds
    while not (found := ready()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(3)
    return found


def _finished(api, dag_id: str, run_id: str) -> str | None:
    state = next(r["state"] for r in api.dag_runs(dag_id) if r["dag_run_id"] == run_id)
    return state if state in ("success", "failed") else None


def _text_of(message: str) -> str:
    parsed = email.message_from_string(message)
    parts = [p for p in parsed.walk() if not p.is_multipart()]
    return parsed["Subject"] + "\n" + "\n".join(p.get_payload(decode=True).decode() for p in parts)


def test_a_failed_task_a_failed_gate_and_an_overdue_feed_reach_a_person(duckdb_chain, tmp_path):
    home = tmp_path / "home"
    with local_smtp() as mails, local_webhook() as posts:
        env = {
            **os.environ,
            "HHP_HOME": str(home),
            "HHP_TASK_RETRIES": "0",
            "AIRFLOW_CONN_HHP_ALERTS_SMTP": json.dumps({
                "conn_type": "smtp", "host": "127.0.0.1", "port": mails.port,
                "extra": {"disable_tls": True, "disable_ssl": True, "from_email": "hhp@platform.example",
                          "to": "data-team@platform.example"},
            }),
            "AIRFLOW_CONN_HHP_ALERTS_WEBHOOK": json.dumps({
                "conn_type": "http", "host": "127.0.0.1", "port": posts.port, "schema": "http",
                "extra": {"endpoint": "/hooks/hhp"},
            }),
        }  # fmt: skip
        with running_airflow(env) as api:
            _wait_for("the DAGs", PARSE_SECONDS, lambda: {"hhp_report", "hhp_gate", "hhp_freshness"}
                      <= {d["dag_id"] for d in api.get("/dags")["dags"]})  # fmt: skip

            # a failed task: the report with nothing built
            run = api.trigger("hhp_report")
            assert (
                _wait_for("the report run", RUN_SECONDS, lambda: _finished(api, "hhp_report", run))
                == "failed"
            )
            _wait_for("the failed task's alert", 60, lambda: len(mails) >= 1 and len(posts) >= 1)

            # a failed gate: every study fails a fatal check; and a roster that stopped arriving
            home.mkdir(exist_ok=True)
            shutil.copyfile(duckdb_chain.warehouse, settings_for(home).warehouse)
            with open_warehouse(settings_for(home)) as wh:
                wh.execute("update marts.dim_participant set randomised_on = null")
                wh.execute(
                    "delete from ops.landed_files where feed = 'roster' and file_key > %s",
                    [f"{STUDY}/roster/hr_roster_2026-05-31.csv"],
                )
            run = api.trigger("hhp_gate")
            assert _wait_for("the gate run", RUN_SECONDS, lambda: _finished(api, "hhp_gate", run)) == "failed"
            _wait_for("the gate's alert", 60, lambda: len(mails) >= 2 and len(posts) >= 2)

            run = api.trigger("hhp_freshness")
            assert _wait_for("the freshness run", RUN_SECONDS, lambda: _finished(api, "hhp_freshness", run))
            _wait_for("the overdue feed's alert", 60, lambda: len(mails) >= 3 and len(posts) >= 3)

    texts = [_text_of(m) for m in mails]
    hooks = [body["text"] for path, body in posts if path == "/hooks/hhp"]
    expected = [
        (
            "hhp: task failed: hhp_report.build_programme_report",
            "NothingBuilt",
            "the warehouse has no marts yet",
        ),
        ("hhp: task failed: hhp_gate.run_quality_gate", "quality gate failed for every study with data"),
        ("feed(s) overdue", f"{STUDY}/roster: last extract 2026-05-31; overdue since 2026-07-01"),
    ]
    for channel in (texts, hooks):
        for phrases in expected:
            assert any(all(p in t for p in phrases) for t in channel), (phrases, channel)
        assert not [t for t in channel if IDENTIFIER.search(t)]
