"""Run dbt in process against the configured warehouse (the same project Cosmos runs)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from hhp import DBT_PROJECT_DIR
from hhp.config import Settings

# What `dbt parse` reads: the project, not its build outputs.
_PROJECT_PARTS = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests")


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


def project_manifest(settings: Settings) -> Path:
    """The project's parsed manifest, for Cosmos to draw the transform DAG from (models and
    the tests of each). Parsed again only when a project file changed: the manifest lives under
    a digest of the project's files, written to a temporary folder and renamed into place, so
    processes parsing at once never read half a file."""
    digest = hashlib.sha256(settings.dbt_target.encode())
    for part in _PROJECT_PARTS:
        root = DBT_PROJECT_DIR / part
        for path in sorted([root] if root.is_file() else root.rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(DBT_PROJECT_DIR)).encode() + path.read_bytes())
    folder = settings.home / "dbt" / "manifests" / digest.hexdigest()[:16]
    manifest = folder / "manifest.json"
    if manifest.exists():
        return manifest
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".parse-"))
    try:
        run_dbt(settings, "parse", "--target-path", str(scratch))
        scratch.rename(folder)
    except OSError:  # another process put the same manifest in place first
        shutil.rmtree(scratch, ignore_errors=True)
    return manifest


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
