"""SQL text from values: the one place a value becomes a literal or an identifier.

A partner's file, its name, its header, the registry and the environment never reach SQL
as text. Values go as bound parameters; where the engine needs a literal (a macro's body, a
reader's option) or an identifier (a column a file names), these two functions make it,
the same way on DuckDB and PostgreSQL (standard SQL quoting; the warehouse turns
standard_conforming_strings on, so a backslash is never an escape). tests/test_sql_text.py
scans the code for SQL that quotes or splices values any other way.
"""

from __future__ import annotations

import math
from datetime import date, datetime


class UnsafeText(ValueError):
    """A value that no quoting makes safe (a NUL character ends a C string early)."""


def _text(value: str, what: str) -> str:
    text = str(value)
    if "\x00" in text:
        raise UnsafeText(f"{what} holds a NUL character")
    return text


def quote_identifier(name: str) -> str:
    """A column or table name as a quoted identifier, any double quote in it doubled."""
    return '"' + _text(name, "an identifier").replace('"', '""') + '"'


def quote_literal(value: object) -> str:
    """A Python value as an SQL literal: text in single quotes (doubled inside), numbers,
    booleans, dates and timestamps typed, None as null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UnsafeText(f"{value} has no SQL literal")
        return repr(value)
    if isinstance(value, datetime):
        return f"timestamp {quote_literal(value.isoformat(sep=' '))}"
    if isinstance(value, date):
        return f"date {quote_literal(value.isoformat())}"
    return "'" + _text(value, "a literal").replace("'", "''") + "'"
