"""The chain's stages, called alike by `hhp` and by the Airflow DAGs: the one place that joins
them. On PostgreSQL, ingest connects as the loader and every later stage as the transformer
(infra/postgres_roles.py): build, gate and report switch to the transformer's settings
themselves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from analysis.report import build_report
from expectations.gate import enforce, run_gate
from expectations.landing import check_landed
from hhp import releases
from hhp.config import Settings, pseudonym_key
from hhp.ledger import data_release
from hhp.pseudonymise import check_key
from hhp.registry import load_registry
from hhp.releases import Release
from hhp.warehouse import open_warehouse
from ingest.erasure import erase_withdrawn, finish_rewrites
from ingest.landing import open_landing
from ingest.service import IngestResult, ingest_key, ingest_pending, prepare_warehouse
from transform.dbt import OnNode, build_release
from transform.dbt import build as dbt_build


def ingest(settings: Settings, on_file: Callable[[IngestResult], None] | None = None) -> list[IngestResult]:
    """Every file waiting in the landing area, each checked by its format's landing suite."""
    return ingest_pending(settings, check_landed, on_file)


def ingest_one(settings: Settings, file_key: str) -> IngestResult:
    """One landed file by its key (the ingest DAG's mapped task)."""
    return ingest_key(settings, file_key, check_landed)


def erase(settings: Settings) -> int:
    """Erase everyone withdrawn at level data (ingest.erasure), as the transformer, the role
    that owns the derived tables; then rewrite the archived files that held them. Returns how
    many participants were erased."""
    registry, key = load_registry(), pseudonym_key(settings)
    erased = 0
    with open_warehouse(settings.transformer) as wh:
        check_key(wh, key)
        for study in registry.values():
            erased += erase_withdrawn(wh, study, key)
        finish_rewrites(wh, open_landing(settings), registry, key)
    return erased


def build(settings: Settings, full: bool = False, on_node: OnNode | None = None) -> str:
    """Erase first (a build never brings back what a withdrawal took away), then dbt."""
    with open_warehouse(settings) as wh:  # dbt's sources exist even before their first file
        prepare_warehouse(wh, load_registry())
    erase(settings)
    return dbt_build(settings, full, on_node)


def gate(settings: Settings):
    """Run the checks: (results, the studies withheld from the report and why); raises
    GateFailed if no study is left to report."""
    results = run_gate(settings)
    return results, enforce(results, settings)


def report(settings: Settings, release: str | None = None) -> Path:
    return build_report(settings, release)


def create_release(settings: Settings, name: str, cut_on: date) -> Release:
    """A data release of everything loaded now, cut at `cut_on`: the marts brought up to date
    and gated first (the release keeps the gate's verdict), then dbt writes its snapshots; a
    release that fails is removed whole."""
    releases.check_name(name)
    build(settings)
    _, held = gate(settings)
    with open_warehouse(settings.transformer) as wh:
        releases.discard(wh)  # one left pending by a run that stopped
        releases.begin(wh, name, cut_on, data_release(wh), held)
    try:
        build_release(settings)
    except BaseException:
        with open_warehouse(settings.transformer) as wh:
            releases.discard(wh, name)
        raise
    with open_warehouse(settings.transformer) as wh:
        releases.finish(wh, name)
        return releases.find(wh, name)


def lock(settings: Settings, study_id: str, release: str) -> releases.Lock:
    """The database lock: the study's final analysis is its locked release's."""
    if study_id not in load_registry():
        raise releases.ReleaseRefused(f"no study {study_id!r} in the registry")
    with open_warehouse(settings.transformer) as wh:
        return releases.lock(wh, study_id, release)


def list_releases(settings: Settings) -> list[Release]:
    with open_warehouse(settings.transformer) as wh:
        return [r for r in releases.releases(wh) if r.state == releases.CREATED]
