"""What every adapter shares: the parse context and its sandboxed connection, file
rejection, CSV/JSON reading into DuckDB (in memory, all text first, columns found by name,
undeclared ones left unread), and parse checks that name the physical line and rule.

An adapter module, named after its format (hhp.formats), defines COLUMNS (the raw table's
columns after pseudonymisation, as (name, logical type)), REFERENCE (the column every row
must resolve in the allocation, or reference(study) where the registry decides it) and
parse(ctx) -> SQL selecting COLUMNS plus _row_number from the tables it created on ctx.con.
Every column name an adapter puts in SQL goes through quote_identifier, every value through a
bound parameter or quote_literal (hhp.sql); a partner's header cell never names a column in
SQL (positions do).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import os
import re
import shutil
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import pyarrow as pa

from hhp.config import ConfigError, duckdb_memory_limit
from hhp.instruments import ITEM_COLUMNS
from hhp.pseudonymise import mask_identifiers, pseudonym_macro, shown_safely
from hhp.registry import Study
from hhp.sql import quote_identifier, quote_literal
from ingest.landing import local_name

# The machine's trouble, not the file's: these never quarantine a file; the run fails and the
# file stays landed for the next one.
MACHINE_ERRORS = (
    duckdb.OutOfMemoryException,
    duckdb.IOException,
    duckdb.InterruptException,
    duckdb.FatalException,  # the engine's own failure: never the file's
    duckdb.InternalException,
    # the sandbox refused to open something: only a defect of ours (or a way around the
    # quoting) can ask it to, never a file's content, so the run stops loudly
    duckdb.PermissionException,
)
# characters DuckDB's readers expand as a glob: a path holding one could name other files
GLOB_CHARACTERS = re.compile(r"[*?\[\]{}]")


class FileRejected(Exception):
    """The file breaks a rule: quarantine it whole with this reason."""

    def __init__(self, rule: str, detail: str, line: int | None = None):
        self.rule, self.detail, self.line = rule, detail, line
        super().__init__(detail)

    def reason(self, file_key: str) -> str:
        where = f"line {self.line}: " if self.line else ""
        return mask_identifiers(shown_safely(f"{file_key}: {where}{self.detail} [rule: {self.rule}]"))


class ParseConnection:
    """An in-memory DuckDB for parsing one file, sandboxed: it can open nothing outside its
    own folder (the file's link, scratch files, its spill), its configuration is locked, and
    each call runs exactly one statement. So even a quoting mistake cannot read another file,
    write one elsewhere, load an extension or run a second statement; and it never touches
    the warehouse, which receives the parsed rows only at the load step."""

    def __init__(self, key: bytes | None, folder: Path):
        folder_text = str(folder.resolve())
        if GLOB_CHARACTERS.search(folder_text):
            raise ConfigError(f"the temporary folder {folder_text!r} holds a glob character (*?[]{{}})")
        config = {
            "memory_limit": duckdb_memory_limit(),
            "preserve_insertion_order": True,
            "temp_directory": folder_text,  # spills stay in the private, per-file folder
        }
        self._con = duckdb.connect(":memory:", config=config)
        # a timestamp without an offset is never read in the host's zone: UTC unless a format or
        # the registry declares another (ParseContext.in_zone)
        self._con.execute("set TimeZone = 'UTC'")
        self._con.execute("set allowed_directories = ?", [[folder_text + os.sep]])
        self._con.execute("set enable_external_access = false")
        self._con.execute("set lock_configuration = true")
        if key is not None:
            self.execute(pseudonym_macro(key))

    def _one(self, sql: str):
        statements = self._con.extract_statements(sql)
        if len(statements) != 1:
            raise ValueError(f"a parse runs one statement per call, not {len(statements)}")
        return statements[0]

    def execute(self, sql: str, params: list | dict | None = None) -> duckdb.DuckDBPyConnection:
        return self._con.execute(self._one(sql), params or [])

    def sql(self, sql: str, params: list | None = None) -> duckdb.DuckDBPyRelation:
        self._one(sql)
        return self._con.sql(sql, params=params)

    def register(self, name: str, data) -> None:
        self._con.register(name, data)

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> ParseConnection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def is_known_zone(zone: object) -> bool:
    """Whether the zone database knows the name (a registry's or a file's, so anything)."""
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


GZIP_ENDING = ".gz"
# text compresses some tenfold; a file that grows far beyond that is a decompression bomb,
# which would fill the disk at every run (the machine's fault, so the file would stay landed)
MAX_GZIP_RATIO, GZIP_FREE_BYTES = 200, 64 << 20


def stage_file(path: Path, folder: Path, name: str | None = None) -> Path:
    """The file under a name of ours inside the parse folder: a partner's name may hold glob
    characters, which DuckDB's readers would expand to other files. A hard link costs nothing;
    across file systems, a copy. A gzip-compressed file (`.csv.gz`) is staged decompressed, so
    every reader, and every line number a reason gives, sees the text the partner compressed."""
    name = name or path.name
    if name.endswith(GZIP_ENDING):
        staged = folder / local_name(name[: -len(GZIP_ENDING)])
        limit = max(GZIP_FREE_BYTES, MAX_GZIP_RATIO * path.stat().st_size)
        try:
            with gzip.open(path, "rb") as compressed, open(staged, "wb") as plain:
                written = 0
                for chunk in iter(lambda: compressed.read(1 << 20), b""):
                    written += plain.write(chunk)
                    if written > limit:
                        raise FileRejected(
                            "file structure",
                            f"decompresses to more than {MAX_GZIP_RATIO} times its size: refused as a "
                            "decompression bomb",
                        )
        except (OSError, EOFError, zlib.error) as error:
            raise FileRejected("file structure", f"not a complete gzip file ({error})") from None
        return staged
    staged = folder / local_name(name)
    try:
        os.link(path, staged)
    except OSError:
        shutil.copyfile(path, staged)
    return staged


@dataclass
class ParseContext:
    con: ParseConnection
    path: Path  # the file, staged in work_dir under a name of ours (stage_file)
    file_key: str
    study: Study
    feed: str
    extract_date: date
    work_dir: Path  # the parse's own folder: the only place its connection may open, removed after
    checks: list[tuple[str, str, str, str]] = field(default_factory=list)  # pending: see first_violation
    # what the ledger records besides rows: names of columns (or keys) the format does not
    # declare, skipped unread; rows that are not this feed's records, by why; other notes
    undeclared: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # records taken out of a document (xAPI statements, webhook bodies' events), where several
    # may share a line: _row_number is then the record's position, and this its physical line
    record_kind: str | None = None
    record_lines: list[int] | None = None
    rows_erased: int = 0  # rows of participants whose data was erased, taken out before the checks

    def rejection(self, rule: str, detail: str, row_number: int | None) -> FileRejected:
        """A rejection naming the physical line of the row (and, for a record of a document,
        which record it is)."""
        if row_number is None or self.record_lines is None:
            return FileRejected(rule, detail, row_number)
        line = self.record_lines[row_number - 1] if 0 < row_number <= len(self.record_lines) else None
        return FileRejected(rule, f"{self.record_kind} {row_number}: {detail}", line)

    def scratch(self, name: str) -> Path:
        return self.work_dir / name

    @property
    def feed_spec(self) -> dict:
        return self.study.feeds[self.feed]

    def in_zone(self, timestamp_sql: str, zone: str | None = None) -> str:
        """SQL turning a timestamp without an offset, in `zone` (else the zone the registry
        declares for this feed, else UTC), into the UTC instant it names."""
        zone = zone or self.feed_spec.get("time_zone") or "UTC"
        if zone == "UTC":
            return timestamp_sql
        if not is_known_zone(zone):
            raise FileRejected(
                "registry", f"study {self.study.study_id}: time_zone {zone!r} is not a known time zone"
            )
        return f"timezone('UTC', timezone({quote_literal(zone)}, {timestamp_sql}))"

    def skip_rows(self, predicate: str, why: str, table: str = "source") -> None:
        """Leave out rows that are not this feed's records (another form's rows, an event type
        the platform does not use): counted in the ledger, never loaded, never a rejection."""
        run_checks(self)
        (count,) = self.con.execute(f"select count(*) from {table} where {predicate}").fetchall()[0]
        if count:
            self.con.execute(f"delete from {table} where {predicate}")
            self.skipped[why] = self.skipped.get(why, 0) + count

    def employee_pseudonym(self, column: str) -> str:
        """SQL for the pseudonym of an employee number column (trimmed, upper-cased)."""
        prefix = quote_literal(f"{self.study.study_id}:")
        return f"hhp_pseudonym({prefix} || upper(trim({quote_identifier(column)})))"

    def email_pseudonym(self, column: str) -> str:
        """SQL for the pseudonym of an email column (trimmed, lower-cased)."""
        prefix = quote_literal(f"{self.study.study_id}:")
        return f"hhp_pseudonym({prefix} || lower(trim({quote_identifier(column)})))"

    def mbox_sha1sum_pseudonym(self, column: str, hashed: bool = False) -> str:
        """SQL for the pseudonym of an xAPI mbox_sha1sum: the SHA-1 of 'mailto:' and the email
        (lower-cased), or, with hashed, a column that holds that SHA-1 already."""
        prefix = quote_literal(f"{self.study.study_id}:mbox_sha1sum:")
        name = quote_identifier(column)
        digest = f"lower(trim({name}))" if hashed else f"sha1('mailto:' || lower(trim({name})))"
        return f"hhp_pseudonym({prefix} || {digest})"


def check_utf8(path: Path) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                bad_line = line + chunk[: error.start].count(b"\n")
                raise FileRejected("encoding", "not valid UTF-8 text", bad_line) from None
            line += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise FileRejected("encoding", "not valid UTF-8 text (truncated character)", line) from None


def check_text_file(path: Path) -> None:
    """Every partner format is UTF-8 text: reject an empty file first. DuckDB's readers (and
    Python's, for header rows) refuse text that is not UTF-8; check_utf8 then names the line,
    so a sound file is read once, not twice."""
    if path.stat().st_size == 0:
        raise FileRejected("not empty", "the file is empty")


@dataclass(frozen=True)
class CsvHeader:
    """A CSV file's header records as Python's reader sees them, with where they start."""

    records: list[list[str]]
    lines: list[int]  # the physical line (from 1) where each header record starts
    skip_lines: int  # lines before the header (a '#TYPE' line), which are not records

    @property
    def names(self) -> list[str]:
        return self.records[0]


def csv_records(path: Path, skip_lines: int = 0) -> Iterator[tuple[int, list[str]]]:
    """(physical line where it starts, fields) of each record after `skip_lines` lines, as
    Python's reader reads them and DuckDB counts them (a blank line is no record); a byte-order
    mark is dropped. Text that is not CSV rejects the file, naming the line."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for _ in range(skip_lines):
            handle.readline()
        reader = csv.reader(handle)
        line = skip_lines
        try:
            for row in reader:
                if row:
                    yield line + 1, row
                line = skip_lines + reader.line_num
        except csv.Error as error:
            raise FileRejected(
                "file structure", f"not valid CSV ({error})", skip_lines + reader.line_num
            ) from None


def read_csv_header(path: Path, records: int = 1, preamble: str | None = None) -> CsvHeader:
    """The first `records` records after an optional preamble line starting with `preamble`
    (PowerShell 5.1's `#TYPE ...`)."""
    skip_lines = 0
    if preamble:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            skip_lines = int(handle.readline().startswith(preamble))
    found = list(islice(csv_records(path, skip_lines), records))
    lines, rows = [line for line, _ in found], [row for _, row in found]
    while len(rows) < records:  # a file shorter than its header
        lines.append((lines[-1] if lines else skip_lines) + 1)
        rows.append([])
    return CsvHeader(rows, lines, skip_lines)


def map_columns(ctx: ParseContext, header: CsvHeader, declared: list[str], optional=()) -> dict[str, int]:
    """Declared column -> its position in the file, found by name in any order. A declared
    column missing (and not optional) or named twice rejects the file; a column the format
    does not declare is left unread and its name noted for the ledger."""
    if not any(cell.strip() for cell in header.names):
        raise FileRejected("columns", "the file has no header row", header.lines[0])
    positions: dict[str, int] = {}
    for position, cell in enumerate(header.names):
        if cell in positions:
            raise FileRejected("columns", f"column '{cell}' appears twice", header.lines[0])
        if cell in declared:
            positions[cell] = position
        else:
            ctx.undeclared.append(cell)
    missing = [c for c in declared if c not in positions and c not in optional]
    if missing:
        named = ", ".join(repr(c) for c in missing)
        raise FileRejected("columns", f"missing column(s) {named}", header.lines[0])
    return positions


def line_count(path: Path) -> int:
    """Physical lines in the file (a last line without a line break counts)."""
    count, last = 0, b"\n"
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def _record_lines(path: Path, header: CsvHeader) -> pa.Array:
    """The physical line where each record starts, the header's included, checking as it reads
    that every record has the header's width: one pass of Python's reader, for a file whose
    quoted fields hold line breaks or that DuckDB's strict mode refuses."""
    width, starts = len(header.names), []
    for line, row in csv_records(path, header.skip_lines):
        if len(row) != width:
            raise FileRejected("file structure", f"expected {width} fields, found {len(row)}", line)
        starts.append(line)
    return pa.array(starts, pa.int64())


# DuckDB's default read buffer (32 MiB a thread) alone overruns a small memory limit; 4 MiB
# reads as fast (a 2.3 GB file: 22 s against 24 s).
CSV_BUFFER_BYTES = 4 << 20


def read_csv_by_name(
    ctx: ParseContext, declared: list[str], optional=(), header_records: int = 1, preamble: str | None = None
) -> CsvHeader:
    """Load the CSV's declared columns, found by name, into table `source` (all text), with
    _row_number = the physical line where the row starts. Columns the format does not declare
    are never read into any table (they may hold personal data): only their names are kept,
    for the ledger. A declared optional column the file lacks is null."""
    header = read_csv_header(ctx.path, header_records, preamble)
    positions = map_columns(ctx, header, declared, optional)
    # positional names of ours: no header cell is ever an identifier in SQL
    spec = {f"c{i}": "VARCHAR" for i in range(len(header.names))}
    skip = header.skip_lines
    select = ", ".join(
        f"c{positions[c]} as {quote_identifier(c)}" if c in positions
        else f"cast(null as varchar) as {quote_identifier(c)}"
        for c in declared
    )  # fmt: skip

    def read(*, strict: bool) -> None:
        ctx.con.execute(
            f"""
            create or replace temp table source as
            select _record + {skip:d} as _row_number, * exclude (_record)
            from (
                select row_number() over () as _record, {select}
                from read_csv($path, header = false, skip = {skip:d}, columns = $columns,
                              delim = ',', quote = '"', escape = '"', auto_detect = false,
                              strict_mode = $strict, encoding = 'utf-8', buffer_size = {CSV_BUFFER_BYTES:d})
            )
            where _record > {header_records:d}
            """,
            {"path": str(ctx.path), "columns": spec, "strict": strict},
        )

    lines = None
    try:
        read(strict=True)
    except MACHINE_ERRORS:
        raise
    except duckdb.Error:
        check_utf8(ctx.path)
        lines = _record_lines(ctx.path, header)  # names the first row that is not sound
        # sound to Python's reader: DuckDB's strict mode refuses a quoted field holding a line
        # break of another kind than the file's own (LF inside a CRLF file, as Qualtrics writes
        # question texts); its lenient mode reads it, and the record count is checked below
        try:
            read(strict=False)
        except MACHINE_ERRORS:
            raise
        except duckdb.Error:
            raise FileRejected("file structure", "not valid CSV (check quoting and line endings)") from None
    (rows,) = ctx.con.execute("select count(*) from source").fetchall()[0]
    if rows == 0:
        raise FileRejected("not empty", "header only: the file has no data rows")
    if lines is None and line_count(ctx.path) != skip + header_records + rows:
        # a quoted field holds a line break, or a line is blank: count lines as a reader does
        lines = _record_lines(ctx.path, header)
    if lines is not None:
        if len(lines) != header_records + rows:
            raise FileRejected("file structure", "not valid CSV (check quoting and line endings)")
        _renumber(ctx, lines, skip)
    return header


def _duckdb_error(error: duckdb.Error, path: Path, original: Path, lines: list[int] | None) -> FileRejected:
    """DuckDB's first sentence, without the local path, and the physical line it names, if any
    (for records made from a document, the line where the record starts there)."""
    message = str(error).split("\n")[0]
    for shown in (path, original):
        message = message.replace(str(shown), "the file").replace('"the file"', "the file")
    line = re.search(r"\bline (\d+)", message)
    detail = f"unreadable as the declared format ({message.strip()})"
    if not line:
        return FileRejected("file structure", detail)
    number = int(line[1])
    if lines is not None:
        number = lines[number - 1] if 0 < number <= len(lines) else None
    return FileRejected("file structure", detail, number)


def _renumber(ctx: ParseContext, lines: pa.Array, offset: int = 0) -> None:
    """Give table `source` physical line numbers: its row k (by _row_number - offset) starts on
    line lines[k - 1]."""
    ctx.con.register("record_lines", pa.table({"line": lines}))
    ctx.con.execute(
        f"""
        create or replace temp table source as
        select record_lines.line as _row_number, source.* exclude (_row_number)
        from source
        inner join (select row_number() over () as _record, line from record_lines) as record_lines
            on source._row_number - {offset:d} = record_lines._record
        order by source._row_number
        """
    )


def _nonblank_lines(path: Path) -> pa.Array:
    """The physical line of every line holding more than white space, as DuckDB counts JSON
    Lines records."""
    with open(path, "rb") as handle:
        return pa.array([n for n, line in enumerate(handle, start=1) if line.strip()], pa.int64())


def read_json_lines(
    ctx: ParseContext,
    columns: dict[str, str],
    path: Path | None = None,
    lines: list[int] | None = None,
    known: tuple[str, ...] = (),
    record_kind: str = "record",
) -> None:
    """Load JSON Lines into table `source`, with _row_number = the physical line where the
    record starts; for a `path` made from ctx.path's document, the record's position, with
    `lines` giving where each starts in ctx.path. Only the declared keys are read; the names
    of the others, except those the format knows and drops (`known`), are noted for the
    ledger."""
    path = path or ctx.path
    try:
        ctx.con.execute(
            """
            create temp table source as
            select row_number() over () as _row_number, *
            from read_json($path, format = 'newline_delimited', columns = $columns)
            """,
            {"path": str(path), "columns": columns},
        )
    except MACHINE_ERRORS:
        raise
    except duckdb.Error as error:
        check_utf8(ctx.path)
        raise _duckdb_error(error, path, ctx.path, lines) from None
    (rows,) = ctx.con.execute("select count(*) from source").fetchall()[0]
    if rows == 0:
        raise FileRejected("not empty", "the file holds no records")
    if lines is not None:
        ctx.record_kind, ctx.record_lines = record_kind, lines
    elif line_count(path) != rows:
        _renumber(ctx, _nonblank_lines(path))
    declared = set(columns) | set(known)
    for (key,) in ctx.con.execute(
        "select distinct unnest(json_keys(json)) as key from read_ndjson_objects($path) order by key",
        {"path": str(path)},
    ).fetchall():
        if key not in declared:
            ctx.undeclared.append(key)


def first_violation(ctx: ParseContext, violation: str, rule: str, detail: str, table: str = "source") -> None:
    """Reject the file if any row matches the violation predicate, naming the first line.

    Checks wait until run_checks, so that a table's checks are one scan of it; the first
    check (in the order given) that any row breaks rejects the file, as if each ran alone.
    """
    if ctx.checks and ctx.checks[-1][0] != table:
        run_checks(ctx)
    ctx.checks.append((table, violation, rule, detail))


def run_checks(ctx: ParseContext) -> None:
    """Run the pending checks, one scan per table."""
    pending, ctx.checks = ctx.checks, []
    for table in dict.fromkeys(t for t, _, _, _ in pending):
        checks = [(v, rule, detail) for t, v, rule, detail in pending if t == table]
        figures = ", ".join(
            f"count(*) filter (where {v}), min(_row_number) filter (where {v})" for v, _, _ in checks
        )
        row = ctx.con.execute(f"select {figures} from {table}").fetchall()[0]
        for i, (_, rule, detail) in enumerate(checks):
            count, line = row[2 * i], row[2 * i + 1]
            if count:
                more = f" ({count} rows in all)" if count > 1 else ""
                raise ctx.rejection(rule, f"{detail}{more}", line)


def require_date(ctx: ParseContext, column: str, fmt: str, label: str | None = None,
                 table: str = "source") -> None:  # fmt: skip
    name = quote_identifier(column)
    first_violation(
        ctx,
        f"{name} is not null and try_strptime(trim({name}), {quote_literal(fmt)}) is null",
        "parseable date",
        f"column '{label or column}' is not a date in the form {label_format(fmt)}",
        table,
    )


def require_number(ctx: ParseContext, column: str, label: str | None = None, table: str = "source") -> None:
    name = quote_identifier(column)
    first_violation(
        ctx,
        f"{name} is not null and try_cast(trim({name}) as double) is null",
        "number",
        f"column '{label or column}' is not a number",
        table,
    )


def require_present(ctx: ParseContext, column: str, label: str | None = None, table: str = "source") -> None:
    name = quote_identifier(column)
    first_violation(
        ctx, f"{name} is null or trim({name}) = ''", "required", f"column '{label or column}' is blank", table
    )


def label_format(fmt: str) -> str:
    return (
        fmt.replace("%Y", "YYYY")
        .replace("%m", "MM")
        .replace("%d", "DD")
        .replace("%H", "HH")
        .replace("%M", "MM")
        .replace("%S", "SS")
        .replace("%-m", "M")
        .replace("%-d", "d")
        .replace("%I", "h")
        .replace("%p", "AM")
    )


def survey_items_sql(item_map: dict[str, str]) -> str:
    """Select list putting the survey's own item columns under the canonical item names
    (swemwbs_1 ... itq_3), values as sent; instruments the study lacks are null."""
    partner = {canonical: column for column, canonical in item_map.items()}
    return ",\n".join(
        f"nullif(trim({quote_identifier(partner[c])}), '') as {c}" if c in partner
        else f"cast(null as varchar) as {c}"
        for c in ITEM_COLUMNS
    )  # fmt: skip


def to_date(column: str, fmt: str) -> str:
    return f"cast(strptime(trim({quote_identifier(column)}), {quote_literal(fmt)}) as date)"


def try_date(column: str, fmt: str) -> str:
    """The column's date-time in the form fmt, or null."""
    return f"try_strptime(trim({quote_identifier(column)}), {quote_literal(fmt)})"


def to_timestamp(column: str, fmt: str) -> str:
    return f"strptime(trim({quote_identifier(column)}), {quote_literal(fmt)})"
