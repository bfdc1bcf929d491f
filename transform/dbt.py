"""Run dbt in process against the configured warehouse (the same project Cosmos runs)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from hhp import DBT_PROJECT_DIR, releases
from hhp.config import Settings
from hhp.errors import ExpectedError, NothingBuilt
from hhp.faults import dbt_fault_points, fault_point
from hhp.ledger import erasure_state
from hhp.pseudonymise import current_fingerprint
from hhp.registry import registry_dir
from hhp.warehouse import open_warehouse

# What `dbt parse` reads: the project, not its build outputs.
_PROJECT_PARTS = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests")


BUILDS = "ops.dbt_builds"  # each successful build: what it saw of the ledger and the project
BUILD_COLUMNS = [
    ("project_state", "text"),
    ("ledger_through", "timestamp"),
    ("scope", "text"),
    ("finished_at", "timestamp"),
]


class DbtFailed(ExpectedError):
    """dbt reported an error or a failing test."""


def dbt_env(settings: Settings) -> dict[str, str]:
    """Profile variables, plus target and log folders under $HHP_HOME, not in the repository."""
    return {
        **settings.dbt_profile_env(),
        "DBT_TARGET_PATH": str(settings.home / "dbt" / "target"),
        "DBT_LOG_PATH": str(settings.home / "dbt" / "logs"),
        "PGTZ": "UTC",  # libpq: PostgreSQL sessions in UTC, whatever the host's or server's zone
    }


# Told of each node as dbt finishes it: (nodes done, nodes in all, the node's name), for a progress bar
OnNode = Callable[[int, int, str], None]


def _progress(on_node: OnNode):
    seen = {"total": 0, "done": 0}

    def callback(event) -> None:
        if event.info.name == "ConcurrencyLine":
            seen["total"] = event.data.node_count
        # dbt's node count leaves the unit tests out: so does the count of nodes done
        elif event.info.name == "NodeFinished" and event.data.node_info.resource_type != "unit_test":
            seen["done"] += 1
            on_node(seen["done"], seen["total"], event.data.node_info.node_name)

    return callback


def run_dbt(settings: Settings, *args: str, on_node: OnNode | None = None) -> None:
    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_env(settings))
    callbacks = [dbt_fault_points] + ([_progress(on_node)] if on_node else [])
    result = dbtRunner(callbacks=callbacks).invoke(
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


def project_digest(settings: Settings, *more: Path) -> str:
    """A digest of the dbt project's files (and of `more` folders), for the target in use."""
    digest = hashlib.sha256(settings.dbt_target.encode())
    roots = [(DBT_PROJECT_DIR, DBT_PROJECT_DIR / part) for part in _PROJECT_PARTS]
    for base, root in roots + [(folder.parent, folder) for folder in more]:
        for path in sorted([root] if root.is_file() else root.rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(base)).encode() + path.read_bytes())
    return digest.hexdigest()


def project_manifest(settings: Settings) -> Path:
    """The project's parsed manifest, for Cosmos to draw the transform DAG from (models and
    the tests of each). Parsed again only when a project file changed: the manifest lives under
    a digest of the project's files, written to a temporary folder and renamed into place, so
    processes parsing at once never read half a file."""
    folder = settings.home / "dbt" / "manifests" / project_digest(settings)[:16]
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


# A data release's snapshots are written by its own build alone (hhp/releases.py)
RELEASE_MODELS = "tag:release"
NOT_RELEASES = ("--exclude", RELEASE_MODELS)


def build_release(settings: Settings) -> None:
    """Write the snapshots of the release in state pending (dbt_project/models/releases), with
    their tests; the marts must be built."""
    run_dbt(settings.transformer, "build", "--partial-parse", "--select", RELEASE_MODELS)


def build(settings: Settings, full: bool = False, on_node: OnNode | None = None) -> str:
    """Seeds, models and their tests, in dependency order: only those downstream of the raw
    tables that took new rows since the last build, if it was of the same project and
    registry (the ledger says which), or else, or with `full`, everything from raw
    (incremental models too). Returns what was built: "full", "nothing new" or the changed formats."""
    settings = settings.transformer
    with open_warehouse(settings) as wh:
        # a rotated pseudonym key changes every pseudonym in raw, and an erasure deletes rows the
        # incremental models hold: the next build is a full one
        state = project_digest(settings, registry_dir()) + current_fingerprint(wh) + erasure_state(wh)
        state = hashlib.sha256(state.encode())
        state = state.hexdigest()
        wh.ensure_table(BUILDS, BUILD_COLUMNS)
        releases.ensure(wh)  # the release models' sources exist, for a `dbt build` of every model
        (ledger_through,) = wh.query("select max(processed_at) from ops.landed_files")[0]
        last = wh.query(
            f"select project_state, ledger_through from {BUILDS} order by finished_at desc limit 1"
        )
        # only the latest build counts: an older one of the same project left models since rebuilt
        since = last[0][1] if last and last[0][0] == state else None
        changed = [fmt for (fmt,) in wh.query(
            "select distinct format from ops.landed_files where state = 'loaded' and rows_loaded > 0 "
            "and processed_at > %s order by format",
            [since],
        )] if since is not None else []  # fmt: skip
    if full or since is None:  # the incremental models too: the code that made them may have changed
        scope = "full"
        run_dbt(settings, "build", "--full-refresh", "--partial-parse", *NOT_RELEASES, on_node=on_node)
    elif not changed:
        scope = "nothing new"
    else:
        scope = ", ".join(changed)
        selection = [f"source:*.{fmt}+" for fmt in changed]
        run_dbt(settings, "build", "--partial-parse", "--select", *selection, *NOT_RELEASES, on_node=on_node)
    fault_point("build.built")
    with open_warehouse(settings) as wh:
        wh.execute(
            f"insert into {BUILDS} (project_state, ledger_through, scope, finished_at) "
            "values (%s, %s, %s, %s)",
            [state, ledger_through, scope, datetime.now(UTC).replace(tzinfo=None)],
        )
    return scope


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


# dbt's documentation page may load nothing from outside (its tracker included): the copy we
# hand out carries a policy that refuses every load; what it needs is inline in the page.
DOCS_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
    "img-src data:; font-src data:"
)


def write_docs(settings: Settings) -> Path:
    """dbt's documentation of the project and the warehouse as one static page, offline:
    $HHP_HOME/docs/index.html. Needs the models built (the catalogue reads their columns)."""
    settings = settings.transformer
    with open_warehouse(settings) as wh:
        if not wh.table_exists("marts", "dim_study"):
            raise NothingBuilt("the documentation")
    run_dbt(settings, "docs", "generate", "--static")
    page = (settings.home / "dbt" / "target" / "static_index.html").read_text(encoding="utf-8")
    policy = f'<meta http-equiv="Content-Security-Policy" content="{DOCS_POLICY}">'
    page = page.replace("<head>", f"<head>{policy}", 1)
    # two slips of dbt-docs' page that a browser reports as console errors: a favicon whose path
    # was never filled in, and icons linked before Angular fills in their (local) fragment
    page = re.sub(r"<link rel=\"shortcut icon\" href=\"\$\{require\([^)]*\)\}\"/>", "", page)
    page = page.replace('xlink:href="{{ getIcon(', 'ng-attr-xlink:href="{{ getIcon(')
    path = settings.home / "docs" / "index.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".html.partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(path)
    return path
