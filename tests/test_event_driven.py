"""End to end, event-driven: a moto server as S3 and SQS, `hhp infra up`, `hhp airflow` (a real
API server, scheduler, triggerer and dag-processor), one study's files uploaded to the landing
bucket, and no one touches anything until the report is written. Then the same files again, a
redelivered queue message and a malformed file: no mart changes, and the malformed file is in
the quarantine bucket with its reason."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from infra.local_stack import BIN, aws_test_environment, infra_environment, moto_server, running_airflow

from .conftest import mart_rows, settings_for

pytestmark = pytest.mark.slow
STUDY = "gratitude_letters"  # the study with the fewest files: the chain, not the volume, is tested
MARTS = ("dim_study", "dim_participant", "fct_outcomes", "fct_absence_spells", "fct_engagement",
         "fct_workforce", "fct_effect_summary")  # fmt: skip
TERMINAL = {"success", "failed"}
CHAIN_SECONDS = 1200  # a bound, not a target: the latency is printed and recorded
QUIET_SECONDS = 600
LANDING_BUCKET = "hhp-e2e-landing"


def _hhp(env, *args: str) -> None:
    subprocess.run([str(BIN / "hhp"), *args], env=env, check=True, stdout=subprocess.DEVNULL)


CHAIN = ("hhp_ingest", "hhp_transform", "hhp_gate", "hhp_report")  # hhp_freshness runs on its own clock


def _runs(api) -> dict[str, list[dict]]:
    """The chain's runs by DAG."""
    by_dag: dict[str, list[dict]] = {}
    for run in api.dag_runs():
        if run["dag_id"] in CHAIN:
            by_dag.setdefault(run["dag_id"], []).append(run)
    return by_dag


def _queue_depth(sqs, queue_url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
    return sum(int(attributes[n]) for n in names)


def _wait_quiet(api, sqs, s3, queue_url: str, ingest_runs_before: int) -> dict[str, list[dict]]:
    """Until the queue is drained, the landing bucket empty, a new ingest run has happened and
    no run is unfinished."""
    deadline = time.monotonic() + QUIET_SECONDS
    while time.monotonic() < deadline:
        runs = _runs(api)
        if (
            _queue_depth(sqs, queue_url) == 0
            and s3.list_objects_v2(Bucket=LANDING_BUCKET)["KeyCount"] == 0
            and len(runs.get("hhp_ingest", [])) > ingest_runs_before
            and all(r["state"] in TERMINAL for rs in runs.values() for r in rs)
        ):
            return runs
        time.sleep(5)
    raise TimeoutError(f"still busy after {QUIET_SECONDS} s: {_runs(api)}")


def test_a_landed_study_reaches_the_report_untouched(tmp_path, record_property):
    import boto3

    files = tmp_path / "files"
    subprocess.run([str(BIN / "hhp"), "generate", "--out", str(files), "--studies", STUDY],
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    with moto_server() as endpoint:
        env = {**os.environ, **aws_test_environment(endpoint), "HHP_HOME": str(tmp_path / "home")}
        env = infra_environment(env, endpoint, prefix="hhp-e2e")
        settings = settings_for(tmp_path / "home")
        aws = boto3.Session(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"],
                            region_name=env["AWS_DEFAULT_REGION"])  # fmt: skip
        sqs, s3 = aws.client("sqs", endpoint_url=endpoint), aws.client("s3", endpoint_url=endpoint)
        queue_url = env["HHP_EVENTS_QUEUE"]
        report = settings.reports_dir / "programme_report.html"

        with running_airflow(env) as api:
            _hhp(env, "land", str(files / STUDY))
            landed = time.monotonic()
            while not report.exists():
                failed = [r for r in api.dag_runs() if r["state"] == "failed"]
                assert not failed, f"a DAG run failed: {failed}"
                assert time.monotonic() - landed < CHAIN_SECONDS, f"no report: {_runs(api)}"
                time.sleep(5)
            latency = time.monotonic() - landed
            record_property("landing_to_report_seconds", round(latency))
            print(f"landing to report: {latency:.0f} s")

            runs = _wait_quiet(api, sqs, s3, queue_url, 0)
            assert [r["state"] for r in runs["hhp_transform"]] == ["success"]
            assert [r["state"] for r in runs["hhp_report"]] == ["success"]
            assert all(r["run_type"] == "asset_triggered" for rs in runs.values() for r in rs)
            before = mart_rows(settings, MARTS)
            assert before["fct_effect_summary"], "the marts are empty"

            # The same files again, and a redelivery of a message the platform has already seen.
            _hhp(env, "land", str(files / STUDY))
            first_key = f"incoming/{STUDY}/allocation/" + next((files / STUDY / "allocation").iterdir()).name
            sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"Records": [{
                "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": LANDING_BUCKET}, "object": {"key": first_key}},
            }]}))  # fmt: skip
            runs = _wait_quiet(api, sqs, s3, queue_url, len(runs["hhp_ingest"]))
            assert len(runs["hhp_transform"]) == 1, "a duplicate set the transform going"
            assert mart_rows(settings, MARTS) == before

            # A malformed file: quarantined with its reason, and still nothing else changes.
            bad = tmp_path / "bad" / STUDY / "leavers" / "hr_leavers_2026-10-21.csv"
            bad.parent.mkdir(parents=True)
            bad.write_text("this is not,a leavers extract\n1,2\n")
            _hhp(env, "land", str(tmp_path / "bad"))
            runs = _wait_quiet(api, sqs, s3, queue_url, len(runs["hhp_ingest"]))
            assert len(runs["hhp_transform"]) == 1
            assert mart_rows(settings, MARTS) == before

        quarantined = s3.list_objects_v2(Bucket="hhp-e2e-quarantine")["Contents"]
        keys = sorted(o["Key"] for o in quarantined)
        name = f"quarantine/{STUDY}/leavers/hr_leavers_2026-10-21.csv"
        assert keys == [name, f"{name}.reason.txt"]
        reason = s3.get_object(Bucket="hhp-e2e-quarantine", Key=f"{name}.reason.txt")["Body"].read().decode()
        assert "hr_leavers_2026-10-21.csv" in reason and "rule" in reason, reason
