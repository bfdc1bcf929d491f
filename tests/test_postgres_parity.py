"""The same dbt project on a real PostgreSQL gives the same marts as on DuckDB, row for row,
for all five studies and eleven formats."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from hhp.warehouse import open_warehouse

from .conftest import same_rows

pytestmark = pytest.mark.postgres

MARTS = {
    "dim_study": "study_id",
    "dim_participant": "study_id, participant_id",
    "fct_outcomes": "study_id, participant_id, outcome_code, timepoint",
    "fct_engagement": "study_id, participant_id, contact_no",
    "fct_absence_spells": "study_id, participant_id, absence_type, start_date",
    "fct_workforce": "study_id, month_start",
    "fct_effect_summary": "study_id, outcome_code, timepoint",
}
RUN_SPECIFIC = {"refreshed_through"}  # the time of each run's own ingest


def _normalise(value):
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if type(value).__name__ == "Decimal":
        return float(value)
    return value


def _rows(settings, mart: str, order: str) -> tuple[list[str], list[tuple]]:
    with open_warehouse(settings.transformer) as wh:
        columns = [
            c
            for (c,) in wh.query(
                "select column_name from information_schema.columns where table_schema = 'marts' "
                "and table_name = %s order by ordinal_position",
                [mart],
            )
        ]
        columns = [c for c in columns if c not in RUN_SPECIFIC]
        rows = wh.query(f"select {', '.join(columns)} from marts.{mart} order by {order}")
    return columns, [tuple(_normalise(v) for v in row) for row in rows]


@pytest.mark.parametrize("mart", list(MARTS))
def test_mart_is_identical_on_postgres_and_duckdb(mart, programme_chain, postgres_chain):
    duck_columns, duck_rows = _rows(programme_chain, mart, MARTS[mart])
    pg_columns, pg_rows = _rows(postgres_chain, mart, MARTS[mart])
    assert pg_columns == duck_columns
    assert len(pg_rows) == len(duck_rows) > 0
    mismatches = [(d, p) for d, p in zip(duck_rows, pg_rows, strict=True) if not same_rows([d], [p])]
    assert mismatches[:3] == []


def test_postgres_refuses_to_run_without_a_pseudonym_key(postgres_server, monkeypatch):
    from hhp.config import ConfigError, load_settings, pseudonym_key

    settings = load_settings({"HHP_WAREHOUSE": postgres_server.url})
    monkeypatch.delenv("HHP_PSEUDONYM_KEY")
    with pytest.raises(ConfigError, match="HHP_PSEUDONYM_KEY"):
        pseudonym_key(settings)
