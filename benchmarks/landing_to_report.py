"""Landing-to-report latency, event-driven: a moto server on 127.0.0.1 as S3 and SQS,
`hhp infra up`, `hhp airflow`, one study's files uploaded to the landing bucket, then no one
touches anything until the report is written.

Usage: python -m benchmarks.landing_to_report [study_id]   (prints the DAG runs as they change)
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from infra.local_postgres import free_port

BIN = Path(sys.executable).parent
COMPONENTS = ("scheduler", "triggerer", "dag_processor")


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def _wait_healthy(api: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            health = _get(f"{api}/monitor/health")
            if all(health.get(c, {}).get("status") == "healthy" for c in COMPONENTS):
                return
        except OSError:
            pass
        time.sleep(3)
    raise TimeoutError("Airflow did not become healthy")


def main(study: str = "mod_ding", timeout_seconds: float = 1800) -> None:
    root = Path(tempfile.mkdtemp(prefix="hhp-latency-"))
    port, api_port = free_port(), free_port()
    moto = subprocess.Popen([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "eu-west-2",
        "HHP_HOME": str(root / "home"),
    }
    airflow = None
    try:
        time.sleep(3)
        subprocess.run([str(BIN / "hhp"), "infra", "up", "--endpoint-url", endpoint], env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        for line in (root / "home" / "infra.env").read_text().splitlines():
            name, value = line.split("=", 1)
            env[name] = value.strip("'")
        subprocess.run([str(BIN / "hhp"), "generate", "--out", str(root / "files"), "--studies", study],
                       env=env, check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        airflow = subprocess.Popen(
            [str(BIN / "hhp"), "airflow", "--port", str(api_port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        api = f"http://127.0.0.1:{api_port}/api/v2"
        _wait_healthy(api, 300)
        time.sleep(20)  # the triggerer starts watching the queue
        subprocess.run([str(BIN / "hhp"), "land", str(root / "files")], env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        landed = time.monotonic()
        report = root / "home" / "reports" / "programme_report.html"
        seen = None
        while time.monotonic() - landed < timeout_seconds and not report.exists():
            runs = _get(f"{api}/dags/~/dagRuns?limit=50&order_by=-start_date")["dag_runs"]
            now = sorted({(r["dag_id"], r["state"]) for r in runs})
            if now != seen:
                print(f"{time.monotonic() - landed:6.0f} s  {now}", flush=True)
                seen = now
            time.sleep(10)
        latency = time.monotonic() - landed
        print(
            f"landing to report: {latency:.0f} s" if report.exists() else f"no report after {latency:.0f} s"
        )
    finally:
        if airflow is not None:
            os.killpg(airflow.pid, signal.SIGTERM)
            airflow.wait(timeout=60)
        moto.terminate()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main(*sys.argv[1:2])
