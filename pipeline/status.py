"""Per study and feed: files loaded, quarantined and waiting, and the reconciliation that
every landed file is in exactly one of those states."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from hhp import ledger
from hhp.config import Settings
from hhp.freshness import Freshness, feed_freshness
from hhp.registry import load_registry
from hhp.warehouse import open_warehouse
from ingest.landing import open_landing

Counts = dict[tuple[str, str], dict[str, int]]


def _group(key: str) -> tuple[str, str]:
    parts = key.split("/")
    return (parts[0], parts[1]) if len(parts) == 3 else ("?", "?")


def empty_counts() -> dict[str, int]:
    return {"loaded": 0, "quarantined": 0, "released": 0, "waiting": 0, "rows": 0, "archived": 0,
            "in_quarantine": 0}  # fmt: skip


def freshness(settings: Settings) -> dict[tuple[str, str], Freshness]:
    """Per study and feed with a cadence: its last file, extract date and whether it is overdue."""
    registry = load_registry()
    with open_warehouse(settings) as wh:
        return {(f.study_id, f.feed): f for study in registry.values() for f in feed_freshness(wh, study)}


def ledger_status(settings: Settings) -> Counts:
    counts: Counts = defaultdict(empty_counts)
    with open_warehouse(settings) as wh:
        # grouped by where the file landed, as the folders are: a file of an unknown study
        # has no study in the ledger, but it has its landing path
        for file_key, state, rows in ledger.files(wh):
            entry = counts[_group(file_key)]
            entry[state] += 1
            entry["rows"] += int(rows or 0)
    landing = open_landing(settings)
    for landed in landing.list():
        counts[_group(landed.key)]["waiting"] += 1
    for key in landing.archived():
        counts[_group(key)]["archived"] += 1
    for key in landing.quarantined():
        counts[_group(key)]["in_quarantine"] += 1
    return dict(sorted(counts.items()))


@dataclass
class Reconciliation:
    landed: int
    loaded: int
    quarantined: int
    waiting: int
    mismatches: list[str]

    @property
    def holds(self) -> bool:
        return not self.mismatches and self.landed == self.loaded + self.quarantined + self.waiting


def reconcile(counts: Counts) -> Reconciliation:
    """Landed files are those still waiting plus those moved to the archive or quarantine;
    each moved file must have exactly one ledger entry in the matching state."""
    mismatches = []
    for (study_id, feed), c in counts.items():
        if c["archived"] != c["loaded"]:
            mismatches.append(
                f"{study_id}/{feed}: {c['archived']} archived, {c['loaded']} loaded in the ledger"
            )
        if c["in_quarantine"] != c["quarantined"]:
            mismatches.append(
                f"{study_id}/{feed}: {c['in_quarantine']} in quarantine, "
                f"{c['quarantined']} quarantined in the ledger"
            )
    landed = sum(c["archived"] + c["in_quarantine"] + c["waiting"] for c in counts.values())
    return Reconciliation(
        landed,
        sum(c["loaded"] for c in counts.values()),
        sum(c["quarantined"] for c in counts.values()),
        sum(c["waiting"] for c in counts.values()),
        mismatches,
    )
