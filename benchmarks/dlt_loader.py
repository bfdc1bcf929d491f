"""dlt at its fastest, for comparison: the file read by pyarrow in Arrow batches, handed to a
dlt resource, normalised to Parquet and loaded into DuckDB (no checks, no pseudonyms).

Usage: python -m benchmarks.dlt_loader <duckdb file> <work folder> <file>...
Prints one JSON line per file. Run in its own process, with dlt's telemetry off, by
benchmarks.run; dlt's import is paid once, outside the timings.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

BLOCK_BYTES = 16 << 20


def _batches(path: Path):
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.json as pajson

    if path.suffix == ".jsonl":
        yield from pajson.read_json(path, pajson.ReadOptions(block_size=BLOCK_BYTES)).to_batches()
        return
    header_lines = 3 if path.parent.name == "survey" else 1  # Qualtrics: three header rows
    with open(path, newline="", encoding="utf-8") as handle:
        names = next(iter(__import__("csv").reader(handle)))
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=BLOCK_BYTES, skip_rows=header_lines, column_names=names),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())),
    )
    yield from reader


def load(path: Path, database: Path, work: Path) -> dict:
    import dlt

    pipeline = dlt.pipeline(
        pipeline_name=f"bench_{abs(hash(path.name))}",
        destination=dlt.destinations.duckdb(str(database)),
        dataset_name="dlt_bench",
        pipelines_dir=str(work),
    )
    resource = dlt.resource(_batches(path), name=path.stem.replace("-", "_"), write_disposition="append")
    started = time.perf_counter()
    pipeline.run(resource, loader_file_format="parquet")
    seconds = time.perf_counter() - started
    return {"seconds": seconds}


def main() -> None:
    import dlt  # noqa: F401 - imported before the first timing

    database, work, *paths = (Path(a) for a in sys.argv[1:])
    for path in paths:
        try:
            figures = load(path, database, work)
        except Exception as error:  # noqa: BLE001 - the figure table says why dlt could not load it
            figures = {"error": f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"}
        print(json.dumps({"file": str(path), **figures}), flush=True)


if __name__ == "__main__":
    main()
