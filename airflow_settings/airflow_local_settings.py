"""Airflow's local-settings hook, imported by every Airflow process as it starts (`hhp airflow`
puts this folder on PYTHONPATH; a deployment does the same or copies it to $AIRFLOW_HOME/config).

Only the scheduler acts on it. Its LocalExecutor forks every task's process from the scheduler,
so a library the scheduler has imported costs a task nothing. Great Expectations takes 8-10 s
to import on a 2-core machine and every ingest, gate and report task needs it: imported once
here, not once per landed file."""

import sys

__all__: list[str] = []  # no cluster policies: nothing here for Airflow to pick up

if sys.argv[1:2] == ["scheduler"]:
    import great_expectations  # noqa: F401
