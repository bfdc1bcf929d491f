"""One formula-neutralising rule (hhp.spreadsheet), spelt in Python for the report's CSVs and in
SQL for ingest: both give the same cell for every case."""

from __future__ import annotations

import duckdb
import pytest

from hhp.spreadsheet import neutralise, neutralise_sql

CASES = {
    '=HYPERLINK("http://evil.example","x")': '\'=HYPERLINK("http://evil.example","x")',
    "+1+1": "'+1+1",
    "-2+3": "'-2+3",
    "@SUM(A1)": "'@SUM(A1)",
    "\tcmd": "'\tcmd",
    "\rcmd": "'\rcmd",
    "-0.42": "-0.42",  # a negative estimate stays a number
    "-7": "-7",
    "Nurse": "Nurse",
    "a=b": "a=b",
    "": "",
}


@pytest.mark.parametrize("cell", CASES)
def test_python_and_sql_neutralise_alike(cell):
    assert neutralise(cell) == CASES[cell]
    with duckdb.connect() as con:
        (stored,) = con.execute(
            f"select {neutralise_sql('cell')} from (select $cell as cell)", {"cell": cell}
        ).fetchone()
    assert stored == CASES[cell]


def test_the_report_discloses_by_the_reporting_views_macro():
    """analysis.disclosure renders dbt_project/macros/disclosure.sql: the views' rule, not a copy."""
    from analysis.disclosure import _macros, disclosed_count, statistic_shown

    assert [disclosed_count(n) for n in (0, 9, 10, 12, 13, 17, 18, 1234)] == [
        *("c", "c", "10", "10", "15", "15", "20", "1235")
    ]
    assert disclosed_count(None) == disclosed_count(float("nan")) == ""
    assert not statistic_shown(9) and statistic_shown(10) and not statistic_shown(None)
    assert "< 10 then 'c'" in " ".join(str(_macros().disclosed_count("n")).split())
