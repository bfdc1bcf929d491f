"""The sample-ratio test (hhp.randomisation), the one the gate and the report both read."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hhp.randomisation import sample_ratio
from hhp.registry import load_registry
from hhp.warehouse import open_warehouse

from .conftest import settings_for


@pytest.fixture
def warehouse(tmp_path):
    with open_warehouse(settings_for(tmp_path)) as wh:
        wh.execute("create schema if not exists marts")
        wh.execute(
            "create table marts.dim_participant "
            "(study_id text, participant_id text, arm text, cluster_id text)"
        )
        yield wh


def _allocate(wh, study_id: str, arm: str, people: int, clusters: int) -> None:
    for i in range(people):
        wh.execute(
            "insert into marts.dim_participant values (%s, %s, %s, %s)",
            [study_id, f"{arm}-{i}", arm, f"{arm}-team-{i % clusters}"],
        )


def test_an_individual_trial_tests_people_by_chi_squared(warehouse):
    study = load_registry()["mod_ding"]
    control, intervention = study.arms
    _allocate(warehouse, study.study_id, control, 540, 540)
    _allocate(warehouse, study.study_id, intervention, 460, 460)
    srm = sample_ratio(warehouse, study)
    assert srm.units == "participants" and srm.observed == {control: 540, intervention: 460}
    assert srm.statistic == pytest.approx(6.4)  # (40² + 40²) / 500, 1 df
    assert srm.p_value == pytest.approx(0.01141, abs=5e-5) and not srm.mismatch
    assert (
        srm.describe()
        == f"participants: {control} 540, {intervention} 460 against 1:1; chi-square 6.40, p = 0.0114"
    )


def test_a_cluster_trial_tests_its_clusters_not_its_people(warehouse):
    study = load_registry()["tea_coffee"]
    control, intervention = study.arms
    # 20 teams an arm as designed, but the intervention's teams are twice the size: people
    # alone would fail the test (p < 0.001), the allocation of teams is exactly as designed
    _allocate(warehouse, study.study_id, control, 200, 20)
    _allocate(warehouse, study.study_id, intervention, 400, 20)
    srm = sample_ratio(warehouse, study)
    assert srm.units == "clusters" and srm.observed == {control: 20, intervention: 20}
    assert srm.p_value == pytest.approx(1.0) and not srm.mismatch
    as_people = sample_ratio(warehouse, replace(study, design="individual_rct"))
    assert as_people.observed == {control: 200, intervention: 400} and as_people.mismatch


def test_the_registry_ratio_sets_what_is_expected(warehouse):
    study = load_registry()["mod_ding"]
    control, intervention = study.arms
    _allocate(warehouse, study.study_id, control, 100, 100)
    _allocate(warehouse, study.study_id, intervention, 200, 200)
    assert sample_ratio(warehouse, study).mismatch  # 1:2 against 1:1
    two_to_one = replace(study, allocation_ratio={control: 1, intervention: 2})
    srm = sample_ratio(warehouse, two_to_one)
    assert srm.allocation_ratio == "1:2" and srm.p_value == pytest.approx(1.0)


def test_no_one_randomised_yet(warehouse):
    srm = sample_ratio(warehouse, load_registry()["gratitude_letters"])
    assert sum(srm.observed.values()) == 0 and not srm.mismatch
