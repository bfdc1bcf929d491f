"""Report: write the programme report from the gated marts.

Scheduled on marts.analysis_ready, so it never runs on data that failed the gate.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from hhp.config import load_settings
from orchestration.wiring import MARTS_ANALYSIS_READY, PROGRAMME_REPORT, START_DATE, task_defaults


@dag(
    dag_id="hhp_report",
    schedule=[MARTS_ANALYSIS_READY],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults(owner="data-platform"),
    tags=["layer:report", "study:all"],
    doc_md=__doc__,
)
def hhp_report():
    @task(outlets=[PROGRAMME_REPORT])
    def build_programme_report():
        from pipeline.chain import report  # deferred: a task's imports, not the DAG parse's

        return str(report(load_settings()))

    build_programme_report()


hhp_report()
