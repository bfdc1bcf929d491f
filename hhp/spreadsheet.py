"""Text a spreadsheet would run as a formula (CSV injection): one rule, for the partner's cells
ingest stores and for the CSVs the report writes. A cell starting with `=`, `+`, `-`, `@`, a tab
or a carriage return gets a leading apostrophe, unless it is a plain number (a negative
estimate stays a number)."""

from __future__ import annotations

import re

from hhp.sql import quote_literal

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = r"-?\d+(\.\d+)?"
_PLAIN_NUMBER = re.compile(PLAIN_NUMBER)


def neutralise(text: str) -> str:
    if text[:1] in FORMULA_START and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def neutralise_sql(column: str) -> str:
    """The same rule as a DuckDB expression over the (quoted) text column `column`."""
    starts = ", ".join(quote_literal(c) for c in FORMULA_START)
    return (
        f"case when left({column}, 1) in ({starts}) "
        f"and not regexp_full_match({column}, {quote_literal(PLAIN_NUMBER)}) "
        f"then chr(39) || {column} else {column} end"
    )
