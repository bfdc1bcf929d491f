"""`make bench`: the platform at national scale against its engines and the naive alternative,
every figure measured in the same run, printed, and written to docs/benchmarks.md and
benchmarks/results.json.

Usage: python -m benchmarks.run [--copies 208] [--events 10]
(the defaults: 249,600 participants, 10 million delivery events, 1 million absence records)
"""

from __future__ import annotations

import argparse
import json
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
from hhp import REPO_ROOT

BIN = Path(sys.executable).parent
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
    """Seconds and peak resident memory (MB) of one `hhp` command in its own process."""
    started = time.perf_counter()
    process = subprocess.Popen([str(BIN / "hhp"), *args], env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"hhp {' '.join(args)} failed")
    return time.perf_counter() - started, usage.ru_maxrss // 1024


def _hold_back_last_week(files: Path) -> Path:
    """The trace without week 8, and week 8 as the later extract an incremental build takes."""
    trace = next((files / STUDY / "delivery").glob("*.csv"))
    later = files.parent / "later" / STUDY / "delivery" / "message_trace_2026-05-07.csv"
    later.parent.mkdir(parents=True)
    con = duckdb.connect()
    source = f"read_csv('{trace}', all_varchar = true, header = true)"
    earlier = trace.with_suffix(".tmp")
    for condition, target in (("like", later), ("not like", earlier)):
        con.execute(
            f"copy (select * from {source} where Subject {condition} '{LAST_WEEK}%') "
            f"to '{target}' (header, force_quote *)"
        )
    earlier.replace(trace)
    return later.parent.parent.parent


def _engine_reader(files: Path) -> dict[str, dict]:
    """DuckDB's own readers into a table, nothing else, per file."""
    out = {}
    con = duckdb.connect(str(files.parent / "engine.duckdb"))
    for i, path in enumerate(sorted(p for p in (files / STUDY).rglob("*") if p.is_file())):
        if path.suffix == ".jsonl":
            reader = f"read_json('{path}', format = 'newline_delimited')"
        elif path.parent.name == "survey":
            reader = f"read_csv('{path}', all_varchar = true, skip = 3, header = false)"
        else:
            reader = f"read_csv('{path}', all_varchar = true, header = true)"
        started = time.perf_counter()
        con.execute(f"create table t{i} as select * from {reader}")
        out[str(path.relative_to(files))] = {"seconds": time.perf_counter() - started}
    con.close()
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


def _per_file_ingest(home: Path) -> list[dict]:
    """From the ledger: each loaded file's rows, size and the time it took (between ledger
    entries, in the order they were recorded)."""
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    rows = con.execute(
        "select file_key, format, rows_loaded, size_bytes, processed_at from ops.landed_files "
        "where state = 'loaded' order by processed_at"
    ).fetchall()
    con.close()
    return [
        {"file": f, "format": fmt, "rows": n, "bytes": size, "processed_at": at}
        for f, fmt, n, size, at in rows
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=208)
    parser.add_argument("--events", type=int, default=10)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hhp-bench-"))
    figures: dict = {"machine": {"cores": os.cpu_count(), "memory_gib": _memory_gib()}, "started": _now()}
    try:
        files = root / "files"
        started = time.perf_counter()
        counts = write_programme(files, copies=args.copies, events=args.events)
        later = _hold_back_last_week(files)
        figures["data"] = {
            "seconds": time.perf_counter() - started,
            "records": counts,
            "participants": counts.get("allocation", 0),
        }
        print(f"data: {counts} in {figures['data']['seconds']:.0f} s", flush=True)

        figures["engine_reader"] = _engine_reader(files)
        home = root / "home"
        env = _env(home)
        _run(env, "land", str(files / STUDY))
        seconds, peak = _run(env, "ingest")
        figures["ingest"] = {"seconds": seconds, "peak_rss_mb": peak, "files": _per_file_ingest(home)}
        print(f"ingest: {seconds:.0f} s, peak RSS {peak} MB", flush=True)

        figures["build_full"] = {"seconds": _run(env, "build")[0]}
        _run(env, "land", str(later / STUDY))
        _run(env, "ingest")
        figures["build_incremental"] = {"seconds": _run(env, "build")[0]}
        print(
            f"dbt: full {figures['build_full']['seconds']:.0f} s, incremental "
            f"{figures['build_incremental']['seconds']:.0f} s",
            flush=True,
        )

        gate = subprocess.run(
            [sys.executable, "-m", "benchmarks.gate", "--json"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        figures["gate"] = json.loads(gate.stdout.strip().splitlines()[-1])

        from infra.local_postgres import LocalPostgres

        postgres = LocalPostgres.start()
        try:
            trace = next((files / STUDY / "delivery").glob("*.csv"))
            figures["naive_loader"] = _naive_loader(trace, postgres.url)
        finally:
            postgres.stop()
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


def render(figures: dict) -> str:
    """The figures as docs/benchmarks.md: a table per measure, ratios against the targets."""
    files = figures["ingest"]["files"]
    engine = figures["engine_reader"]
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
        "## Ingest, per file",
        "",
        "| file | format | rows | MB | s | rows/s | MB/s | engine reader s | vs engine |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    previous, rates = None, []
    for entry in files:
        at = datetime.fromisoformat(str(entry["processed_at"]))
        seconds = (at - previous).total_seconds() if previous is not None else None
        previous = at
        reader = engine.get(entry["file"], {}).get("seconds")
        if seconds is None or not entry["rows"]:
            continue
        mb = entry["bytes"] / 1e6
        ratio = f"{reader / seconds:.2f}x" if reader else ""
        rates.append({"format": entry["format"], "rows_per_second": entry["rows"] / seconds})
        lines.append(
            f"| {entry['file']} | {entry['format']} | {entry['rows']:,} | {mb:.0f} | {seconds:.1f} | "
            f"{entry['rows'] / seconds:,.0f} | {mb / seconds:.1f} | {reader or 0:.1f} | {ratio} |"
        )
    naive = figures["naive_loader"]
    total_rows = sum(f["rows"] for f in files)
    platform_rate = total_rows / figures["ingest"]["seconds"]
    trace_rate = max(
        (r["rows_per_second"] for r in rates if r["format"] == "exchange_message_trace_csv"), default=0
    )
    lines += [
        "",
        f"Whole ingest: {total_rows:,} rows in {figures['ingest']['seconds']:.0f} s "
        f"({platform_rate:,.0f} rows/s, every check, pseudonymisation and lineage included); "
        f"peak RSS {figures['ingest']['peak_rss_mb']} MB.",
        "",
        f"Naive loader (pandas.read_csv then DataFrame.to_sql into PostgreSQL) on the trace's first "
        f"{naive['rows']:,} rows: {naive['rows_per_second']:,.0f} rows/s; the platform ingests the trace at "
        f"{trace_rate / naive['rows_per_second']:.1f}x that (target 20x).",
        "",
        "## dbt",
        "",
        f"Full build {figures['build_full']['seconds']:.0f} s; incremental build after one more week of "
        f"the message trace {figures['build_incremental']['seconds']:.0f} s: "
        f"{figures['build_incremental']['seconds'] / figures['build_full']['seconds']:.0%} of the full build "
        "(target 10%).",
        "",
        "## Quality gate",
        "",
        f"Gate {figures['gate']['gate_seconds']:.1f} s against its bare SQL aggregates "
        f"{figures['gate']['bare_seconds']:.1f} s: {figures['gate']['ratio']:.1f}x (target 2x).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
