"""Gate: run the analysis_ready quality suites per study and record them.

Scheduled on marts.built. A study failing a fatal check is withheld from the report (an alert
names it and why); marts.analysis_ready is emitted while any study remains to report. If none
does, the task fails with a message naming each failed check, its study and figures (alerted as
every failed task is).
"""

from __future__ import annotations

from airflow.sdk import dag, get_current_context, task

from hhp.config import load_settings
from orchestration.alerts import send_alert
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
        if withheld:
            lines = [
                f"{study}: {reason}" for study, reasons in sorted(withheld.items()) for reason in reasons
            ]
            send_alert(f"hhp: quality gate withheld {', '.join(sorted(withheld))} from the report",
                       "\n".join(lines), get_current_context())  # fmt: skip
        passed = sum(r.status == "passed" for r in results)
        return {"checks": len(results), "passed": passed, "withheld": sorted(withheld)}

    run_quality_gate()


hhp_gate()
