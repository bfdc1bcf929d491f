"""Erasure of the participants who withdrew consent to the use of their data (a `data`
withdrawal, docs/instruments.md "Withdrawals").

`erase_withdrawn` deletes, in one transaction, every row about them: raw (each format's rows
that name them by participant id or by a pseudonym of theirs; the withdrawal register alone
keeps its rows), every derived table with participant-level rows, and the release snapshots.
What is left: their trial id in the register, a count per arm (ops.erasures, for the
participant flow), and a tombstone per pseudonym: a keyed hash *of the pseudonym*, so not
the pseudonym, enough to recognise their rows in a later file and nothing more (the ICO's
guidance keeps such a suppression list so that erased data is never processed again).

Every archived file of the study is then rewritten without their records, byte for byte
otherwise (CSV records, JSON lines), or re-serialised (an xAPI document, a webhook body);
each rewrite is recorded in the ledger with its old and new sha256 and the rows removed, and
one interrupted is finished by the next run. A file that lands later is loaded without their
rows (`leave_out_erased`), and its archived copy rewritten the same way.
"""

from __future__ import annotations

import csv
import gzip
import json
import logging
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from hhp import ledger, releases
from hhp.pseudonymise import pseudonym
from hhp.registry import Study
from hhp.sql import quote_identifier, quote_literal
from hhp.warehouse import Warehouse
from ingest.adapters import ADAPTERS, reference
from ingest.adapters._base import ParseContext
from ingest.landing import sha256_of

log = logging.getLogger(__name__)

TOMBSTONES = "ops.erased_identifiers"
TOMBSTONE_COLUMNS = [("study_id", "text"), ("tombstone", "text")]
REGISTER = "withdrawal_csv"  # the register keeps its rows: it is the record of the withdrawal
DATA = "data"
TOMBSTONE_PREFIX = "erased:"
# schemas whose tables dbt, the analysis or a release derive from raw
DERIVED_SCHEMAS = ("staging", "intermediate", "marts", "analysis", "releases")
PSEUDONYMS = ("employee_pseudonym", "email_pseudonym", "mbox_sha1sum_pseudonym")


def tombstone(key: bytes, value: str) -> str:
    return pseudonym(key, TOMBSTONE_PREFIX + value)


def tombstone_sql(column: str) -> str:
    """The tombstone of a pseudonym column, in a parse connection (its hhp_pseudonym macro)."""
    return f"hhp_pseudonym({quote_literal(TOMBSTONE_PREFIX)} || {quote_identifier(column)})"


def ensure(wh: Warehouse) -> None:
    wh.ensure_table(TOMBSTONES, TOMBSTONE_COLUMNS)


@dataclass
class Erased:
    """Who a study's register withdraws at level data: their participant ids, the pseudonyms
    the allocation still holds for them (until the erasure), and the tombstones of those
    already erased."""

    participant_ids: set[str] = field(default_factory=set)
    pseudonyms: set[str] = field(default_factory=set)
    tombstones: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.participant_ids or self.pseudonyms or self.tombstones)


def erased_in(wh: Warehouse, study_id: str) -> Erased:
    if not wh.table_exists("raw", REGISTER):
        return Erased()
    ids = {i for (i,) in wh.query(
        f"select distinct participant_id from raw.{REGISTER} where study_id = %s and level = %s",
        [study_id, DATA],
    )}  # fmt: skip
    pseudonyms: set[str] = set()
    if ids and wh.table_exists("raw", "allocation_csv"):
        rows = wh.query(
            f"select {', '.join(PSEUDONYMS)} from raw.allocation_csv "
            f"where study_id = %s and participant_id in ({_placeholders(ids)})",
            [study_id, *sorted(ids)],
        )
        pseudonyms = {p for row in rows for p in row if p}
    stones = wh.query(f"select tombstone from {TOMBSTONES} where study_id = %s", [study_id]) if (
        wh.table_exists("ops", "erased_identifiers")
    ) else []  # fmt: skip
    return Erased(ids, pseudonyms, {t for (t,) in stones})


def _participant_column(fmt: str, study: Study) -> str | None:
    """The raw column holding the trial's participant id, in a format that has one."""
    if fmt == "allocation_csv":
        return "participant_id"
    link = reference(fmt, study)
    return link[0] if link and link[1] == "participant_id" else None


def _placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


def _derived_tables(wh: Warehouse) -> dict[tuple[str, str], set[str]]:
    """(schema, table) -> its columns that name a participant, for every derived base table."""
    rows = wh.query(
        "select c.table_schema, c.table_name, c.column_name from information_schema.columns c "
        "join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name "
        f"where t.table_type = 'BASE TABLE' and c.table_schema in ({_placeholders(DERIVED_SCHEMAS)})",
        list(DERIVED_SCHEMAS),
    )
    tables: dict[tuple[str, str], set[str]] = {}
    for schema, table, column in rows:
        columns = tables.setdefault((schema, table), set())
        if column == "participant_id" or column.endswith("_pseudonym"):
            columns.add(column)
    return {name: columns for name, columns in tables.items() if columns}


def _delete(
    wh: Warehouse, table: str, study_id: str, by: dict[str, list[str]], per_file: dict | None = None
) -> int:
    """Delete the study's rows whose columns hold any of the values; returns how many (and, for
    a raw table, counts them by file into `per_file`)."""
    conditions, params = [], [study_id]
    for column, values in by.items():
        if values:
            conditions.append(f"{quote_identifier(column)} in ({_placeholders(values)})")
            params += values
    if not conditions:
        return 0
    where = f"study_id = %s and ({' or '.join(conditions)})"
    (count,) = wh.query(f"select count(*) from {table} where {where}", params)[0]
    if count and per_file is not None:
        for key, sha, n in wh.query(
            f"select _file_key, _file_sha256, count(*) from {table} where {where} group by 1, 2", params
        ):
            per_file[(key, sha)] = per_file.get((key, sha), 0) + n
    if count:
        wh.execute(f"delete from {table} where {where}", params)
    return count


def erase_withdrawn(wh: Warehouse, study: Study, key: bytes) -> int:
    """Erase everyone the study's register withdraws at level data who still has rows, in one
    transaction; ask for every archived file of the study to be rewritten. Returns how many
    participants were erased (0 when there was nothing left to erase)."""
    ensure(wh)
    ledger.ensure(wh)
    erased = erased_in(wh, study.study_id)
    # nothing left to erase once their allocation rows are gone: every later file was filtered
    if not erased.pseudonyms:
        return 0
    ids = sorted(erased.participant_ids)
    people = wh.query(
        f"select participant_id, arm, {', '.join(PSEUDONYMS)} from raw.allocation_csv "
        f"where study_id = %s and participant_id in ({_placeholders(ids)})",
        [study.study_id, *ids],
    )
    pseudonyms = sorted(erased.pseudonyms)
    rows, per_file = 0, {}
    with wh.transaction():
        releases.record_erasure(wh, study.study_id, ids)  # their releases' flows still count them
        for fmt in ADAPTERS:
            if fmt == REGISTER or not wh.table_exists("raw", fmt):
                continue
            by = {column: pseudonyms for column, _ in ADAPTERS[fmt].COLUMNS if column.endswith("_pseudonym")}
            participant = _participant_column(fmt, study)
            if participant:
                by[participant] = ids
            rows += _delete(wh, f"raw.{fmt}", study.study_id, by, per_file)
        for (schema, table), columns in _derived_tables(wh).items():
            by = {c: (ids if c == "participant_id" else pseudonyms) for c in columns}
            rows += _delete(wh, f"{quote_identifier(schema)}.{quote_identifier(table)}", study.study_id, by)
        if not rows:
            return 0
        known = erased.tombstones
        for value in pseudonyms:
            stone = tombstone(key, value)
            if stone not in known:
                wh.execute(f"insert into {TOMBSTONES} values (%s, %s)", [study.study_id, stone])
        arms: dict[str, int] = {}
        for _, arm, *_ in people:
            arms[arm] = arms.get(arm, 0) + 1
        for arm, count in sorted(arms.items()):
            ledger.record_erasure(wh, study.study_id, arm, count)
        for file_key, sha, fmt in wh.query(
            f"select distinct file_key, sha256, format from {ledger.TABLE} "
            "where study_id = %s and state = %s and format <> %s",
            [study.study_id, ledger.LOADED, REGISTER],
        ):
            ledger.request_rewrite(wh, file_key, sha, study.study_id, fmt, per_file.get((file_key, sha), 0))
    log.info("erased %d participant(s) of %s: %d rows", len(people), study.study_id, rows)
    return len(people)


def leave_out_erased(ctx: ParseContext, fmt: str, erased: Erased, table: str = "parsed") -> int:
    """Take the rows of erased participants out of a parsed file before it is checked and
    loaded; returns how many (the ledger notes the count, never who)."""
    if fmt == REGISTER or not erased:
        return 0
    conditions = []
    participant = _participant_column(fmt, ctx.study)
    if participant and erased.participant_ids:
        ids = ", ".join(quote_literal(i) for i in sorted(erased.participant_ids))
        conditions.append(f"{quote_identifier(participant)} in ({ids})")
    pseudonym_columns = [c for c, _ in ADAPTERS[fmt].COLUMNS if c.endswith("_pseudonym")]
    if pseudonym_columns and (erased.pseudonyms or erased.tombstones):
        ctx.con.register(
            "erased_pseudonyms", pa.table({"value": pa.array(sorted(erased.pseudonyms), pa.string())})
        )
        ctx.con.register(
            "erased_tombstones", pa.table({"value": pa.array(sorted(erased.tombstones), pa.string())})
        )
        for column in pseudonym_columns:
            conditions.append(f"{quote_identifier(column)} in (select value from erased_pseudonyms)")
            conditions.append(f"{tombstone_sql(column)} in (select value from erased_tombstones)")
    if not conditions:
        return 0
    where = " or ".join(conditions)
    (count,) = ctx.con.execute(f"select count(*) from {table} where {where}").fetchall()[0]
    if count:
        ctx.con.execute(f"delete from {table} where {where}")
        ctx.notes.append(f"{count} row(s) of participants whose data was erased not loaded")
    return count


# ---- rewriting the archive -------------------------------------------------------------------

Matcher = Callable[[str, str], bool]  # (kind, value) -> whether it names an erased participant


def _matcher(study: Study, erased: Erased, key: bytes) -> Matcher:
    prefix = f"{study.study_id}:"

    def named(kind: str, value: str) -> bool:
        value = (value or "").strip(" ")
        if not value:
            return False
        if kind == "participant":
            return value in erased.participant_ids
        if kind == "employee":
            normalised = prefix + value.upper()
        elif kind == "email":
            normalised = prefix + value.lower()
        elif kind == "mbox":
            normalised = prefix + value[len("mailto:") :].strip(" ").lower()
        elif kind == "mbox_sha1sum":
            normalised = f"{prefix}mbox_sha1sum:{value.lower()}"
        else:
            raise ValueError(f"unknown identifier kind {kind!r}")
        value = pseudonym(key, normalised)
        return value in erased.pseudonyms or tombstone(key, value) in erased.tombstones

    return named


def _xapi_actor(study: Study) -> tuple[str, str]:
    """(the actor's identifier, the kind of value it holds), from the adapter's own actor_key."""
    identifier, holds = ADAPTERS["xapi_statements_json"].actor_key(study)
    if identifier == "account":
        return identifier, "employee" if holds == "employee_number" else "email"
    return identifier, identifier


# The field of each CSV format's records that names the participant, and what it holds.
CSV_LINKS: dict[str, Callable[[Study], tuple[str, str]]] = {
    "allocation_csv": lambda s: ("participant_id", "participant"),
    "hr_roster_csv": lambda s: ("employee_number", "employee"),
    "hr_leavers_csv": lambda s: ("employee_number", "employee"),
    "esr_absence_csv": lambda s: ("Employee Number", "employee"),
    "exchange_message_trace_csv": lambda s: ("RecipientAddress", "email"),
    "postal_dispatch_csv": lambda s: ("participant_id", "participant"),
    "qualtrics_csv": lambda s: ("ExternalReference", "participant"),
    "redcap_csv": lambda s: (
        str(s.feeds.get("survey", {}).get("record_id_field") or "record_id"),
        "participant",
    ),
}


def _lines(text: str) -> list[str]:
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


# What was taken out of a file, in the unit its rows' _row_number counts (a CSV's physical
# lines; a document's records): (first, how many) each, to renumber the rows left.
Spans = list[tuple[int, int]]


def _csv_without(text: str, link: tuple[str, str], named: Matcher) -> tuple[str, Spans]:
    """The CSV text without the records whose link field names an erased participant; every
    other line as it was (quoting, line ends, a byte-order mark)."""
    lines = _lines(text)
    position = 0

    def feed() -> Iterator[str]:
        nonlocal position
        while position < len(lines):
            position += 1
            yield lines[position - 1]

    reader = csv.reader(feed())
    column, kind = link
    index, kept, spans, start = None, [], [], 0
    for record in reader:
        end = position
        if index is None:
            names = [n.lstrip("\ufeff").strip().lower() for n in record]
            if len(record) > 1 and column.lower() in names:
                index = names.index(column.lower())
        elif len(record) > index and named(kind, record[index]):
            spans.append((start + 1, end - start))
            start = end
            continue
        kept.append("".join(lines[start:end]))
        start = end
    return "".join(kept) + "".join(lines[start:]), spans


def _json_values_without(text: str, field_name: str, kind: str, named: Matcher) -> tuple[str, Spans]:
    """JSON values one after another (webhook request bodies, each an array of events, which
    may span lines) without the erased participants' events; an untouched body stays as it was."""
    decoder, out, spans, position, record = json.JSONDecoder(), [], [], 0, 0
    emitted = False  # a value written: the separators before the next are kept
    while True:
        start = position
        while position < len(text) and text[position] in " \t\r\n\ufeff":
            position += 1
        if position >= len(text):
            out.append(text[start:])
            break
        value, end = decoder.raw_decode(text, position)
        records = value if isinstance(value, list) else [value]
        kept = []
        for r in records:
            record += 1
            if isinstance(r, dict) and named(kind, str(r.get(field_name) or "")):
                spans.append((record, 1))
            else:
                kept.append(r)
        separator = text[start:position]
        if start == 0 and not kept:  # the file's first value left out: its byte-order mark stays
            out.append("\ufeff" if separator.startswith("\ufeff") else "")
        elif kept and (emitted or start == 0):  # a value left out takes the separator before it along
            out.append(separator)
        emitted = emitted or bool(kept)
        if len(kept) == len(records):
            out.append(text[position:end])
        elif kept:
            out.append(json.dumps(kept if isinstance(value, list) else kept[0], ensure_ascii=False))
        position = end
    return "".join(out), spans


def _xapi_without(text: str, study: Study, named: Matcher) -> tuple[str, Spans]:
    """An xAPI statements document without the erased participants' statements."""
    identifier, kind = _xapi_actor(study)
    document = json.loads(text.lstrip("\ufeff"))
    statements = document.get("statements", []) if isinstance(document, dict) else document

    def actor(statement: dict) -> str:
        who = statement.get("actor") or {}
        return str((who.get("account") or {}).get("name") or "") if identifier == "account" else str(
            who.get(identifier) or ""
        )  # fmt: skip

    erased = [isinstance(s, dict) and named(kind, actor(s)) for s in statements]
    kept = [s for s, gone in zip(statements, erased, strict=True) if not gone]
    spans = [(position, 1) for position, gone in enumerate(erased, start=1) if gone]
    if not spans:
        return text, []
    if isinstance(document, dict):
        document["statements"] = kept
    else:
        document = kept
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n", spans


def without_erased(path: Path, fmt: str, study: Study, named: Matcher) -> tuple[bytes, Spans]:
    """The file's bytes without the erased participants' records, and what was taken out."""
    content = path.read_bytes()
    zipped = content[:2] == b"\x1f\x8b"
    text = (gzip.decompress(content) if zipped else content).decode("utf-8")
    if fmt == "hris_absence_json":
        text, spans = _json_values_without(text, "worker_id", "employee", named)
    elif fmt == "sendgrid_events_jsonl":
        text, spans = _json_values_without(text, "email", "email", named)
    elif fmt == "xapi_statements_json":
        text, spans = _xapi_without(text, study, named)
    else:
        text, spans = _csv_without(text, CSV_LINKS[fmt](study), named)
    if not spans:
        return content, []
    data = text.encode("utf-8")
    return (gzip.compress(data, mtime=0) if zipped else data), spans


def _renumber(wh: Warehouse, fmt: str, file_key: str, sha: str, spans: Spans) -> None:
    """Lineage stays true: the file's rows (raw, and those left out) name their line or record
    in the rewritten file."""
    shift = (
        "(select coalesce(sum(n), 0) from (values "
        + ", ".join(["(cast(%s as bigint), cast(%s as bigint))"] * len(spans))
        + ") as spans (first, n) where spans.first < {column})"
    )
    values = [v for span in spans for v in span]
    if wh.table_exists("raw", fmt):
        wh.execute(
            f"update raw.{fmt} set _row_number = _row_number - {shift.format(column='_row_number')} "
            "where _file_key = %s and _file_sha256 = %s",
            [*values, file_key, sha],
        )
    wh.execute(
        f"update {ledger.REJECTED_ROWS} set row_number = row_number - {shift.format(column='row_number')} "
        "where file_key = %s and sha256 = %s",
        [*values, file_key, sha],
    )


def finish_rewrites(wh: Warehouse, landing, registry: dict[str, Study], key: bytes) -> int:
    """Rewrite every archived file still pending; returns how many changed."""
    if not wh.table_exists("ops", "file_rewrites"):
        return 0
    changed = 0
    for file_key, sha, study_id, fmt in ledger.pending_rewrites(wh):
        study = registry.get(study_id)
        if study is None:
            continue
        named = _matcher(study, erased_in(wh, study_id), key)
        prepared = ledger.prepared_rewrite(wh, file_key, sha)
        with landing.archived_copy(file_key, None, sha) as path, tempfile.TemporaryDirectory() as work:
            current = sha256_of(path)
            if prepared and prepared[1] == current:  # replaced by a run that stopped after it
                old, new, spans = prepared[0], current, [tuple(s) for s in json.loads(prepared[2])]
            else:
                old = new = current
                content, spans = without_erased(path, fmt, study, named)
                if spans:
                    rewritten = Path(work) / "rewritten"
                    rewritten.write_bytes(content)
                    new = sha256_of(rewritten)
                    with wh.transaction():
                        ledger.prepare_rewrite(wh, file_key, sha, old, new, json.dumps(spans))
                    landing.replace_archived(file_key, sha, old, rewritten)
                    changed += 1
        with wh.transaction():
            if spans:
                _renumber(wh, fmt, file_key, sha, spans)
            ledger.record_rewrite(wh, file_key, sha, old, new, len(spans))
    if changed:
        log.info("rewrote %d archived file(s) without erased participants' records", changed)
    return changed
