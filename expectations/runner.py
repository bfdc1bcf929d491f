"""Run a list of expectations over a pandas batch and turn failures into plain findings.

Great Expectations' SQL path fails against DuckDB (ARCHITECTURE.md), so batches are
validated as pandas frames read from DuckDB/Arrow. Findings never quote identifier
values: only counts, the first failing line and, for non-identifier columns, an example.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import cache

import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@dataclass
class Finding:
    suite: str
    expectation: str
    column: str | None
    unexpected: int
    total: int
    first_line: int | None
    example: str | None
    error: bool = False  # the expectation could not be evaluated

    def describe(self) -> str:
        where = f"column '{self.column}' " if self.column else ""
        example = f" (e.g. {self.example!r})" if self.example is not None else ""
        return (
            f"{where}fails {self.expectation} in {self.unexpected} of {self.total} rows{example} "
            f"[rule: {self.suite}]"
        )


@cache
def _batch_definition():
    import great_expectations as gx

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    source = context.data_sources.add_pandas("hhp_batches")
    asset = source.add_dataframe_asset("batch")
    return asset.add_batch_definition_whole_dataframe("whole")


def validate_frame(
    frame: pd.DataFrame,
    suite_name: str,
    expectations: list,
    line_column: str | None = "_row_number",
) -> list[Finding]:
    import great_expectations as gx

    batch_definition = _batch_definition()  # creates the context a suite needs
    suite = gx.ExpectationSuite(name=suite_name)
    for expectation in expectations:
        suite.add_expectation(expectation)
    if line_column and line_column in frame:
        frame = frame.set_index(line_column, drop=False)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": 1})
    findings = []
    for item in result.results:
        if item.success:
            continue
        config = item.expectation_config
        column = config.kwargs.get("column") or config.kwargs.get("column_list")
        column = ", ".join(column) if isinstance(column, list) else column
        details = item.result or {}
        lines = details.get("partial_unexpected_index_list") or []
        values = details.get("partial_unexpected_list") or []
        first_line = _line(lines[0], line_column) if lines else None
        example = None
        if values and "pseudonym" not in (column or ""):  # never quote a pseudonym
            example = str(values[0])[:40]
        if item.exception_info and item.exception_info.get("raised_exception"):
            message = item.exception_info.get("exception_message", "error")
            findings.append(
                Finding(
                    suite_name, f"{config.type} (error: {message})", column, 0, len(frame), None, None, True
                )
            )
            continue
        findings.append(
            Finding(
                suite_name,
                config.type,
                column,
                int(details.get("unexpected_count") or 0),
                int(details.get("element_count") or len(frame)),
                first_line,
                example,
            )
        )
    return findings


def _line(index_entry, line_column: str | None) -> int | None:
    if isinstance(index_entry, dict):  # pandas results carry {column: value, index name: index}
        index_entry = index_entry.get(line_column)
    try:
        return int(index_entry)
    except (TypeError, ValueError):
        return None
