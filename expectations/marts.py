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
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["study_id", "participant_id"]),
        gxe.ExpectColumnValuesToNotBeNull(column="arm"),
        gxe.ExpectColumnValuesToBeInSet(column="arm", value_set=list(study.arms)),
        gxe.ExpectColumnValuesToNotBeNull(column="randomised_on"),
    ]


def fct_outcomes(study: Study) -> list:
    suite = [
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=["study_id", "participant_id", "outcome_code", "timepoint"]
        ),
        gxe.ExpectColumnValuesToBeInSet(column="outcome_code", value_set=list(OUTCOME_RANGES)),
    ]
    for code, (low, high) in OUTCOME_RANGES.items():
        suite.append(
            gxe.ExpectColumnValuesToBeBetween(
                column="value",
                min_value=low,
                max_value=high,
                row_condition=f'outcome_code=="{code}"',
                condition_parser="pandas",
            )
        )
    return suite


SUITES = {"dim_participant": dim_participant, "fct_outcomes": fct_outcomes}
