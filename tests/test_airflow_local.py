"""`hhp airflow`: a real scheduler, triggerer, dag-processor and API server on 127.0.0.1, with
the project's DAGs unpaused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from infra.local_postgres import free_port

pytestmark = pytest.mark.slow
COMPONENTS = ("metadatabase", "scheduler", "triggerer", "dag_processor")


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_hhp_airflow_runs_every_component_with_the_dags_unpaused(tmp_path):
    port = free_port()
    env = {**os.environ, "HHP_HOME": str(tmp_path / "home")}
    hhp = str(Path(sys.executable).parent / "hhp")
    server = subprocess.Popen(
        [hhp, "airflow", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}/api/v2"
    try:
        health, deadline = {}, time.monotonic() + 240
        while time.monotonic() < deadline:
            try:
                health = _get(f"{base}/monitor/health")
                if all(health.get(c, {}).get("status") == "healthy" for c in COMPONENTS):
                    break
            except OSError:
                pass
            time.sleep(3)
        assert all(health.get(c, {}).get("status") == "healthy" for c in COMPONENTS), health
        dags = {d["dag_id"]: d["is_paused"] for d in _get(f"{base}/dags")["dags"]}
        assert dags == {"hhp_ingest": False, "hhp_transform": False, "hhp_gate": False, "hhp_report": False}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
