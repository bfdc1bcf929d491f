"""Run a list of expectations over a pandas batch and turn failures into plain findings.

Great Expectations' SQL path fails against DuckDB (see expectations.compiled): a DuckDB table is
validated by the suites' SQL form (expectations.compiled), and whatever has none on pandas
batches read from it (validate_table).
Findings never quote identifier values: only counts, the first failing line and, for
non-identifier columns, an example.
"""

from __future__ import annotations

import logging
import os
import re
from functools import cache

import duckdb
import pandas as pd

from expectations import compiled
from expectations.findings import Finding
from hhp.sql import quote_identifier

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@cache
def _context():
    import great_expectations as gx

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    return context


@cache
def _batch_definition():
    source = _context().data_sources.add_pandas("hhp_batches")
    asset = source.add_dataframe_asset("batch")
    return asset.add_batch_definition_whole_dataframe("whole")


def validate_frame(
    frame: pd.DataFrame,
    suite_name: str,
    expectations: list,
    line_column: str | None = "_row_number",
    include_passed: bool = False,
) -> list[Finding]:
    batch_definition = _batch_definition()  # creates the context a suite needs
    if line_column and line_column in frame:
        frame = frame.set_index(line_column, drop=False)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    return _validate(batch, suite_name, expectations, line_column, include_passed, len(frame))


def validate_query(
    connection_url: str, query: str, suite_name: str, expectations: list, include_passed: bool = False
) -> list[Finding]:
    """Validate the rows of a query in the database itself (SQL pushdown, PostgreSQL)."""
    batch = _query_batch_definition(connection_url, query).get_batch()
    return _validate(batch, suite_name, expectations, None, include_passed, None)


def _validate(batch, suite_name, expectations, line_column, include_passed, rows) -> list[Finding]:
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=suite_name)
    for expectation in expectations:
        suite.add_expectation(expectation)
    result = batch.validate(suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": 1})
    findings = []
    for item in result.results:
        if item.success and not include_passed:
            continue
        config = item.expectation_config
        pair = [config.kwargs[c] for c in ("column_A", "column_B") if c in config.kwargs]
        column = config.kwargs.get("column") or config.kwargs.get("column_list") or pair or None
        column = ", ".join(column) if isinstance(column, list) else column
        details = item.result or {}
        check = (config.meta or {}).get("check")
        if item.exception_info and item.exception_info.get("raised_exception"):
            message = item.exception_info.get("exception_message", "error")
            findings.append(
                Finding(suite_name, f"{config.type} (error: {message})", column, 0, rows or 0, None, None,
                        True, check=check)
            )  # fmt: skip
            continue
        lines = details.get("partial_unexpected_index_list") or []
        values = details.get("partial_unexpected_list") or []
        example = None
        if values and "pseudonym" not in (column or ""):  # never quote a pseudonym
            example = str(values[0])
        element_count = details.get("element_count")
        findings.append(
            Finding(
                suite_name,
                config.type,
                column,
                int(details.get("unexpected_count") or 0),
                int(element_count if element_count is not None else (rows or 0)),
                _line(lines[0], line_column) if lines else None,
                example,
                passed=bool(item.success),
                check=check,
                observed=details.get("observed_value"),
                shown_as_is=bool((config.meta or {}).get("closed_list")),
            )
        )
    return findings


@cache
def _postgres_source(connection_url: str):
    """One GX data source (one connection pool) per database."""
    url = connection_url.replace("postgresql://", "postgresql+psycopg2://", 1)
    return _context().data_sources.add_postgres(
        f"postgres_{len(_context().data_sources.all())}", connection_string=url
    )


@cache
def _query_batch_definition(connection_url: str, query: str):
    source = _postgres_source(connection_url)
    asset = source.add_query_asset(f"query_{len(source.assets)}", query=query)
    return asset.add_batch_definition_whole_table("whole")


def _line(index_entry, line_column: str | None) -> int | None:
    if isinstance(index_entry, dict):  # pandas results carry {column: value, index name: index}
        index_entry = index_entry.get(line_column)
    try:
        return int(index_entry)
    except (TypeError, ValueError):
        return None


def validate_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    suite_name: str,
    expectations: list,
    batch_rows: int = 100_000,
    line_column: str | None = "_row_number",
    include_passed: bool = False,
    where: str = "true",
) -> list[Finding]:
    """Validate the rows of a DuckDB table meeting `where`, of any size. Without
    include_passed, the findings of the first failing step.

    What compiles to SQL runs in DuckDB (expectations.compiled: one scan, one grouping per
    uniqueness rule); anything else in Great Expectations, on Arrow batches of the columns it
    reads, so memory stays bounded by one batch.
    """
    in_sql = [e for e in expectations if compiled.compiles(e)]
    in_gx = [e for e in expectations if not compiled.compiles(e)]
    findings = compiled.validate(
        lambda sql: con.execute(sql).fetchall()[0],
        table,
        suite_name,
        in_sql,
        line_column,
        include_passed,
        where,
    )
    if not in_gx or (findings and not include_passed):
        return findings
    available = [row[0] for row in con.execute(f"describe {table}").fetchall()]
    columns = [*([line_column] if line_column else []), *_columns_read(in_gx, available)]
    column_list = ", ".join(quote_identifier(c) for c in dict.fromkeys(columns))
    reader = con.sql(f"select {column_list} from {table} where {where}").to_arrow_reader(batch_rows)
    if include_passed:  # every expectation's figures over all the rows: one frame
        return findings + validate_frame(reader.read_pandas(), suite_name, in_gx, line_column, True)
    for batch in reader:
        findings = validate_frame(batch.to_pandas(), suite_name, in_gx, line_column)
        if findings:
            return findings
    return []


def _columns_read(expectations: list, available: list[str]) -> list[str]:
    read = []
    for expectation in expectations:
        read += [expectation.column] if getattr(expectation, "column", None) else []
        read += list(getattr(expectation, "column_list", None) or [])
        condition = str(getattr(expectation, "row_condition", None) or "")
        read += [c for c in available if re.search(rf"\b{re.escape(c)}\b", condition)]
    return [c for c in available if c in read]
