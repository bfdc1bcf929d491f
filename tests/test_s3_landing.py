"""The landing area on S3, against a moto server on 127.0.0.1."""

from __future__ import annotations

from hhp.config import load_settings
from pipeline.chain import ingest as ingest_pending

from .conftest import STUDY

BUCKET = "hhp-test"


def _keys(s3, prefix: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []))


def test_land_ingest_archive_and_quarantine_on_s3(moto_endpoint, generated, tmp_path):
    import boto3
    from typer.testing import CliRunner

    from pipeline.cli import app

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
