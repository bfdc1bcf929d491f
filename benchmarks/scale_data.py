"""A programme at national scale in the partners' own formats, deterministic by seed.

The seeded generator writes one study (mod_ding, 1,200 staff) file by file in Python; here
DuckDB replicates its files `copies` times, each copy a new set of staff (new participant
ids, employee numbers and email addresses, so every reference between feeds still holds)
and the message trace `events` times over (each a new message trace id, as Exchange logs a
message's every hop). Every value otherwise comes from the generator's own rows, so every
format rule of docs/feeds.md holds at any scale. Defaults: 249,600 participants, 10.0 million
delivery events, 1.0 million absence records (in two cumulative extracts), 2.2 million
roster rows, half a million survey responses.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb

from generator import generate
from hhp.sql import quote_identifier, quote_literal

STUDY = "mod_ding"


def _copy_key(k: str) -> str:
    return f"lpad(({k})::varchar, 3, '0')"


def _new_staff(column: str, kind: str, k: str = "k") -> str:
    """The same person in copy k: ids and employee numbers suffixed, email local parts too."""
    if kind == "email":
        return f"replace({column}, '@', '.c' || {_copy_key(k)} || '@')"
    if kind == "employee":
        return f"{column} || {_copy_key(k)}"
    return f"{column} || '-' || {_copy_key(k)}"


def _replicate_csv(
    con, source: Path, target: Path, copies: int, rewrite: dict[str, str], extra: str = ""
) -> int:
    header = next(csv.reader(source.open(newline="")))
    columns = ", ".join(f"{rewrite.get(c, quote_identifier(c))} as {quote_identifier(c)}" for c in header)
    con.execute(
        f"copy (select {columns} from read_csv({quote_literal(str(source))}, all_varchar = true, "
        "header = true) "
        f"cross join range({copies}) as c(k) {extra} order by k) "
        f"to {quote_literal(str(target))} (header, quote '\"', force_quote *)"
    )
    return con.execute("select count(*) from read_csv(?, all_varchar = true)", [str(target)]).fetchone()[0]


def write_programme(
    out: Path, copies: int = 208, events: int = 10, seed: int = 42, feeds: tuple[str, ...] | None = None
) -> dict[str, int]:
    """Write `<out>/mod_ding/<feed>/<file>` (every feed, or those named); returns rows
    (records) written per feed."""
    base = out / "_base"
    generate(base, [STUDY], seed=seed, standard_forms=True)  # replicated by DuckDB's reader
    con = duckdb.connect()
    con.execute("set preserve_insertion_order = false")
    rows: dict[str, int] = {}
    for source in sorted((base / STUDY).rglob("*")):
        if not source.is_file():
            continue
        feed = source.parent.name
        if feeds is not None and feed not in feeds:
            continue
        target = out / STUDY / feed / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if feed == "allocation":
            n = _replicate_csv(
                con,
                source,
                target,
                copies,
                {
                    "participant_id": _new_staff("participant_id", "id"),
                    "employee_number": _new_staff("employee_number", "employee"),
                    "email": _new_staff("email", "email"),
                },
            )
        elif feed in ("roster", "leavers"):
            n = _replicate_csv(
                con, source, target, copies, {"employee_number": _new_staff("employee_number", "employee")}
            )
        elif feed == "delivery":
            n = _replicate_csv(
                con,
                source,
                target,
                copies,
                {
                    "RecipientAddress": _new_staff("RecipientAddress", "email"),
                    "MessageTraceId": "MessageTraceId || '-' || k || '-' || e",
                    "MessageId": "replace(MessageId, '@', '.' || k || '.' || e || '@')",
                },
                extra=f"cross join range({events}) as hop(e)",
            )
        elif feed == "absence":
            n = _replicate_hris(con, source, target, copies)
        elif feed == "survey":
            n = _replicate_qualtrics(con, source, target, copies)
        else:
            shutil.copy(source, target)
            n = 0
        rows[feed] = rows.get(feed, 0) + n
    shutil.rmtree(base)
    return rows


def _replicate_hris(con, source: Path, target: Path, copies: int) -> int:
    """JSON Lines, one worker per line with their time off."""
    con.execute(
        f"copy (select {_new_staff('worker_id', 'employee')} as worker_id, extract_date, time_off "
        f"from read_json({quote_literal(str(source))}, format = 'newline_delimited') "
        f"cross join range({copies}) as c(k) order by k) "
        f"to {quote_literal(str(target))} (format json)"
    )
    return con.execute(
        "select sum(len(time_off)) from read_json(?, format = 'newline_delimited')", [str(target)]
    ).fetchone()[0]


def _replicate_qualtrics(con, source: Path, target: Path, copies: int) -> int:
    """Qualtrics exports carry three header rows; the respondents repeat per copy."""
    with source.open(newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    header, rows = lines[:3], lines[3:]
    names = header[0]
    ids = {n: names.index(n) for n in ("ResponseId", "RecipientEmail", "ExternalReference")}
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerows(header)
        for k in range(copies):
            for row in rows:
                row = list(row)
                if row[ids["ResponseId"]]:
                    row[ids["ResponseId"]] += f"c{k:03d}"
                if "@" in row[ids["RecipientEmail"]]:
                    row[ids["RecipientEmail"]] = row[ids["RecipientEmail"]].replace("@", f".c{k:03d}@")
                if row[ids["ExternalReference"]]:
                    row[ids["ExternalReference"]] += f"-{k:03d}"
                writer.writerow(row)
    return len(rows) * copies
