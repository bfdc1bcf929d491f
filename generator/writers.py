"""Write simulated records in each partner's own export format (docs/feeds.md).

One function per format: (study data, feed folder) -> files written. A study's registry
entry may ask for real exports' variants (generator.export_variants, by format; docs/feeds.md):
columns in another order, columns the feed does not need, a byte-order
mark and CRLF, gzip, and each system's own ones. They change how a file is written, never
what it says: truth.json is the same with or without them.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from generator.simulate import StudyData
from hhp.formats import FORMATS
from hhp.instruments import ITEM_SCALES
from ingest import adapters


def _uk(d: date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else ""


DECLARED_ZONE = "Europe/London"  # the zone a 'declared_zones' Qualtrics export is in


def _variants(data: StudyData, fmt: str) -> set[str]:
    return set((data.study.generator.get("export_variants") or {}).get(fmt, ()))


# columns real exports carry that no feed needs: (name, value for row i); none is read
EXTRA_COLUMNS = [("Cost Centre", lambda i: f"CC{4000 + i % 37}"), ("Exported By", lambda i: "hr.reporting")]


def _csv(
    path: Path, header: list[str], rows: list[list], variants: set[str] = frozenset(),
    preamble: list[str] = (), header_rows: list[list] = (),
) -> Path:  # fmt: skip
    """Write a CSV file, in the variants asked for: 'shuffled' (columns reversed),
    'extra_columns', 'bom_crlf' (a byte-order mark and CRLF line ends) and 'gzip'."""
    header, rows, header_rows = list(header), [list(r) for r in rows], [list(r) for r in header_rows]
    if "extra_columns" in variants:
        header += [name for name, _ in EXTRA_COLUMNS]
        header_rows = [r + [name for name, _ in EXTRA_COLUMNS] for r in header_rows]
        rows = [r + [value(i) for _, value in EXTRA_COLUMNS] for i, r in enumerate(rows)]
    if "shuffled" in variants:
        header, rows, header_rows = header[::-1], [r[::-1] for r in rows], [r[::-1] for r in header_rows]
    ending = "\r\n" if "bom_crlf" in variants or preamble else "\n"
    text = io.StringIO(newline="")
    for line in preamble:
        text.write(line + ending)
    writer = csv.writer(text, lineterminator=ending, quoting=csv.QUOTE_ALL if preamble else csv.QUOTE_MINIMAL)
    writer.writerows([header, *header_rows, *rows])
    content = ("\ufeff" if "bom_crlf" in variants else "") + text.getvalue()
    return _write(path, content, variants)


def _write(path: Path, content: str, variants: set[str] = frozenset()) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if "gzip" in variants:
        path = path.with_name(path.name + ".gz")
        # mtime fixed: the same seed writes the same bytes
        path.write_bytes(gzip.compress(content.encode("utf-8"), mtime=0))
    else:
        path.write_bytes(content.encode("utf-8"))
    return path


def _ip(rng: np.random.Generator) -> str:
    return "10.{}.{}.{}".format(*rng.integers(1, 255, 3))


def _day0(data: StudyData) -> date:
    return date.fromisoformat(data.study.generator["randomised_on"])


def allocation_csv(data: StudyData, folder: Path, rng) -> list[Path]:
    rows = [
        [
            p.participant_id,
            p.employee_number,
            p.email,
            p.arm,
            p.randomised_on.isoformat(),
            p.stratum or "",
            p.cluster_id or "",
        ]
        for p in data.participants
    ]
    path = folder / f"allocation_{_day0(data).isoformat()}.csv"
    return [_csv(path, adapters.allocation_csv.HEADER, rows, _variants(data, "allocation_csv"))]


def _month_ends(start: date, end: date) -> list[date]:
    out, current = [], date(start.year, start.month, 1)
    while current <= end:
        following = date(current.year + current.month // 12, current.month % 12 + 1, 1)
        out.append(following - timedelta(days=1))
        current = following
    return out


def hr_roster_csv(data: StudyData, folder: Path, rng) -> list[Path]:
    day0 = _day0(data)
    snapshots = _month_ends(day0 - timedelta(days=60), day0 + timedelta(days=data.study.hr_period_days))
    files = []
    for snap in snapshots:
        rows = []
        for p in data.participants:
            if p.hire_date > snap or (p.termination_date and p.termination_date < snap):
                continue
            fte = p.fte
            if p.fte_change and p.fte_change[0] <= snap:
                fte = p.fte_change[1]
            rows.append(
                [
                    snap.isoformat(),
                    p.employee_number,
                    p.hire_date.isoformat(),
                    f"{fte:.2f}",
                    f"{37 * fte:.1f}",
                    p.org_unit,
                    p.grade,
                    p.job_role,
                ]
            )
        path = folder / f"hr_roster_{snap.isoformat()}.csv"
        files.append(_csv(path, adapters.hr_roster_csv.HEADER, rows, _variants(data, "hr_roster_csv")))
    return files


def hr_leavers_csv(data: StudyData, folder: Path, rng) -> list[Path]:
    day0 = _day0(data)
    files = []
    # cumulative extracts: a leaver appears again in every later extract
    for extract in (day0 + timedelta(days=120), day0 + timedelta(days=data.study.hr_period_days + 70)):
        rows = [
            [p.employee_number, _uk(p.termination_date), p.leaving_reason, _uk(p.notice_given_date)]
            for p in data.participants
            if p.termination_date and p.termination_date <= extract
        ]
        path = folder / f"hr_leavers_{extract.isoformat()}.csv"
        files.append(_csv(path, adapters.hr_leavers_csv.HEADER, rows, _variants(data, "hr_leavers_csv")))
    return files


def hris_absence_json(data: StudyData, folder: Path, rng) -> list[Path]:
    files = []
    for extract in _absence_extracts(data):
        by_worker: dict[str, list[dict]] = {}
        for a in data.absences:
            if a.start > extract:
                continue
            ongoing = a.end > extract  # still open on the extract date: no end yet
            days = ((extract if ongoing else a.end) - a.start).days + 1
            in_hours = rng.random() < 0.5
            by_worker.setdefault(a.participant.employee_number, []).append(
                {
                    "type": a.type,
                    "reason": a.reason,
                    "start": a.start.isoformat(),
                    "end": None if ongoing else a.end.isoformat(),
                    "quantity": round(days * 7.4 * a.participant.fte, 1) if in_hours else days,
                    "unit": "HOURS" if in_hours else "DAYS",
                }
            )
        lines = [
            json.dumps(
                {
                    "worker_id": p.employee_number,
                    "extract_date": extract.isoformat(),
                    "time_off": by_worker.get(p.employee_number, []),
                }
            )
            + "\n"
            for p in data.participants
            if p.hire_date <= extract
        ]
        path = folder / f"hris_time_off_{extract.isoformat()}.jsonl"
        files.append(_write(path, "".join(lines), _variants(data, "hris_absence_json")))
    return files


def exchange_message_trace_csv(data: StudyData, folder: Path, rng) -> list[Path]:
    themes = (
        "Why your work matters",
        "Learning from mistakes",
        "Asking for help",
        "Recognition",
        "Belonging",
        "Growth",
        "Balance",
        "Looking ahead",
    )
    sender = f"director.general@{data.study.generator['org_domain']}"
    uk = data.study.feeds["delivery"].get("received_locale") == "UK"
    rows = []
    for d in sorted(data.deliveries, key=lambda d: d.received_at):
        t = d.received_at
        if uk:
            received = t.strftime("%d/%m/%Y %H:%M:%S")
        else:
            received = f"{t.month}/{t.day}/{t.year} {t.strftime('%I').lstrip('0')}:{t:%M:%S %p}"
        rows.append(
            [
                received,
                sender,
                d.participant.email,
                f"Week {d.week}: {themes[d.week - 1]}",
                d.status,
                _ip(rng),
                _ip(rng),
                int(rng.integers(20_000, 60_000)),
                f"<{uuid.UUID(bytes=rng.bytes(16))}@mail.example>",
                str(uuid.UUID(bytes=rng.bytes(16))),
            ]
        )
    last = max((d.received_at.date() for d in data.deliveries), default=_day0(data))
    path = folder / f"message_trace_{(last + timedelta(days=3)).isoformat()}.csv"
    header = adapters.exchange_message_trace_csv.HEADER
    if "powershell_every_property" in _variants(data, "exchange_message_trace_csv"):
        return [_powershell_export(path, header, rows, last)]
    return [_csv(path, header, rows)]


def _powershell_export(path: Path, header: list[str], rows: list[list], last: date) -> Path:
    """Get-MessageTrace | Export-Csv in Windows PowerShell 5.1: a #TYPE line, every property of
    a trace in its own order, every field quoted, CRLF."""
    start, end = (last - timedelta(days=10)).strftime("%d/%m/%Y 00:00:00"), last.strftime("%d/%m/%Y 00:00:00")
    order = ["PSComputerName", "RunspaceId", "PSShowComputerName", "Organization", "MessageId", "Received",
             "SenderAddress", "RecipientAddress", "Subject", "Status", "ToIP", "FromIP", "Size",
             "MessageTraceId", "StartDate", "EndDate", "Index"]  # fmt: skip
    runspace = "4b2c6f0e-8a55-4d1e-9b7a-0c3f1e2d5a6b"
    every = []
    for index, row in enumerate(rows):
        values = dict(zip(header, row, strict=True))
        values |= {"PSComputerName": "outlook.office365.com", "RunspaceId": runspace,
                   "PSShowComputerName": "False", "Organization": "org.onmicrosoft.com",
                   "StartDate": start, "EndDate": end, "Index": index}  # fmt: skip
        every.append([values[name] for name in order])
    preamble = ["#TYPE Deserialized.Microsoft.Exchange.Management.FfoReporting.MessageTrace"]
    return _csv(path, order, every, preamble=preamble)


# what real Qualtrics exports carry besides the feed's columns (none is read)
QUALTRICS_EXTRA = [
    ("Q_RecaptchaScore", "Q_RecaptchaScore", lambda r, rng: f"{0.5 + rng.random() / 2:.1f}"),
    ("Q_RelevantIDDuplicate", "Q_RelevantIDDuplicate", lambda r, rng: ""),
    ("Q9", "Anything else you would like to tell us?", lambda r, rng: "More time to reflect, please"),
    ("Q9 - Topics", "Q9 - Topics", lambda r, rng: "Workload"),
    ("Q1_DO", "Q1 - Display Order", lambda r, rng: "1|2|3|4|5|6|7"),
]
# an export "with numeric values" codes Status as the adapter decodes it
QUALTRICS_STATUS_CODES = {label: code for code, label in adapters.qualtrics_csv.STATUS_CODES.items()}


def qualtrics_csv(data: StudyData, folder: Path, rng) -> list[Path]:
    """The variants: 'numeric_values' (Status and Finished coded too), 'declared_zones' (dates in
    the zone row 3 declares), 'extra_columns' (the columns real exports add), 'bom_crlf'."""
    survey = data.study.feeds["survey"]
    variants = _variants(data, "qualtrics_csv")
    partner_columns = [c for columns in survey["items"].values() for c in columns]
    canonical = data.study.survey_item_columns()
    as_text = survey.get("value_coding") == "choice_text"
    numeric = "numeric_values" in variants
    zone = ZoneInfo(DECLARED_ZONE) if "declared_zones" in variants else None
    extras = QUALTRICS_EXTRA if "extra_columns" in variants else []
    metadata = adapters.qualtrics_csv.METADATA
    header = [*metadata, *partner_columns, *(name for name, _, _ in extras)]
    questions = [*metadata[:-1], "Survey wave", *(f"Item {c}" for c in partner_columns),
                 *(question for _, question, _ in extras)]  # fmt: skip
    date_ids = {"StartDate": "startDate", "EndDate": "endDate", "RecordedDate": "recordedDate"}

    def import_id(column: str) -> str:
        if zone and column in date_ids:
            declared = {"ImportId": date_ids[column], "timeZone": DECLARED_ZONE}
            return json.dumps(declared, separators=(",", ":"))
        return json.dumps({"ImportId": column})

    def stamp(at: datetime) -> str:
        local = at.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None) if zone else at
        return local.strftime("%Y-%m-%d %H:%M:%S")

    import_ids = [import_id(c) for c in header]
    files = []
    for tp in data.study.timepoints:
        responses = sorted((r for r in data.responses if r.wave == tp.name), key=lambda r: r.recorded_at)
        rows = []
        for r in responses:
            p = r.participant
            values = []
            for column in partner_columns:
                code = r.codes.get(canonical[column])
                values.append(
                    "" if code is None else ITEM_SCALES[canonical[column]][code - 1] if as_text else code
                )
            if numeric:
                status, finished = QUALTRICS_STATUS_CODES[r.status], "1" if r.finished else "0"
            else:
                status, finished = r.status, "True" if r.finished else "False"
            rows.append(
                [
                    stamp(r.started_at),
                    stamp(r.recorded_at),
                    status,
                    _ip(rng),
                    r.progress,
                    int((r.recorded_at - r.started_at).total_seconds()),
                    finished,
                    stamp(r.recorded_at),
                    f"R_{rng.bytes(8).hex()[:15]}",
                    p.last_name,
                    p.first_name,
                    p.email,
                    p.participant_id,
                    "51.5",
                    "-0.1",
                    "email",
                    "EN",
                    tp.name,
                    *values,
                    *(value(r, rng) for _, _, value in extras),
                ]
            )
        extract = _day0(data) + timedelta(days=tp.window_end + 25)
        path = folder / f"wellbeing_{tp.name}_{extract.isoformat()}.csv"
        shape = variants & {"bom_crlf", "gzip"}
        files.append(_csv(path, header, rows, shape, header_rows=[questions, import_ids]))
    return files


ESR_TYPES = {"SICK": "Sickness", "ANNUAL": "Annual Leave", "PARENTAL": "Maternity", "OTHER": "Special Leave"}
ESR_REASONS = {
    "stress": "S10 Anxiety/stress/depression/other psychiatric illnesses",
    "anxiety": "S10 Anxiety/stress/depression/other psychiatric illnesses",
    "depression": "S10 Anxiety/stress/depression/other psychiatric illnesses",
    "musculoskeletal": "S11 Back Problems",
    "respiratory": "S13 Cold, Cough, Flu - Influenza",
    "gastro": "S25 Gastrointestinal problems",
    "other": "S98 Other known causes - not elsewhere classified",
}


def _absence_extracts(data: StudyData) -> tuple[date, date]:
    day0 = _day0(data)
    return day0 + timedelta(days=120), day0 + timedelta(days=data.study.hr_period_days + 60)


def esr_absence_csv(data: StudyData, folder: Path, rng) -> list[Path]:
    files = []
    for extract in _absence_extracts(data):  # cumulative: the later extract repeats the earlier
        rows = []
        for a in sorted(data.absences, key=lambda a: (a.start, a.participant.employee_number)):
            if a.start > extract:
                continue
            ongoing = a.end > extract
            days = ((extract if ongoing else a.end) - a.start).days + 1
            reason = ESR_REASONS[a.reason] if a.reason else ""
            rows.append(
                [
                    a.participant.employee_number,
                    ESR_TYPES[a.type],
                    reason,
                    _uk(a.start),
                    "" if ongoing else _uk(a.end),
                    days,
                    round(days * a.participant.fte, 2),
                ]
            )
        path = folder / f"esr_absence_{extract.isoformat()}.csv"
        files.append(_csv(path, adapters.esr_absence_csv.HEADER, rows, _variants(data, "esr_absence_csv")))
    return files


def sendgrid_events_jsonl(data: StudyData, folder: Path, rng) -> list[Path]:
    events = []
    for d in data.deliveries:
        message = f"{rng.bytes(8).hex()}.filter{int(rng.integers(1, 99))}"
        base = {
            "email": d.participant.email,
            "sg_message_id": message,
            "study_message_no": str(d.week),
            "category": "wellbeing" if rng.random() < 0.5 else ["wellbeing", f"week-{d.week}"],
        }
        t = int(d.received_at.replace(tzinfo=UTC).timestamp())

        def event(kind: str, at: int, base: dict = base, **extra) -> None:
            events.append(
                {**base, "event": kind, "timestamp": at, "sg_event_id": rng.bytes(12).hex(), **extra}
            )

        event("processed", t)
        if d.status == "Delivered":
            event("delivered", t + int(rng.integers(1, 60)))
        else:
            event("bounce", t + 30, reason="550 mailbox unavailable", type="bounce")
        for _ in range(d.machine_opens):
            event("open", t + 90, sg_machine_open=True, useragent="Mozilla/5.0", ip=_ip(rng))
        for k in range(d.human_opens):
            event("open", t + 3600 * (k + 1), sg_machine_open=False, useragent="Mozilla/5.0", ip=_ip(rng))
        for _ in range(d.clicks):
            event("click", t + 3700, url="https://stories.example/read", useragent="Mozilla/5.0", ip=_ip(rng))
    events.sort(key=lambda e: e["timestamp"])
    # the webhook delivers at least once: some events arrive twice
    for i in rng.choice(len(events), size=max(1, len(events) // 50), replace=False) if events else []:
        events.append(dict(events[int(i)]))
    events.sort(key=lambda e: e["timestamp"])
    if not events:
        return []
    variants = _variants(data, "sendgrid_events_jsonl")
    if "unused_events" in variants:  # SendGrid's other types: counted, not loaded (no truth in them)
        who = events[0]["email"]
        events.append({"email": who, "event": "group_unsubscribe", "asm_group_id": 42,
                       "timestamp": events[-1]["timestamp"], "sg_event_id": rng.bytes(12).hex()})  # fmt: skip
        events.append({"event": "account_status_change", "type": "compliance_suspend",
                       "timestamp": events[-1]["timestamp"], "sg_event_id": rng.bytes(12).hex()})  # fmt: skip
    middle = events[len(events) // 2]["timestamp"]
    files = []
    # two stream files that overlap by an hour of events
    for part, chosen in (
        ("a", [e for e in events if e["timestamp"] <= middle + 3600]),
        ("b", [e for e in events if e["timestamp"] > middle]),
    ):
        last = datetime.fromtimestamp(chosen[-1]["timestamp"], UTC).date() + timedelta(days=1)
        path = folder / f"sendgrid_events_{part}_{last.isoformat()}.jsonl"
        if "webhook_bodies" in variants:
            # the raw request bodies: a JSON array of up to 25 events, joined by ',' and CRLF
            bodies = [chosen[i : i + 25] for i in range(0, len(chosen), 25)]
            content = "".join("[" + ",\r\n".join(json.dumps(e) for e in b) + "]\n" for b in bodies)
        else:
            content = "".join(json.dumps(e) + "\n" for e in chosen)
        files.append(_write(path, content, variants & {"gzip"}))
    return files


def postal_dispatch_csv(data: StudyData, folder: Path, rng) -> list[Path]:
    rows = [
        [
            d.participant.participant_id,
            f"L{d.week}-{d.participant.participant_id}",
            d.received_at.date().isoformat(),
            "Y" if d.returned_on else "N",
            d.returned_on.isoformat() if d.returned_on else "",
        ]
        for d in data.deliveries
    ]
    last = max((d.returned_on or d.received_at.date() for d in data.deliveries), default=_day0(data))
    path = folder / f"postal_dispatch_{(last + timedelta(days=2)).isoformat()}.csv"
    return [_csv(path, adapters.postal_dispatch_csv.HEADER, rows, _variants(data, "postal_dispatch_csv"))]


def _actor(data: StudyData, participant) -> dict:
    """The actor as the study's learning record store names people (registry)."""
    spec = data.study.feeds["delivery"]
    identifier = spec.get("actor_identifier", "mbox")
    if identifier == "account":
        holds_employee = spec.get("account_name") == "employee_number"
        name = participant.employee_number if holds_employee else participant.email
        return {"objectType": "Agent", "account": {"homePage": "https://learning.org.example", "name": name}}
    if identifier == "mbox_sha1sum":
        digest = hashlib.sha1(f"mailto:{participant.email.lower()}".encode()).hexdigest()
        return {"objectType": "Agent", "mbox_sha1sum": digest}
    return {"objectType": "Agent", "mbox": f"mailto:{participant.email}"}


def xapi_statements_json(data: StudyData, folder: Path, rng) -> list[Path]:
    """The variants: 'void_a_completion' (a completion recorded in error, voided in a later page
    of the export, so it must not count) and 'offsetless_timestamps' (UTC, without a zone)."""
    verbs = "http://adlnet.gov/expapi/verbs/"
    bst = timezone(timedelta(hours=1))
    variants = _variants(data, "xapi_statements_json")
    statements = []

    def statement(d, verb: str, at: datetime) -> dict:
        when = at.replace(tzinfo=UTC)
        if "offsetless_timestamps" in variants:
            shown = when.replace(tzinfo=None)
        else:
            shown = when.astimezone(bst)  # the store records local time with offset
        made = {
            "id": str(uuid.UUID(bytes=rng.bytes(16))),
            "actor": _actor(data, d.participant),
            "verb": {"id": verbs + verb, "display": {"en-US": verb}},
            "object": {"id": f"https://learning.org.example/goal-setting/module/{d.week}"},
            "timestamp": shown.isoformat(),
            "stored": (shown + timedelta(seconds=2)).isoformat(),
        }
        if verb == "completed":
            made["result"] = {"completion": True}
        return made

    for d in data.deliveries:
        steps = [("launched", d.launched_at)]
        if d.launched_at and d.completed_at:
            steps += [
                ("progressed", d.launched_at + (d.completed_at - d.launched_at) / 2),
                ("completed", d.completed_at),
            ]
        statements += [statement(d, verb, at) for verb, at in steps if at is not None]
    statements.sort(key=lambda st: st["timestamp"])
    last = _day0(data) + timedelta(days=7 * int(data.study.contacts.get("count", 0)) + 14)
    pages = [statements]
    launched_only = [d for d in data.deliveries if d.launched_at and not d.completed_at]
    if "void_a_completion" in variants and launched_only:
        d = launched_only[0]
        mistaken = statement(d, "completed", d.launched_at + timedelta(minutes=5))
        voiding = {
            "id": str(uuid.UUID(bytes=rng.bytes(16))),
            "actor": {"objectType": "Agent", "account": {"homePage": "https://learning.org.example",
                                                         "name": "lrs-administrator"}},
            "verb": {"id": verbs + "voided", "display": {"en-US": "voided"}},
            "object": {"objectType": "StatementRef", "id": mistaken["id"]},
            "timestamp": (d.launched_at + timedelta(days=1)).replace(tzinfo=UTC).isoformat(),
        }  # fmt: skip
        pages = [[*statements, mistaken], [voiding]]
    files = []
    for number, page in enumerate(pages, start=1):
        more = f"/xapi/statements?more=page{number + 1}" if number < len(pages) else ""
        name = "xapi_statements" if len(pages) == 1 else f"xapi_statements_page{number}"
        path = folder / f"{name}_{(last + timedelta(days=number - 1)).isoformat()}.json"
        files.append(_write(path, json.dumps({"statements": page, "more": more}), variants & {"gzip"}))
    return files


REDCAP_EVENTS = {"baseline": "baseline_arm_1", "endline": "endline_arm_1", "followup": "followup_arm_1"}


def redcap_csv(data: StudyData, folder: Path, rng) -> list[Path]:
    """The variants: 'survey_fields' (timestamps with seconds and the redcap_survey_identifier
    column, which holds the participant's email), 'no_repeat_columns' (a project without
    repeating forms), 'data_access_groups' and 'other_forms' (rows of a repeating instrument
    and of an event the study does not use, which are not survey responses)."""
    survey = data.study.feeds["survey"]
    variants = _variants(data, "redcap_csv")
    partner_columns = [c for columns in survey["items"].values() for c in columns]
    canonical = data.study.survey_item_columns()
    record_id = survey.get("record_id_field", "record_id")
    repeat = [] if "no_repeat_columns" in variants else ["redcap_repeat_instrument", "redcap_repeat_instance"]
    dag = ["redcap_data_access_group"] if "data_access_groups" in variants else []
    identifier = ["redcap_survey_identifier"] if "survey_fields" in variants else []
    header = [record_id, "redcap_event_name", *repeat, *dag, *identifier, "wellbeing_timestamp",
              *partner_columns, "wellbeing_complete"]  # fmt: skip
    stamp_format = "%Y-%m-%d %H:%M:%S" if "survey_fields" in variants else "%Y-%m-%d %H:%M"
    zone = ZoneInfo(survey.get("time_zone") or "UTC")  # the REDCap server's clock (registry)
    # REDCap keeps one record per participant per event: the later answer overwrites
    latest = {}
    for r in sorted(data.responses, key=lambda r: r.recorded_at):
        if r.status == "IP Address":
            latest[(r.participant.participant_id, r.wave)] = r
    files = []
    waves = [tp.name for tp in data.study.timepoints]
    # cumulative exports: after baseline, then after the last wave
    for upto in (waves[:1], waves):
        chosen = [r for (pid, wave), r in sorted(latest.items()) if wave in upto]
        rows = []
        for r in chosen:
            values = [r.codes.get(canonical[c]) for c in partner_columns]
            complete = "2" if r.finished else "0"
            local = r.recorded_at.replace(tzinfo=UTC).astimezone(zone)
            stamp = local.strftime(stamp_format) if r.finished else "[not completed]"
            rows.append(
                [
                    r.participant.participant_id,
                    REDCAP_EVENTS[r.wave],
                    *([""] * len(repeat)),
                    *(["site_" + (r.participant.stratum or "a").lower()[:5]] if dag else []),
                    *([r.participant.email] if identifier else []),
                    stamp,
                    *("" if v is None else v for v in values),
                    complete,
                ]
            )
            if "other_forms" in variants and repeat and r.wave == waves[0]:
                # a repeating contact-log form, and a screening event the study does not use
                blank = [""] * (len(partner_columns) + 1)
                rows.append([r.participant.participant_id, REDCAP_EVENTS[r.wave], "contact_log", "1",
                             *([""] * (len(dag) + len(identifier))), *blank, ""])  # fmt: skip
                rows.append([r.participant.participant_id, "screening_arm_1", "", "",
                             *([""] * (len(dag) + len(identifier))), *blank, ""])  # fmt: skip
        tp = next(t for t in data.study.timepoints if t.name == upto[-1])
        extract = _day0(data) + timedelta(days=tp.window_end + 20)
        path = folder / f"redcap_export_{extract.isoformat()}.csv"
        files.append(_csv(path, header, rows, variants & {"bom_crlf", "gzip", "shuffled"}))
    return files


def withdrawal_csv(data: StudyData, folder: Path, rng) -> list[Path]:
    """The trial team's cumulative register: one file two months in, one at the HR period's end."""
    files = []
    day0 = _day0(data)
    for extract in (day0 + timedelta(days=60), day0 + timedelta(days=data.study.hr_period_days + 14)):
        rows = [
            [w.participant.participant_id, w.withdrawn_on.isoformat(), w.level, w.reason_code or ""]
            for w in data.withdrawals
            if w.withdrawn_on <= extract
        ]
        path = folder / f"withdrawals_{extract.isoformat()}.csv"
        files.append(_csv(path, adapters.withdrawal_csv.HEADER, rows, _variants(data, "withdrawal_csv")))
    return files


# one writer per format, named after it (hhp.formats lists the formats)
WRITERS: dict[str, Callable[[StudyData, Path, np.random.Generator], list[Path]]] = {
    fmt: globals()[fmt] for fmt in FORMATS
}


def write_study(data: StudyData, out: Path, seed: int) -> list[Path]:
    rng = np.random.default_rng([seed, 7])
    files = []
    for feed, spec in data.study.feeds.items():
        writer = WRITERS.get(spec["format"])
        if writer is None:
            raise NotImplementedError(f"no generator for format {spec['format']} yet")
        files += writer(data, out / data.study.study_id / feed, rng)
    # a partner re-sends a file unchanged under a new name
    roster = sorted((out / data.study.study_id / "roster").glob("hr_roster_*.csv"))
    if roster:
        resent = roster[0].with_name(f"hr_roster_resent_{roster[-1].stem[-10:]}.csv")
        resent.write_bytes(roster[0].read_bytes())
        files.append(resent)
    return files
