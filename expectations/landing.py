"""Landing suites, one per partner format (<format>.landing), run on each parsed file.

Every rule here is row-level: each failing finding carries the rows that broke it (and lines),
so that ingest can apply the feed's rule (reject the file, or load the good rows and record the
others) and never reject a file for rows the outcomes do not use.
"""

from __future__ import annotations

import great_expectations.expectations as gxe

from expectations.compiled import failing_rows
from expectations.findings import Finding
from expectations.runner import validate_table
from hhp.formats import FORMATS
from hhp.instruments import ITEM_SCALES, LEAVING_REASONS
from hhp.registry import Study

# every Status a Qualtrics export can give, as labels (the adapter turns codes into labels)
QUALTRICS_STATUSES = ["IP Address", "Survey Preview", "Survey Test", "Imported", "Spam",
                      "Survey Preview Spam", "Imported Spam", "Offline", "Offline Survey Preview", "EX",
                      "EX Spam", "EX Offline"]  # fmt: skip
EXCHANGE_STATUSES = [
    "Delivered",
    "Failed",
    "Pending",
    "Expanded",
    "Quarantined",
    "FilteredAsSpam",
    "GettingStatus",
]
SENDGRID_EVENTS = ["processed", "dropped", "delivered", "deferred", "bounce", "open", "click",
                   "spamreport", "unsubscribe"]  # fmt: skip
HRIS_TYPES = ["SICK", "ANNUAL", "PARENTAL", "OTHER"]
HRIS_REASONS = ["stress", "anxiety", "depression", "musculoskeletal", "respiratory", "gastro", "other"]


def _closed_list(column: str, values) -> gxe.ExpectColumnValuesToBeInSet:
    """A column whose values are a system's codes from a closed list, nothing personal (an
    event name, a status, a choice): a reason shows a value that broke it as it is, where it
    looks like a code (expectations.findings.Finding)."""
    return gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(values), meta={"closed_list": True})


def _unique(*columns: str):
    if len(columns) == 1:
        return gxe.ExpectColumnValuesToBeUnique(column=columns[0])
    return gxe.ExpectCompoundColumnsToBeUnique(column_list=list(columns))


def allocation_csv(study: Study) -> list:
    suite = [
        _unique("participant_id"),
        _unique("employee_pseudonym"),
        _closed_list("arm", list(study.arms)),
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
        # HR systems let a person type here: an example stays masked
        gxe.ExpectColumnValuesToBeInSet(column="leaving_reason", value_set=list(LEAVING_REASONS)),
    ]


def hris_absence_json(study: Study) -> list:
    return [
        _unique("worker_pseudonym", "absence_type", "start_date"),
        _closed_list("absence_type", HRIS_TYPES),
        gxe.ExpectColumnValuesToBeInSet(column="reason", value_set=HRIS_REASONS),
        _closed_list("unit", ["HOURS", "DAYS"]),
        gxe.ExpectColumnValuesToBeBetween(column="quantity", min_value=0),
    ]


def exchange_message_trace_csv(study: Study) -> list:
    return [
        _unique("message_trace_id", "recipient_pseudonym"),
        _closed_list("status", EXCHANGE_STATUSES),
        gxe.ExpectColumnValuesToBeBetween(
            column="message_no", min_value=1, max_value=int(study.contacts.get("count", 1))
        ),
    ]


def qualtrics_csv(study: Study) -> list:
    survey = study.feeds["survey"]
    as_text = survey.get("value_coding") == "choice_text"
    suite = [
        _unique("response_id"),
        _closed_list("status", QUALTRICS_STATUSES),
        _closed_list("wave", [tp.name for tp in study.timepoints]),
        gxe.ExpectColumnValuesToBeBetween(column="progress", min_value=0, max_value=100),
        gxe.ExpectColumnValuesToBeBetween(column="duration_seconds", min_value=0),
    ]
    for item in study.survey_item_columns().values():
        allowed = list(ITEM_SCALES[item]) if as_text else ["1", "2", "3", "4", "5"]
        suite.append(_closed_list(item, allowed))
    return suite


def esr_absence_csv(study: Study) -> list:
    return [
        _unique("employee_pseudonym", "absence_type", "start_date"),
        gxe.ExpectColumnValuesToMatchRegex(
            column="absence_reason", regex=r"^S\d{2} ",
            row_condition='absence_type=="Sickness"', condition_parser="pandas",
        ),
        gxe.ExpectColumnValuesToBeBetween(column="calendar_days_lost", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="fte_days_lost", min_value=0),
    ]  # fmt: skip


def sendgrid_events_jsonl(study: Study) -> list:
    # the same event may arrive twice in a stream: staging keeps one, so no uniqueness here
    return [
        _closed_list("event", SENDGRID_EVENTS),
        gxe.ExpectColumnValuesToBeBetween(
            column="message_no", min_value=1, max_value=int(study.contacts.get("count", 1))
        ),
    ]


def postal_dispatch_csv(study: Study) -> list:
    return [_unique("participant_id", "letter_ref")]


def xapi_statements_json(study: Study) -> list:
    return [
        _unique("statement_id"),
        gxe.ExpectColumnValuesToBeBetween(
            column="module_no", min_value=1, max_value=int(study.contacts.get("count", 1))
        ),
    ]


def redcap_csv(study: Study) -> list:
    events = [f"{tp.name}_arm_1" for tp in study.timepoints]
    suite = [
        _unique("record_id", "redcap_event_name"),
        _closed_list("redcap_event_name", events),
    ]
    for item in study.survey_item_columns().values():
        suite.append(_closed_list(item, ["1", "2", "3", "4", "5"]))
    return suite


WITHDRAWAL_REASONS = ["no_longer_wishes", "left_employer", "lost_contact", "other"]


def withdrawal_csv(study: Study) -> list:
    # one row per withdrawal: a participant may appear again, at a higher level
    return [
        _unique("participant_id", "level"),
        _closed_list("reason_code", WITHDRAWAL_REASONS),
    ]


# one suite per format, named after it (hhp.formats lists the formats)
SUITES = {fmt: globals()[fmt] for fmt in FORMATS}


def landing_expectations(fmt: str, study: Study) -> list:
    return SUITES[fmt](study)


def check_landed(con, table: str, fmt: str, study: Study) -> list[Finding]:
    """The format's landing suite over a parsed file (ingest.service.LandingCheck), in
    batches of 100,000 rows so that memory is bounded for a file of any size. A failing
    finding carries its rows, (rowid, line) each (None if its rule has no SQL form)."""
    suite = landing_expectations(fmt, study)
    findings = validate_table(con, table, f"{fmt}.landing", suite, 100_000)
    if findings:  # every rule's failures, not only the first failing step's
        findings = validate_table(con, table, f"{fmt}.landing", suite, 100_000, include_passed=True)
        findings = [f for f in findings if not f.passed]
    for finding, expectation in _matched(findings, suite):
        if expectation is not None and not finding.error:
            rows = failing_rows(lambda sql: con.execute(sql).fetchall(), table, expectation, "_row_number")
            finding.failing_rows = tuple(rows) if rows is not None else None
    return findings


def _matched(findings: list[Finding], suite: list):
    """Each finding with the expectation it came from (by kind and column)."""
    for finding in findings:
        match = None
        for expectation in suite:
            kwargs = expectation.configuration.kwargs
            column = kwargs.get("column") or ", ".join(kwargs.get("column_list") or [])
            if expectation.expectation_type == finding.expectation and column == finding.column:
                match = expectation
                break
        yield finding, match
