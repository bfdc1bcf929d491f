"""Airflow wiring beside the DAGs (`wiring`) and Airflow on one machine (`local`). Not part of
the runtime: Airflow and Cosmos come with the `airflow` extra."""

# Every task that opens the warehouse takes a slot of this pool: a DuckDB file has one writer
# and no readers beside it, so an ingest landing mid-build waits instead of failing on the lock.
# `hhp airflow` creates it (one slot on DuckDB; more on PostgreSQL, which has no such limit).
WAREHOUSE_POOL = "hhp_warehouse"
