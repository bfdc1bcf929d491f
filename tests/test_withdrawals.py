"""Withdrawals in the chain (docs/instruments.md): `follow_up` uses no data dated after it, so
later outcomes are missing; `intervention` keeps every outcome and stops counting later
contacts against uptake. The dbt unit tests hold the same rules on hand-made rows
(models/intermediate/withdrawals/_withdrawals__models.yml); here the generator's partner
files, which go on holding data after a withdrawal, go through the whole chain."""

from __future__ import annotations

import csv
from datetime import date, timedelta

from hhp.warehouse import open_warehouse

from .conftest import STUDY


def _register(generated) -> dict[str, dict[str, date]]:
    """participant -> level -> the day they withdrew at it, from the last register."""
    last = sorted((generated / STUDY / "withdrawals").glob("*.csv"))[-1]
    found: dict[str, dict[str, date]] = {}
    with open(last, newline="") as handle:
        for row in csv.DictReader(handle):
            found.setdefault(row["participant_id"], {})[row["level"]] = date.fromisoformat(
                row["withdrawn_on"]
            )
    return found


def test_follow_up_withdrawal_leaves_later_outcomes_missing(duckdb_chain, generated):
    register = _register(generated)
    stopped = {
        p: levels["follow_up"]
        for p, levels in register.items()
        if "follow_up" in levels and "data" not in levels
    }
    assert len(stopped) >= 5
    with open_warehouse(duckdb_chain) as wh:
        rows = wh.query(
            "select o.participant_id, o.timepoint, o.value, o.analysis_flag, p.randomised_on, "
            "o.response_day, s.hr_period_days from marts.fct_outcomes o "
            "join marts.dim_participant p using (study_id, participant_id) "
            "join marts.dim_study s using (study_id) where o.study_id = %s",
            [STUDY],
        )
        (later_in_files,) = wh.query(
            "select count(*) from raw.qualtrics_csv r join marts.dim_participant p "
            "on p.study_id = r.study_id and p.participant_id = r.participant_id "
            "where cast(r.recorded_at as date) > p.follow_up_stopped_on",
        )[0]
    assert later_in_files > 0  # the partner's survey went on after the withdrawal: something to leave out
    hr_missing = hr_kept = 0
    for participant, timepoint, value, analysed, randomised_on, day, period in rows:
        if participant not in stopped:
            continue
        if timepoint == "period":
            if stopped[participant] < randomised_on + timedelta(days=period - 1):
                assert value is None and not analysed, participant
                hr_missing += 1
            else:
                hr_kept += value is not None
        elif analysed:
            assert randomised_on + timedelta(days=day) <= stopped[participant], (participant, timepoint)
    assert hr_missing >= 5 * 7  # every HR outcome of each participant who stopped in the period


def test_intervention_withdrawal_keeps_outcomes_and_stops_counting_contacts(duckdb_chain, generated):
    register = _register(generated)
    only = {p for p, levels in register.items() if set(levels) == {"intervention"}}
    assert len(only) >= 5
    # any level stops the intervention, from the first withdrawal on
    stopped = {p: min(levels.values()) for p, levels in register.items() if "data" not in levels}
    with open_warehouse(duckdb_chain) as wh:
        contacts = wh.query(
            "select e.participant_id, e.contact_no, e.is_due, p.randomised_on from marts.fct_engagement e "
            "join marts.dim_participant p using (study_id, participant_id) where e.study_id = %s",
            [STUDY],
        )
        analysed = dict(wh.query(
            "select participant_id, count(*) from marts.fct_outcomes where study_id = %s and analysis_flag "
            "and timepoint = 'period' group by participant_id",
            [STUDY],
        ))  # fmt: skip
    not_due = 0
    for participant, contact_no, is_due, randomised_on in contacts:
        expected = (
            participant not in stopped
            or randomised_on + timedelta(days=7 * contact_no) <= stopped[participant]
        )
        assert is_due == expected, (participant, contact_no)
        not_due += not is_due
    assert not_due > 0
    # every HR outcome still analysed (intention to treat), for those with an HR record
    assert sum(analysed.get(p, 0) == 7 for p in only) >= len(only) - 2
