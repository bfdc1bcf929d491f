"""Disclosure control for the report, by the one rule the reporting views apply: the macros of
dbt_project/macros/disclosure.sql, rendered here as dbt renders them (`min_cell` from
dbt_project.yml) and evaluated by DuckDB. Counts under min_cell show as `c`, others rounded to
the nearest 5; no statistic over fewer than min_cell people."""

from __future__ import annotations

import math
from functools import cache

import duckdb
import jinja2
import yaml

from hhp import DBT_PROJECT_DIR

SUPPRESSED = "c"


@cache
def _macros():
    variables = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    source = (DBT_PROJECT_DIR / "macros" / "disclosure.sql").read_text()
    return jinja2.Environment().from_string(source).make_module({"var": variables.__getitem__})


@cache
def _connection() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


@cache
def _evaluate(expression: str, n: int):
    sql = f"select {expression} from (select cast($n as bigint) as n)"
    return _connection().execute(sql, {"n": n}).fetchone()[0]


def _missing(n) -> bool:
    return n is None or (isinstance(n, float) and math.isnan(n))


def disclosed_count(n) -> str:
    """A count as the reporting views show it: '' when missing, `c` when small, else rounded."""
    if _missing(n):
        return ""
    return _evaluate(str(_macros().disclosed_count("n")), int(n))


def statistic_shown(n) -> bool:
    """Whether a statistic over `n` people may be shown."""
    if _missing(n):
        return False
    return _evaluate(str(_macros().disclosed_statistic("true", "n")), int(n)) is True
