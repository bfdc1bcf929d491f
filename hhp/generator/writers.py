"""Write simulated records in each partner's own export format (FEEDS.md).

One function per format: (study data, feed folder) -> files written.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Callable
from datetime import date, timedelta
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
    day0 = _day0(data)
    files = []
    for extract in (day0 + timedelta(days=120), day0 + timedelta(days=data.study.hr_period_days + 60)):
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


WRITERS: dict[str, Callable[[StudyData, Path, np.random.Generator], list[Path]]] = {
    "allocation_csv": allocation_csv,
    "hr_roster_csv": hr_roster_csv,
    "hr_leavers_csv": hr_leavers_csv,
    "hris_absence_json": hris_absence_json,
    "exchange_message_trace_csv": exchange_message_trace_csv,
    "qualtrics_csv": qualtrics_csv,
}


def write_study(data: StudyData, out: Path, seed: int) -> list[Path]:
    rng = np.random.default_rng([seed, 7])
    files = []
    for feed, spec in data.study.feeds.items():
        writer = WRITERS.get(spec["format"])
        if writer is None:
            raise NotImplementedError(f"no generator for format {spec['format']} yet")
        files += writer(data, out / data.study.study_id / feed, rng)
    return files
