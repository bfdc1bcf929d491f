"""Quarantine as a dead-letter queue: `hhp quarantine list` shows what is held and why;
`hhp quarantine release` sends a file back to be loaded as if new, audited; a released file
that is still bad returns with its new reason; reconciliation holds throughout. Local and S3."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from hhp.warehouse import open_warehouse
from ingest.landing import open_landing
from pipeline.cli import app
from pipeline.status import ledger_status, reconcile

from .conftest import STUDY, settings_for

runner = CliRunner()
ROSTER = f"{STUDY}/roster/hr_roster_2026-03-31.csv"
BUCKET = "hhp-release-test"


def _set_roster_rule(studies: Path, rule: str) -> None:
    path = studies / f"{STUDY}.yml"
    entry = yaml.safe_load(path.read_text())
    entry["feeds"]["roster"]["on_bad_rows"] = rule
    path.write_text(yaml.safe_dump(entry, sort_keys=False))


def _hhp(env: dict, *args: str):
    result = runner.invoke(app, list(args), env=env)
    assert "Traceback" not in result.output
    return result


@pytest.fixture(params=["local", "s3"])
def landing_url(request, tmp_path):
    if request.param == "local":
        return ""
    import boto3

    request.getfixturevalue("moto_endpoint")
    bucket = f"{BUCKET}-{abs(hash(str(tmp_path))) % 10**8}"
    boto3.client("s3").create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
    )
    return f"s3://{bucket}/landing"


def test_a_file_quarantined_for_a_real_reason_is_released_after_its_rule_changes(
    tmp_path, generated, monkeypatch, landing_url
):
    studies = tmp_path / "studies"
    shutil.copytree(Path(__file__).resolve().parents[1] / "studies", studies)
    _set_roster_rule(studies, "reject_file")  # the roster lists staff outside the trial: rejected whole
    monkeypatch.setenv("HHP_STUDIES", str(studies))
    settings = settings_for(tmp_path / "home", landing=landing_url)
    env = {"HHP_STUDIES": str(studies), "HHP_HOME": str(settings.home), "HHP_LANDING": landing_url}
    landing = open_landing(settings)
    allocation = f"{STUDY}/allocation/allocation_2026-03-02.csv"
    landing.put(generated / allocation, allocation)
    roster = tmp_path / "hr_roster_2026-03-31.csv"  # HR's roster lists someone outside the trial
    roster.write_text(
        (generated / ROSTER).read_text() + "2026-03-31,E999999,2020-01-06,1.00,37.0,COL-01,EO,Analyst\n"
    )
    landing.put(roster, ROSTER)
    assert _hhp(env, "ingest").exit_code == 0

    listed = _hhp(env, "quarantine", "list", "--json")
    assert listed.exit_code == 0, listed.output
    (held,) = json.loads(listed.output)
    assert (held["file"], held["study_id"], held["feed"]) == (ROSTER, STUDY, "roster")
    assert "names no one in the study's allocation" in held["reason"] and held["since"].endswith("Z")
    table = _hhp(env, "quarantine", "list")
    assert ROSTER in table.output and "names no one in the study's allocation" in table.output

    refused = _hhp(env, "quarantine", "release", f"{STUDY}/roster/nothing_2026-03-31.csv", "--reason", "x")
    assert refused.exit_code == 1
    assert refused.output.startswith(f"error: not in quarantine: {STUDY}/roster/nothing_2026-03-31.csv")

    # released while its rule is unchanged: loaded again, still bad, back in quarantine with its reason
    again = _hhp(env, "quarantine", "release", ROSTER, "--reason", "partner says it was re-exported")
    assert again.exit_code == 0, again.output
    assert [f.key for f in landing.list()] == [ROSTER] and landing.quarantined() == []
    assert reconcile(ledger_status(settings)).holds
    assert "1 quarantined" in _hhp(env, "ingest").output
    assert landing.quarantined() == [ROSTER]

    _set_roster_rule(studies, "load_good_rows")
    released = _hhp(env, "quarantine", "release", ROSTER, "--reason", "roster rule is now load_good_rows")
    assert released.exit_code == 0, released.output
    assert f"released {ROSTER}" in released.output
    ingested = _hhp(env, "ingest")
    assert "1 files loaded" in ingested.output and "0 quarantined" in ingested.output, ingested.output
    assert landing.quarantined() == [] and ROSTER in landing.archived()
    assert json.loads(_hhp(env, "quarantine", "list", "--json").output) == []

    with open_warehouse(settings) as wh:
        audit = wh.query(
            "select file_key, study_id, feed, released_by, release_reason, quarantine_reason, "
            "released_at >= quarantined_at from ops.quarantine_releases order by released_at"
        )
        states = wh.query(
            "select state, rows_loaded, rows_rejected from ops.landed_files where file_key = %s "
            "order by processed_at", [ROSTER],
        )  # fmt: skip
    assert [row[4] for row in audit] == [
        "partner says it was re-exported",
        "roster rule is now load_good_rows",
    ]
    assert all(row[:3] == (ROSTER, STUDY, "roster") and row[3] and row[6] for row in audit)
    assert all("names no one in the study's allocation" in row[5] for row in audit)
    assert [s for s, _, _ in states] == ["released", "released", "loaded"]
    assert states[-1][1] == 1178 and states[-1][2] == 1  # the trial's staff loaded, the other one recorded

    status = json.loads(_hhp(env, "status", "--json").output)
    assert status["reconciliation"]["holds"] and status["reconciliation"]["quarantined"] == 0
    roster = next(f for f in status["feeds"] if (f["study_id"], f["feed"]) == (STUDY, "roster"))
    assert (roster["loaded"], roster["released"], roster["quarantined"]) == (1, 2, 0)
