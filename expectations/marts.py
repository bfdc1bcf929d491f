"""Suites on the marts before analysis (<mart>.analysis_ready), run per study."""

from __future__ import annotations

import great_expectations.expectations as gxe

from ingest.registry import Study

# Each outcome's possible range on its scored scale (INSTRUMENTS.md).
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


SUITES = {"dim_participant": dim_participant, "fct_outcomes": fct_outcomes}
