"""`make bench`: the platform at national scale against its engines and the naive alternative,
every figure measured in the same run, printed, and written to docs/benchmarks.md and
benchmarks/results.json.

Usage: python -m benchmarks.run [--copies 208] [--events 10] [--largest-gib 5] [--postgres-share 8]
(the defaults: 249,600 participants, 10 million delivery events, 1 million absence records;
a message trace of 5 GiB ingested alone for peak memory; PostgreSQL at 1/8 of the scale)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from benchmarks.scale_data import STUDY, write_programme
from hhp.config import load_settings
from hhp.sql import quote_literal
from infra.local_postgres import LocalPostgres

BIN = Path(sys.executable).parent
REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "benchmarks" / "results.json"
PAGE = REPO_ROOT / "docs" / "benchmarks.md"
NAIVE_ROWS = 200_000  # pandas.to_sql is slow: timed on the trace's first rows, compared per row
LAST_WEEK = "Week 8:"


def _env(home: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "HHP_HOME": str(home),
        "DO_NOT_TRACK": "1",
        "GX_ANALYTICS_ENABLED": "false",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **extra,
    }


def _run(env: dict[str, str], *args: str) -> tuple[float, int]:
    """Seconds and peak resident memory (MB) of one `hhp` command in its own process.

    The peak is the child's own high-water mark (VmHWM), read as it runs: the kernel's
    ru_maxrss would carry over this process's own peak from the fork, and this process has
    held gigabytes (DuckDB's reader, the data written)."""
    started = time.perf_counter()
    process = subprocess.Popen([str(BIN / "hhp"), *args], env=env, stdout=subprocess.DEVNULL)
    peak_kib = 0
    while True:
        peak_kib = max(peak_kib, _high_water_kib(process.pid))
        pid, status, _ = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.05)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"hhp {' '.join(args)} failed")
    return time.perf_counter() - started, peak_kib // 1024


def _high_water_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            return next((int(line.split()[1]) for line in handle if line.startswith("VmHWM:")), 0)
    except OSError:  # gone between two looks
        return 0


def _hold_back_last_week(files: Path, later_root: Path) -> Path:
    """The trace without week 8, and week 8 as the later extract an incremental build takes."""
    trace = next((files / STUDY / "delivery").glob("*.csv"))
    later = later_root / STUDY / "delivery" / "message_trace_2026-05-07.csv"
    later.parent.mkdir(parents=True)
    con = duckdb.connect()
    source = f"read_csv({quote_literal(str(trace))}, all_varchar = true, header = true)"
    earlier = trace.with_suffix(".tmp")
    for condition, target in (("like", later), ("not like", earlier)):
        con.execute(
            f"copy (select * from {source} where Subject {condition} {quote_literal(LAST_WEEK + '%')}) "
            f"to {quote_literal(str(target))} (header, force_quote *)"
        )
    earlier.replace(trace)
    return later_root


def _engine_reader(files: Path, only: Path | None = None) -> dict[str, dict]:
    """DuckDB's own readers into a table, nothing else, per file."""
    out = {}
    database = files.parent / "engine.duckdb"
    con = duckdb.connect(str(database))
    paths = [only] if only else sorted(p for p in (files / STUDY).rglob("*") if p.is_file())
    for i, path in enumerate(paths):
        if path.suffix == ".jsonl":
            reader = f"read_json({quote_literal(str(path))}, format = 'newline_delimited')"
        elif path.parent.name == "survey":
            reader = f"read_csv({quote_literal(str(path))}, all_varchar = true, skip = 3, header = false)"
        else:
            reader = f"read_csv({quote_literal(str(path))}, all_varchar = true, header = true)"
        started = time.perf_counter()
        con.execute(f"create table t{i} as select * from {reader}")
        out[str(path.relative_to(files))] = {"seconds": time.perf_counter() - started}
    con.close()
    database.unlink()
    return out


def _naive_loader(trace: Path, postgres_url: str) -> dict:
    """What most people write first: pandas.read_csv, then DataFrame.to_sql into PostgreSQL."""
    import pandas as pd
    from sqlalchemy import create_engine

    engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg2://"))
    started = time.perf_counter()
    frame = pd.read_csv(trace, nrows=NAIVE_ROWS, dtype=str)
    frame.to_sql("naive_message_trace", engine, if_exists="replace", index=False)
    seconds = time.perf_counter() - started
    engine.dispose()
    return {"rows": len(frame), "seconds": seconds, "rows_per_second": len(frame) / seconds}


def _dlt(files: Path, root: Path) -> dict[str, dict]:
    """dlt's Arrow path per file, all in one process (benchmarks.dlt_loader)."""
    paths = sorted(str(p) for p in (files / STUDY).rglob("*") if p.is_file())
    work = root / "dlt"
    work.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.dlt_loader", str(work / "dlt.duckdb"), str(work), *paths],
        env={**os.environ, "RUNTIME__DLTHUB_TELEMETRY": "false"},
        check=True,
        capture_output=True,
        text=True,
    )
    out = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            figures = json.loads(line)
            out[str(Path(figures.pop("file")).relative_to(files))] = figures
    shutil.rmtree(work)
    return out


def _largest_file(root: Path, trace_bytes: int, events: int, copies: int, gib: float) -> dict:
    """A message trace of `gib` GiB (and its allocation) ingested alone: seconds, peak RSS,
    and DuckDB's own reader on the same file."""
    files = root / "largest"
    hops = max(events, math.ceil(events * gib * 2**30 / trace_bytes))
    write_programme(files, copies=copies, events=hops, feeds=("allocation", "delivery"))
    trace = next((files / STUDY / "delivery").glob("*.csv"))
    size = trace.stat().st_size
    reader = _engine_reader(files, only=trace)
    env = _env(root / "largest_home")
    _run(env, "land", str(files / STUDY))
    seconds, peak = _run(env, "ingest")
    rows = _per_file_ingest(root / "largest_home")
    shutil.rmtree(files)
    shutil.rmtree(root / "largest_home")
    trace_rows = next(f["rows"] for f in rows if f["format"] == "exchange_message_trace_csv")
    return {"bytes": size, "rows": trace_rows, "seconds": seconds, "peak_rss_mb": peak,
            "engine_reader_seconds": next(iter(reader.values()))["seconds"]}  # fmt: skip


def _postgres(root: Path, postgres, copies: int, events: int) -> dict:
    """The platform on PostgreSQL at a smaller scale: ingest, dbt full and incremental, gate."""
    files = root / "pg_files"
    counts = write_programme(files, copies=copies, events=events)
    later = _hold_back_last_week(files, root / "pg_later")
    env = _env(root / "pg_home", **postgres.pipeline_env(), HHP_PSEUDONYM_KEY="benchmark-only-key-0123456789")
    _run(env, "land", str(files / STUDY))
    ingest_seconds, peak = _run(env, "ingest")
    build_full = _run(env, "build")[0]
    _run(env, "land", str(later / STUDY))
    _run(env, "ingest")
    build_incremental = _run(env, "build")[0]
    gate = _gate(env)
    rows = sum(counts.values())
    trace_rows = counts.get("delivery", 0)
    return {
        "participants": counts.get("allocation", 0),
        "records": counts,
        "ingest_seconds": ingest_seconds,
        "ingest_rows": rows,
        "ingest_peak_rss_mb": peak,
        "files": _per_file_ingest(root / "pg_home", load_settings(postgres.pipeline_env()).warehouse),
        "build_full_seconds": build_full,
        "build_incremental_seconds": build_incremental,
        "gate": gate,
        "trace_rows": trace_rows,
    }


def _gate(env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.gate", "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _dbt_timings(home: Path) -> dict:
    """The last dbt run's own elapsed time and its slowest nodes (run_results.json)."""
    results = json.loads((home / "dbt" / "target" / "run_results.json").read_text())
    nodes = sorted(results["results"], key=lambda r: r["execution_time"], reverse=True)
    return {
        "dbt_elapsed_seconds": results["elapsed_time"],
        "slowest_nodes": {r["unique_id"]: round(r["execution_time"], 2) for r in nodes[:6]},
    }


def _per_file_ingest(home: Path, postgres_url: str | None = None) -> list[dict]:
    """From the ledger: each loaded file's rows, size and the time it took (between ledger
    entries, in the order they were recorded)."""
    query = (
        "select file_key, format, rows_loaded, size_bytes, processed_at from ops.landed_files "
        "where state = 'loaded' order by processed_at"
    )
    if postgres_url:
        import psycopg2

        with psycopg2.connect(postgres_url) as con, con.cursor() as cur:
            cur.execute(query)
            rows = cur.fetchall()
    else:
        con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
        rows = con.execute(query).fetchall()
        con.close()
    return [
        {"file": f, "format": fmt, "rows": n, "bytes": size, "processed_at": at}
        for f, fmt, n, size, at in rows
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=208)
    parser.add_argument("--events", type=int, default=10)
    parser.add_argument("--largest-gib", type=float, default=5.0)
    parser.add_argument("--postgres-share", type=int, default=8, help="PostgreSQL at 1/N of the scale")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hhp-bench-"))
    figures: dict = {"machine": {"cores": os.cpu_count(), "memory_gib": _memory_gib()}, "started": _now()}
    try:
        files = root / "files"
        started = time.perf_counter()
        counts = write_programme(files, copies=args.copies, events=args.events)
        later = _hold_back_last_week(files, root / "later")
        figures["data"] = {
            "seconds": time.perf_counter() - started,
            "records": counts,
            "participants": counts.get("allocation", 0),
        }
        print(f"data: {counts} in {figures['data']['seconds']:.0f} s", flush=True)

        figures["engine_reader"] = _engine_reader(files)
        figures["dlt"] = _dlt(files, root)
        print("engine reader and dlt: done", flush=True)
        home = root / "home"
        env = _env(home)
        _run(env, "land", str(files / STUDY))
        seconds, peak = _run(env, "ingest")
        figures["ingest"] = {"seconds": seconds, "peak_rss_mb": peak, "files": _per_file_ingest(home)}
        print(f"ingest: {seconds:.0f} s, peak RSS {peak} MB", flush=True)

        figures["build_full"] = {"seconds": _run(env, "build")[0]}
        _run(env, "land", str(later / STUDY))
        _run(env, "ingest")
        figures["build_incremental"] = {"seconds": _run(env, "build")[0], **_dbt_timings(home)}
        print(
            f"dbt: full {figures['build_full']['seconds']:.0f} s, incremental "
            f"{figures['build_incremental']['seconds']:.0f} s",
            flush=True,
        )

        figures["gate"] = _gate(env)
        print(f"gate: {figures['gate']['ratio']:.1f}x its bare SQL", flush=True)
        trace = next((files / STUDY / "delivery").glob("*.csv"))
        trace_bytes = trace.stat().st_size
        shutil.rmtree(home)

        postgres = LocalPostgres.start().provision_roles()
        try:
            figures["naive_loader"] = _naive_loader(trace, postgres.url)
            shutil.rmtree(files)
            figures["postgres"] = _postgres(
                root, postgres, max(1, args.copies // args.postgres_share), args.events
            )
            print(f"postgres: {figures['postgres']}", flush=True)
        finally:
            postgres.stop()
        figures["largest_file"] = _largest_file(root, trace_bytes, args.events, args.copies, args.largest_gib)
        print(f"largest file: {figures['largest_file']}", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    figures["finished"] = _now()
    RESULTS.write_text(json.dumps(figures, indent=2, default=str))
    report = render(figures)
    PAGE.write_text(report)
    print(report)


def _memory_gib() -> float:
    with open("/proc/meminfo") as handle:
        kib = int(next(line for line in handle if line.startswith("MemTotal")).split()[1])
    return round(kib / 1024**2, 1)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _file_seconds(files: list[dict]) -> list[dict]:
    """Each file's seconds: from the ledger entry before it to its own (the first has none)."""
    out, previous = [], None
    for entry in files:
        at = datetime.fromisoformat(str(entry["processed_at"]))
        if previous is not None and entry["rows"]:
            out.append({**entry, "seconds": (at - previous).total_seconds()})
        previous = at
    return out


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "n/a"


def render(figures: dict) -> str:
    """The figures as docs/benchmarks.md: the targets first, then a table per measure."""
    files = _file_seconds(figures["ingest"]["files"])
    engine, dlt = figures["engine_reader"], figures.get("dlt", {})
    naive = figures["naive_loader"]
    trace = max((f for f in files if f["format"] == "exchange_message_trace_csv"), key=lambda f: f["rows"])
    largest = figures["largest_file"]
    full, incremental = figures["build_full"]["seconds"], figures["build_incremental"]["seconds"]
    vs_engine = {f["format"]: [] for f in files}
    vs_dlt = {f["format"]: [] for f in files}
    for f in files:
        vs_engine[f["format"]].append(engine.get(f["file"], {}).get("seconds", 0) / f["seconds"])
        if dlt.get(f["file"], {}).get("seconds"):
            vs_dlt[f["format"]].append(dlt[f["file"]]["seconds"] / f["seconds"])
    worst_engine = min(min(v) for v in vs_engine.values())
    worst_dlt = min((min(v) for v in vs_dlt.values() if v), default=0)
    trace_rate = trace["rows"] / trace["seconds"]
    vs_naive = trace_rate / naive["rows_per_second"]
    largest_gib, largest_rss = largest["bytes"] / 2**30, largest["peak_rss_mb"] / 1024
    gate = figures["gate"]["ratio"]
    checks = [
        (
            "ingest vs DuckDB's own reader, worst format",
            f"{worst_engine:.2f}x",
            ">= 0.5x",
            worst_engine >= 0.5,
        ),
        ("ingest vs dlt's Arrow path, worst format", f"{worst_dlt:.2f}x", "> 1x", worst_dlt > 1),
        (
            "message trace ingest vs pandas.to_sql into PostgreSQL",
            f"{vs_naive:.1f}x",
            ">= 20x",
            vs_naive >= 20,
        ),
        (
            f"peak RSS ingesting a {largest_gib:.1f} GiB file",
            f"{largest_rss:.2f} GiB",
            "< 2 GiB",
            largest_rss < 2,
        ),
        ("incremental build / full build", f"{incremental / full:.0%}", "<= 10%", incremental / full <= 0.10),
        ("quality gate / its bare SQL aggregates", f"{gate:.1f}x", "<= 2x", gate <= 2),
    ]
    lines = [
        "# Benchmarks",
        "",
        f"Measured {figures['finished']} by `make bench` on {figures['machine']['cores']} cores and "
        f"{figures['machine']['memory_gib']} GiB of memory; every ratio from figures of the same run.",
        "",
        f"Data: {figures['data']['participants']:,} participants; records per feed: "
        + ", ".join(f"{k} {v:,}" for k, v in figures["data"]["records"].items())
        + f" (written in {figures['data']['seconds']:.0f} s).",
        "",
        "## Against the targets",
        "",
        "| measure | figure | target | met |",
        "|---|---:|---:|---|",
        *(
            f"| {name} | {figure} | {target} | {'yes' if met else '**no**'} |"
            for name, figure, target, met in checks
        ),
        "",
        "## Ingest, per file",
        "",
        "Seconds per file from the ledger (every check, pseudonymisation, lineage and the move to the "
        "archive included); DuckDB's reader is `read_csv`/`read_json` into a table; dlt is pyarrow "
        "batches through a dlt resource into DuckDB (Parquet), its import not counted.",
        "",
        "| file | format | rows | MB | s | rows/s | MB/s | DuckDB reader s | vs reader | dlt s | vs dlt |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in files:
        mb = f["bytes"] / 1e6
        reader = engine.get(f["file"], {}).get("seconds")
        by_dlt = dlt.get(f["file"], {})
        dlt_s = f"{by_dlt['seconds']:.1f}" if "seconds" in by_dlt else by_dlt.get("error", "n/a")[:60]
        lines.append(
            f"| {f['file']} | {f['format']} | {f['rows']:,} | {mb:.0f} | {f['seconds']:.1f} | "
            f"{f['rows'] / f['seconds']:,.0f} | {mb / f['seconds']:.1f} | {reader or 0:.1f} | "
            f"{_ratio(reader, f['seconds'])} | {dlt_s} | {_ratio(by_dlt.get('seconds'), f['seconds'])} |"
        )
    total_rows = sum(f["rows"] for f in figures["ingest"]["files"])
    lines += [
        "",
        f"Whole ingest: {total_rows:,} rows in {figures['ingest']['seconds']:.0f} s "
        f"({total_rows / figures['ingest']['seconds']:,.0f} rows/s, one process, imports included); "
        f"peak RSS {figures['ingest']['peak_rss_mb']:,} MB.",
        "",
        f"Largest file alone: a message trace of {largest_gib:.2f} GiB ({largest['rows']:,} rows) "
        f"ingested in {largest['seconds']:.0f} s with its allocation (DuckDB's reader alone: "
        f"{largest['engine_reader_seconds']:.0f} s); peak RSS {largest['peak_rss_mb']:,} MB.",
        "",
        f"Naive loader (pandas.read_csv then DataFrame.to_sql into PostgreSQL) on the trace's first "
        f"{naive['rows']:,} rows: {naive['rows_per_second']:,.0f} rows/s; the platform ingests the trace "
        f"into DuckDB at {trace_rate:,.0f} rows/s, {trace_rate / naive['rows_per_second']:.1f}x that.",
        "",
        "## dbt",
        "",
        f"Full build (the first `hhp build`: every model from raw) {full:.0f} s; after one more week of the "
        f"message trace, `hhp build` (what the new file touches, incremental models) {incremental:.1f} s: "
        f"{incremental / full:.0%} of the full build. Of the incremental build, dbt's own run of "
        f"the models and tests took {figures['build_incremental'].get('dbt_elapsed_seconds', 0):.1f} s "
        "(the rest: starting Python and dbt, reading the project, writing dbt's artefacts, the "
        "database's checkpoint); its slowest nodes: "
        + ", ".join(
            f"{k.split('.')[2]} {v} s"
            for k, v in figures["build_incremental"].get("slowest_nodes", {}).items()
        )
        + ".",
        "",
        "## Quality gate",
        "",
        f"Gate {figures['gate']['gate_seconds']:.2f} s ({figures['gate']['checks']} checks) against its bare "
        f"SQL aggregates {figures['gate']['bare_seconds']:.2f} s: {figures['gate']['ratio']:.1f}x "
        f"(the first run in a process, imports included: {figures['gate']['gate_first_seconds']:.1f} s).",
        "",
    ]
    pg = figures.get("postgres")
    if pg:
        pg_files = _file_seconds(pg["files"])
        pg_trace = max(
            (f for f in pg_files if f["format"] == "exchange_message_trace_csv"), key=lambda f: f["rows"]
        )
        pg_rate = pg_trace["rows"] / pg_trace["seconds"]
        pg_full, pg_incremental, pg_gate = (
            pg["build_full_seconds"],
            pg["build_incremental_seconds"],
            pg["gate"],
        )
        lines += [
            "## PostgreSQL",
            "",
            f"The same chain with the warehouse on PostgreSQL 15 (a local server), at "
            f"{pg['participants']:,} participants ({pg['records'].get('delivery', 0):,} delivery events):",
            "",
            f"- ingest: {pg['ingest_rows']:,} rows in {pg['ingest_seconds']:.0f} s; the message trace at "
            f"{pg_rate:,.0f} rows/s, {pg_rate / naive['rows_per_second']:.1f}x pandas.to_sql into the same "
            f"server; peak RSS {pg['ingest_peak_rss_mb']:,} MB;",
            f"- dbt: full build {pg_full:.0f} s, incremental after one more week {pg_incremental:.1f} s "
            f"({pg_incremental / pg_full:.0%});",
            "- gate (the suites' SQL form, run in PostgreSQL): "
            f"{pg_gate['gate_seconds']:.2f} s against bare SQL {pg_gate['bare_seconds']:.2f} s, "
            f"{pg_gate['ratio']:.1f}x.",
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
