"""Idempotent provisioning of the landing side on AWS or any S3/SQS endpoint (moto, MinIO...).

Three buckets (landing, archive, quarantine), each private (every public-access block on),
encrypted at rest (SSE-S3) and versioned; an SQS queue for the landing bucket's
ObjectCreated events, with a dead-letter queue after 5 failed receives; and the bucket
notification that feeds it. Running it again changes nothing that is already right.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

MAX_RECEIVES = 5  # an event that fails this often goes to the dead-letter queue
VISIBILITY_SECONDS = 300  # longer than an ingest of one file takes


@dataclass(frozen=True)
class Landing:
    landing_bucket: str
    archive_bucket: str
    quarantine_bucket: str
    queue_url: str
    queue_arn: str
    dead_letter_queue_url: str

    def environment(self) -> dict[str, str]:
        """The platform's settings for this landing side."""
        return {
            "HHP_LANDING": f"s3://{self.landing_bucket}/incoming",
            "HHP_ARCHIVE": f"s3://{self.archive_bucket}/archive",
            "HHP_QUARANTINE": f"s3://{self.quarantine_bucket}/quarantine",
            "HHP_EVENTS_QUEUE": self.queue_url,
        }


def _clients(endpoint_url: str | None, region: str):
    import boto3

    return (
        boto3.client("s3", endpoint_url=endpoint_url, region_name=region),
        boto3.client("sqs", endpoint_url=endpoint_url, region_name=region),
    )


def _bucket(s3, name: str, region: str) -> None:
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=name)
    except ClientError:
        extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=name, **extra)
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def _queue(sqs, name: str, attributes: dict[str, str]) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]  # returns the existing queue if there is one
    if attributes:
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def provision(prefix: str = "hhp", endpoint_url: str | None = None, region: str = "eu-west-2") -> Landing:
    s3, sqs = _clients(endpoint_url, region)
    landing, archive, quarantine = (f"{prefix}-{part}" for part in ("landing", "archive", "quarantine"))
    for bucket in (landing, archive, quarantine):
        _bucket(s3, bucket, region)

    dlq_url, dlq_arn = _queue(sqs, f"{prefix}-landing-events-dlq", {})
    queue_url, queue_arn = _queue(sqs, f"{prefix}-landing-events", {})
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "landing-bucket-events",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": f"arn:aws:s3:::{landing}"}},
            }
        ],
    }
    sqs.set_queue_attributes(
        QueueUrl=queue_url,
        Attributes={
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}
            ),
            "VisibilityTimeout": str(VISIBILITY_SECONDS),
            "Policy": json.dumps(policy),
        },
    )
    s3.put_bucket_notification_configuration(
        Bucket=landing,
        NotificationConfiguration={
            "QueueConfigurations": [
                {"Id": "hhp-landing-events", "QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    return Landing(landing, archive, quarantine, queue_url, queue_arn, dlq_url)


def airflow_connection(endpoint_url: str | None, region: str = "eu-west-2") -> dict:
    """The Airflow AWS connection the DAGs use (`hhp_aws`): no secret in it; credentials come
    from the environment or the instance role, the endpoint from here when not AWS itself."""
    extra: dict[str, str] = {"region_name": region}
    if endpoint_url:
        extra["endpoint_url"] = endpoint_url
    return {"conn_type": "aws", "extra": extra}


def created_objects(message_body: str) -> list[tuple[str, str]]:
    """(bucket, key) of each object an S3 event notification reports created. S3's own test
    event carries none; keys arrive URL-encoded (a space as '+'), so they are decoded here."""
    from urllib.parse import unquote_plus

    body = json.loads(message_body)
    return [
        (record["s3"]["bucket"]["name"], unquote_plus(record["s3"]["object"]["key"]))
        for record in body.get("Records", [])
        if record.get("eventName", "").startswith("ObjectCreated")
    ]
