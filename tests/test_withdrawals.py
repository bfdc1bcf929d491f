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


def test_a_register_saved_from_a_spreadsheet_loads_its_values_and_a_bad_level_is_refused(
    generated, fresh_home
):
    """The trial team's register as a spreadsheet saves it (byte-order mark, CRLF, a level in
    capitals, a blank reason, a participant's level raised by a later row); then a level that is
    not one of the three, refused with the line and the rule."""
    from ingest.landing import open_landing
    from pipeline import chain

    landing = open_landing(fresh_home)
    allocation = next((generated / STUDY / "allocation").glob("*.csv"))
    landing.put(allocation, f"{STUDY}/allocation/{allocation.name}")
    ids = [row["participant_id"] for row in csv.DictReader(allocation.open(newline=""))][:3]
    register = fresh_home.home / "withdrawals_2026-05-01.csv"
    register.write_bytes(
        (
            "\ufeffparticipant_id,withdrawn_on,level,reason_code\r\n"
            f"{ids[0]},2026-04-01,Intervention,\r\n"
            f"{ids[1]},2026-04-03,follow_up,left_employer\r\n"
            f"{ids[0]},2026-04-20,FOLLOW_UP,other\r\n"
        ).encode()
    )
    landing.put(register, f"{STUDY}/withdrawals/{register.name}")
    results = {r.feed: r for r in chain.ingest(fresh_home)}
    assert results["withdrawals"].state == "loaded" and results["withdrawals"].rows == 3
    with open_warehouse(fresh_home) as wh:
        rows = wh.query(
            "select participant_id, withdrawn_on, level, reason_code from raw.withdrawal_csv order by 2"
        )
    assert rows == [
        (ids[0], date(2026, 4, 1), "intervention", None),
        (ids[1], date(2026, 4, 3), "follow_up", "left_employer"),
        (ids[0], date(2026, 4, 20), "follow_up", "other"),
    ]
    bad = fresh_home.home / "withdrawals_2026-05-02.csv"
    bad.write_text(f"participant_id,withdrawn_on,level,reason_code\n{ids[2]},2026-04-05,consent,\n")
    landing.put(bad, f"{STUDY}/withdrawals/{bad.name}")
    (result,) = chain.ingest(fresh_home)
    assert result.state == "quarantined"
    assert (
        "line 2" in result.reason
        and "column 'level' is not one of intervention, follow_up, data" in result.reason
    )
