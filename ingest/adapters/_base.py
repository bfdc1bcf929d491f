"""What every adapter shares: the parse context, file rejection, CSV/JSON reading into
DuckDB (in memory, all text first), and parse checks that name the line and rule.

An adapter module defines FORMAT, COLUMNS (the raw table's columns after pseudonymisation,
as (name, logical type)) and parse(ctx) -> SQL selecting COLUMNS plus _row_number from
the tables it created on ctx.con.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from hhp.config import duckdb_memory_limit
from ingest.pseudonymise import mask_identifiers, pseudonym_macro
from ingest.registry import Study

# The machine's trouble, not the file's: these never quarantine a file; the run fails and the
# file stays landed for the next one.
MACHINE_ERRORS = (
    duckdb.OutOfMemoryException,
    duckdb.IOException,
    duckdb.InterruptException,
    duckdb.FatalException,  # the engine's own failure: never the file's
    duckdb.InternalException,
)


class FileRejected(Exception):
    """The file breaks a rule: quarantine it whole with this reason."""

    def __init__(self, rule: str, detail: str, line: int | None = None):
        self.rule, self.detail, self.line = rule, detail, line
        super().__init__(detail)

    def reason(self, file_key: str) -> str:
        where = f"line {self.line}: " if self.line else ""
        return mask_identifiers(f"{file_key}: {where}{self.detail} [rule: {self.rule}]")


@dataclass
class ParseContext:
    con: duckdb.DuckDBPyConnection
    path: Path
    file_key: str
    study: Study
    feed: str
    extract_date: date
    work_dir: Path  # scratch space for the parse, removed after it
    checks: list[tuple[str, str, str, str]] = field(default_factory=list)  # pending: see first_violation

    def scratch(self, name: str) -> Path:
        return self.work_dir / name

    @property
    def feed_spec(self) -> dict:
        return self.study.feeds[self.feed]

    def employee_pseudonym(self, column: str) -> str:
        """SQL for the pseudonym of an employee number column (trimmed, upper-cased)."""
        return f"hhp_pseudonym('{self.study.study_id}:' || upper(trim({column})))"

    def email_pseudonym(self, column: str) -> str:
        """SQL for the pseudonym of an email column (trimmed, lower-cased)."""
        return f"hhp_pseudonym('{self.study.study_id}:' || lower(trim({column})))"


def new_connection(key: bytes, spill_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for parsing one file; within its memory limit, spilling to
    spill_dir beyond it, so a file larger than memory streams through."""
    config = {"memory_limit": duckdb_memory_limit(), "preserve_insertion_order": True}
    if spill_dir is not None:
        config["temp_directory"] = str(spill_dir)
    return register_pseudonym(duckdb.connect(":memory:", config=config), key)


def register_pseudonym(con: duckdb.DuckDBPyConnection, key: bytes) -> duckdb.DuckDBPyConnection:
    """hhp_pseudonym(text) on this connection (a temporary macro: it goes with it)."""
    con.execute(pseudonym_macro(key))
    return con


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
    message = str(error).split("\n")[0].replace(f'"{path}"', "the file").replace(str(path), "the file")
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
    spec = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in columns) + "}"
    try:
        ctx.con.execute(
            f"""
            create temp table source as
            select row_number() over () + {header_lines} as _row_number, *
            from read_csv('{ctx.path}', header = false, skip = {header_lines}, columns = {spec},
                          delim = ',', quote = '"', escape = '"', auto_detect = false,
                          strict_mode = true, encoding = 'utf-8', buffer_size = {CSV_BUFFER_BYTES})
            """
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
    spec = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items()) + "}"
    try:
        ctx.con.execute(
            f"""
            create temp table source as
            select row_number() over () as _row_number, *
            from read_json('{path}', format = 'newline_delimited', columns = {spec})
            """
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


def require_date(ctx: ParseContext, column: str, fmt: str, label: str, table: str = "source") -> None:
    first_violation(
        ctx,
        f"{column} is not null and try_strptime(trim({column}), '{fmt}') is null",
        "parseable date",
        f"column '{label}' is not a date in the form {label_format(fmt)}",
        table,
    )


def require_number(ctx: ParseContext, column: str, label: str, table: str = "source") -> None:
    first_violation(
        ctx,
        f"{column} is not null and try_cast(trim({column}) as double) is null",
        "number",
        f"column '{label}' is not a number",
        table,
    )


def require_present(ctx: ParseContext, column: str, label: str, table: str = "source") -> None:
    first_violation(
        ctx, f"{column} is null or trim({column}) = ''", "required", f"column '{label}' is blank", table
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
        f"nullif(trim(\"{partner[c]}\"), '') as {c}" if c in partner else f"cast(null as varchar) as {c}"
        for c in ITEM_COLUMNS
    )


def to_date(column: str, fmt: str) -> str:
    return f"cast(strptime(trim({column}), '{fmt}') as date)"
