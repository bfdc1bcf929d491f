"""Write simulated records in each partner's own export format (FEEDS.md).

One function per format: (study data, feed folder) -> files written.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from hhp.generator.simulate import StudyData
from hhp.instruments import ITEM_SCALES
from ingest import adapters


def _uk(d: date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else ""


def _csv(path: Path, header: list[str], rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
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
    return [_csv(folder / f"allocation_{_day0(data).isoformat()}.csv", adapters.allocation_csv.HEADER, rows)]


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
        files.append(_csv(folder / f"hr_roster_{snap.isoformat()}.csv", adapters.hr_roster_csv.HEADER, rows))
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
        files.append(
            _csv(folder / f"hr_leavers_{extract.isoformat()}.csv", adapters.hr_leavers_csv.HEADER, rows)
        )
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
        path = folder / f"hris_time_off_{extract.isoformat()}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            for p in data.participants:
                if p.hire_date > extract:
                    continue
                record = {
                    "worker_id": p.employee_number,
                    "extract_date": extract.isoformat(),
                    "time_off": by_worker.get(p.employee_number, []),
                }
                handle.write(json.dumps(record) + "\n")
        files.append(path)
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
    rows = []
    for d in sorted(data.deliveries, key=lambda d: d.received_at):
        t = d.received_at
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
    return [
        _csv(
            folder / f"message_trace_{(last + timedelta(days=3)).isoformat()}.csv",
            adapters.exchange_message_trace_csv.HEADER,
            rows,
        )
    ]


def qualtrics_csv(data: StudyData, folder: Path, rng) -> list[Path]:
    survey = data.study.feeds["survey"]
    partner_columns = [c for columns in survey["items"].values() for c in columns]
    canonical = data.study.survey_item_columns()
    as_text = survey.get("value_coding") == "choice_text"
    header = [*adapters.qualtrics_csv.METADATA, *partner_columns]
    questions = [
        *adapters.qualtrics_csv.METADATA[:-1],
        "Survey wave",
        *(f"Item {c}" for c in partner_columns),
    ]
    import_ids = [json.dumps({"ImportId": c}) for c in header]
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
            fmt = "%Y-%m-%d %H:%M:%S"
            rows.append(
                [
                    r.started_at.strftime(fmt),
                    r.recorded_at.strftime(fmt),
                    r.status,
                    _ip(rng),
                    r.progress,
                    int((r.recorded_at - r.started_at).total_seconds()),
                    "True" if r.finished else "False",
                    r.recorded_at.strftime(fmt),
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
                ]
            )
        extract = _day0(data) + timedelta(days=tp.window_end + 25)
        path = folder / f"wellbeing_{tp.name}_{extract.isoformat()}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerows([header, questions, import_ids, *rows])
        files.append(path)
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
        files.append(
            _csv(folder / f"esr_absence_{extract.isoformat()}.csv", adapters.esr_absence_csv.HEADER, rows)
        )
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
    middle = events[len(events) // 2]["timestamp"]
    files = []
    # two stream files that overlap by an hour of events
    for part, chosen in (
        ("a", [e for e in events if e["timestamp"] <= middle + 3600]),
        ("b", [e for e in events if e["timestamp"] > middle]),
    ):
        last = datetime.fromtimestamp(chosen[-1]["timestamp"], UTC).date() + timedelta(days=1)
        path = folder / f"sendgrid_events_{part}_{last.isoformat()}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(e) + "\n" for e in chosen), encoding="utf-8")
        files.append(path)
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
    return [_csv(path, adapters.postal_dispatch_csv.HEADER, rows)]


def xapi_statements_json(data: StudyData, folder: Path, rng) -> list[Path]:
    verbs = "http://adlnet.gov/expapi/verbs/"
    bst = timezone(timedelta(hours=1))
    statements = []
    for d in data.deliveries:
        steps = [("launched", d.launched_at)]
        if d.launched_at and d.completed_at:
            steps += [
                ("progressed", d.launched_at + (d.completed_at - d.launched_at) / 2),
                ("completed", d.completed_at),
            ]
        for verb, at in steps:
            if at is None:
                continue
            local = at.replace(tzinfo=UTC).astimezone(bst)  # the store records local time with offset
            statement = {
                "id": str(uuid.UUID(bytes=rng.bytes(16))),
                "actor": {"objectType": "Agent", "mbox": f"mailto:{d.participant.email}"},
                "verb": {"id": verbs + verb, "display": {"en-US": verb}},
                "object": {"id": f"https://learning.org.example/goal-setting/module/{d.week}"},
                "timestamp": local.isoformat(),
                "stored": (local + timedelta(seconds=2)).isoformat(),
            }
            if verb == "completed":
                statement["result"] = {"completion": True}
            statements.append(statement)
    statements.sort(key=lambda st: st["timestamp"])
    last = _day0(data) + timedelta(days=7 * int(data.study.contacts.get("count", 0)) + 14)
    path = folder / f"xapi_statements_{last.isoformat()}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"statements": statements, "more": ""}), encoding="utf-8")
    return [path]


REDCAP_EVENTS = {"baseline": "baseline_arm_1", "endline": "endline_arm_1", "followup": "followup_arm_1"}


def redcap_csv(data: StudyData, folder: Path, rng) -> list[Path]:
    survey = data.study.feeds["survey"]
    partner_columns = [c for columns in survey["items"].values() for c in columns]
    canonical = data.study.survey_item_columns()
    header = [*adapters.redcap_csv.METADATA, *partner_columns, "wellbeing_complete"]
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
            stamp = r.recorded_at.strftime("%Y-%m-%d %H:%M") if r.finished else "[not completed]"
            rows.append(
                [
                    r.participant.participant_id,
                    REDCAP_EVENTS[r.wave],
                    "",
                    "",
                    stamp,
                    *("" if v is None else v for v in values),
                    complete,
                ]
            )
        tp = next(t for t in data.study.timepoints if t.name == upto[-1])
        extract = _day0(data) + timedelta(days=tp.window_end + 20)
        files.append(_csv(folder / f"redcap_export_{extract.isoformat()}.csv", header, rows))
    return files


WRITERS: dict[str, Callable[[StudyData, Path, np.random.Generator], list[Path]]] = {
    "allocation_csv": allocation_csv,
    "hr_roster_csv": hr_roster_csv,
    "hr_leavers_csv": hr_leavers_csv,
    "hris_absence_json": hris_absence_json,
    "exchange_message_trace_csv": exchange_message_trace_csv,
    "qualtrics_csv": qualtrics_csv,
    "esr_absence_csv": esr_absence_csv,
    "sendgrid_events_jsonl": sendgrid_events_jsonl,
    "postal_dispatch_csv": postal_dispatch_csv,
    "xapi_statements_json": xapi_statements_json,
    "redcap_csv": redcap_csv,
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
