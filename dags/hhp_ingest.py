"""Ingest: load every file waiting in the landing area into raw.* (one transaction per file).

Each file is identified from its path and the study registry, checked by its format's
landing suite, pseudonymised, loaded with lineage and archived, or quarantined with its
reason. Emits an event on raw.<format> for each format that received rows, carrying
{study, feed, file, rows} for every file loaded; skipped when nothing was loaded.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from hhp.orchestration import RAW_ASSETS, START_DATE, task_defaults


@dag(
    dag_id="hhp_ingest",
    schedule="*/5 * * * *",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults(owner="data-platform"),
    tags=["layer:ingest", "study:all"],
    doc_md=__doc__,
)
def hhp_ingest():
    @task(outlets=RAW_ASSETS)
    def ingest_landed_files(*, outlet_events=None):
        from airflow.exceptions import AirflowSkipException

        from hhp.config import load_settings
        from hhp.pipeline import ingest

        results = ingest(load_settings())
        loaded = [r for r in results if r.state == "loaded" and r.rows > 0]
        if not loaded:
            raise AirflowSkipException(f"nothing new loaded ({len(results)} files seen)")
        by_asset = {}
        for r in loaded:
            by_asset.setdefault(f"raw.{r.format}", []).append(
                {"study": r.study_id, "feed": r.feed, "file": r.file_key, "rows": r.rows}
            )
        for asset in RAW_ASSETS:
            outlet_events[asset].extra = {"files": by_asset.get(asset.name, [])}
        return {"loaded": len(loaded), "quarantined": sum(r.state == "quarantined" for r in results)}

    ingest_landed_files()


hhp_ingest()
