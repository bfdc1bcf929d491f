"""Data releases (docs/instruments.md, "Data releases, interim analyses and the database
lock"): a named, immutable set of loaded files with a cut-off date.

The record of each release lives here, in the transformer's own `ops` tables: its name, cut,
who made it and when, the files it holds (key and sha256), the studies the quality gate had
withheld, and per study and arm how many of its participants were erased, then or since (its
participant flow counts them as randomised and not analysed). Its data are the `releases`
schema's snapshots, which dbt writes once, for a release in state `pending`
(dbt_project/models/releases); an erasure deletes its people from them too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from hhp import ledger
from hhp.errors import ExpectedError
from hhp.warehouse import Warehouse

TABLE = "ops.data_releases"
COLUMNS = [
    ("release_name", "text"),
    ("cut_on", "date"),
    ("state", "text"),  # pending (dbt is writing its snapshots) | created
    ("created_by", "text"),
    ("created_at", "timestamp"),
    ("files", "bigint"),
    ("file_set", "text"),  # ledger.data_release: the files' count and a digest of their sha256
    ("withheld", "text"),  # JSON {study_id: [reasons]}: the gate's verdict when it was made
]
FILES = "ops.data_release_files"
FILE_COLUMNS = [("release_name", "text"), ("file_key", "text"), ("sha256", "text")]
ERASURES = "ops.data_release_erasures"
ERASURE_COLUMNS = [
    ("release_name", "text"),
    ("study_id", "text"),
    ("arm", "text"),
    ("participants", "bigint"),
    ("erased_at", "timestamp"),
]
PENDING, CREATED = "pending", "created"
# The database lock: a study's final analysis runs on the release it is locked on; once only
LOCKS = "ops.study_locks"
LOCK_COLUMNS = [
    ("study_id", "text"),
    ("release_name", "text"),
    ("locked_by", "text"),
    ("locked_at", "timestamp"),
]
# every table the release's snapshots live in (dbt_project/models/releases), for a clean-up
SNAPSHOTS = ("rel_studies", "rel_participants", "rel_outcomes", "rel_engagement")

# a name is a path segment of the report's folder and an argument people type: nothing else
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


class ReleaseRefused(ExpectedError):
    """No release was made, or none found."""


@dataclass(frozen=True)
class Release:
    name: str
    cut_on: date
    state: str
    created_by: str
    created_at: datetime  # UTC
    files: int
    file_set: str
    withheld: dict[str, list[str]]


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise ReleaseRefused(
            f"release name {name!r}: use 1 to 63 lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def ensure(wh: Warehouse) -> None:
    wh.ensure_table(TABLE, COLUMNS)
    wh.ensure_table(FILES, FILE_COLUMNS)
    wh.ensure_table(ERASURES, ERASURE_COLUMNS)
    wh.ensure_table(LOCKS, LOCK_COLUMNS)


def releases(wh: Warehouse) -> list[Release]:
    """Every release made, oldest first."""
    if not wh.table_exists("ops", "data_releases"):
        return []
    rows = wh.query(
        f"select {', '.join(c for c, _ in COLUMNS)} from {TABLE} order by created_at, release_name"
    )
    return [Release(*row[:7], json.loads(row[7] or "{}")) for row in rows]


def find(wh: Warehouse, name: str) -> Release:
    for release in releases(wh):
        if release.name == name and release.state == CREATED:
            return release
    raise ReleaseRefused(f"no data release named {name!r}: `hhp release list` shows those made")


def begin(wh: Warehouse, name: str, cut_on: date, file_set: str, withheld: dict[str, list[str]]) -> None:
    """Record the release as pending, with the files loaded now and the erasures so far, in one
    transaction; dbt then writes its snapshots. Refuses a name already taken."""
    ensure(wh)
    with wh.transaction():
        if wh.query(f"select 1 from {TABLE} where release_name = %s", [name]):
            raise ReleaseRefused(f"a data release named {name!r} exists already: releases never change")
        wh.execute(
            f"insert into {FILES} (release_name, file_key, sha256) "
            "select %s, file_key, sha256 from ops.landed_files where state = 'loaded'",
            [name],
        )
        (files,) = wh.query(f"select count(*) from {FILES} where release_name = %s", [name])[0]
        if wh.table_exists("ops", "erasures"):
            wh.execute(
                f"insert into {ERASURES} (release_name, study_id, arm, participants, erased_at) "
                "select %s, study_id, arm, sum(participants), max(erased_at) from ops.erasures "
                "group by study_id, arm",
                [name],
            )
        wh.execute(
            f"insert into {TABLE} ({', '.join(c for c, _ in COLUMNS)}) "
            f"values ({', '.join(['%s'] * len(COLUMNS))})",
            [
                name,
                cut_on,
                PENDING,
                ledger.login(),
                _now(),
                files,
                file_set,
                json.dumps(withheld, sort_keys=True),
            ],
        )


def finish(wh: Warehouse, name: str) -> None:
    wh.execute(f"update {TABLE} set state = %s where release_name = %s", [CREATED, name])


def discard(wh: Warehouse, name: str | None = None) -> None:
    """Remove a release that was never finished (`name`, or every pending one), snapshots too."""
    if not wh.table_exists("ops", "data_releases"):
        return
    names = [name] if name else [n for (n,) in wh.query(
        f"select release_name from {TABLE} where state = %s", [PENDING]
    )]  # fmt: skip
    with wh.transaction():
        for each in names:
            for table in SNAPSHOTS:
                if wh.table_exists("releases", table):
                    wh.execute(f"delete from releases.{table} where release_name = %s", [each])
            for table in (FILES, ERASURES, TABLE):
                wh.execute(f"delete from {table} where release_name = %s", [each])


@dataclass(frozen=True)
class Lock:
    study_id: str
    release_name: str
    locked_by: str
    locked_at: datetime  # UTC


def locks(wh: Warehouse) -> dict[str, Lock]:
    """Every locked study's lock."""
    if not wh.table_exists("ops", "study_locks"):
        return {}
    rows = wh.query(f"select {', '.join(c for c, _ in LOCK_COLUMNS)} from {LOCKS} order by study_id")
    return {row[0]: Lock(*row) for row in rows}


def lock(wh: Warehouse, study_id: str, name: str) -> Lock:
    """Lock the study on the release: who, when, which release. Refuses a release that does
    not hold the study's participants, and a study already locked (a lock is final)."""
    ensure(wh)
    release = find(wh, name)
    with wh.transaction():
        held = locks(wh).get(study_id)
        if held:
            raise ReleaseRefused(
                f"{study_id} is locked already, on release {held.release_name!r} "
                f"({held.locked_at:%Y-%m-%d %H:%M} UTC, by {held.locked_by}): a lock is final"
            )
        randomised = wh.query(
            "select participants_randomised from releases.rel_studies "
            "where release_name = %s and study_id = %s",
            [release.name, study_id],
        )
        if not randomised or not randomised[0][0]:
            raise ReleaseRefused(
                f"release {release.name!r} holds no participant of {study_id}: nothing to lock"
            )
        made = Lock(study_id, release.name, ledger.login(), _now())
        wh.execute(
            f"insert into {LOCKS} ({', '.join(c for c, _ in LOCK_COLUMNS)}) values (%s, %s, %s, %s)",
            [made.study_id, made.release_name, made.locked_by, made.locked_at],
        )
    return made


def record_erasure(wh: Warehouse, study_id: str, participant_ids: list[str]) -> None:
    """Before an erasure deletes them: count, per release and arm, the participants it takes out
    of each release's snapshot, so its flow still counts them as randomised. Call inside the
    erasure's transaction."""
    if not participant_ids or not wh.table_exists("releases", "rel_participants"):
        return
    ensure(wh)
    marks = ", ".join(["%s"] * len(participant_ids))
    for name, arm, count in wh.query(
        "select release_name, arm, count(*) from releases.rel_participants "
        f"where study_id = %s and participant_id in ({marks}) group by release_name, arm",
        [study_id, *participant_ids],
    ):
        wh.execute(
            f"insert into {ERASURES} (release_name, study_id, arm, participants, erased_at) "
            "values (%s, %s, %s, %s, %s)",
            [name, study_id, arm, count, _now()],
        )


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
