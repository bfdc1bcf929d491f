"""Freshness: each day, whether every feed's files arrived by the cadence its study registers.

An overdue feed (a partner's monthly roster that did not come, a survey export not sent after a
window closed) is alerted by email and webhook (orchestration.alerts), naming study, feed, the
last extract and when the next was due; `hhp status` shows the same, and the gate warns.
"""

from __future__ import annotations

from airflow.sdk import dag, get_current_context, task

from hhp.config import load_settings
from orchestration.alerts import send_alert
from orchestration.wiring import START_DATE, task_defaults


@dag(
    dag_id="hhp_freshness",
    schedule="0 7 * * *",  # 07:00 UTC, before the working day
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults(owner="data-platform"),
    tags=["layer:ingest", "study:all", "freshness"],
    doc_md=__doc__,
)
def hhp_freshness():
    @task
    def check_feeds() -> list[str]:
        from pipeline.status import freshness  # deferred: a task's imports, not the DAG parse's

        overdue = [f for f in freshness(load_settings()).values() if f.overdue]
        lines = [
            f"{f.study_id}/{f.feed}: last extract {f.last_extract or 'none'}; {f.detail}" for f in overdue
        ]
        if lines:
            send_alert(f"hhp: {len(lines)} feed(s) overdue", "\n".join(lines), get_current_context())
        return lines

    check_feeds()


hhp_freshness()
