"""Landing suites, one per partner format (<format>.landing), run on each parsed file.

They decide quarantine: any failure rejects the whole file.
"""

from __future__ import annotations

import great_expectations.expectations as gxe

from hhp.instruments import ITEM_SCALES, LEAVING_REASONS
from ingest.registry import Study

QUALTRICS_STATUSES = ["IP Address", "Survey Preview", "Spam", "Imported"]
EXCHANGE_STATUSES = [
    "Delivered",
    "Failed",
    "Pending",
    "Expanded",
    "Quarantined",
    "FilteredAsSpam",
    "GettingStatus",
]
HRIS_TYPES = ["SICK", "ANNUAL", "PARENTAL", "OTHER"]
HRIS_REASONS = ["stress", "anxiety", "depression", "musculoskeletal", "respiratory", "gastro", "other"]


def _unique(*columns: str):
    if len(columns) == 1:
        return gxe.ExpectColumnValuesToBeUnique(column=columns[0])
    return gxe.ExpectCompoundColumnsToBeUnique(column_list=list(columns))


def allocation_csv(study: Study) -> list:
    suite = [
        _unique("participant_id"),
        _unique("employee_pseudonym"),
        gxe.ExpectColumnValuesToBeInSet(column="arm", value_set=list(study.arms)),
    ]
    if study.strata:
        suite.append(gxe.ExpectColumnValuesToNotBeNull(column="stratum"))
    if study.design == "cluster_rct":
        suite.append(gxe.ExpectColumnValuesToNotBeNull(column="cluster_id"))
    return suite


def hr_roster_csv(study: Study) -> list:
    return [
        _unique("snapshot_date", "employee_pseudonym"),
        gxe.ExpectColumnValuesToBeBetween(column="fte", min_value=0, max_value=1, strict_min=True),
        gxe.ExpectColumnValuesToBeBetween(column="contracted_hours_per_week", min_value=0, max_value=80),
    ]


def hr_leavers_csv(study: Study) -> list:
    return [
        _unique("employee_pseudonym"),
        gxe.ExpectColumnValuesToBeInSet(column="leaving_reason", value_set=list(LEAVING_REASONS)),
    ]


def hris_absence_json(study: Study) -> list:
    return [
        _unique("worker_pseudonym", "absence_type", "start_date"),
        gxe.ExpectColumnValuesToBeInSet(column="absence_type", value_set=HRIS_TYPES),
        gxe.ExpectColumnValuesToBeInSet(column="reason", value_set=HRIS_REASONS),
        gxe.ExpectColumnValuesToBeInSet(column="unit", value_set=["HOURS", "DAYS"]),
        gxe.ExpectColumnValuesToBeBetween(column="quantity", min_value=0),
    ]


def exchange_message_trace_csv(study: Study) -> list:
    return [
        _unique("message_trace_id", "recipient_pseudonym"),
        gxe.ExpectColumnValuesToBeInSet(column="status", value_set=EXCHANGE_STATUSES),
        gxe.ExpectColumnValuesToBeBetween(
            column="message_no", min_value=1, max_value=int(study.contacts.get("count", 1))
        ),
    ]


def qualtrics_csv(study: Study) -> list:
    survey = study.feeds["survey"]
    as_text = survey.get("value_coding") == "choice_text"
    suite = [
        _unique("response_id"),
        gxe.ExpectColumnValuesToBeInSet(column="status", value_set=QUALTRICS_STATUSES),
        gxe.ExpectColumnValuesToBeInSet(column="wave", value_set=[tp.name for tp in study.timepoints]),
        gxe.ExpectColumnValuesToBeBetween(column="progress", min_value=0, max_value=100),
        gxe.ExpectColumnValuesToBeBetween(column="duration_seconds", min_value=0),
    ]
    for item in study.survey_item_columns().values():
        allowed = list(ITEM_SCALES[item]) if as_text else ["1", "2", "3", "4", "5"]
        suite.append(gxe.ExpectColumnValuesToBeInSet(column=item, value_set=allowed))
    return suite


SUITES = {
    "allocation_csv": allocation_csv,
    "hr_roster_csv": hr_roster_csv,
    "hr_leavers_csv": hr_leavers_csv,
    "hris_absence_json": hris_absence_json,
    "exchange_message_trace_csv": exchange_message_trace_csv,
    "qualtrics_csv": qualtrics_csv,
}


def landing_expectations(fmt: str, study: Study) -> list:
    return SUITES[fmt](study)
