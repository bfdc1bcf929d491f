"""The study registry: one YAML file per study in studies/."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from hhp import STUDIES_DIR
from hhp.config import setting
from hhp.formats import FEEDS

INSTRUMENT_ITEMS = {"SWEMWBS": 7, "CBI_WORK": 7, "BELONG": 3, "ITQ": 3}


class RegistryError(ValueError):
    """A registry file is inconsistent."""


@dataclass(frozen=True)
class Timepoint:
    name: str
    day: int
    window_start: int
    window_end: int


@dataclass(frozen=True)
class Study:
    study_id: str
    title: str
    design: str
    arms: tuple[str, ...]
    allocation_ratio: dict[str, int]
    strata: str | None
    cluster: str | None
    contacts: dict[str, Any]
    hr_period_days: int
    timepoints: tuple[Timepoint, ...]
    primary_outcomes: tuple[dict[str, str], ...]
    feeds: dict[str, dict[str, Any]]
    generator: dict[str, Any] = field(default_factory=dict)

    def is_primary(self, outcome_code: str, timepoint: str) -> bool:
        """Whether the registry names this outcome at this timepoint as a primary outcome."""
        return any(
            p["outcome"] == outcome_code and p["timepoint"] == timepoint for p in self.primary_outcomes
        )

    def feed_format(self, feed: str) -> str | None:
        spec = self.feeds.get(feed)
        return spec["format"] if spec else None

    def survey_item_columns(self) -> dict[str, str]:
        """Partner column name -> canonical item column (e.g. Q1_3 -> swemwbs_3)."""
        items = self.feeds.get("survey", {}).get("items", {})
        return {
            column: f"{instrument.lower()}_{position}"
            for instrument, columns in items.items()
            for position, column in enumerate(columns, start=1)
        }


def _parse(raw: dict[str, Any], source: Path) -> Study:
    def need(key: str) -> Any:
        if key not in raw:
            raise RegistryError(f"{source.name}: missing key '{key}'")
        return raw[key]

    study_id = need("study_id")
    if study_id != source.stem:
        raise RegistryError(f"{source.name}: study_id '{study_id}' must match the file name")
    arms = tuple(need("arms"))
    ratio = dict(need("allocation_ratio"))
    if set(ratio) != set(arms):
        raise RegistryError(f"{source.name}: allocation_ratio must name exactly the arms {arms}")
    feeds = {name: dict(spec) for name, spec in need("feeds").items()}
    unknown = set(feeds) - set(FEEDS)
    if unknown:
        raise RegistryError(f"{source.name}: unknown feeds {sorted(unknown)}; known: {FEEDS}")
    for instrument, columns in feeds.get("survey", {}).get("items", {}).items():
        if INSTRUMENT_ITEMS.get(instrument) != len(columns):
            raise RegistryError(
                f"{source.name}: survey items for {instrument} must list "
                f"{INSTRUMENT_ITEMS.get(instrument, '?')} columns, found {len(columns)}"
            )
    timepoints = tuple(
        Timepoint(name, int(tp["day"]), int(tp["window"][0]), int(tp["window"][1]))
        for name, tp in need("timepoints").items()
    )
    return Study(
        study_id=study_id,
        title=need("title"),
        design=need("design"),
        arms=arms,
        allocation_ratio=ratio,
        strata=raw.get("strata"),
        cluster=raw.get("cluster"),
        contacts=dict(raw.get("contacts") or {}),
        hr_period_days=int(need("hr_period_days")),
        timepoints=timepoints,
        primary_outcomes=tuple(raw.get("primary_outcomes") or ()),
        feeds=feeds,
        generator=dict(raw.get("generator") or {}),
    )


def registry_dir() -> Path:
    """studies/, or the folder HHP_STUDIES names."""
    return Path(setting("studies") or STUDIES_DIR).resolve()


def load_registry(directory: Path | None = None) -> dict[str, Study]:
    """The registered studies: studies/*.yml, or the folder HHP_STUDIES names."""
    return _load(Path(directory).resolve() if directory else registry_dir())


@cache
def _load(directory: Path) -> dict[str, Study]:
    studies = {}
    for path in sorted(directory.glob("*.yml")):
        study = _parse(yaml.safe_load(path.read_text()), path)
        studies[study.study_id] = study
    return studies


REGISTRY_TABLES = {
    "raw.registry_studies": [
        ("study_id", "text"),
        ("title", "text"),
        ("design", "text"),
        ("control_arm", "text"),
        ("intervention_arm", "text"),
        ("allocation_ratio", "text"),
        ("strata", "text"),
        ("cluster_unit", "text"),
        ("hr_period_days", "bigint"),
        ("contacts", "bigint"),
        ("contact_kind", "text"),
        ("delivery_format", "text"),
        ("survey_format", "text"),
        ("absence_format", "text"),
        ("leavers_format", "text"),
    ],
    "raw.registry_timepoints": [
        ("study_id", "text"),
        ("timepoint", "text"),
        ("target_day", "bigint"),
        ("window_start_day", "bigint"),
        ("window_end_day", "bigint"),
    ],
    "raw.registry_instruments": [("study_id", "text"), ("outcome_code", "text")],
    "raw.registry_primary_outcomes": [("study_id", "text"), ("outcome_code", "text"), ("timepoint", "text")],
}


def registry_rows(studies: dict[str, Study]) -> dict[str, list[tuple]]:
    """The registry as rows for the warehouse, so dbt reads the same study settings."""
    return {
        "raw.registry_studies": [
            (
                s.study_id,
                s.title,
                s.design,
                s.arms[0],
                s.arms[1],
                ":".join(str(s.allocation_ratio[a]) for a in s.arms),
                s.strata,
                s.cluster,
                s.hr_period_days,
                int(s.contacts.get("count", 0)),
                s.contacts.get("kind", "none"),
                s.feed_format("delivery"),
                s.feed_format("survey"),
                s.feed_format("absence"),
                s.feed_format("leavers"),
            )
            for s in studies.values()
        ],
        "raw.registry_timepoints": [
            (s.study_id, tp.name, tp.day, tp.window_start, tp.window_end)
            for s in studies.values()
            for tp in s.timepoints
        ],
        "raw.registry_instruments": [
            (s.study_id, instrument)
            for s in studies.values()
            for instrument in s.feeds.get("survey", {}).get("items", {})
        ],
        "raw.registry_primary_outcomes": [
            (s.study_id, p["outcome"], p["timepoint"]) for s in studies.values() for p in s.primary_outcomes
        ],
    }


def sync_registry(wh, studies: dict[str, Study]) -> None:
    """Replace the registry tables in one transaction (recreated, so a new registry column
    reaches an existing warehouse)."""
    rows = registry_rows(studies)
    with wh.transaction():
        for table, columns in REGISTRY_TABLES.items():
            wh.execute(f"drop table if exists {table}")
            wh.ensure_table(table, columns)
            placeholders = ", ".join(["%s"] * len(columns))
            for row in rows[table]:
                wh.execute(f"insert into {table} values ({placeholders})", list(row))
