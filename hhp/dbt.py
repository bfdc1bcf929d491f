"""Run dbt in process against the configured warehouse (the same project Cosmos runs)."""

from __future__ import annotations

import os

from hhp import DBT_PROJECT_DIR
from hhp.config import Settings


class DbtFailed(RuntimeError):
    """dbt reported an error or a failing test."""


def dbt_env(settings: Settings) -> dict[str, str]:
    """Profile variables, plus target and log folders under $HHP_HOME, not in the repository."""
    return {
        **settings.dbt_profile_env(),
        "DBT_TARGET_PATH": str(settings.home / "dbt" / "target"),
        "DBT_LOG_PATH": str(settings.home / "dbt" / "logs"),
    }


def run_dbt(settings: Settings, *args: str) -> None:
    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_env(settings))
    result = dbtRunner().invoke(
        [
            *args,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target",
            settings.dbt_target,
            "--quiet",
        ]
    )
    _release_duckdb()
    if not result.success:
        detail = result.exception or "; ".join(
            f"{r.node.name}: {r.message}" for r in (result.result or []) if r.status in ("error", "fail")
        )
        raise DbtFailed(f"dbt {' '.join(args)} failed: {detail}")


def build(settings: Settings) -> None:
    """Seeds, models and their tests, in dependency order."""
    run_dbt(settings, "build")


def _release_duckdb() -> None:
    """dbt-duckdb keeps its database open for the life of the process; close it so the file
    is checkpointed and free for the next writer (DuckDB allows one)."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager as manager
    except ImportError:  # pragma: no cover
        return
    with manager._LOCK:
        if manager._ENV is not None:
            manager._ENV.close()
            manager._ENV = None
