"""DAG integrity: each DAG file imports cleanly and is wired as the style asks."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

DAGS_DIR = Path(__file__).resolve().parents[1] / "dags"
DAG_FILES = sorted(p for p in DAGS_DIR.glob("*.py") if not p.name.startswith("_"))


@pytest.fixture(scope="module", autouse=True)
def airflow_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow_home")
    saved = {k: os.environ.get(k) for k in ("AIRFLOW_HOME", "AIRFLOW__CORE__LOAD_EXAMPLES")}
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    yield home
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _load(path: Path):
    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    bag = DagBag(dag_folder=str(path), safe_mode=False)
    return bag, time.perf_counter() - started


def test_there_are_dag_files():
    assert {p.stem for p in DAG_FILES} >= {"hhp_ingest", "hhp_transform", "hhp_gate", "hhp_report"}


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_integrity(path, record_property):
    from airflow.utils.dag_cycle_tester import check_cycle

    bag, seconds = _load(path)
    record_property("import_seconds", round(seconds, 3))
    print(f"{path.name}: imported in {seconds:.2f} s")
    assert bag.import_errors == {}
    assert len(bag.dags) >= 1
    for dag in bag.dags.values():
        assert dag.doc_md, f"{dag.dag_id} has no docstring"
        assert dag.tags, f"{dag.dag_id} has no tags"
        assert dag.schedule is not None or dag.timetable is not None
        assert dag.catchup is False
        check_cycle(dag)
        for task in dag.tasks:
            assert task.owner not in (None, "", "airflow"), f"{dag.dag_id}.{task.task_id} owner"
            assert task.retries >= 2, f"{dag.dag_id}.{task.task_id} retries {task.retries}"


def test_every_adapter_has_a_raw_asset():
    from ingest.adapters import ADAPTERS
    from orchestration.wiring import RAW_ASSETS

    assert sorted(a.name for a in RAW_ASSETS) == sorted(f"raw.{fmt}" for fmt in ADAPTERS)


def test_assets_link_the_chain():
    dags = {}
    for path in DAG_FILES:
        bag, _ = _load(path)
        dags.update(bag.dags)
    outlets = {
        dag_id: {o.name for task in dag.tasks for o in getattr(task, "outlets", []) if hasattr(o, "name")}
        for dag_id, dag in dags.items()
    }
    assert "raw.qualtrics_csv" in outlets["hhp_ingest"]
    assert "marts.built" in outlets["hhp_transform"]
    assert "marts.analysis_ready" in outlets["hhp_gate"]
    assert "reports.programme_report" in outlets["hhp_report"]


def test_in_s3_mode_the_ingest_dag_is_started_by_the_landing_queue(monkeypatch):
    monkeypatch.setenv("HHP_EVENTS_QUEUE", "http://127.0.0.1:1/123456789012/hhp-landing-events")
    bag, _ = _load(DAGS_DIR / "hhp_ingest.py")
    assert bag.import_errors == {}
    dag = bag.dags["hhp_ingest"]
    (asset,) = dag.timetable.asset_condition.objects
    assert asset.name == "landing.s3_events"
    (watcher,) = asset.watchers
    assert watcher.trigger.__class__.__name__ == "MessageQueueTrigger"


def test_the_ingest_dag_maps_one_task_per_file_allocations_first():
    bag, _ = _load(DAGS_DIR / "hhp_ingest.py")
    dag = bag.dags["hhp_ingest"]
    assert dag.schedule == "*/2 * * * *"  # local mode polls the folder
    allocations, others = dag.get_task("ingest_file"), dag.get_task("ingest_other_file")
    assert allocations.max_active_tis_per_dag == 1 and others.max_active_tis_per_dag == 1
    assert "ingest_file" in others.upstream_task_ids
    assert others.trigger_rule == "none_failed"  # a lone survey file loads without an allocation
    assert allocations.pool == others.pool == "hhp_warehouse"  # DuckDB's one writer, across DAGs
    assert {"ingest_file", "ingest_other_file"} <= dag.get_task("announce").upstream_task_ids


def test_the_transform_dag_has_a_task_per_model_with_its_tests_after_it():
    import json

    from hhp.config import load_settings
    from transform.dbt import project_manifest

    bag, _ = _load(DAGS_DIR / "hhp_transform.py")
    dag = bag.dags["hhp_transform"]
    nodes = json.loads(project_manifest(load_settings()).read_text())["nodes"].values()
    models = [n["name"] for n in nodes if n["resource_type"] == "model" and "release" not in n["tags"]]
    releases = [n["name"] for n in nodes if n["resource_type"] == "model" and "release" in n["tags"]]
    assert len(models) >= 25 and len(releases) >= 5
    assert not [t for t in dag.task_ids if any(f".{name}." in t for name in releases)]  # `hhp release` only
    for model in models:
        test = dag.get_task(f"dbt.{model}.test")
        assert test.upstream_task_ids == {f"dbt.{model}.run"}
    assert dag.get_task("dbt.dbt_producer_watcher").pool == "hhp_warehouse"  # the one `dbt build`
    assert dag.get_task(f"dbt.{models[0]}.run").pool == "default_pool"  # sensors only watch
    tests = [t for t in dag.tasks if t.task_id.endswith(".test")]
    last_tests = {t.task_id for t in tests if t.downstream_task_ids <= {"publish_marts"}}
    assert "dbt.rpt_effect_summary.test" in last_tests  # the reporting views come last
    assert last_tests <= dag.get_task("publish_marts").upstream_task_ids  # marts.built waits for them
