"""Per study and feed: files loaded, quarantined and waiting, and the reconciliation."""

from __future__ import annotations

from collections import defaultdict

from hhp.config import Settings
from hhp.warehouse import open_warehouse
from ingest import ledger
from ingest.landing import open_landing


def ledger_status(settings: Settings) -> dict[tuple[str, str], dict[str, int]]:
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: {"loaded": 0, "quarantined": 0, "waiting": 0, "rows": 0}
    )
    with open_warehouse(settings) as wh:
        for study_id, feed, state, files, rows in ledger.summary(wh):
            entry = counts[(study_id or "?", feed or "?")]
            entry[state] += files
            entry["rows"] += int(rows or 0)
    for landed in open_landing(settings).list():
        parts = landed.parts
        key = (parts[0], parts[1]) if len(parts) == 3 else ("?", "?")
        counts[key]["waiting"] += 1
    return dict(sorted(counts.items()))
