"""The ledger of landed files: every landed object ends loaded or quarantined, once.

A file is identified by its landing key and its content's sha256; the same content
re-sent under another name is recorded as a duplicate and loads nothing.
"""

from __future__ import annotations

import getpass
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa

from hhp.warehouse import Warehouse

# the extract date stands before the first extension: x_2026-05-31.csv, x_2026-05-31.csv.gz
EXTRACT_DATE = re.compile(r"_(\d{4}-\d{2}-\d{2})\.[A-Za-z0-9]+(\.gz)?$")

TABLE = "ops.landed_files"
COLUMNS = [
    ("file_key", "text"),
    ("sha256", "text"),
    ("study_id", "text"),
    ("feed", "text"),
    ("format", "text"),
    ("size_bytes", "bigint"),
    ("state", "text"),  # loaded | quarantined | released
    ("rows_loaded", "bigint"),
    ("rows_rejected", "bigint"),
    ("reason", "text"),
    ("duplicate_of", "text"),
    ("processed_at", "timestamp"),
    # what a partner sent besides the rows loaded: columns (or keys) the format does not declare,
    # never read (a JSON list of their names); rows that are not the feed's records; notes
    ("undeclared_columns", "text"),
    ("rows_skipped", "bigint"),
    ("notes", "text"),
]
LOADED, QUARANTINED, WAITING = "loaded", "quarantined", "waiting"
RELEASED = "released"  # was quarantined, then sent back to the landing area by a person

# Who sent a quarantined file back to the landing area, when and why (`hhp quarantine release`)
RELEASES = "ops.quarantine_releases"
RELEASE_COLUMNS = [
    ("file_key", "text"),
    ("sha256", "text"),
    ("study_id", "text"),
    ("feed", "text"),
    ("quarantined_at", "timestamp"),
    ("quarantine_reason", "text"),
    ("released_at", "timestamp"),
    ("released_by", "text"),
    ("release_reason", "text"),
]

REJECTED_ROWS = "ops.rejected_rows"
REJECTED_COLUMNS = [
    ("file_key", "text"),
    ("sha256", "text"),
    ("study_id", "text"),
    ("feed", "text"),
    ("row_number", "bigint"),
    ("rule", "text"),
    ("reason", "text"),
]


# Each archived file rewritten without the rows of participants whose data was erased
# (docs/instruments.md, withdrawals): pending until the archive holds the new content.
REWRITES = "ops.file_rewrites"
REWRITE_COLUMNS = [
    ("file_key", "text"),
    ("sha256", "text"),  # the content as landed: what the ledger and its duplicates know it by
    ("study_id", "text"),
    ("format", "text"),
    ("state", "text"),  # pending | done
    ("old_sha256", "text"),
    ("new_sha256", "text"),
    ("rows_removed", "bigint"),
    # the file's rows deleted from raw by the erasure: the ledger's rows_loaded less these is
    # what raw holds of it (rows_held)
    ("rows_erased", "bigint"),
    # what was taken out ([[first, how many], ...] as JSON), kept from before the archive's
    # replacement, so that a run stopped after it still renumbers the file's rows
    ("removed_spans", "text"),
    ("requested_at", "timestamp"),
    ("rewritten_at", "timestamp"),
]
PENDING, DONE = "pending", "done"
# Each erasure: when, and how many participants and rows, per study and arm (the participant
# flow counts them as randomised and not analysed); never who.
ERASURES = "ops.erasures"
ERASURE_COLUMNS = [
    ("study_id", "text"),
    ("arm", "text"),
    ("participants", "bigint"),
    ("erased_at", "timestamp"),
]


@dataclass
class LedgerEntry:
    file_key: str
    sha256: str
    study_id: str | None
    feed: str | None
    format: str | None
    size_bytes: int
    state: str
    rows_loaded: int = 0
    reason: str | None = None
    duplicate_of: str | None = None
    rows_rejected: int = 0
    undeclared_columns: str | None = None
    rows_skipped: int = 0
    notes: str | None = None


def ensure(wh: Warehouse) -> None:
    wh.ensure_table(TABLE, COLUMNS)
    wh.ensure_table(REJECTED_ROWS, REJECTED_COLUMNS)
    wh.ensure_table(RELEASES, RELEASE_COLUMNS)
    wh.ensure_table(REWRITES, REWRITE_COLUMNS)
    wh.ensure_table(ERASURES, ERASURE_COLUMNS)


def request_rewrite(
    wh: Warehouse, file_key: str, sha256: str, study_id: str, fmt: str, rows_erased: int = 0
) -> None:
    """Ask for the archived file to be rewritten without erased participants' rows (inside the
    transaction that erases them, so that the request is never lost); `rows_erased`: its rows
    that transaction deleted from raw."""
    now = datetime.now(UTC).replace(tzinfo=None)
    wh.execute(
        f"insert into {REWRITES} (file_key, sha256, study_id, format, state, rows_erased, requested_at) "
        "values (%s, %s, %s, %s, %s, %s, %s)",
        [file_key, sha256, study_id, fmt, PENDING, rows_erased, now],
    )


def rows_held(wh: Warehouse) -> dict[str, int]:
    """Per loaded file, the rows raw holds of it: those loaded, less those erased since."""
    erased = dict(wh.query(
        f"select file_key, sum(coalesce(rows_erased, 0)) from {REWRITES} group by file_key"
    )) if wh.table_exists("ops", "file_rewrites") else {}  # fmt: skip
    loaded = wh.query(f"select file_key, rows_loaded from {TABLE} where state = %s", [LOADED])
    return {key: rows - int(erased.get(key, 0) or 0) for key, rows in loaded}


def pending_rewrites(wh: Warehouse) -> list[tuple[str, str, str, str]]:
    """(file_key, sha256 as landed, study_id, format) of each archived file still to rewrite."""
    return wh.query(
        f"select distinct file_key, sha256, study_id, format from {REWRITES} where state = %s "
        "order by file_key, sha256",
        [PENDING],
    )


def archived_sha256(wh: Warehouse, file_key: str, sha256: str) -> str:
    """The content the archive holds for a file landed with this content: the last rewrite's."""
    rows = wh.query(
        f"select new_sha256 from {REWRITES} where file_key = %s and sha256 = %s and state = %s "
        "order by rewritten_at desc limit 1",
        [file_key, sha256, DONE],
    )
    return rows[0][0] if rows else sha256


def prepare_rewrite(wh: Warehouse, file_key: str, sha256: str, old: str, new: str, spans: str) -> None:
    """About to replace the archived content `old` with `new` (what was removed: `spans`)."""
    wh.execute(
        f"update {REWRITES} set old_sha256 = %s, new_sha256 = %s, removed_spans = %s "
        "where file_key = %s and sha256 = %s and state = %s",
        [old, new, spans, file_key, sha256, PENDING],
    )


def prepared_rewrite(wh: Warehouse, file_key: str, sha256: str) -> tuple[str, str, str] | None:
    """(old, new, spans) of a pending rewrite already prepared, if any."""
    rows = wh.query(
        f"select old_sha256, new_sha256, removed_spans from {REWRITES} "
        "where file_key = %s and sha256 = %s and state = %s and new_sha256 is not null",
        [file_key, sha256, PENDING],
    )
    return rows[0] if rows else None


def record_rewrite(wh: Warehouse, file_key: str, sha256: str, old: str, new: str, rows_removed: int) -> None:
    """The archive now holds `new` (was `old`), with `rows_removed` rows fewer."""
    wh.execute(
        f"update {REWRITES} set state = %s, old_sha256 = %s, new_sha256 = %s, rows_removed = %s, "
        "rewritten_at = %s where file_key = %s and sha256 = %s and state = %s",
        [DONE, old, new, rows_removed, datetime.now(UTC).replace(tzinfo=None), file_key, sha256, PENDING],
    )


def record_erasure(wh: Warehouse, study_id: str, arm: str, participants: int) -> None:
    wh.execute(
        f"insert into {ERASURES} ({', '.join(c for c, _ in ERASURE_COLUMNS)}) values (%s, %s, %s, %s)",
        [study_id, arm, participants, datetime.now(UTC).replace(tzinfo=None)],
    )


def erasure_state(wh: Warehouse) -> str:
    """What the erasures so far add up to: a build after a new one starts again from raw."""
    if not wh.table_exists("ops", "erasures"):
        return "0"
    (count,) = wh.query(f"select count(*) from {ERASURES}")[0]
    return str(count)


def record_rejected_rows(wh: Warehouse, entry: LedgerEntry, rows: list[tuple[int, str, str]]) -> None:
    """Rows left out of an otherwise good file: (line, rule, reason) each, never dropped silently."""
    if not rows:
        return
    n = len(rows)
    lines, rules, reasons = zip(*rows, strict=True)
    columns = {
        "file_key": [entry.file_key] * n,
        "sha256": [entry.sha256] * n,
        "study_id": [entry.study_id] * n,
        "feed": [entry.feed] * n,
        "row_number": pa.array(lines, pa.int64()),
        "rule": list(rules),
        "reason": list(reasons),
    }
    wh.insert_arrow(REJECTED_ROWS, pa.table(columns))


def lookup(wh: Warehouse, file_key: str, sha256: str) -> tuple[str, str | None] | None:
    """(state, reason) of a file already done, or None."""
    rows = wh.query(
        f"select state, reason from {TABLE} where file_key = %s and sha256 = %s and state <> %s",
        [file_key, sha256, RELEASED],
    )
    return rows[0] if rows else None


def loaded_under(wh: Warehouse, study_id: str, feed: str, sha256: str) -> str | None:
    """The key an identical file was already loaded under, if any."""
    rows = wh.query(
        f"select file_key from {TABLE} where study_id = %s and feed = %s and sha256 = %s "
        f"and state = %s order by processed_at limit 1",
        [study_id, feed, sha256, LOADED],
    )
    return rows[0][0] if rows else None


def record(wh: Warehouse, entry: LedgerEntry) -> None:
    wh.execute(
        f"insert into {TABLE} ({', '.join(c for c, _ in COLUMNS)}) "
        f"values ({', '.join(['%s'] * len(COLUMNS))})",
        [
            entry.file_key,
            entry.sha256,
            entry.study_id,
            entry.feed,
            entry.format,
            entry.size_bytes,
            entry.state,
            entry.rows_loaded,
            entry.rows_rejected,
            entry.reason,
            entry.duplicate_of,
            datetime.now(UTC).replace(tzinfo=None),
            entry.undeclared_columns,
            entry.rows_skipped,
            entry.notes,
        ],
    )


@dataclass(frozen=True)
class Quarantined:
    file_key: str
    sha256: str
    study_id: str | None
    feed: str | None
    reason: str
    since: datetime  # UTC


def quarantined(wh: Warehouse) -> list[Quarantined]:
    """Every file in quarantine, oldest first."""
    if not wh.table_exists("ops", "landed_files"):
        return []
    rows = wh.query(
        f"select file_key, sha256, study_id, feed, reason, processed_at from {TABLE} "
        f"where state = %s order by processed_at, file_key",
        [QUARANTINED],
    )
    return [Quarantined(*row) for row in rows]


def record_release(wh: Warehouse, file: Quarantined, by: str, why: str) -> None:
    """The file's quarantine ends (its entry now 'released'), with who, when and why; the next
    ingest loads it as if new. Call inside a transaction."""
    wh.execute(
        f"update {TABLE} set state = %s where file_key = %s and sha256 = %s and state = %s",
        [RELEASED, file.file_key, file.sha256, QUARANTINED],
    )
    wh.execute(
        f"insert into {RELEASES} ({', '.join(c for c, _ in RELEASE_COLUMNS)}) "
        f"values ({', '.join(['%s'] * len(RELEASE_COLUMNS))})",
        [file.file_key, file.sha256, file.study_id, file.feed, file.since, file.reason,
         datetime.now(UTC).replace(tzinfo=None), by, why],
    )  # fmt: skip


def login() -> str:
    """Who is acting: the login name of the process (an operator's account, never a participant)."""
    try:
        return getpass.getuser()
    except OSError:  # no login name in this environment (a container with no user entry)
        return "unknown"


def files(wh: Warehouse) -> list[tuple]:
    """(file_key, state, rows_loaded) of every file in the ledger."""
    if not wh.table_exists("ops", "landed_files"):
        return []
    return wh.query(f"select file_key, state, rows_loaded from {TABLE}")


def data_release(wh) -> str:
    """An id for the set of landed files the marts were built from."""
    rows = wh.query(f"select sha256 from {TABLE} where state = 'loaded' order by sha256")
    digest = hashlib.sha256("\n".join(r[0] for r in rows).encode()).hexdigest()
    return f"{len(rows)}-files-{digest[:12]}"
