"""The incremental event facts: one more week of delivery and absence files, built
incrementally, gives the same marts as a full rebuild."""

from __future__ import annotations

import csv
import shutil
from datetime import datetime

import pytest

from hhp.registry import load_registry
from hhp.warehouse import open_warehouse
from ingest.adapters.exchange_message_trace_csv import RECEIVED_FORMATS
from pipeline import chain as pipeline
from transform.dbt import run_dbt

from .conftest import STUDY, land_tree, mart_rows, same_rows, settings_for

pytestmark = pytest.mark.slow
MARTS = ("fct_engagement", "fct_absence_spells", "fct_outcomes", "fct_workforce", "dim_participant",
         "staging.stg_exchange__message_trace", "intermediate.int_delivery_events_linked")  # fmt: skip
LAST_WEEK = 8


def _marts(settings) -> dict[str, list[tuple]]:
    return mart_rows(settings, MARTS, skip_columns=("refreshed_through", "built_at"))


def _received_format() -> str:
    """The study's trace is exported in the locale its registry entry names."""
    locale = load_registry()[STUDY].feeds["delivery"].get("received_locale", "US")
    return RECEIVED_FORMATS[locale][0]


def _week_of(received: str, first: datetime) -> int:
    return (datetime.strptime(received, _received_format()) - first).days // 7 + 1


def _split_last_week(trace, earlier, later) -> None:
    """The message trace up to week 7, and week 8's messages as a later extract (PowerShell's
    #TYPE line, if the export has one, left out: both forms load)."""
    with open(trace, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    header, *rows = rows[1:] if rows[0][0].startswith("#TYPE") else rows
    received = header.index("Received")
    first = min(datetime.strptime(r[received], _received_format()) for r in rows)
    first = first.replace(hour=0, minute=0, second=0)
    for path, keep in ((earlier, lambda w: w < LAST_WEEK), (later, lambda w: w == LAST_WEEK)):
        with open(path, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([header, *(r for r in rows if keep(_week_of(r[received], first)))])


def _delivered_in_last_week(settings) -> int:
    with open_warehouse(settings) as wh:
        return wh.query(
            "select count(*) from marts.fct_engagement where contact_no = %s and is_delivered", [LAST_WEEK]
        )[0][0]


def test_one_more_week_built_incrementally_equals_a_full_rebuild(generated, tmp_path):
    tree = tmp_path / "first"
    shutil.copytree(generated, tree)
    held_back = tmp_path / "later" / STUDY
    (trace,) = (tree / STUDY / "delivery").glob("message_trace_*.csv")
    (held_back / "delivery").mkdir(parents=True)
    _split_last_week(trace, tree / STUDY / "delivery" / "message_trace_2026-04-23.csv",
                     held_back / "delivery" / "message_trace_2026-04-30.csv")  # fmt: skip
    trace.unlink()
    newest_absence = sorted((tree / STUDY / "absence").glob("*"))[-1]  # ends an open absence
    (held_back / "absence").mkdir()
    shutil.move(newest_absence, held_back / "absence" / newest_absence.name)

    settings = settings_for(tmp_path / "home")
    land_tree(settings, tree)
    pipeline.ingest(settings)
    pipeline.build(settings)
    before = _marts(settings)
    assert _delivered_in_last_week(settings) == 0

    land_tree(settings, tmp_path / "later")
    pipeline.ingest(settings)
    # only what the new files touch, the event facts incrementally
    assert pipeline.build(settings) == "exchange_message_trace_csv, hris_absence_json"
    assert pipeline.build(settings) == "nothing new"
    incremental = _marts(settings)
    run_dbt(settings, "build", "--full-refresh")
    rebuilt = _marts(settings)

    assert _delivered_in_last_week(settings) > 0
    assert incremental["fct_absence_spells"] != before["fct_absence_spells"]
    for mart in MARTS:
        assert same_rows(incremental[mart], rebuilt[mart]), mart
