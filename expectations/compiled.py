"""Great Expectations' expectations evaluated as SQL aggregates, in DuckDB or PostgreSQL: one
scan per table for every row-wise expectation, one grouping per uniqueness expectation.

Great Expectations' own SQL path fails against DuckDB (every expectation errors: its engine reads
results after duckdb_engine's connection has closed); validating pandas
batches, or letting it push its queries down to PostgreSQL (several per expectation), costs
many times the one scan the rules need (docs/benchmarks.md). The suites stay
Great Expectations objects, declared once; this module reads each one's configuration and
applies Great Expectations' own semantics in SQL: map expectations skip missing values, pair
expectations skip rows where both values are missing, uniqueness counts every row of a
repeated key and skips keys that are wholly missing. tests/test_compiled_expectations.py holds
the two to the same findings on the same rows. An expectation this module cannot compile is
left to Great Expectations (`compiles` is False for it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from expectations.findings import Finding
from hhp.sql import quote_identifier, quote_literal

FirstRow = Callable[[str], tuple]  # runs a query on the engine, returns its first row

# row conditions of the two forms the suites use: col("a")=="x" (great_expectations), a=="x" (pandas)
CONDITION = re.compile(r"""^\s*(?:col\(\s*"(\w+)"\s*\)|(\w+))\s*==\s*(["'])(.*?)\3\s*$""")
UNIQUE = {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}


@dataclass(frozen=True)
class Compiled:
    """An expectation as SQL: the rows it looks at, and which of them break it."""

    expectation: object
    column: str | None  # as findings name it
    example_column: str | None  # the value quoted as an example, if any
    condition: str  # the rows it applies to (its row_condition): its element count
    skipped: str  # rows among those it ignores (missing values)
    unexpected: str


def _condition(expectation) -> str | None:
    """The row condition as SQL: an equality, as a string or as Great Expectations' parsed form."""
    condition = expectation.configuration.kwargs.get("row_condition")
    if not condition:
        return "true"
    if isinstance(condition, dict) and condition.get("type") == "comparison":
        if condition.get("operator") != "==":
            return None
        return f"{quote_identifier(condition['column']['name'])} = {quote_literal(condition['parameter'])}"
    if isinstance(condition, dict):
        condition = condition.get("pass_through_filter")
    match = CONDITION.match(str(condition))
    if not match:
        return None
    return f"{quote_identifier(match[1] or match[2])} = {quote_literal(match[4])}"


def compile_expectation(expectation, engine: str = "duckdb") -> Compiled | None:
    """SQL for one row-wise expectation, or None where it has no SQL form here."""
    kind = expectation.expectation_type
    kwargs = expectation.configuration.kwargs
    condition = _condition(expectation)
    if condition is None or kwargs.get("mostly", 1) != 1:
        return None
    column = kwargs.get("column")
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = quote_identifier(kwargs["column_A"]), quote_identifier(kwargs["column_B"])
        if kwargs.get("ignore_row_if", "both_values_are_missing") != "both_values_are_missing":
            return None
        operator = ">=" if kwargs.get("or_equal") else ">"
        return Compiled(
            expectation,
            f"{kwargs['column_A']}, {kwargs['column_B']}",
            None,
            condition,
            f"{a} is null and {b} is null",
            f"not coalesce({a} {operator} {b}, false)",
        )
    if column is None:
        return None
    quoted = quote_identifier(column)
    missing = f"{quoted} is null"
    if kind == "expect_column_values_to_not_be_null":
        return Compiled(expectation, column, None, condition, "false", missing)
    if kind == "expect_column_values_to_be_in_set":
        values = ", ".join(quote_literal(v) for v in kwargs["value_set"])
        return Compiled(expectation, column, column, condition, missing, f"{quoted} not in ({values})")
    if kind == "expect_column_values_to_match_regex":
        regex = quote_literal(kwargs["regex"])
        matches = f"{quoted} ~ {regex}" if engine == "postgres" else f"regexp_matches({quoted}, {regex})"
        return Compiled(expectation, column, column, condition, missing, f"not {matches}")
    if kind == "expect_column_values_to_be_between":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        tests = []
        if low is not None:
            tests.append(f"{quoted} {'<=' if kwargs.get('strict_min') else '<'} {quote_literal(low)}")
        if high is not None:
            tests.append(f"{quoted} {'>=' if kwargs.get('strict_max') else '>'} {quote_literal(high)}")
        return Compiled(expectation, column, column, condition, missing, " or ".join(tests) or "false")
    return None


def compiles(expectation) -> bool:
    if expectation.expectation_type in UNIQUE:
        return _condition(expectation) == "true"
    return compile_expectation(expectation) is not None


def validate(
    first_row: FirstRow,
    table: str,
    suite_name: str,
    expectations: list,
    line_column: str | None = "_row_number",
    include_passed: bool = False,
    where: str = "true",
    engine: str = "duckdb",
) -> list[Finding]:
    """Every expectation (all must compile) over `table` rows meeting `where`: uniqueness
    first, each as one grouping; then all the others in one scan. Findings as runner's.
    The example quoted is the first line's value (DuckDB), or the least value (PostgreSQL)."""
    findings = [_uniqueness(first_row, table, suite_name, e, line_column, where) for e in expectations
                if e.expectation_type in UNIQUE]  # fmt: skip
    row_wise = [compile_expectation(e, engine) for e in expectations if e.expectation_type not in UNIQUE]
    if any(c is None for c in row_wise):
        raise ValueError(f"{suite_name}: an expectation has no SQL form; check compiles() first")
    if row_wise:
        line = quote_identifier(line_column) if line_column else None
        selects = []
        for c in row_wise:
            broken = f"({c.condition}) and not ({c.skipped}) and ({c.unexpected})"
            example = "null"
            if c.example_column and "pseudonym" not in c.example_column:  # never quote a pseudonym
                value = quote_identifier(c.example_column)
                first = (
                    f"min(cast({value} as varchar))"
                    if engine == "postgres"
                    else f"arg_min({value}, {line or 1})"
                )
                example = f"cast({first} filter (where {broken}) as varchar)"
            selects += [
                f"count(*) filter (where {broken})",
                f"count(*) filter (where {c.condition})",
                f"min({line}) filter (where {broken})" if line else "null",
                example,
            ]
        figures = first_row(f"select {', '.join(selects)} from {table} where {where}")
        for i, c in enumerate(row_wise):
            unexpected, total, first_line, example = figures[4 * i : 4 * i + 4]
            findings.append(
                Finding(
                    suite_name, c.expectation.expectation_type, c.column, int(unexpected), int(total),
                    int(first_line) if first_line is not None else None,
                    example if example is not None and unexpected else None,
                    passed=not unexpected, check=(c.expectation.meta or {}).get("check"),
                    shown_as_is=bool((c.expectation.meta or {}).get("closed_list")),
                )
            )  # fmt: skip
    return [f for f in findings if include_passed or not f.passed]


def _uniqueness(first_row: FirstRow, table, suite_name, expectation, line_column, where) -> Finding:
    kwargs = expectation.configuration.kwargs
    columns = kwargs.get("column_list") or [kwargs["column"]]
    grouping = ", ".join(quote_identifier(c) for c in columns)
    present = " or ".join(f"{quote_identifier(c)} is not null" for c in columns)
    first = f"min({quote_identifier(line_column)})" if line_column else "null"
    unexpected, first_line, total = first_row(
        f"""
        with keys as (
            select count(*) as occurrences, {first} as first_line
            from {table} where ({where}) and ({present}) group by {grouping}
        )
        select
            coalesce(sum(occurrences) filter (where occurrences > 1), 0),
            min(first_line) filter (where occurrences > 1),
            (select count(*) from {table} where {where})
        from keys
        """
    )
    return Finding(
        suite_name, expectation.expectation_type, ", ".join(columns), int(unexpected), int(total),
        int(first_line) if first_line is not None else None, None,
        passed=not unexpected, check=(expectation.meta or {}).get("check"),
    )  # fmt: skip


def failing_rows(
    rows: Callable[[str], list[tuple]], table: str, expectation, line_column: str
) -> list[tuple[int, int]] | None:
    """(rowid, line) of every row of a DuckDB table that breaks one expectation (several records
    may share a line, as a JSON line's nested list does): for uniqueness, every row of a
    repeated key, since which of them is right cannot be told; None where it has no SQL form."""
    line = quote_identifier(line_column)
    if expectation.expectation_type in UNIQUE:
        kwargs = expectation.configuration.kwargs
        columns = [quote_identifier(c) for c in kwargs.get("column_list") or [kwargs["column"]]]
        present = " or ".join(f"{c} is not null" for c in columns)
        same = " and ".join(f"t.{c} is not distinct from d.{c}" for c in columns)
        grouping = ", ".join(columns)
        sql = (
            f"select t.rowid, t.{line} from {table} as t join (select {grouping} from {table} "
            f"where {present} group by {grouping} having count(*) > 1) as d on {same} order by 2, 1"
        )
    else:
        c = compile_expectation(expectation)
        if c is None:
            return None
        broken = f"({c.condition}) and not ({c.skipped}) and ({c.unexpected})"
        sql = f"select rowid, {line} from {table} where {broken} order by 2, 1"
    return [(int(rowid), int(number)) for rowid, number in rows(sql)]
