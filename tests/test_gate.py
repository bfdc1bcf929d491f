"""The quality gate over the five-study demo: clean data passes, each kind of corruption fails
the right check and withholds its study (the others are reported), and both engines agree."""

from __future__ import annotations

import csv
import re
import shutil

import pytest

from expectations.gate import GateFailed, load_catalogue, run_gate
from hhp.warehouse import open_warehouse
from pipeline import chain as pipeline

from .conftest import settings_for

pytestmark = pytest.mark.slow

# (name, the check that must fail, its study, the SQL that corrupts the demo)
CORRUPTIONS = [
    ("an unbalanced allocation", "allocation.sample_ratio", "mod_ding",
     "delete from marts.dim_participant where study_id = 'mod_ding' and arm = 'control' "
     "and participant_id <= 'MDI-00400'"),
    ("a participant in two arms", "allocation.one_arm_per_participant", "dispatch_stories",
     "insert into raw.allocation_csv select * replace ('weekly_stories' as arm) from raw.allocation_csv "
     "where study_id = 'dispatch_stories' and arm = 'control' limit 1"),
    ("a cluster split across arms", "allocation.cluster_single_arm", "tea_coffee",
     "update marts.dim_participant set arm = case arm when 'control' then 'free_refreshments' else "
     "'control' end "
     "where study_id = 'tea_coffee' and participant_id = (select min(participant_id) from "
     "marts.dim_participant "
     "where study_id = 'tea_coffee')"),
    ("a Likert code of 7", "survey.item_codes_in_range", "mod_ding",
     "update staging.stg_qualtrics__responses set swemwbs_3 = 7 where study_id = 'mod_ding' "
     "and response_id = (select min(response_id) from staging.stg_qualtrics__responses where "
     "study_id = 'mod_ding')"),
    ("an absence before hire", "hr.absence_within_employment", "dispatch_stories",
     "update marts.fct_absence_spells set start_date = date '1990-01-01' where study_id = 'dispatch_stories' "
     "and is_sickness and participant_id = (select min(participant_id) from marts.fct_absence_spells "
     "where study_id = 'dispatch_stories' and is_sickness)"),
    ("a baseline after randomisation", "survey.baseline_before_randomisation", "gratitude_letters",
     "update marts.fct_outcomes set response_day = 5 where study_id = 'gratitude_letters' "
     "and timepoint = 'baseline' and analysis_flag and participant_id = (select min(participant_id) "
     "from marts.fct_outcomes where study_id = 'gratitude_letters' and timepoint = 'baseline' and "
     "analysis_flag)"),
    ("a mart emptied", "fct_outcomes.has_rows", "goal_setting",
     "delete from marts.fct_outcomes where study_id = 'goal_setting'"),
    ("an outcome out of its range", "fct_outcomes.value_in_range[CBI_WORK]", "dispatch_stories",
     "update marts.fct_outcomes set value = 104 where study_id = 'dispatch_stories' and outcome_code "
     "= 'CBI_WORK' "
     "and value is not null and participant_id = (select min(participant_id) from marts.fct_outcomes "
     "where study_id = 'dispatch_stories' and outcome_code = 'CBI_WORK' and value is not null)"),
    ("an arm not in the design", "dim_participant.arm_in_design", "goal_setting",
     "update marts.dim_participant set arm = 'placebo' where study_id = 'goal_setting' "
     "and participant_id = (select min(participant_id) from marts.dim_participant where study_id = "
     "'goal_setting')"),
    ("leaving before hire", "hr.leaving_after_hire", "tea_coffee",
     "update intermediate.int_hr_employment_periods set termination_date = hire_date - 10 "
     "where study_id = 'tea_coffee' and participant_id = (select min(participant_id) "
     "from intermediate.int_hr_employment_periods where study_id = 'tea_coffee' and has_hr_record)"),
    ("an outcome row twice", "fct_outcomes.unique_outcome", "mod_ding",
     "insert into marts.fct_outcomes select * from marts.fct_outcomes where study_id = 'mod_ding' limit 1"),
    ("a missing randomisation date", "dim_participant.randomised_on_present", "gratitude_letters",
     "update marts.dim_participant set randomised_on = null where study_id = 'gratitude_letters' "
     "and participant_id = (select max(participant_id) from marts.dim_participant "
     "where study_id = 'gratitude_letters')"),
]  # fmt: skip


def _copy_of(chain, tmp_path):
    """Settings for a copy of the chain's warehouse, to corrupt."""
    copy = settings_for(tmp_path / "broken")
    copy.home.mkdir(parents=True)
    shutil.copyfile(chain.warehouse, copy.warehouse)
    return copy


def _statuses(settings) -> dict[tuple[str, str], tuple]:
    return {
        (r.check_name, r.study_id): (r.status, r.violating_rows, r.denominator) for r in run_gate(settings)
    }


@pytest.fixture(scope="module")
def clean_results(programme_chain):
    return run_gate(programme_chain)


def test_the_clean_demo_passes_with_every_check_in_the_catalogue(clean_results, programme_chain):
    fatal = [r for r in clean_results if r.severity == "fatal" and r.status != "passed"]
    assert [r for r in fatal if r.status != "not_applicable"] == []
    assert not any(r.status == "error" for r in clean_results)
    assert len([r for r in clean_results if r.status != "not_applicable"]) >= 60
    assert {r.catalogue_id for r in clean_results} == set(load_catalogue())
    pipeline.gate(programme_chain)  # does not raise


@pytest.mark.parametrize(
    ("name", "check", "study", "corruption"), CORRUPTIONS, ids=[c[0] for c in CORRUPTIONS]
)
def test_each_corruption_fails_its_check_and_withholds_its_study(
    programme_chain, tmp_path, name, check, study, corruption
):
    broken = _copy_of(programme_chain, tmp_path)
    with open_warehouse(broken) as wh:
        wh.execute(corruption)

    results, withheld = pipeline.gate(broken)

    assert list(withheld) == [study]
    assert any(reason.startswith(f"{check}: failed") for reason in withheld[study]), withheld


def test_a_withheld_study_is_left_out_of_the_report_with_its_reason_and_the_others_reported(
    programme_chain, tmp_path
):
    name, check, study, corruption = next(
        c for c in CORRUPTIONS if c[1] == "fct_outcomes.value_in_range[CBI_WORK]"
    )
    broken = _copy_of(programme_chain, tmp_path)
    with open_warehouse(broken) as wh:
        wh.execute(corruption)
    pipeline.gate(broken)
    pipeline.report(broken)

    html = (broken.reports_dir / "programme_report.html").read_text()
    failed = re.search(rf"{re.escape(check)}: failed, 2 of \d+", html)  # 2 rows of the study's CBI rows
    assert 'class="withheld" id="withheld"' in html and failed
    with open(broken.reports_dir / "effect_estimates.csv", newline="") as handle:
        reported = {row["study_id"] for row in csv.DictReader(handle)}
    assert reported == {"mod_ding", "tea_coffee", "gratitude_letters", "goal_setting"}
    with open_warehouse(broken) as wh:
        pooled = wh.query(
            "select timepoint from analysis.pooled_effects where outcome_code = 'CBI_WORK' order by timepoint"
        )
    assert pooled == [("endline",)]  # at follow-up dispatch_stories was one of the two studies


def test_a_check_over_a_table_emptied_by_quarantine_says_so(programme_chain, tmp_path):
    """tea_coffee's absence files in quarantine: the absence checks say why they have no rows,
    not "0 of 0" failed, and the study is reported, with a warning for the files held."""
    broken = _copy_of(programme_chain, tmp_path)
    with open_warehouse(broken) as wh:
        wh.execute(
            "update ops.landed_files set state = 'quarantined' "
            "where study_id = 'tea_coffee' and feed = 'absence'"
        )
        wh.execute("delete from marts.fct_absence_spells where study_id = 'tea_coffee'")
        (landed,) = wh.query("select count(*) from ops.landed_files where study_id = 'tea_coffee'")[0]

    results, withheld = pipeline.gate(broken)

    by_name = {r.check_name: r for r in results if r.study_id == "tea_coffee"}
    absence = by_name["hr.absence_within_employment"]
    assert absence.status == "not_applicable"
    assert absence.detail == (
        f"no rows to check: 2 of {landed} landed files in quarantine (absence); see `hhp quarantine list`"
    )
    assert by_name["ingest.files_in_quarantine"].status == "failed"  # a warning
    assert by_name["ingest.files_in_quarantine"].severity == "warning"
    assert "tea_coffee" not in withheld


def test_the_chain_stops_only_when_every_study_is_withheld(programme_chain, tmp_path):
    broken = _copy_of(programme_chain, tmp_path)
    with open_warehouse(broken) as wh:
        wh.execute("update marts.dim_participant set randomised_on = null")
    with pytest.raises(GateFailed) as failure:
        pipeline.gate(broken)
    message = str(failure.value)
    assert message.startswith("quality gate failed for every study with data; the report was not built")
    assert "gratitude_letters: dim_participant.randomised_on_present: failed" in message


@pytest.mark.postgres
def test_the_checks_give_the_same_statuses_on_postgres_and_duckdb(programme_chain, postgres_chain):
    duck, pg = _statuses(programme_chain), _statuses(postgres_chain)
    assert duck.keys() == pg.keys()
    differing = {name: (duck[name], pg[name]) for name in duck if duck[name] != pg[name]}
    assert differing == {}
