"""Gate: run the analysis_ready quality suites per study and record them.

Scheduled on marts.built. Emits marts.analysis_ready only when every fatal check passes;
otherwise fails with a message naming each failed check, its study and figures.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from hhp.config import load_settings
from orchestration.wiring import MARTS_ANALYSIS_READY, MARTS_BUILT, START_DATE, task_defaults


@dag(
    dag_id="hhp_gate",
    schedule=[MARTS_BUILT],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults(owner="data-platform"),
    tags=["layer:quality", "study:all"],
    doc_md=__doc__,
)
def hhp_gate():
    @task(outlets=[MARTS_ANALYSIS_READY])
    def run_quality_gate():
        from pipeline.chain import gate  # deferred: a task's imports, not the DAG parse's

        results, withheld = gate(load_settings())
        passed = sum(r.status == "passed" for r in results)
        return {"checks": len(results), "passed": passed, "withheld": sorted(withheld)}

    run_quality_gate()


hhp_gate()
