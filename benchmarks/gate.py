"""The quality gate against the bare SQL aggregates it needs, in the same run.

Usage: python -m benchmarks.gate [--json]   (on the warehouse of $HHP_HOME, e.g. after `hhp demo`)

The bare aggregates are what a hand-written gate would run: per study, one query per mart
counting rows out of set, out of range, null and duplicated, plus the trial checks' own SQL
(which already is bare aggregates). The gate adds Great Expectations, the catalogue, the
results table and the Data Docs page.
"""

from __future__ import annotations

import time

from expectations import trial
from expectations.gate import run_gate
from expectations.marts import OUTCOME_RANGES
from hhp.config import load_settings
from hhp.registry import load_registry
from hhp.sql import quote_literal
from hhp.warehouse import open_warehouse


def bare_aggregates(settings) -> int:
    """The figures the gate reports, computed by plain SQL; returns the number of queries."""
    queries = 0
    ranges = " ".join(
        f", count(*) filter (where outcome_code = {quote_literal(code)} and (value < {low}"
        + (f" or value > {high}" if high is not None else "")
        + "))"
        for code, (low, high) in OUTCOME_RANGES.items()
    )
    codes = ", ".join(quote_literal(c) for c in OUTCOME_RANGES)
    with open_warehouse(settings) as wh:
        for study_id, study in load_registry().items():
            arms = ", ".join(quote_literal(a) for a in study.arms)
            wh.query(
                f"select count(*), count(*) filter (where arm not in ({arms})), "
                "count(*) filter (where randomised_on is null), count(*) - count(distinct participant_id) "
                "from marts.dim_participant where study_id = %s",
                [study_id],
            )
            wh.query(
                f"select count(*), count(*) filter (where outcome_code not in ({codes})){ranges} "
                "from marts.fct_outcomes where study_id = %s",
                [study_id],
            )
            wh.query(
                "select count(*) from (select participant_id, outcome_code, timepoint "
                "from marts.fct_outcomes where study_id = %s "
                "group by 1, 2, 3 having count(*) > 1) as duplicates",
                [study_id],
            )
            trial.measure_all(wh, study)
            queries += 3 + 14
    return queries


def main() -> None:
    import json
    import sys

    settings = load_settings().transformer  # bare_aggregates reads the marts as the gate does
    started = time.perf_counter()
    run_gate(settings)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    results = run_gate(settings)
    warm = time.perf_counter() - started
    started = time.perf_counter()
    queries = bare_aggregates(settings)
    bare = time.perf_counter() - started
    engine = "postgres" if settings.is_postgres else "duckdb"
    print(f"gate on {engine}: {len(results)} checks")
    print(f"  gate, first run in the process (imports Great Expectations): {cold:6.2f} s")
    print(f"  gate, second run:                                            {warm:6.2f} s")
    print(f"  bare SQL aggregates ({queries} queries):                        {bare:6.2f} s")
    print(f"  ratio gate / bare: {warm / bare:.1f}x (first run {cold / bare:.1f}x)")
    if "--json" in sys.argv:
        print(json.dumps({"checks": len(results), "gate_seconds": warm, "gate_first_seconds": cold,
                          "bare_seconds": bare, "ratio": warm / bare}))  # fmt: skip


if __name__ == "__main__":
    main()
