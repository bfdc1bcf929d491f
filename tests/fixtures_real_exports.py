"""Partner files as the real systems export them (docs/feeds.md), each beside the
same data in the feed's standard form.

The variants follow each vendor's own documentation of its export: Qualtrics' three header
rows, its "numeric values" export and the zone its import-id row declares; REDCap's
flat export with and without repeating forms, survey fields and data access groups; the
body SendGrid's event webhook posts (a JSON array, events joined by ',' and CRLF, with the
`smtp-id`, `response` and `attempt` properties and the event types of its reference page);
the xAPI specification's actors (mbox, mbox_sha1sum, account as cmi5 requires) and its voiding
statement (verb `voided`, object a StatementRef); and what Windows PowerShell 5.1's
`Get-MessageTrace | Export-Csv` writes (a #TYPE line, every property, every field quoted).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

STUDY = "fx"
PEOPLE = [  # participant_id, employee number, work email (as the partner writes it)
    ("FX-001", "E100001", "ana.silva@org.example"),
    ("FX-002", "E100002", "Ben.Okafor@org.example"),
    ("FX-003", "E100003", "chloe.wright@org.example"),
]


def registry(feed: str, spec: dict) -> str:
    """The fixture study's registry entry, with one feed besides the allocation."""
    return study_registry(STUDY, {feed: spec})


CONTACT_KINDS = {"xapi_statements_json": "module", "postal_dispatch_csv": "letter"}


def study_registry(study_id: str, feeds: dict[str, dict]) -> str:
    entry = {
        "study_id": study_id,
        "title": "Fixture study",
        "design": "individual_rct",
        "allocation_ratio": {"control": 1, "intervention": 1},
        "arms": ["control", "intervention"],
        "strata": None,
        "cluster": None,
        "contacts": {"kind": CONTACT_KINDS.get(feeds.get("delivery", {}).get("format"), "email"), "count": 3},
        "hr_period_days": 182,
        "timepoints": {
            "baseline": {"day": 0, "window": [-45, 0]},
            "endline": {"day": 63, "window": [42, 84]},
        },
        # a primary outcome the fixture's feeds measure (the registry's schema checks it)
        "primary_outcomes": (
            [{"outcome": "SWEMWBS", "timepoint": "endline"}]
            if "SWEMWBS" in feeds.get("survey", {}).get("items", {})
            else []
        ),
        "feeds": {"allocation": {"format": "allocation_csv"}, **feeds},
    }
    return json.dumps(entry)  # JSON is YAML


def csv_text(rows: list[list], ending: str = "\n") -> str:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator=ending).writerows(rows)
    return out.getvalue()


ALLOCATION = [
    ["participant_id", "employee_number", "email", "arm", "randomised_on", "stratum", "cluster_id"],
    ["FX-001", "E100001", "ana.silva@org.example", "control", "2026-03-02", "", ""],
    ["FX-002", "E100002", "Ben.Okafor@org.example", "intervention", "2026-03-02", "", ""],
    ["FX-003", "E100003", "chloe.wright@org.example", "intervention", "2026-03-02", "", ""],
]
ROSTER = [
    ["snapshot_date", "employee_number", "hire_date", "fte", "contracted_hours_per_week", "org_unit", "grade",
     "job_role"],
    ["2026-03-31", "E100001", "2019-05-01", "1.00", "37.0", "OPS-01", "Band 5", "Analyst"],
    ["2026-03-31", "E100002", "2021-09-13", "0.60", "22.2", "OPS-02", "Band 6", "Lead, Analysis"],
]  # fmt: skip
LEAVERS = [
    ["employee_number", "termination_date", "leaving_reason", "notice_given_date"],
    ["E100003", "30/04/2026", "Voluntary Resignation - Relocation", "31/03/2026"],
    ["E100001", "31/05/2026", "Retirement Age", ""],
]
ESR = [
    ["Employee Number", "Absence Type", "Absence Reason", "Absence Start Date", "Absence End Date",
     "Calendar Days Lost", "FTE Days Lost"],
    ["E100001", "Sickness", "S13 Cold, Cough, Flu - Influenza", "02/04/2026", "05/04/2026", "4", "4"],
    ["E100002", "Sickness", "S10 Anxiety/stress/depression/other psychiatric illnesses", "20/04/2026", "", "10",
     "6"],
    ["E100002", "Annual Leave", "", "01/05/2026", "08/05/2026", "8", "4.8"],
]  # fmt: skip
POSTAL = [
    ["participant_id", "letter_ref", "dispatched_on", "returned_undelivered", "returned_on"],
    ["FX-002", "L1-FX-002", "2026-03-09", "N", ""],
    ["FX-003", "L1-FX-003", "2026-03-09", "Y", "2026-03-16"],
]
EXCHANGE_HEADER = ["Received", "SenderAddress", "RecipientAddress", "Subject", "Status", "ToIP", "FromIP", "Size",
                   "MessageId", "MessageTraceId"]  # fmt: skip
EXCHANGE = [
    EXCHANGE_HEADER,
    ["3/9/2026 9:00:14 AM", "director@org.example", "Ben.Okafor@org.example", "Week 1: Why your work matters",
     "Delivered", "10.1.2.3", "10.9.8.7", "24310", "<a1b2@mail.org.example>",
     "ae5c1219-4c90-41bf-fef5-08d837917e7c"],
    ["3/16/2026 1:05:00 PM", "director@org.example", "chloe.wright@org.example", "Week 2: Learning from mistakes",
     "Failed", "", "10.9.8.7", "24102", "<c3d4@mail.org.example>", "2bbad36a-a467-4c7b-a82f-4b307fff549f"],
]  # fmt: skip
EXCHANGE_UK_RECEIVED = {
    "3/9/2026 9:00:14 AM": "09/03/2026 09:00:14",
    "3/16/2026 1:05:00 PM": "16/03/2026 13:05:00",
}
# Get-MessageTrace's properties in the order Export-Csv writes them
POWERSHELL_ORDER = ["PSComputerName", "RunspaceId", "PSShowComputerName", "Organization", "MessageId", "Received",
                    "SenderAddress", "RecipientAddress", "Subject", "Status", "ToIP", "FromIP", "Size",
                    "MessageTraceId", "StartDate", "EndDate", "Index"]  # fmt: skip


def powershell_export(rows: list[list[str]]) -> str:
    """`Get-MessageTrace | Export-Csv trace.csv` in Windows PowerShell 5.1."""
    header, *data = rows
    every = [POWERSHELL_ORDER]
    for index, row in enumerate(data):
        values = dict(zip(header, row, strict=True)) | {
            "PSComputerName": "outlook.office365.com", "RunspaceId": "5f4c2b1e-0d3a-4c8e-9a7b-6e5d4c3b2a19",
            "PSShowComputerName": "False", "Organization": "org.onmicrosoft.com",
            "StartDate": "3/1/2026 12:00:00 AM", "EndDate": "3/17/2026 12:00:00 AM", "Index": str(index),
        }  # fmt: skip
        every.append([values[name] for name in POWERSHELL_ORDER])
    out = io.StringIO(newline="")
    out.write("#TYPE Deserialized.Microsoft.Exchange.Management.FfoReporting.MessageTrace\r\n")
    csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL).writerows(every)
    return out.getvalue()


QUALTRICS_META = ["StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)", "Finished",
                  "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName", "RecipientEmail",
                  "ExternalReference", "LocationLatitude", "LocationLongitude", "DistributionChannel",
                  "UserLanguage", "wave"]  # fmt: skip
QUALTRICS_ITEMS = [f"Q1_{i}" for i in range(1, 8)]
QUALTRICS_QUESTIONS = ["Start Date", "End Date", "Response Type", "IP Address", "Progress", "Duration (in seconds)",
                       "Finished", "Recorded Date", "Response ID", "Recipient Last Name", "Recipient First Name",
                       "Recipient Email", "External Data Reference", "Location Latitude", "Location Longitude",
                       "Distribution Channel", "User Language", "wave"] + [
    f"Below are some statements about feelings and thoughts. - {text}" for text in (
        "I've been feeling optimistic about the future", "I've been feeling useful", "I've been feeling relaxed",
        "I've been dealing with problems well", "I've been thinking clearly", "I've been feeling close to other people",
        "I've been able to make up my own mind about things")
]  # fmt: skip
QUALTRICS_DATE_IDS = {"StartDate": "startDate", "EndDate": "endDate", "RecordedDate": "recordedDate"}
# (start, end = recorded, status label, finished, progress, participant, wave, items), times in UTC
QUALTRICS_RESPONSES = [
    ("2026-03-01 08:00:00", "2026-03-01 08:04:10", "IP Address", True, 100, "FX-002", "baseline",
     ["4", "3", "4", "5", "3", "4", "4"]),
    ("2026-03-01 09:10:00", "2026-03-01 09:11:30", "Survey Preview", False, 40, "FX-003", "baseline",
     ["2", "3", "", "", "", "", ""]),
    ("2026-02-27 15:45:05", "2026-02-27 15:52:00", "Offline", True, 100, "FX-001", "baseline",
     ["5", "5", "4", "4", "4", "5", "4"]),
]  # fmt: skip
STATUS_CODES = {"IP Address": "0", "Survey Preview": "1", "Offline": "16"}


def in_zone(stamp: str, zone: str | None, shape: str) -> str:
    """A UTC time as a clock in `zone` shows it."""
    at = datetime.fromisoformat(stamp).replace(tzinfo=UTC)
    return (at.astimezone(ZoneInfo(zone)) if zone else at).strftime(shape)


def qualtrics(numeric: bool = False, zone: str | None = None, extras: bool = False) -> str:
    """A Qualtrics CSV export: standard, or 'with numeric values', or with dates in the zone row 3
    declares, or with the columns real exports add (free text, text analysis, display order,
    fraud scores, embedded data) and a question text holding a line break."""

    def local(stamp: str) -> str:
        return in_zone(stamp, zone, "%Y-%m-%d %H:%M:%S")

    extra_names = ["Q2", "Q2 - Topics", "Q1_DO", "Q_RecaptchaScore", "Department"] if extras else []
    header = [*QUALTRICS_META, *QUALTRICS_ITEMS, *extra_names]
    questions = [*QUALTRICS_QUESTIONS, *(["Anything else?\nTell us here.", "Q2 - Topics", "Q1 - Display Order",
                                          "Q_RecaptchaScore", "Department"] if extras else [])]  # fmt: skip
    import_ids = []
    for column in header:
        if column in QUALTRICS_DATE_IDS:
            declared = {"ImportId": QUALTRICS_DATE_IDS[column], **({"timeZone": zone} if zone else {})}
            import_ids.append(json.dumps(declared, separators=(",", ":")))
        else:
            import_ids.append(json.dumps({"ImportId": column.replace("Q1_", "QID1_")}, separators=(",", ":")))
    rows = [header, questions, import_ids]
    for n, (start, end, status, finished, progress, participant, wave, items) in enumerate(
        QUALTRICS_RESPONSES
    ):
        shown_status = STATUS_CODES[status] if numeric else status
        shown_finished = ("1" if finished else "0") if numeric else ("True" if finished else "False")
        seconds = str(int((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()))
        rows.append([local(start), local(end), shown_status, "192.0.2.10", str(progress), seconds, shown_finished,
                     local(end), f"R_1ABCdefGHIjkl0{n}", "Surname", "Given", f"person{n}@home.example",
                     participant, "51.5074", "-0.1278", "email", "EN", wave, *items,
                     *(["More time, please.\nAnd fewer meetings.", "Workload", "1|2|3|4|5|6|7", "0.9", "Ops"]
                       if extras else [])])  # fmt: skip
    return csv_text(rows, "\r\n" if extras else "\n")


REDCAP_ITEMS = [f"swemwbs_{i}" for i in range(1, 8)]
# (record, event, timestamp in UTC as HH:MM, items, complete)
REDCAP_RECORDS = [
    ("FX-001", "baseline_arm_1", "2026-03-01 09:30", ["4", "4", "3", "4", "5", "4", "3"], "2"),
    ("FX-002", "baseline_arm_1", "[not completed]", ["3", "", "", "", "", "", ""], "0"),
    ("FX-002", "endline_arm_1", "2026-05-04 10:02", ["5", "4", "4", "4", "4", "5", "4"], "2"),
]


def redcap(
    record_id: str = "record_id", repeat_columns: bool = True, seconds: bool = False, survey_fields: bool = False,
    access_groups: bool = False, other_forms: bool = False, zone: str | None = None,
) -> str:  # fmt: skip
    """REDCap's flat CSV export ('raw' values), in the shapes its export gives; timestamps on
    the server's clock (`zone`)."""

    header = [record_id, "redcap_event_name", *(["redcap_repeat_instrument", "redcap_repeat_instance"]
              if repeat_columns else []), *(["redcap_data_access_group"] if access_groups else []),
              *(["redcap_survey_identifier"] if survey_fields else []), "wellbeing_timestamp", *REDCAP_ITEMS,
              "wellbeing_complete"]  # fmt: skip
    rows = [header]
    for record, event, stamp, items, complete in REDCAP_RECORDS:
        if stamp != "[not completed]":
            stamp = in_zone(stamp, zone, "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
        rows.append(
            [
                record,
                event,
                *(["", ""] if repeat_columns else []),
                *(["north"] if access_groups else []),
                *([f"{record.lower()}@home.example"] if survey_fields else []),
                stamp,
                *items,
                complete,
            ]
        )
        if (
            other_forms and event == "baseline_arm_1"
        ):  # another form's rows: a repeating log, a screening event
            rows.append([record, event, "contact_log", "1", *([""] * (len(header) - 4))])
            rows.append([record, "screening_arm_1", "", "", *([""] * (len(header) - 4))])
    return csv_text(rows)


SENDGRID_EVENTS = [
    {"email": "Ben.Okafor@org.example", "timestamp": 1773046814, "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
     "event": "processed", "category": "cat facts", "sg_event_id": "2FeCcG5VRWpck6mKqRgnDg==",
     "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0", "study_message_no": "1"},
    {"email": "Ben.Okafor@org.example", "timestamp": 1773046816, "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
     "event": "delivered", "category": "cat facts", "sg_event_id": "hqFbp3HH9WxIM0R2-x2M1Q==",
     "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0", "response": "250 OK",
     "study_message_no": "1"},
    {"email": "Ben.Okafor@org.example", "timestamp": 1773050400, "event": "open", "sg_machine_open": False,
     "category": ["cat facts", "week-1"], "sg_event_id": "FOTFFO0ecsBE-zxFXfs6WA==",
     "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0", "useragent": "Mozilla/4.0",
     "ip": "255.255.255.255", "study_message_no": "1"},
    {"email": "chloe.wright@org.example", "timestamp": 1773046900, "event": "bounce", "type": "bounce",
     "reason": "500 unknown recipient", "status": "5.0.0", "sg_event_id": "6g4ZI7SA-xmRDv57GoPIPw==",
     "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.1", "study_message_no": "1"},
]  # fmt: skip
SENDGRID_UNUSED = [
    {"email": "Ben.Okafor@org.example", "timestamp": 1773050500, "event": "group_unsubscribe", "asm_group_id": 10,
     "sg_event_id": "ahSCB7xYcXFb-hEaawsPRw==", "useragent": "Mozilla/4.0", "ip": "255.255.255.255",
     "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"},
    {"event": "account_status_change", "sg_event_id": "MjIzNDQ1NTY2Nzc4ODk5MDAxMTIyMzM0NDU1", "timestamp": 1773050600,
     "type": "compliance_suspend"},
]  # fmt: skip


def jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def webhook_bodies(records: list[dict], per_body: int = 2) -> str:
    """The event webhook's request bodies, kept raw: each a JSON array, events joined by ',' and CRLF."""
    bodies = [records[i : i + per_body] for i in range(0, len(records), per_body)]
    return "".join("[" + ",\r\n".join(json.dumps(e) for e in body) + "]\n" for body in bodies)


HRIS = [
    {"worker_id": "E100001", "extract_date": "2026-05-31", "time_off": [
        {"type": "SICK", "reason": "respiratory", "start": "2026-04-02", "end": "2026-04-05", "quantity": 4,
         "unit": "DAYS"}]},
    {"worker_id": "E100002", "extract_date": "2026-05-31", "time_off": [
        {"type": "SICK", "reason": "stress", "start": "2026-04-20", "end": None, "quantity": 44.4, "unit": "HOURS"},
        {"type": "ANNUAL", "reason": None, "start": "2026-05-01", "end": "2026-05-08", "quantity": 6, "unit": "DAYS"}]},
]  # fmt: skip

VERBS = "http://adlnet.gov/expapi/verbs/"
# (id, participant, verb, module, timestamp with offset, the same instant in UTC without one)
XAPI_STATEMENTS = [
    ("fd41c918-b88b-4b20-a0a5-a4c32391aaa0", 1, "launched", 1, "2026-03-10T09:15:00+00:00", "2026-03-10T09:15:00"),
    ("7ccd3322-e1a5-411a-a67d-6a735c76f119", 1, "progressed", 1, "2026-03-10T10:20:00+01:00",
     "2026-03-10T09:20:00"),
    ("3a1e6b0c-9f1d-4e7a-8f4b-2d6c5e4a3b21", 1, "completed", 1, "2026-03-10T11:15:30.250+01:00",
     "2026-03-10T10:15:30.250"),
    ("9b2f4c6d-1e3a-4b5c-8d7e-0f1a2b3c4d5e", 2, "launched", 1, "2026-03-11T08:00:00Z", "2026-03-11T08:00:00"),
]  # fmt: skip
MISTAKEN = "c0ffee00-1234-4abc-9def-0123456789ab"  # a completion recorded in error, then voided


def xapi_actor(person: int, identifier: str = "mbox", holds: str = "email") -> dict:
    _, number, email = PEOPLE[person]
    if identifier == "account":
        return {"objectType": "Agent",
                "account": {"homePage": "https://learning.org.example", "name": number if holds != "email" else email}}  # fmt: skip
    if identifier == "mbox_sha1sum":
        return {
            "objectType": "Agent",
            "mbox_sha1sum": hashlib.sha1(f"mailto:{email.lower()}".encode()).hexdigest(),
        }
    return {"objectType": "Agent", "mbox": f"mailto:{email}"}


def xapi(
    identifier: str = "mbox", holds: str = "email", offsetless: bool = False, more: str = "",
    extra: list[dict] = (), extra_properties: bool = False,
) -> str:  # fmt: skip
    """An LRS's statements export, `{"statements": [...], "more": ""}`, pretty-printed."""
    statements = []
    for statement_id, person, verb, module, stamp, utc in XAPI_STATEMENTS:
        made = {
            "id": statement_id,
            "actor": xapi_actor(person, identifier, holds),
            "verb": {"id": VERBS + verb, "display": {"en-US": verb}},
            "object": {
                "id": f"https://learning.org.example/goal-setting/module/{module}",
                "objectType": "Activity",
            },
            "timestamp": utc if offsetless else stamp,
            "stored": "2026-03-12T00:00:00.000Z",
        }
        if verb == "completed":
            made["result"] = {"completion": True, "duration": "PT1H"}
        if extra_properties:
            made |= {"version": "1.0.3", "authority": {"objectType": "Agent", "name": "lms",
                     "mbox": "mailto:lms@org.example"}, "context": {"registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7"}}  # fmt: skip
        statements.append(made)
    return json.dumps({"statements": [*statements, *extra], "more": more}, indent=2)


def mistaken_completion(identifier: str = "mbox", holds: str = "email") -> dict:
    return {"id": MISTAKEN, "actor": xapi_actor(2, identifier, holds),
            "verb": {"id": VERBS + "completed", "display": {"en-US": "completed"}},
            "object": {"id": "https://learning.org.example/goal-setting/module/2", "objectType": "Activity"},
            "result": {"completion": True}, "timestamp": "2026-03-12T09:00:00+00:00"}  # fmt: skip


def voiding() -> str:
    """The xAPI specification's voiding statement, in a later export of the store."""
    statement = {
        "id": "e2b1f6a4-5c3d-4e8f-9a0b-1c2d3e4f5a6b",
        "actor": {"objectType": "Agent", "name": "Example Admin", "mbox": "mailto:admin@org.example"},
        "verb": {"id": VERBS + "voided", "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": MISTAKEN},
        "timestamp": "2026-03-13T08:00:00+00:00",
    }
    return json.dumps({"statements": [statement], "more": ""}, indent=2)


def gz(text: str) -> bytes:
    return gzip.compress(text.encode("utf-8"), mtime=0)


def bom_crlf(text: str) -> bytes:
    """UTF-8 with a byte-order mark and CRLF line ends (what Excel and Windows tools write)."""
    return ("\ufeff" + text.replace("\r\n", "\n").replace("\n", "\r\n")).encode("utf-8")


@dataclass
class Variant:
    """One real-export variant and its standard form: the same data."""

    name: str
    feed: str
    fmt: str
    standard: str  # the standard form's text
    variant: bytes
    file_name: str  # before its extension: <name>_2026-05-31
    ending: str  # .csv, .csv.gz ...
    spec: dict = field(default_factory=dict)  # the variant's registry settings for the feed
    standard_spec: dict = field(default_factory=dict)
    skipped: int = 0  # rows the ledger counts as not the feed's records
    undeclared: tuple[str, ...] = ()
    note: str | None = None  # a phrase the ledger's notes hold
    extra_files: list[tuple[str, bytes]] = field(default_factory=list)  # (name with ending, content)


def _survey(spec: dict, columns: list[str]) -> dict:
    return {"format": spec, "value_coding": "numeric", "items": {"SWEMWBS": columns}}


QUALTRICS_SPEC = _survey("qualtrics_csv", QUALTRICS_ITEMS)
REDCAP_SPEC = _survey("redcap_csv", REDCAP_ITEMS)
EXCHANGE_SPEC = {"format": "exchange_message_trace_csv", "message_no_pattern": r"^Week (\d+):"}
XAPI_SPEC = {"format": "xapi_statements_json"}
SENDGRID_SPEC = {"format": "sendgrid_events_jsonl"}
HRIS_SPEC = {"format": "hris_absence_json"}

VARIANTS = [
    Variant(
        "qualtrics: numeric values (Status and Finished coded)",
        "survey",
        "qualtrics_csv",
        qualtrics(),
        qualtrics(numeric=True).encode(),
        "wellbeing",
        ".csv",
        QUALTRICS_SPEC,
        QUALTRICS_SPEC,
    ),
    Variant(
        "qualtrics: the zone row 3 declares (America/Denver)",
        "survey",
        "qualtrics_csv",
        qualtrics(),
        qualtrics(zone="America/Denver").encode(),
        "wellbeing",
        ".csv",
        QUALTRICS_SPEC,
        QUALTRICS_SPEC,
    ),
    Variant(
        "qualtrics: extra columns, line breaks in quoted fields, CRLF",
        "survey",
        "qualtrics_csv",
        qualtrics(),
        qualtrics(extras=True).encode(),
        "wellbeing",
        ".csv",
        QUALTRICS_SPEC,
        QUALTRICS_SPEC,
        undeclared=("Q2", "Q2 - Topics", "Q1_DO", "Q_RecaptchaScore", "Department"),
    ),
    Variant(
        "redcap: timestamps with seconds and redcap_survey_identifier",
        "survey",
        "redcap_csv",
        redcap(),
        redcap(seconds=True, survey_fields=True).encode(),
        "redcap_export",
        ".csv",
        REDCAP_SPEC,
        REDCAP_SPEC,
        undeclared=("redcap_survey_identifier",),
    ),
    Variant(
        "redcap: no repeating forms, data access groups",
        "survey",
        "redcap_csv",
        redcap(),
        redcap(repeat_columns=False, access_groups=True).encode(),
        "redcap_export",
        ".csv",
        REDCAP_SPEC,
        REDCAP_SPEC,
        undeclared=("redcap_data_access_group",),
    ),
    Variant(
        "redcap: another form's rows (a repeating instrument, an unused event)",
        "survey",
        "redcap_csv",
        redcap(),
        redcap(other_forms=True).encode(),
        "redcap_export",
        ".csv",
        REDCAP_SPEC,
        REDCAP_SPEC,
        skipped=4,
        note="rows of a repeating instrument",
    ),
    Variant(
        "redcap: the record ID field named by the registry",
        "survey",
        "redcap_csv",
        redcap(),
        redcap(record_id="study_id").encode(),
        "redcap_export",
        ".csv",
        {**REDCAP_SPEC, "record_id_field": "study_id"},
        REDCAP_SPEC,
    ),  # fmt: skip
    Variant(
        "redcap: the server's zone the registry declares (Europe/London)",
        "survey",
        "redcap_csv",
        redcap(),
        redcap(zone="Europe/London").encode(),
        "redcap_export",
        ".csv",
        {**REDCAP_SPEC, "time_zone": "Europe/London"},
        REDCAP_SPEC,
    ),  # one time in summer time, one not
    Variant(
        "sendgrid: the webhook's raw request bodies (JSON arrays)",
        "delivery",
        "sendgrid_events_jsonl",
        jsonl(SENDGRID_EVENTS),
        webhook_bodies(SENDGRID_EVENTS).encode(),
        "sendgrid_events",
        ".jsonl",
        SENDGRID_SPEC,
        SENDGRID_SPEC,
    ),
    Variant(
        "sendgrid: event types the platform does not use",
        "delivery",
        "sendgrid_events_jsonl",
        jsonl(SENDGRID_EVENTS),
        jsonl(SENDGRID_EVENTS + SENDGRID_UNUSED).encode(),
        "sendgrid_events",
        ".jsonl",
        SENDGRID_SPEC,
        SENDGRID_SPEC,
        skipped=2,
        undeclared=("asm_group_id",),
        note="'group_unsubscribe'",
    ),
    Variant(
        "sendgrid: gzip",
        "delivery",
        "sendgrid_events_jsonl",
        jsonl(SENDGRID_EVENTS),
        gz(jsonl(SENDGRID_EVENTS)),
        "sendgrid_events",
        ".jsonl.gz",
        SENDGRID_SPEC,
        SENDGRID_SPEC,
    ),
    Variant(
        "xapi: account actors holding the email (cmi5)",
        "delivery",
        "xapi_statements_json",
        xapi(),
        xapi("account").encode(),
        "xapi_statements",
        ".json",
        {**XAPI_SPEC, "actor_identifier": "account"},
        XAPI_SPEC,
    ),
    Variant(
        "xapi: a timestamp without a zone is UTC",
        "delivery",
        "xapi_statements_json",
        xapi(),
        xapi(offsetless=True).encode(),
        "xapi_statements",
        ".json",
        XAPI_SPEC,
        XAPI_SPEC,
    ),
    Variant(
        "xapi: one page of several ('more' not empty), other properties",
        "delivery",
        "xapi_statements_json",
        xapi(),
        xapi(more="/xapi/statements?more=a1b2c3", extra_properties=True).encode(),
        "xapi_statements",
        ".json",
        XAPI_SPEC,
        XAPI_SPEC,
        undeclared=("authority", "context", "version"),
        note="more pages",
    ),
    Variant(
        "xapi: gzip",
        "delivery",
        "xapi_statements_json",
        xapi(),
        gz(xapi()),
        "xapi_statements",
        ".json.gz",
        XAPI_SPEC,
        XAPI_SPEC,
    ),
    Variant(
        "exchange: PowerShell 5.1's Export-Csv (#TYPE line, every property)",
        "delivery",
        "exchange_message_trace_csv",
        csv_text(EXCHANGE),
        powershell_export(EXCHANGE).encode(),
        "message_trace",
        ".csv",
        EXCHANGE_SPEC,
        EXCHANGE_SPEC,
        undeclared=(
            "PSComputerName",
            "RunspaceId",
            "PSShowComputerName",
            "Organization",
            "StartDate",
            "EndDate",
            "Index",
        ),
    ),  # fmt: skip
    Variant(
        "exchange: UK dates, as the registry declares",
        "delivery",
        "exchange_message_trace_csv",
        csv_text(EXCHANGE),
        csv_text([EXCHANGE_HEADER] + [[EXCHANGE_UK_RECEIVED[r[0]], *r[1:]] for r in EXCHANGE[1:]]).encode(),
        "message_trace",
        ".csv",
        {**EXCHANGE_SPEC, "received_locale": "UK"},
        EXCHANGE_SPEC,
    ),
    Variant(
        "esr: gzip",
        "absence",
        "esr_absence_csv",
        csv_text(ESR),
        gz(csv_text(ESR)),
        "esr_absence",
        ".csv.gz",
        {"format": "esr_absence_csv"},
        {"format": "esr_absence_csv"},
    ),  # fmt: skip
    Variant(
        "postal: columns in another order, a byte-order mark, CRLF",
        "delivery",
        "postal_dispatch_csv",
        csv_text(POSTAL),
        bom_crlf(csv_text([r[::-1] for r in POSTAL])),
        "postal_dispatch",
        ".csv",
        {"format": "postal_dispatch_csv"},
        {"format": "postal_dispatch_csv"},
    ),  # fmt: skip
    Variant(
        "hris: gzip",
        "absence",
        "hris_absence_json",
        jsonl(HRIS),
        gz(jsonl(HRIS)),
        "hris_time_off",
        ".jsonl.gz",
        HRIS_SPEC,
        HRIS_SPEC,
    ),
    Variant(
        "hris: byte-order mark and CRLF",
        "absence",
        "hris_absence_json",
        jsonl(HRIS),
        bom_crlf(jsonl(HRIS)),
        "hris_time_off",
        ".jsonl",
        HRIS_SPEC,
        HRIS_SPEC,
    ),
]

# every CSV format's standard form: (feed, format, registry settings, rows, file name, header rows)
CSV_FORMATS = [
    ("allocation", "allocation_csv", {"format": "allocation_csv"}, ALLOCATION, "allocation", 1),
    ("roster", "hr_roster_csv", {"format": "hr_roster_csv"}, ROSTER, "hr_roster", 1),
    ("leavers", "hr_leavers_csv", {"format": "hr_leavers_csv"}, LEAVERS, "hr_leavers", 1),
    ("absence", "esr_absence_csv", {"format": "esr_absence_csv"}, ESR, "esr_absence", 1),
    ("delivery", "postal_dispatch_csv", {"format": "postal_dispatch_csv"}, POSTAL, "postal_dispatch", 1),
    ("delivery", "exchange_message_trace_csv", EXCHANGE_SPEC, EXCHANGE, "message_trace", 1),
    ("survey", "redcap_csv", REDCAP_SPEC, [r for r in csv.reader(io.StringIO(redcap()))], "redcap_export", 1),
    (
        "survey",
        "qualtrics_csv",
        QUALTRICS_SPEC,
        [r for r in csv.reader(io.StringIO(qualtrics()))],
        "wellbeing",
        3,
    ),
]
# identifiers in the columns a partner adds: they must reach no table, log or reason
HIDDEN_EMAIL, HIDDEN_NUMBER = "private.person@home.example", "X9876543"
