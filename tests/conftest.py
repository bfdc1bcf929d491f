"""Shared fixtures: one generated study, one full chain on DuckDB, one on a real PostgreSQL."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")
os.environ["HHP_PSEUDONYM_KEY"] = "test-only-key"

STUDY = "mod_ding"
SEED = 42
ALL_MARTS = ("dim_study", "dim_participant", "fct_outcomes", "fct_engagement", "fct_absence_spells",
             "fct_workforce", "fct_effect_summary")  # fmt: skip
VOLATILE_COLUMNS = ("refreshed_through", "built_at")  # when a row was built, not what it says


def settings_for(home: Path, server=None, landing: str = ""):
    """Settings for a platform home, on DuckDB or, given a LocalPostgres, as its pipeline roles;
    the pseudonym key as the test set it in the environment."""
    from hhp.config import load_settings

    env = {"HHP_PSEUDONYM_KEY": os.environ.get("HHP_PSEUDONYM_KEY", ""), "HHP_LANDING": landing}
    return load_settings({**env, "HHP_HOME": str(home), **(server.pipeline_env() if server else {})})


def land_tree(settings, tree: Path) -> int:
    from ingest.landing import files_under, open_landing

    landing = open_landing(settings)
    files = [(f, k) for f, k in files_under([tree]) if f.name != "truth.json"]
    for file, key in files:
        landing.put(file, key)
    return len(files)


def mart_rows(settings, marts, skip_columns=()) -> dict[str, list[tuple]]:
    """Every row of each mart (or schema.model), in a stable order, without the named columns."""
    from hhp.warehouse import open_warehouse

    snapshot = {}
    with open_warehouse(settings.transformer) as wh:  # on PostgreSQL, the role that reads marts
        for mart in marts:
            schema, _, name = mart.rpartition(".")
            schema = schema or "marts"
            columns = [
                c
                for (c,) in wh.query(
                    "select column_name from information_schema.columns "
                    "where table_schema = %s and table_name = %s order by ordinal_position",
                    [schema, name],
                )
                if c not in skip_columns
            ]
            select = ", ".join(columns)
            positions = ", ".join(str(i + 1) for i in range(len(columns)))  # `order by all` is DuckDB's
            snapshot[mart] = wh.query(f"select {select} from {schema}.{name} order by {positions}")
    return snapshot


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> Path:
    from generator import generate

    out = tmp_path_factory.mktemp("generated")
    generate(out, [STUDY], seed=SEED)
    return out


@pytest.fixture(scope="session")
def truth(generated) -> dict:
    return json.loads((generated / "truth.json").read_text())


def allocation_identifiers(tree: Path) -> dict[str, set[str]]:
    """Every email and employee number the generator wrote into the allocation lists."""
    found: dict[str, set[str]] = {"email": set(), "employee_number": set()}
    for allocation in tree.glob("*/allocation/*.csv"):
        with open(allocation, newline="") as handle:
            for row in csv.DictReader(handle):
                found["email"].add(row["email"])
                found["employee_number"].add(row["employee_number"])
    return found


@pytest.fixture(scope="session")
def identifiers(generated) -> dict[str, set[str]]:
    return allocation_identifiers(generated)


@pytest.fixture(scope="session")
def programme_files(tmp_path_factory) -> Path:
    """Every registered study's partner files."""
    from generator import generate

    out = tmp_path_factory.mktemp("programme_files")
    generate(out, None, seed=SEED)
    return out


@pytest.fixture(scope="session")
def programme_chain(tmp_path_factory, programme_files):
    """The whole chain over the five studies on the embedded default."""
    settings = settings_for(tmp_path_factory.mktemp("programme_home"))
    run_chain(settings, programme_files, with_report=False)
    return settings


def run_chain(settings, generated: Path, with_report: bool = True) -> None:
    from pipeline import chain as pipeline

    land_tree(settings, generated)
    pipeline.ingest(settings)
    pipeline.build(settings)
    pipeline.gate(settings)
    if with_report:
        pipeline.report(settings)


@pytest.fixture(scope="session")
def duckdb_chain(tmp_path_factory, generated):
    """The whole chain (ingest, dbt build, gate, report) on the embedded default."""
    settings = settings_for(tmp_path_factory.mktemp("duckdb_home"))
    run_chain(settings, generated)
    return settings


@pytest.fixture(scope="session")
def postgres_server():
    from infra.local_postgres import LocalPostgres

    server = LocalPostgres.start().provision_roles()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_chain(tmp_path_factory, programme_files, postgres_server):
    """The same five studies on a real PostgreSQL."""
    settings = settings_for(tmp_path_factory.mktemp("postgres_home"), postgres_server)
    run_chain(settings, programme_files, with_report=False)
    return settings


@pytest.fixture
def fresh_home(tmp_path):
    """An empty platform home on DuckDB, for tests that land their own files."""
    return settings_for(tmp_path / "home")


def differing_marts(left: dict[str, list[tuple]], right: dict[str, list[tuple]]) -> list[str]:
    """The marts whose rows differ beyond floating point, of two mart_rows snapshots."""
    return [m for m in left if len(left[m]) != len(right[m]) or not same_rows(left[m], right[m])]


def run_hhp(settings, *args: str, timeout: int = 900, **env: str) -> subprocess.CompletedProcess:
    """`hhp ARGS` in a process of its own on this platform home (extra environment as keywords;
    HHP_FAULT_POINT only when given)."""
    import sys

    environ = {k: v for k, v in os.environ.items() if k != "HHP_FAULT_POINT"}
    environ |= {"HHP_HOME": str(settings.home), **env}
    return subprocess.run(
        [sys.executable, "-c", "from pipeline.cli import app; app()", *args],
        env=environ, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def same_rows(left: list[tuple], right: list[tuple]) -> bool:
    """Row for row equal, floating point to 1e-9 (engines and threads may sum in another order)."""
    import math

    def same(a, b) -> bool:
        if isinstance(a, float) and isinstance(b, float):
            return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
        return a == b

    return len(left) == len(right) and all(
        len(x) == len(y) and all(same(a, b) for a, b in zip(x, y, strict=True))
        for x, y in zip(left, right, strict=True)
    )


@pytest.fixture(scope="module")
def moto_endpoint():
    """A moto server on 127.0.0.1 as S3 and SQS, with the AWS environment pointing at it."""
    import os

    from infra.local_stack import aws_test_environment, moto_server

    with moto_server() as endpoint:
        aws = aws_test_environment(endpoint)
        saved = {k: os.environ.get(k) for k in aws}
        os.environ.update(aws)
        yield endpoint
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def true_effect(truth: dict, study: str, outcome: str, timepoint: str) -> float:
    """The generator's effect on the scale of fct_effect_summary's difference."""
    from hhp.registry import load_registry

    settings = truth[study]
    if outcome in settings["effects"]:
        return settings["effects"][outcome][timepoint]
    leaving = settings["LEFT_ANY_risk_difference_pp"] / 100
    if outcome == "LEFT_ANY":
        return leaving
    if outcome == "LEFT_VOL":
        return leaving * load_registry()[study].generator["voluntary_share"]
    spells = set(settings["sickness_spells_per_period"].values())
    assert outcome.startswith(("ABS_", "BRADFORD")) and len(spells) == 1, f"no known truth for {outcome}"
    return 0.0


CHROMIUM = shutil.which("chromium")  # Debian's; `make test` installs it
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]  # fmt: skip


def run_chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium with its own profile folder; output captured as text."""
    return subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
