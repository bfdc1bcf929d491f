"""Whether each feed's files arrive when the registry says they are due (its `cadence`), from
the ledger's loaded files and their extract dates, counted from the study's randomisation (the
earliest randomised_on in its loaded allocation). `hhp status` shows it; the gate warns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from hhp.ledger import EXTRACT_DATE, LOADED, TABLE
from hhp.registry import Study
from hhp.warehouse import Warehouse


@dataclass(frozen=True)
class Freshness:
    study_id: str
    feed: str
    last_file: str | None
    last_extract: date | None
    due_by: date | None  # the next file's latest extract date; None when the feed is complete
    overdue: bool
    detail: str


NO_ALLOCATION = "no allocation loaded yet: nothing is due before randomisation"


def today() -> date:
    return datetime.now(UTC).date()


def _day0(wh: Warehouse, study: Study) -> date | None:
    if not wh.table_exists("raw", "allocation_csv"):
        return None
    return wh.query(
        "select min(randomised_on) from raw.allocation_csv where study_id = %s", [study.study_id]
    )[0][0]


def _last_files(wh: Warehouse, study: Study) -> dict[str, tuple[str, date]]:
    """Per feed, the loaded file with the latest extract date."""
    if not wh.table_exists("ops", "landed_files"):
        return {}
    latest: dict[str, tuple[str, date]] = {}
    for file_key, feed in wh.query(
        f"select file_key, feed from {TABLE} where study_id = %s and state = %s", [study.study_id, LOADED]
    ):
        match = EXTRACT_DATE.search(file_key)
        if match and (feed not in latest or match.group(1) > latest[feed][1].isoformat()):
            latest[feed] = (file_key, date.fromisoformat(match.group(1)))
    return latest


def _due(study: Study, cadence: dict, day0: date, last: date | None, as_of: date) -> tuple[date | None, str]:
    """(the date by which the next file is due, or None if the feed is complete; why)."""
    if cadence.get("every_days"):
        every = timedelta(days=cadence["every_days"])
        if cadence.get("until") == "contacts":
            end, what = day0 + timedelta(days=7 * int(study.contacts.get("count", 0))), "the contacts"
        else:
            end, what = day0 + timedelta(days=study.hr_period_days), "the HR outcome period"
        if last is not None and last >= end:
            return None, f"complete: a file extracted on or after the end of {what} ({end})"
        return (
            last or day0
        ) + every, f"a file every {cadence['every_days']} days until the end of {what} ({end})"
    grace = timedelta(days=cadence["after_window_days"])
    closed = [tp for tp in study.timepoints if day0 + timedelta(days=tp.window_end) + grace < as_of]
    pending = [tp for tp in study.timepoints if tp not in closed]
    needed = max(closed, key=lambda tp: tp.window_end, default=None)
    if needed is not None and (last is None or last < day0 + timedelta(days=needed.window_end)):
        closes = day0 + timedelta(days=needed.window_end)
        return (
            closes + grace,
            f"an export within {grace.days} days after the {needed.name} window closed ({closes})",
        )
    if not pending:
        return None, "complete: an export after every timepoint's window"
    nxt = min(pending, key=lambda tp: tp.window_end)
    closes = day0 + timedelta(days=nxt.window_end)
    return closes + grace, f"an export within {grace.days} days after the {nxt.name} window closes ({closes})"


def feed_freshness(wh: Warehouse, study: Study, as_of: date | None = None) -> list[Freshness]:
    """Each feed of the study that declares a cadence, as of a date (today, UTC)."""
    as_of = as_of or today()
    day0, latest, out = _day0(wh, study), _last_files(wh, study), []
    for feed, spec in study.feeds.items():
        cadence = spec.get("cadence")
        if not cadence:
            continue
        last_file, last = latest.get(feed, (None, None))
        if day0 is None:
            out.append(
                Freshness(study.study_id, feed, last_file, last, None, False, "no allocation loaded yet")
            )
            continue
        due_by, why = _due(study, cadence, day0, last, as_of)
        overdue = due_by is not None and as_of > due_by
        detail = (f"overdue since {due_by}: " if overdue else "") + why
        out.append(Freshness(study.study_id, feed, last_file, last, due_by, overdue, detail))
    return out
