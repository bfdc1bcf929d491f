"""Transform: build the dbt project through Cosmos, one task per model and its tests after it.

Scheduled on any raw.<format> asset; refuses to start on a registry with problems; erases
everyone withdrawn at level data (ingest/erasure.py) before building. Cosmos's
watcher mode runs one `dbt build` (one writer, as DuckDB requires; models in dependency
order, each model's tests right after it) and each model's task and test task follow that
model's own result, so a failure shows on the model that broke. Emits marts.built when every
model and test has passed.
"""

from __future__ import annotations

from airflow.sdk import AssetAny, dag, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

from hhp import DBT_PROJECT_DIR
from hhp.config import load_settings
from hhp.registry import load_registry
from orchestration.wiring import MARTS_BUILT, RAW_ASSETS, START_DATE, WAREHOUSE_POOL, task_defaults
from transform.dbt import RELEASE_MODELS, dbt_env, project_manifest

_settings = load_settings()  # reads the environment only


@dag(
    dag_id="hhp_transform",
    schedule=AssetAny(*RAW_ASSETS),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults(owner="data-platform", pool=None),  # sensors only watch
    tags=["layer:transform", "dbt", "study:all"],
    doc_md=__doc__,
)
def hhp_transform():
    models = DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            DBT_PROJECT_DIR,
            manifest_path=project_manifest(_settings),
            env_vars=dbt_env(_settings),
        ),
        profile_config=ProfileConfig(
            profile_name="hhp",
            target_name=_settings.dbt_target,
            profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER, invocation_mode=InvocationMode.DBT_RUNNER
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.AFTER_EACH,
            emit_datasets=False,
            exclude=[RELEASE_MODELS],  # written by `hhp release create` alone
        ),
        operator_args={"poke_interval": 5},
    )
    models.get_child_by_label("dbt_producer_watcher").pool = WAREHOUSE_POOL  # the one writer

    @task
    def check_registry() -> int:
        """Refuse to build on a registry with problems (every one listed in the error)."""
        return len(load_registry())

    @task(pool=WAREHOUSE_POOL)
    def erase_withdrawn() -> int:
        """Erase everyone withdrawn at level data before any model is built from raw."""
        from pipeline.chain import erase  # deferred: a task's imports, not the DAG parse's

        return erase(load_settings())

    @task(outlets=[MARTS_BUILT])
    def publish_marts():
        return "marts built"

    check_registry() >> erase_withdrawn() >> models >> publish_marts()


hhp_transform()
