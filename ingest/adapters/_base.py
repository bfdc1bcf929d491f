"""What every adapter shares: the parse context and its sandboxed connection, file
rejection, CSV/JSON reading into DuckDB (in memory, all text first), and parse checks that
name the line and rule.

An adapter module defines FORMAT, COLUMNS (the raw table's columns after pseudonymisation,
as (name, logical type)) and parse(ctx) -> SQL selecting COLUMNS plus _row_number from
the tables it created on ctx.con. Every column name an adapter puts in SQL goes through
quote_identifier, every value through a bound parameter or quote_literal (hhp.sql).
"""

from __future__ import annotations

import codecs
import csv
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from hhp.config import ConfigError, duckdb_memory_limit
from hhp.sql import quote_identifier, quote_literal
from ingest.landing import local_name
from ingest.pseudonymise import mask_identifiers, pseudonym_macro, shown_safely
from ingest.registry import Study

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


def stage_file(path: Path, folder: Path) -> Path:
    """The file under a name of ours inside the parse folder: a partner's name may hold glob
    characters, which DuckDB's readers would expand to other files. A hard link costs nothing;
    across file systems, a copy."""
    staged = folder / local_name(path.name)
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

    def scratch(self, name: str) -> Path:
        return self.work_dir / name

    @property
    def feed_spec(self) -> dict:
        return self.study.feeds[self.feed]

    def employee_pseudonym(self, column: str) -> str:
        """SQL for the pseudonym of an employee number column (trimmed, upper-cased)."""
        prefix = quote_literal(f"{self.study.study_id}:")
        return f"hhp_pseudonym({prefix} || upper(trim({quote_identifier(column)})))"

    def email_pseudonym(self, column: str) -> str:
        """SQL for the pseudonym of an email column (trimmed, lower-cased)."""
        prefix = quote_literal(f"{self.study.study_id}:")
        return f"hhp_pseudonym({prefix} || lower(trim({quote_identifier(column)})))"


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


def csv_header(path: Path, rows: int = 1) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        return [next(reader, []) for _ in range(rows)]


def check_columns(found: list[str], expected: list[str], ordered: bool = False) -> None:
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(repr(c) for c in missing)}")
        if extra:
            parts.append(f"unexpected column(s) {', '.join(repr(c) for c in extra)}")
        raise FileRejected("columns", "; ".join(parts), 1)
    if ordered and found != expected:
        raise FileRejected("columns", f"columns out of order; expected {', '.join(expected)}", 1)
    if len(set(found)) != len(found):
        raise FileRejected("columns", "a column name appears twice", 1)


def _duckdb_error(error: duckdb.Error, path: Path, records: str = "line") -> FileRejected:
    """DuckDB's first sentence, without the local path, and the line it names, if any
    (for a document turned into lines, the record it names)."""
    message = str(error).split("\n")[0].replace(str(path), "the file").replace('"the file"', "the file")
    line = re.search(r"\bline (\d+)", message)
    detail = f"unreadable as the declared format ({message.strip()})"
    if line and records != "line":
        return FileRejected("file structure", f"{records} {line[1]}: {detail}")
    return FileRejected("file structure", detail, int(line[1]) if line else None)


def _csv_structure_error(path: Path, header_lines: int, width: int) -> FileRejected:
    """Name the first row whose field count differs from the header's, where DuckDB does not."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        try:
            for number, row in enumerate(reader, start=1):
                if number > header_lines and len(row) != width:
                    return FileRejected(
                        "file structure", f"expected {width} fields, found {len(row)}", reader.line_num
                    )
        except csv.Error as error:
            return FileRejected("file structure", f"not valid CSV ({error})", reader.line_num)
    return FileRejected("file structure", "not valid CSV (check quoting and mixed line endings)")


# DuckDB's default read buffer (32 MiB a thread) alone overruns a small memory limit; 4 MiB
# reads as fast (a 2.3 GB file: 22 s against 24 s).
CSV_BUFFER_BYTES = 4 << 20


def read_csv_as_text(ctx: ParseContext, columns: list[str], header_lines: int = 1) -> None:
    """Load the CSV into table `source` (all text) with _row_number = line in the file."""
    try:
        ctx.con.execute(
            f"""
            create temp table source as
            select row_number() over () + {header_lines:d} as _row_number, *
            from read_csv($path, header = false, skip = {header_lines:d}, columns = $columns,
                          delim = ',', quote = '"', escape = '"', auto_detect = false,
                          strict_mode = true, encoding = 'utf-8', buffer_size = {CSV_BUFFER_BYTES:d})
            """,
            {"path": str(ctx.path), "columns": dict.fromkeys(columns, "VARCHAR")},
        )
    except MACHINE_ERRORS:
        raise
    except duckdb.Error:
        check_utf8(ctx.path)
        raise _csv_structure_error(ctx.path, header_lines, len(columns)) from None
    if ctx.con.execute("select count(*) from source").fetchone()[0] == 0:
        raise FileRejected("not empty", "header only: the file has no data rows")


def read_json_lines(
    ctx: ParseContext, columns: dict[str, str], path: Path | None = None, records: str = "line"
) -> None:
    """Load JSON Lines into table `source` with _row_number = line in the file."""
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
        raise _duckdb_error(error, path, records) from None
    if ctx.con.execute("select count(*) from source").fetchone()[0] == 0:
        raise FileRejected(
            "not empty", "the file holds no records" if records == "line" else f"no {records}s"
        )


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
                raise FileRejected(rule, f"{detail}{more}", line)


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
    from hhp.instruments import ITEM_COLUMNS

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
