"""The landing area on S3, against a moto server on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hhp.config import load_settings
from ingest.service import ingest_pending

from .conftest import STUDY

BUCKET = "hhp-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto_endpoint():
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
                                             "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}  # fmt: skip
    os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                      AWS_DEFAULT_REGION="eu-west-2")  # fmt: skip
    yield endpoint
    server.terminate()
    server.wait(timeout=10)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _keys(s3, prefix: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []))


def test_land_ingest_archive_and_quarantine_on_s3(moto_endpoint, generated, tmp_path):
    import boto3
    from typer.testing import CliRunner

    from hhp.cli import app

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    env = {"HHP_HOME": str(tmp_path / "home"), "HHP_LANDING": f"s3://{BUCKET}/landing"}
    bad = tmp_path / STUDY / "roster" / "hr_roster_2026-03-31.csv"
    bad.parent.mkdir(parents=True)
    bad.write_text("snapshot_date,employee_number\n2026-03-31,E1\n")

    landed = CliRunner().invoke(app, ["land", str(generated / STUDY / "allocation"), str(bad)], env=env)
    assert landed.exit_code == 0, landed.output
    assert _keys(s3, "landing/") == [
        f"landing/{STUDY}/allocation/allocation_2026-03-02.csv",
        f"landing/{STUDY}/roster/hr_roster_2026-03-31.csv",
    ]

    results = {r.file_key: r for r in ingest_pending(load_settings(env))}

    assert results[f"{STUDY}/allocation/allocation_2026-03-02.csv"].rows == 1200
    assert results[f"{STUDY}/roster/hr_roster_2026-03-31.csv"].state == "quarantined"
    assert _keys(s3, "landing/") == []
    assert _keys(s3, "archive/") == [f"archive/{STUDY}/allocation/allocation_2026-03-02.csv"]
    reason_key = f"quarantine/{STUDY}/roster/hr_roster_2026-03-31.csv.reason.txt"
    assert reason_key in _keys(s3, "quarantine/")
    reason = s3.get_object(Bucket=BUCKET, Key=reason_key)["Body"].read().decode()
    assert "missing column(s)" in reason and "hr_roster_2026-03-31.csv" in reason
