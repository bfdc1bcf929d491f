"""Suites on the marts before analysis (<mart>.analysis_ready), run per study."""

from __future__ import annotations

import great_expectations.expectations as gxe

from hhp.registry import Study

# Each outcome's possible range on its scored scale (docs/instruments.md).
OUTCOME_RANGES = {
    "SWEMWBS": (7, 35),
    "CBI_WORK": (0, 100),
    "BELONG": (1, 5),
    "ITQ": (1, 5),
    "ABS_RATE": (0, 100),
    "ABS_DAYS": (0, None),
    "ABS_SPELLS": (0, None),
    "ABS_MH_DAYS": (0, None),
    "BRADFORD": (0, None),
    "LEFT_ANY": (0, 1),
    "LEFT_VOL": (0, 1),
}


def dim_participant(study: Study) -> list:
    return [
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=["study_id", "participant_id"], meta={"check": "dim_participant.unique_participant"}
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="arm", value_set=list(study.arms), meta={"check": "dim_participant.arm_in_design"}
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="randomised_on", meta={"check": "dim_participant.randomised_on_present"}
        ),
    ]


def fct_outcomes(study: Study) -> list:
    suite = [
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=["study_id", "participant_id", "outcome_code", "timepoint"],
            meta={"check": "fct_outcomes.unique_outcome"},
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="outcome_code",
            value_set=list(OUTCOME_RANGES),
            meta={"check": "fct_outcomes.outcome_code_known"},
        ),
    ]
    for code, (low, high) in OUTCOME_RANGES.items():
        suite.append(
            gxe.ExpectColumnValuesToBeBetween(
                column="value",
                min_value=low,
                max_value=high,
                # this parser runs in pandas and, pushed down, in SQL alike
                row_condition=f'col("outcome_code")=="{code}"',
                condition_parser="great_expectations",
                meta={"check": f"fct_outcomes.value_in_range[{code}]"},
            )
        )
    return suite


def dim_study(study: Study) -> list:
    return [
        gxe.ExpectColumnValuesToBeUnique(column="study_id", meta={"check": "dim_study.one_row"}),
        gxe.ExpectColumnValuesToBeBetween(
            column="hr_period_days", min_value=1, meta={"check": "dim_study.hr_period_positive"}
        ),
    ]


def fct_absence_spells(study: Study) -> list:
    return [
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="effective_end_date", column_B="start_date", or_equal=True,
            meta={"check": "fct_absence_spells.ends_after_start"},
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="days_in_period", min_value=0, max_value=study.hr_period_days,
            meta={"check": "fct_absence_spells.days_in_period_in_range"},
        ),
    ]  # fmt: skip


def fct_engagement(study: Study) -> list:
    return [
        gxe.ExpectColumnValuesToBeBetween(
            column="contact_no", min_value=1, max_value=int(study.contacts.get("count", 0)),
            meta={"check": "fct_engagement.contact_scheduled"},
        ),
    ]  # fmt: skip


def fct_effect_summary(study: Study) -> list:
    return [
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="ci_upper",
            column_B="ci_lower",
            or_equal=True,
            meta={"check": "fct_effect_summary.ci_ordered"},
        ),
    ]


def fct_workforce(study: Study) -> list:
    return [
        gxe.ExpectColumnValuesToBeBetween(
            column="sickness_absence_rate_pct", min_value=0, max_value=100,
            meta={"check": "fct_workforce.rates_in_range"},
        ),
    ]  # fmt: skip


SUITES = {
    "dim_study": dim_study,
    "dim_participant": dim_participant,
    "fct_outcomes": fct_outcomes,
    "fct_absence_spells": fct_absence_spells,
    "fct_engagement": fct_engagement,
    "fct_effect_summary": fct_effect_summary,
    "fct_workforce": fct_workforce,
}
