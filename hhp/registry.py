"""The study registry: one YAML file per study in studies/."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from hhp import STUDIES_DIR
from hhp.config import setting
from hhp.errors import ExpectedError
from hhp.formats import FEEDS
from hhp.study_schema import DEFAULT_ON_BAD_ROWS, INSTRUMENT_ITEMS, Problem, StudyFile, parse_study_file

__all__ = ["FEEDS", "INSTRUMENT_ITEMS", "Problem", "RegistryError", "Study", "load_registry"]


class RegistryError(ExpectedError, ValueError):
    """The registry is invalid: every problem found, each on its own line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


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
    compliance: dict[str, Any] | None = None  # who received the intervention (the CACE)
    costs: dict[str, dict[str, float]] | None = None  # per arm: delivery, staff_time, materials (pounds)

    def cost_per_participant(self, arm: str) -> float | None:
        if not self.costs:
            return None
        return float(sum(self.costs[arm].values()))

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


def _study(file: StudyFile) -> Study:
    return Study(
        study_id=file.study_id,
        title=file.title,
        design=file.design,
        arms=tuple(file.arms),
        allocation_ratio=dict(file.allocation_ratio),
        strata=file.strata,
        cluster=file.cluster,
        contacts=file.contacts.model_dump(),
        hr_period_days=file.hr_period_days,
        timepoints=tuple(
            Timepoint(name, tp.day, tp.window[0], tp.window[1]) for name, tp in file.timepoints.items()
        ),
        primary_outcomes=tuple(p.model_dump() for p in file.primary_outcomes),
        feeds={
            name: {"on_bad_rows": DEFAULT_ON_BAD_ROWS[name]} | spec.model_dump(exclude_none=True)
            for name, spec in file.feeds
            if spec is not None
        },
        generator=dict(file.generator),
        compliance=file.compliance.model_dump() if file.compliance else None,
        costs={arm: cost.model_dump() for arm, cost in file.costs.items()} if file.costs else None,
    )


def registry_dir() -> Path:
    """studies/, or the folder HHP_STUDIES names."""
    return Path(setting("studies") or STUDIES_DIR).resolve()


def _files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.yml"))


def check_registry(directory: Path | None = None) -> list[Problem]:
    """Every problem in every study file, all at once (none when the registry is sound)."""
    directory = Path(directory).resolve() if directory else registry_dir()
    return _read(directory, _stamp(directory))[1]


def load_registry(directory: Path | None = None) -> dict[str, Study]:
    """The registered studies: studies/*.yml, or the folder HHP_STUDIES names. Raises
    RegistryError with every problem found, so that nothing starts on a broken registry."""
    directory = Path(directory).resolve() if directory else registry_dir()
    studies, problems = _read(directory, _stamp(directory))
    if problems:
        raise RegistryError(problems)
    return studies


def _stamp(directory: Path) -> tuple:
    """What the cache is keyed on: an edited study file is read again by a long-lived process."""
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in _files(directory))


@cache
def _read(directory: Path, stamp: tuple) -> tuple[dict[str, Study], list[Problem]]:
    if not directory.is_dir():
        return {}, [Problem(str(directory), "", "the registry folder does not exist")]
    studies, problems = {}, []
    for path in _files(directory):
        file, found = parse_study_file(path)
        problems += found
        if file is not None and not found:
            studies[file.study_id] = _study(file)
    if not _files(directory):
        problems.append(Problem(str(directory), "", "the registry folder holds no study file (*.yml)"))
    return studies, problems


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
