"""Provisioning of the landing side against a moto server on 127.0.0.1: buckets private,
encrypted and versioned, a queue with a dead-letter queue, and S3 events arriving on it."""

from __future__ import annotations

import json

from infra.aws import MAX_RECEIVES, created_objects, provision


def test_provisioning_is_complete_and_idempotent(moto_endpoint):
    import boto3

    first = provision("hhp-infra", endpoint_url=moto_endpoint)
    again = provision("hhp-infra", endpoint_url=moto_endpoint)  # changes nothing, fails on nothing
    assert again == first

    s3 = boto3.client("s3", endpoint_url=moto_endpoint)
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint)
    for bucket in (first.landing_bucket, first.archive_bucket, first.quarantine_bucket):
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values()) and len(block) == 4
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    attributes = sqs.get_queue_attributes(QueueUrl=first.queue_url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert int(redrive["maxReceiveCount"]) == MAX_RECEIVES and redrive["deadLetterTargetArn"].endswith("-dlq")
    assert len(sqs.list_queues(QueueNamePrefix="hhp-infra")["QueueUrls"]) == 2

    key = "incoming/mod_ding/allocation/allocation 2026-03-02.csv"  # a space, as partners send
    s3.put_object(Bucket=first.landing_bucket, Key=key, Body=b"x")
    messages = sqs.receive_message(QueueUrl=first.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=5)
    created = [obj for m in messages.get("Messages", []) for obj in created_objects(m["Body"])]
    assert created == [(first.landing_bucket, key)]


def test_s3_test_events_report_no_object():
    body = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "hhp-landing"})
    assert created_objects(body) == []


def test_hhp_infra_up_writes_the_settings_and_the_airflow_connection(moto_endpoint, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from pipeline.cli import app

    monkeypatch.setenv("HHP_HOME", str(tmp_path))
    for _ in range(2):
        result = CliRunner().invoke(
            app, ["infra", "up", "--prefix", "hhp-cli", "--endpoint-url", moto_endpoint]
        )
        assert result.exit_code == 0, result.output
    written = (tmp_path / "infra.env").read_text()
    assert "HHP_LANDING='s3://hhp-cli-landing/incoming'" in written
    connection = json.loads(written.split("AIRFLOW_CONN_HHP_AWS='")[1].split("'")[0])
    assert connection == {
        "conn_type": "aws",
        "extra": {"region_name": "eu-west-2", "endpoint_url": moto_endpoint},
    }
    assert "secret" not in written.lower()
