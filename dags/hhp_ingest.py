"""Ingest: load each file waiting in the landing area into raw.* (one transaction per file).

Started by a file landing: in S3 mode by the landing bucket's event queue (an asset
watcher), locally by a short poll of the folder. One mapped task per landed file,
allocations first (every other feed refers to them). Each file is identified from its path
and the study registry, checked by its format's landing suite, pseudonymised, loaded with
lineage and archived, or quarantined with its reason. A redelivered or duplicate event finds
nothing new: the ledger skips what is done. Emits an event on raw.<format> carrying
{study, feed, file, rows} for every file loaded; skipped when nothing was loaded.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from hhp.config import load_settings
from orchestration.wiring import RAW_ASSETS, START_DATE, ingest_schedule, task_defaults


@dag(
    dag_id="hhp_ingest",
    schedule=ingest_schedule(),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults(owner="data-platform"),
    tags=["layer:ingest", "study:all"],
    doc_md=__doc__,
)
def hhp_ingest():
    @task
    def list_landed(allocations: bool) -> list[str]:
        from ingest.service import pending_keys  # deferred: a task's imports, not the DAG parse's

        keys = pending_keys(load_settings())
        return [k for k in keys if (k.split("/")[-2] == "allocation") == allocations]

    @task(max_active_tis_per_dag=1)  # DuckDB has one writer
    def ingest_file(file_key: str) -> dict:
        from dataclasses import asdict

        from pipeline.chain import ingest_one  # deferred: a task's imports, not the DAG parse's

        return asdict(ingest_one(load_settings(), file_key))

    @task(outlets=RAW_ASSETS, trigger_rule="all_done")
    def announce(allocations: list[dict], others: list[dict], *, outlet_events=None):
        from airflow.exceptions import AirflowSkipException

        results = [*(allocations or []), *(others or [])]
        loaded = [r for r in results if r["state"] == "loaded" and r["rows"] > 0]
        if not loaded:
            raise AirflowSkipException(f"nothing new loaded ({len(results)} files seen)")
        by_asset: dict[str, list[dict]] = {}
        for r in loaded:
            by_asset.setdefault(f"raw.{r['format']}", []).append(
                {"study": r["study_id"], "feed": r["feed"], "file": r["file_key"], "rows": r["rows"]}
            )
        for asset in RAW_ASSETS:
            outlet_events[asset].extra = {"files": by_asset.get(asset.name, [])}
        return {"loaded": len(loaded), "quarantined": sum(r["state"] == "quarantined" for r in results)}

    allocations = ingest_file.expand(file_key=list_landed.override(task_id="list_allocations")(True))
    # none_failed: with no allocation landed, the other files still load
    others = ingest_file.override(task_id="ingest_other_file", trigger_rule="none_failed").expand(
        file_key=list_landed.override(task_id="list_other_files")(False)
    )
    allocations >> others
    announce(allocations, others)


hhp_ingest()
