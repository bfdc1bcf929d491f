"""Transform: build the dbt project through Cosmos (one task per model), then its tests.

Scheduled on any raw.<format> asset. DuckDB has a single writer, so the tasks run one at
a time. Emits marts.built when every model and test has passed.
"""

from __future__ import annotations

from airflow.sdk import AssetAny, dag, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import InvocationMode, LoadMode

from hhp import DBT_PROJECT_DIR
from hhp.config import load_settings
from hhp.orchestration import MARTS_BUILT, RAW_ASSETS, START_DATE, task_defaults

_settings = load_settings()  # reads the environment only; never connects or raises


@dag(
    dag_id="hhp_transform",
    schedule=AssetAny(*RAW_ASSETS),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    max_active_tasks=1,
    default_args=task_defaults(owner="data-platform"),
    tags=["layer:transform", "dbt", "study:all"],
    doc_md=__doc__,
)
def hhp_transform():
    models = DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(DBT_PROJECT_DIR, env_vars=_settings.dbt_profile_env()),
        profile_config=ProfileConfig(
            profile_name="hhp",
            target_name=_settings.dbt_target,
            profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml",
        ),
        execution_config=ExecutionConfig(invocation_mode=InvocationMode.DBT_RUNNER),
        render_config=RenderConfig(load_method=LoadMode.CUSTOM, emit_datasets=False),
    )

    @task
    def test_models():
        """Every dbt test (keys, relationships, unit tests) over the freshly built models."""
        from hhp.dbt import run_dbt

        run_dbt(load_settings(), "test")

    @task(outlets=[MARTS_BUILT])
    def publish_marts():
        return "marts built"

    models >> test_models() >> publish_marts()


hhp_transform()
