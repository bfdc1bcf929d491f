"""Shared wiring for the DAGs: owner, retries, assets. No I/O and nothing that raises at import."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import Asset, AssetWatcher

from hhp.config import setting
from hhp.formats import FORMATS
from orchestration import WAREHOUSE_POOL
from orchestration.alerts import FailureAlert

START_DATE = datetime(2026, 1, 1, tzinfo=timezone.utc)  # noqa: UP017


def task_defaults(owner: str, pool: str | None = WAREHOUSE_POOL) -> dict:
    """Every task: a named owning team, retries with exponential backoff (HHP_TASK_RETRIES, 2
    by default), an alert on failure (orchestration.alerts: email and webhook), and (unless
    pool=None) a slot of the warehouse pool."""
    retries = setting("task_retries")
    return {
        "owner": owner,
        **({"pool": pool} if pool else {}),
        "retries": int(retries) if retries.isdigit() else 2,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
        "on_failure_callback": FailureAlert(),
    }


# The raw tables the ingest DAG writes, one asset per format.
RAW_ASSETS = [Asset(f"raw.{fmt}") for fmt in FORMATS]
MARTS_BUILT = Asset("marts.built")
MARTS_ANALYSIS_READY = Asset("marts.analysis_ready")
PROGRAMME_REPORT = Asset("reports.programme_report")


def ingest_schedule():
    """S3 mode (`hhp infra up` set HHP_EVENTS_QUEUE): an asset watched on the landing bucket's
    event queue, so a file landing starts the ingest. Local mode: a short poll of the folder."""
    queue = setting("events_queue")
    if not queue:
        return "*/2 * * * *"
    from airflow.providers.common.messaging.triggers.msg_queue import MessageQueueTrigger

    trigger = MessageQueueTrigger(scheme="sqs", sqs_queue=queue, aws_conn_id="hhp_aws")
    return [Asset("landing.s3_events", watchers=[AssetWatcher(name="hhp_landing_queue", trigger=trigger)])]
