"""Landing-to-report latency, event-driven: a moto server on 127.0.0.1 as S3 and SQS,
`hhp infra up`, `hhp airflow`, one study's files uploaded to the landing bucket, then no one
touches anything until the report is written. Prints each DAG run as its state changes, and
the time of each stage.

Usage: python -m benchmarks.landing_to_report [study_id]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from infra.local_stack import BIN, aws_test_environment, infra_environment, moto_server, running_airflow


def main(study: str = "mod_ding", timeout_seconds: float = 1800) -> None:
    root = Path(tempfile.mkdtemp(prefix="hhp-latency-"))
    try:
        subprocess.run([str(BIN / "hhp"), "generate", "--out", str(root / "files"), "--studies", study],
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        with moto_server() as endpoint:
            env = {**os.environ, **aws_test_environment(endpoint), "HHP_HOME": str(root / "home")}
            env = infra_environment(env, endpoint)
            with running_airflow(env) as api:
                subprocess.run([str(BIN / "hhp"), "land", str(root / "files" / study)], env=env, check=True,
                               stdout=subprocess.DEVNULL)  # fmt: skip
                landed = time.monotonic()
                report = root / "home" / "reports" / "programme_report.html"
                seen = None
                while time.monotonic() - landed < timeout_seconds and not report.exists():
                    now = sorted({(r["dag_id"], r["state"]) for r in api.dag_runs()})
                    if now != seen:
                        print(f"{time.monotonic() - landed:6.0f} s  {now}", flush=True)
                        seen = now
                    time.sleep(5)
                latency = time.monotonic() - landed
                outcome = "landing to report" if report.exists() else "no report after"
                print(f"{outcome}: {latency:.0f} s")
                for run in api.dag_runs():
                    print(f"  {run['dag_id']:14} {run['state']:8} {run['start_date']} .. {run['end_date']}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main(*sys.argv[1:2])
