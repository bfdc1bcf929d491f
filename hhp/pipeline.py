"""The chain's stages, called alike by `hhp` and by the Airflow DAGs. On PostgreSQL, ingest
connects as the loader and every later stage as the transformer (infra/postgres_roles.py):
build, gate and report switch to the transformer's settings themselves."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hhp.config import Settings


def ingest(settings: Settings, on_file: Callable | None = None):
    from ingest.service import ingest_pending

    return ingest_pending(settings, on_file)


def build(settings: Settings, full: bool = False) -> str:
    from hhp.dbt import build as dbt_build
    from hhp.warehouse import open_warehouse
    from ingest.registry import load_registry
    from ingest.service import prepare_warehouse

    with open_warehouse(settings) as wh:  # dbt's sources exist even before their first file
        prepare_warehouse(wh, load_registry())
    return dbt_build(settings, full)


def gate(settings: Settings):
    """Run the checks and raise GateFailed if a fatal one fails."""
    from expectations.gate import enforce, run_gate

    results = run_gate(settings)
    enforce(results, settings)
    return results


def report(settings: Settings) -> Path:
    from analysis.report import build_report

    return build_report(settings)
