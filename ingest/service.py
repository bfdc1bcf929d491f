"""Ingest what has landed: one file at a time, all or nothing, recorded in the ledger.

For each file: identify study, feed and format from its key and the registry; skip it
if the ledger has it; parse with the format's adapter (pseudonymising identifiers);
run the format's landing suite; load rows and ledger entry in one transaction; then
archive it. Any rule broken quarantines the whole file with a reason naming the file,
the line where there is one, and the rule.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Protocol

import duckdb
import pyarrow as pa

from hhp import ledger
from hhp.config import Settings, pseudonym_key
from hhp.faults import fault_point
from hhp.instruments import SICKNESS_TYPES
from hhp.ledger import EXTRACT_DATE
from hhp.pseudonymise import check_key, ensure_key_table, is_control, mask_identifiers, shown_safely
from hhp.registry import FEEDS, Study, load_registry, sync_registry
from hhp.spreadsheet import neutralise_sql
from hhp.sql import quote_identifier, quote_literal
from hhp.study_schema import LOAD_GOOD_ROWS, REJECT_FILE
from hhp.warehouse import Warehouse, open_warehouse
from ingest import erasure
from ingest.adapters import ADAPTERS, reference
from ingest.adapters._base import (
    FileRejected,
    ParseConnection,
    ParseContext,
    check_text_file,
    check_utf8,
    first_violation,
    run_checks,
    stage_file,
)
from ingest.landing import LandedFile, open_landing, sha256_of

log = logging.getLogger(__name__)

LINEAGE = [
    ("_file_key", "text"),
    ("_file_sha256", "text"),
    ("_row_number", "bigint"),
    ("_extract_date", "date"),
    ("_ingested_at", "timestamp"),
]
EARLIEST_DATE = date(1950, 1, 1)
FUTURE_TOLERANCE = timedelta(days=366)
BATCH_ROWS = 100_000  # rows per Arrow batch checked or loaded: bounds memory for any file size
# room for the archive's ".<sha256[:12]>" and the quarantine's ".reason.txt" within the 255
# bytes a file system allows a name
MAX_NAME_BYTES = 200


class FileWaiting(Exception):
    """The file cannot be checked yet (its study's allocation has not landed): it stays."""


@dataclass
class IngestResult:
    file_key: str
    state: str  # loaded | quarantined | waiting | skipped
    rows: int = 0
    reason: str | None = None
    study_id: str | None = None
    feed: str | None = None
    format: str | None = None
    rows_rejected: int = 0


def raw_table(fmt: str) -> str:
    return f"raw.{fmt}"


def raw_columns(fmt: str) -> list[tuple[str, str]]:
    return [("study_id", "text"), *ADAPTERS[fmt].COLUMNS, *LINEAGE]


def check_file_name(name: str) -> None:
    """Any name a partner's system may give a file loads (spaces, quotes, brackets, any
    letters); not one that could act as a path or change how a message or log reads."""
    if name in ("", ".", ".."):
        raise FileRejected("file name", f"'{name}' is not a file name")
    if "\\" in name:
        raise FileRejected("file name", "the file name holds a path separator ('\\')")
    controls = sorted({c for c in name if is_control(c)})
    if controls:
        shown = ", ".join(shown_safely(c) for c in controls)
        raise FileRejected("file name", f"the file name holds control character(s) {shown}")
    size = len(name.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        raise FileRejected("file name", f"the file name is {size} bytes long; at most {MAX_NAME_BYTES}")


def identify(landed: LandedFile, registry: dict[str, Study]) -> tuple[Study, str, str, date]:
    parts = landed.parts
    if len(parts) != 3:
        raise FileRejected(
            "landing layout", "the path must be <study_id>/<feed>/<file name>, with no '/' in the name"
        )
    study_id, feed, name = parts
    check_file_name(name)
    study = registry.get(study_id)
    if study is None:
        raise FileRejected("registry", f"study '{study_id}' is not registered")
    if feed not in FEEDS:
        raise FileRejected("registry", f"feed '{feed}' is not a known feed ({', '.join(FEEDS)})")
    fmt = study.feed_format(feed)
    if fmt is None:
        raise FileRejected("registry", f"study '{study_id}' registers no '{feed}' feed")
    match = EXTRACT_DATE.search(name)
    if not match:
        raise FileRejected("file name", "the file name must end with _YYYY-MM-DD before its extension")
    try:
        extract_date = date.fromisoformat(match.group(1))
    except ValueError:
        raise FileRejected("file name", f"'{match.group(1)}' in the file name is not a date") from None
    return study, feed, fmt, extract_date


def _check_date_ranges(ctx: ParseContext, fmt: str) -> None:
    latest = ctx.extract_date + FUTURE_TOLERANCE
    plausible = f"between {quote_literal(EARLIEST_DATE)} and {quote_literal(latest)}"
    for name, kind in ADAPTERS[fmt].COLUMNS:
        if kind in ("date", "timestamp"):
            first_violation(
                ctx,
                f"cast({name} as date) not {plausible}",
                "plausible date",
                f"column '{name}' holds a date before {EARLIEST_DATE} or more than a year after "
                f"the extract date {ctx.extract_date}",
                "parsed",
            )
    run_checks(ctx)


def _neutralised(name: str, kind: str) -> str:
    """Text a spreadsheet would run as a formula is stored neutralised (hhp.spreadsheet)."""
    if kind != "text" or name.endswith("_pseudonym"):
        return name
    return f"{neutralise_sql(quote_identifier(name))} as {quote_identifier(name)}"


def _unresolved_references(ctx: ParseContext, fmt: str, known: pa.Table) -> list[LeftOut]:
    column, target = reference(fmt, ctx.study)
    ctx.con.register("known_references", known)
    rows = ctx.con.execute(
        f"select rowid, _row_number from parsed where {column} is not null "
        f"and {column} not in (select ref from known_references) order by _row_number, rowid"
    ).fetchall()
    reason = f"column '{column}' names no one in the study's allocation ({target})"
    return [(rowid, line, "reference", reason) for rowid, line in rows]


class Finding(Protocol):
    suite: str
    first_line: int | None
    failing_rows: tuple[tuple[int, int], ...] | None  # (rowid, line) each; None if not row-level

    def describe(self) -> str: ...

    def row_reason(self) -> str: ...


# The rows of a format the outcomes use, where it has others: a fault in any other row (annual
# leave, parental leave) never rejects the file; the row is left out and recorded.
OUTCOME_ROWS = {fmt: f"absence_type = {quote_literal(kind)}" for fmt, kind in SICKNESS_TYPES.items()}

# A row left out of a file: (rowid in the parsed table, physical line, rule, reason)
LeftOut = tuple[int, int, str, str]


def _rejects_file(ctx: ParseContext, fmt: str, rowids: Sequence[int], good_rows_only: bool) -> bool:
    """Whether faulty rows reject the file: under reject_file, any of them that the outcomes use
    does; under load_good_rows, none does. Asked only of a file with faults."""
    if good_rows_only or not rowids:
        return False
    if fmt not in OUTCOME_ROWS:
        return True
    rows = ctx.con.execute(f"select rowid from parsed where not coalesce({OUTCOME_ROWS[fmt]}, false)")
    unused = {rowid for (rowid,) in rows.fetchall()}
    return any(rowid not in unused for rowid in rowids)


def _row_faults(
    ctx: ParseContext, fmt: str, findings: Sequence[Finding], good_rows_only: bool
) -> list[LeftOut]:
    """The rows the landing suite's findings leave out; raises FileRejected, naming the first
    finding, if the feed's rule is reject_file and a row the outcomes use broke one, or if a
    finding cannot be placed on rows."""
    if not findings:
        return []
    left_out, blocking = [], []
    for finding in findings:
        if finding.failing_rows is None:
            blocking.append(finding)
            continue
        if _rejects_file(ctx, fmt, [rowid for rowid, _ in finding.failing_rows], good_rows_only):
            blocking.append(finding)
        left_out += [
            (rowid, line, finding.suite, finding.row_reason()) for rowid, line in finding.failing_rows
        ]
    if blocking:
        first = blocking[0]
        more = f" (and {len(findings) - 1} more finding(s))" if len(findings) > 1 else ""
        detail = first.describe().rsplit(" [rule: ", 1)[0]
        raise ctx.rejection(f"{fmt}.landing", detail + more, first.first_line)
    return left_out


# A format's landing suite, run on the parsed file: (connection, table, format, study) ->
# findings. The quality stage owns the suites; the pipeline hands them in (pipeline.chain), so
# that ingest does not import another stage.
LandingCheck = Callable[[duckdb.DuckDBPyConnection, str, str, Study], Sequence[Finding]]


def parse_file(
    ctx: ParseContext,
    fmt: str,
    landing_check: LandingCheck,
    known_references: Callable[[], pa.Table | None] = lambda: None,
    erased: erasure.Erased | None = None,
) -> list[tuple[int, str, str]]:
    """Parse, pseudonymise and check one file into table `loadable` on ctx.con; raise
    FileRejected on any broken rule. Everything runs in DuckDB or in bounded Arrow batches,
    so a file larger than memory streams.

    Returns the rows left out under the registry's load_good_rows rule.
    """
    adapter = ADAPTERS[fmt]
    check_text_file(ctx.path)
    try:
        select = adapter.parse(ctx)
    except UnicodeDecodeError:  # a header row or document read by Python: name the line
        check_utf8(ctx.path)
        raise
    run_checks(ctx)
    select_list = ", ".join(
        ["_row_number", *(_neutralised(column, kind) for column, kind in adapter.COLUMNS)]
    )
    ctx.con.execute(f"create temp table parsed as select {select_list} from ({select})")
    if erased:  # never checked, never loaded: as if the partner had not sent them
        ctx.rows_erased = erasure.leave_out_erased(ctx, fmt, erased)
    _check_date_ranges(ctx, fmt)
    good_rows_only = ctx.feed_spec.get("on_bad_rows", REJECT_FILE) == LOAD_GOOD_ROWS
    rejected = _row_faults(ctx, fmt, landing_check(ctx.con, "parsed", fmt, ctx.study), good_rows_only)
    known = known_references()  # only once the file itself is sound: a broken file never waits
    if known is not None:
        unresolved = _unresolved_references(ctx, fmt, known)
        if _rejects_file(ctx, fmt, [rowid for rowid, *_ in unresolved], good_rows_only):
            more = f" ({len(unresolved)} rows in all)" if len(unresolved) > 1 else ""
            raise ctx.rejection("reference", unresolved[0][3] + more, unresolved[0][1])
        rejected += unresolved
    first_fault = {}  # a row that broke several rules is left out once, for the first
    for rowid, line, rule, reason in sorted(rejected, key=lambda r: (r[1], r[0])):
        first_fault.setdefault(rowid, (line, rule, reason))
    left_out = pa.table({"row": pa.array(list(first_fault), pa.int64())})
    ctx.con.register("left_out", left_out)
    ctx.con.execute(
        "create temp view loadable as select * from parsed where rowid not in (select row from left_out)"
    )
    return sorted(first_fault.values())


MAX_UNDECLARED_NAMES = 200  # a file with thousands of columns is recorded with its first ones


def what_else_was_sent(ctx: ParseContext | None) -> dict:
    """The ledger's record of what a file held besides the rows loaded: the names of columns the
    format does not declare (never read; shown safely, identifiers masked), rows that are not
    the feed's records, and notes."""
    if ctx is None:
        return {}
    names = [mask_identifiers(shown_safely(name)) for name in ctx.undeclared[:MAX_UNDECLARED_NAMES]]
    if len(ctx.undeclared) > MAX_UNDECLARED_NAMES:
        names.append(f"... and {len(ctx.undeclared) - MAX_UNDECLARED_NAMES} more")
    notes = [f"{count} {why} not loaded" for why, count in ctx.skipped.items()] + ctx.notes
    return {
        "undeclared_columns": json.dumps(names, ensure_ascii=False) if names else None,
        "rows_skipped": sum(ctx.skipped.values()),
        "notes": "; ".join(notes) or None,
    }


def _load(
    wh: Warehouse, ctx: ParseContext, landed: LandedFile, sha: str, fmt: str,
    rejected: list[tuple[int, str, str]], key: bytes,
) -> int:  # fmt: skip
    """Rows, ledger entry and rejected rows in one transaction. The rows stream from the
    parse's sandboxed connection into raw in Arrow batches (DuckDB scans them, PostgreSQL
    takes them by COPY): the parse never holds a connection to the warehouse."""
    con, study, feed, extract_date = ctx.con, ctx.study, ctx.feed, ctx.extract_date
    now = datetime.now(UTC).replace(tzinfo=None)
    columns = ", ".join(name for name, _ in ADAPTERS[fmt].COLUMNS)
    (n,) = con.execute("select count(*) from loadable").fetchall()[0]
    select = (
        f"select ?::varchar as study_id, {columns}, ?::varchar as _file_key, ?::varchar as _file_sha256, "
        f"_row_number, ?::date as _extract_date, ?::timestamp as _ingested_at from loadable"
    )
    params = [study.study_id, landed.key, sha, extract_date, now]
    entry = ledger.LedgerEntry(
        landed.key, sha, study.study_id, feed, fmt, landed.size, ledger.LOADED, n,
        rows_rejected=len(rejected), **what_else_was_sent(ctx),
    )  # fmt: skip
    with wh.transaction():
        check_key(wh, key, lock=True)  # a rotation committed since the parse: load nothing
        wh.ensure_table(raw_table(fmt), raw_columns(fmt))
        wh.insert_arrow(raw_table(fmt), con.sql(select, params).to_arrow_reader(BATCH_ROWS))
        ledger.record(wh, entry)
        ledger.record_rejected_rows(wh, entry, rejected)
        if ctx.rows_erased:  # its archived copy must not keep them either
            ledger.request_rewrite(wh, landed.key, sha, study.study_id, fmt)
        fault_point("ingest.uncommitted")
    return n


def ingest_file(
    landing,
    landed: LandedFile,
    wh: Warehouse,
    registry: dict[str, Study],
    key: bytes,
    landing_check: LandingCheck,
) -> IngestResult:
    with landing.local_copy(landed.key) as path:
        sha = sha256_of(path)
        done = ledger.lookup(wh, landed.key, sha)
        if done is not None:  # already done; only its move out of landing was lost
            state, reason = done
            if state == ledger.LOADED and ledger.archived_sha256(wh, landed.key, sha) != sha:
                landing.discard(landed.key)  # the archive holds it rewritten without erased people
            elif state == ledger.LOADED:
                landing.archive(landed.key, sha)
            else:
                landing.quarantine(landed.key, sha, reason or "quarantined; see the ledger")
            return IngestResult(landed.key, "skipped")
        study = feed = fmt = ctx = None
        try:
            if path.is_symlink():  # it could name any file the platform may read: the key, the archive
                raise FileRejected("file type", "a symbolic link, not a file: links are never followed")
            study, feed, fmt, extract_date = identify(landed, registry)
            earlier = ledger.loaded_under(wh, study.study_id, feed, sha)
            if earlier:
                entry = ledger.LedgerEntry(
                    landed.key, sha, study.study_id, feed, fmt, landed.size, ledger.LOADED, 0, None, earlier
                )
                ledger.record(wh, entry)
                landing.archive(landed.key, sha)
                if erasure.erased_in(wh, study.study_id):  # a copy of a file rewritten since
                    with wh.transaction():
                        ledger.request_rewrite(wh, landed.key, sha, study.study_id, fmt)
                    erasure.finish_rewrites(wh, landing, registry, key)
                return IngestResult(
                    landed.key, ledger.LOADED, 0, f"same content as {earlier}", study.study_id, feed, fmt
                )
            with (
                tempfile.TemporaryDirectory(prefix="hhp-parse-") as work,
                ParseConnection(key, Path(work)) as con,
            ):
                staged = stage_file(path, Path(work))
                ctx = ParseContext(con, staged, landed.key, study, feed, extract_date, Path(work))
                known = lambda: _known_references(wh, study, fmt)  # noqa: E731
                rejected = parse_file(ctx, fmt, landing_check, known, erasure.erased_in(wh, study.study_id))
                fault_point("ingest.parsed")
                n = _load(wh, ctx, landed, sha, fmt, rejected, key)
        except FileWaiting as waiting:
            return IngestResult(landed.key, ledger.WAITING, 0, str(waiting), study.study_id, feed, fmt)
        except FileRejected as problem:
            reason = problem.reason(landed.key)
            _quarantine(landing, wh, landed, sha, study, feed, fmt, reason, what_else_was_sent(ctx))
            return IngestResult(
                landed.key, ledger.QUARANTINED, 0, reason, study and study.study_id, feed, fmt
            )
    fault_point("ingest.committed")
    landing.archive(landed.key, sha)
    if ctx.rows_erased:
        erasure.finish_rewrites(wh, landing, registry, key)
    log.info("loaded %s: %d rows into %s", shown_safely(landed.key), n, raw_table(fmt))
    return IngestResult(landed.key, ledger.LOADED, n, None, study.study_id, feed, fmt, len(rejected))


def _known_references(wh: Warehouse, study: Study, fmt: str) -> pa.Table | None:
    """The allocation's ids a file of this format must refer to; wait while there are none."""
    link = reference(fmt, study)
    if link is None:
        return None
    target = link[1]
    rows = wh.query(
        f"select distinct {target} from {raw_table('allocation_csv')} where study_id = %s", [study.study_id]
    )
    if not rows:
        raise FileWaiting(f"waiting for {study.study_id}'s allocation, which its rows refer to")
    known = {r[0] for r in rows}
    if fmt == "withdrawal_csv":  # someone erased is in the allocation no longer, but still withdrawn
        known |= erasure.erased_in(wh, study.study_id).participant_ids
    return pa.table({"ref": pa.array(sorted(known), pa.string())})


def _quarantine(landing, wh, landed, sha, study, feed, fmt, reason, extras=None) -> None:
    entry = ledger.LedgerEntry(
        landed.key,
        sha,
        study and study.study_id,
        feed,
        fmt,
        landed.size,
        ledger.QUARANTINED,
        0,
        mask_identifiers(reason),
        **(extras or {}),
    )
    with wh.transaction():
        ledger.record(wh, entry)
    fault_point("ingest.quarantine_recorded")
    landing.quarantine(landed.key, sha, reason)
    log.warning("quarantined %s", shown_safely(reason))


def prepare_warehouse(wh: Warehouse, registry: dict[str, Study]) -> None:
    """The ledger, the key's fingerprint table, every format's raw table (empty until its first
    file) and the registry."""
    ledger.ensure(wh)
    erasure.ensure(wh)
    ensure_key_table(wh)
    for fmt in ADAPTERS:
        wh.ensure_table(raw_table(fmt), raw_columns(fmt))
    sync_registry(wh, registry)


def _allocations_first(landed: LandedFile) -> tuple[bool, str]:
    return landed.parts[1:2] != ["allocation"], landed.key  # every other feed refers to them


def pending_keys(settings: Settings) -> list[str]:
    """The keys waiting in the landing area, allocations first; refuses (RegistryError) on a
    registry with problems, so that no file is taken up while it is wrong."""
    load_registry()
    return [f.key for f in sorted(open_landing(settings).list(), key=_allocations_first)]


def ingest_key(settings: Settings, file_key: str, landing_check: LandingCheck) -> IngestResult:
    """Ingest one landed file by its key (one mapped task); a key no longer landed was done
    by an earlier run, as a redelivered event finds it."""
    registry = load_registry()
    landing = open_landing(settings)
    landed = next((f for f in landing.list() if f.key == file_key), None)
    if landed is None:
        return IngestResult(file_key, "skipped", reason="no longer in the landing area")
    key = pseudonym_key(settings)
    with open_warehouse(settings) as wh:
        prepare_warehouse(wh, registry)
        check_key(wh, key)
        result = ingest_file(landing, landed, wh, registry, key, landing_check)
        if result.state == ledger.LOADED and result.rows:
            wh.refresh_statistics(raw_table(result.format))
    return result


def ingest_pending(
    settings: Settings,
    landing_check: LandingCheck,
    on_file: Callable[[IngestResult], None] | None = None,
) -> list[IngestResult]:
    """Ingest every file waiting in the landing area; returns what happened to each."""
    registry = load_registry()
    landing = open_landing(settings)
    key = pseudonym_key(settings)
    results = []
    with open_warehouse(settings) as wh:
        prepare_warehouse(wh, registry)
        check_key(wh, key)
        for landed in sorted(landing.list(), key=_allocations_first):
            result = ingest_file(landing, landed, wh, registry, key, landing_check)
            results.append(result)
            if on_file:
                on_file(result)
        for fmt in sorted({r.format for r in results if r.state == ledger.LOADED and r.rows}):
            wh.refresh_statistics(raw_table(fmt))
    return results
