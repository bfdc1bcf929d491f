"""What a study file (studies/<study_id>.yml) may hold: a pydantic model, exported as the JSON
Schema editors validate against as people type (studies/study.schema.json), and the checks
across keys that a schema cannot state. `parse_study_file` reports every problem at once."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)

from hhp.formats import FEEDS, FORMATS, formats_of
from hhp.instruments import OUTCOMES, UPTAKE_MEASURES

INSTRUMENT_ITEMS = {"SWEMWBS": 7, "CBI_WORK": 7, "BELONG": 3, "ITQ": 3}
SCHEMA_FILE = "study.schema.json"
REJECT_FILE, LOAD_GOOD_ROWS = "reject_file", "load_good_rows"
# What a row-level fault does when a study file does not say, as a trial's data manager would
# choose, and why; rows of a type the outcomes never use (absence other than sickness) never
# reject a file.
ON_BAD_ROWS_DEFAULTS = {
    "allocation": (REJECT_FILE, "the randomisation list is the trial: a wrong row makes it a wrong list"),
    "roster": (LOAD_GOOD_ROWS, "a roster lists all staff: rows for people outside the trial are expected"),
    "leavers": (REJECT_FILE, "a leaver left out would count as staying: a biased primary outcome"),
    "absence": (REJECT_FILE, "a sickness spell left out would lower absence: a biased outcome"),
    "delivery": (REJECT_FILE, "it says who received the intervention: a row left out misstates it"),
    "survey": (REJECT_FILE, "a bad value usually means a changed export mapping, touching every row"),
    "withdrawals": (
        REJECT_FILE,
        "the register is a legal record: a withdrawal left out would go on using data",
    ),
}
DEFAULT_ON_BAD_ROWS = {feed: rule for feed, (rule, _) in ON_BAD_ROWS_DEFAULTS.items()}
HR_TIMEPOINT = "period"  # the HR outcomes' one timepoint: the study's HR outcome period


@dataclass(frozen=True)
class Problem:
    """One mistake in a study file: where (file, key path) and what is wrong."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}" if self.path else f"{self.file}: {self.message}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cadence(_Strict):
    """When a feed's files are due, for the freshness check (`hhp status`, the gate's warning)."""

    every_days: PositiveInt | None = Field(
        None, description="A new file at least this often, from randomisation until `until`."
    )
    until: Literal["hr_period", "contacts"] = Field(
        "hr_period",
        description="The end of the HR outcome period (hr_period_days) or of the scheduled contacts "
        "(week k's on day 7k): a file extracted on or after it completes the feed.",
    )
    after_window_days: int | None = Field(
        None, ge=0, description="A survey export within this many days after each timepoint's window closes."
    )

    @model_validator(mode="after")
    def _one_rule(self) -> Cadence:
        if (self.every_days is None) == (self.after_window_days is None):
            raise ValueError("a cadence gives either every_days or after_window_days")
        return self


class _Feed(_Strict):
    on_bad_rows: Literal["reject_file", "load_good_rows"] | None = Field(
        None,
        description="A row that breaks a row-level rule (a duplicate key, a value out of range, an "
        "unresolved reference): reject_file quarantines the whole file; load_good_rows loads the others "
        "and records each row left out with its line and rule. Defaults: "
        + "; ".join(f"{feed} {rule}, as {why}" for feed, (rule, why) in ON_BAD_ROWS_DEFAULTS.items())
        + ".",
    )
    time_zone: str | None = Field(None, description="IANA zone of timestamps that carry no offset.")
    cadence: Cadence | None = None

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, zone: str | None) -> str | None:
        if zone is not None and zone not in available_timezones():
            raise ValueError(f"'{zone}' is not an IANA time zone (e.g. Europe/London)")
        return zone


class ExchangeTraceFeed(_Feed):
    format: Literal["exchange_message_trace_csv"]
    message_no_pattern: str = Field(
        description="Regular expression whose first group is the message number in the Subject."
    )
    received_locale: Literal["US", "UK"] = Field(
        "US", description="The exporting machine's locale: how the Received column writes dates."
    )

    @field_validator("message_no_pattern")
    @classmethod
    def _one_group(cls, pattern: str) -> str:
        try:
            groups = re.compile(pattern).groups
        except re.error as error:
            raise ValueError(f"not a regular expression ({error})") from None
        if groups < 1:
            raise ValueError("the pattern needs a group, (...), around the message number")
        return pattern


class XapiFeed(_Feed):
    format: Literal["xapi_statements_json"]
    actor_identifier: Literal["mbox", "mbox_sha1sum", "account"] = Field(
        "mbox", description="The inverse functional identifier the learning record store names actors by."
    )
    account_name: Literal["email", "employee_number"] = Field(
        "email", description="What an account actor's name holds (actor_identifier: account)."
    )


class _SurveyFeed(_Feed):
    value_coding: Literal["choice_text", "numeric"] = Field(
        description="Whether answers arrive as choice texts or as numeric codes."
    )
    items: dict[str, list[str]] = Field(
        description="Per instrument (SWEMWBS, CBI_WORK, BELONG, ITQ), the partner's item columns in order."
    )


class QualtricsFeed(_SurveyFeed):
    format: Literal["qualtrics_csv"]


class RedcapFeed(_SurveyFeed):
    format: Literal["redcap_csv"]
    record_id_field: str | None = Field(None, description="The project's first field (default record_id).")


_WITH_OPTIONS = (ExchangeTraceFeed, XapiFeed, QualtricsFeed, RedcapFeed)
_OPTIONED = {fmt for model in _WITH_OPTIONS for fmt in model.model_fields["format"].annotation.__args__}


class PlainFeed(_Feed):
    """A format with no setting of its own."""

    format: Literal[tuple(sorted(set(FORMATS) - _OPTIONED))]  # type: ignore[valid-type]


Feed = Annotated[
    PlainFeed | ExchangeTraceFeed | XapiFeed | QualtricsFeed | RedcapFeed, Field(discriminator="format")
]


class Feeds(_Strict):
    allocation: Feed
    roster: Feed | None = None
    leavers: Feed | None = None
    absence: Feed | None = None
    delivery: Feed | None = None
    survey: Feed | None = None
    withdrawals: Feed | None = None


class TimepointSpec(_Strict):
    day: int = Field(description="Target day, counted from randomisation.")
    window: tuple[int, int] = Field(description="First and last day a response counts for this timepoint.")


class Contacts(_Strict):
    kind: Literal["email", "letter", "module", "none"]
    count: int = Field(ge=0, description="Scheduled contacts; week k's on day 7k.")


class Compliance(_Strict):
    """Who received the intervention, from engagement over their due contacts (for the
    complier average causal effect): at least a share of them, or at least a number."""

    measure: Literal["delivered", "opened", "completed"] = Field(
        description="The uptake measure (docs/instruments.md, engagement), which the delivery format records."
    )
    min_share: float | None = Field(None, gt=0, le=1, description="At least this share of the due contacts.")
    min_contacts: PositiveInt | None = Field(None, description="At least this many contacts.")
    description: str = Field(description="The rule in words, as the report shows it.")

    @model_validator(mode="after")
    def _one_threshold(self) -> Compliance:
        if (self.min_share is None) == (self.min_contacts is None):
            raise ValueError("compliance gives either min_share or min_contacts")
        return self


class ArmCost(_Strict):
    """What the arm costs per participant, in pounds (docs/instruments.md, costs)."""

    delivery: float = Field(0, ge=0)
    staff_time: float = Field(0, ge=0)
    materials: float = Field(0, ge=0)


class PrimaryOutcome(_Strict):
    outcome: str
    timepoint: str


class StudyFile(_Strict):
    """One study's registry entry."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="Study registry entry")

    study_id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="The file's name without .yml.")
    title: str
    design: Literal["individual_rct", "cluster_rct"]
    arms: list[str] = Field(description="Control arm first, then the intervention arm.")
    allocation_ratio: dict[str, PositiveInt]
    strata: str | None = Field(None, description="What the allocation's stratum column holds.")
    cluster: str | None = Field(None, description="What cluster_id holds in a cluster RCT.")
    contacts: Contacts
    hr_period_days: PositiveInt
    timepoints: dict[str, TimepointSpec]
    primary_outcomes: list[PrimaryOutcome] = []
    compliance: Compliance | None = Field(
        None, description="Who received the intervention (a study with an uptake measure): for the CACE."
    )
    costs: dict[str, ArmCost] | None = Field(None, description="Per arm, the cost per participant in pounds.")
    feeds: Feeds
    generator: dict[str, Any] = Field({}, description="Settings of the simulator (`hhp generate`).")


def json_schema() -> str:
    """The schema of a study file, as studies/study.schema.json holds it."""
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **StudyFile.model_json_schema()}
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def _path(loc: tuple) -> str:
    # a discriminated union puts the format's tag in the location: feeds.delivery.<format>.x
    parts = [str(p) for i, p in enumerate(loc) if not (i == 2 and loc[0] == "feeds" and p in FORMATS)]
    return ".".join(parts)


def _message(error: dict) -> str | None:
    kind, loc = error["type"], error["loc"]
    if kind == "missing":
        return "missing (required)"
    if kind == "extra_forbidden":
        if len(loc) == 2 and loc[0] == "feeds":
            return f"unknown feed '{loc[1]}'; known: {', '.join(FEEDS)}"
        return "unknown key (a misspelt setting?)"
    if kind == "union_tag_invalid":
        return None  # an unknown format: said, with the feed's formats, by _cross_checks
    if kind == "union_tag_not_found":
        return "the feed names no format"
    message = error["msg"].removeprefix("Value error, ")
    if kind != "value_error" and isinstance(error.get("input"), str | int | float):
        message += f", not {error['input']!r}"
    return message


def _cross_checks(raw: dict, stem: str) -> list[tuple[str, str]]:
    """(key path, message) for what must agree across keys. Defensive: a part of the wrong
    shape is the schema's to report, and is skipped here."""
    found = []
    if raw.get("study_id") is not None and raw.get("study_id") != stem:
        found.append(("study_id", f"'{raw['study_id']}' must match the file name ({stem})"))
    arms, ratio = raw.get("arms"), raw.get("allocation_ratio")
    if isinstance(arms, list):
        if len(arms) != 2 or len(set(map(str, arms))) != 2:
            found.append(("arms", f"two different arms, control first; found {arms}"))
        if isinstance(ratio, dict) and set(map(str, ratio)) != set(map(str, arms)):
            found.append(
                ("allocation_ratio", f"must name exactly the arms {arms}; names {sorted(map(str, ratio))}")
            )
    design, cluster = raw.get("design"), raw.get("cluster")
    if design == "cluster_rct" and not cluster:
        found.append(("cluster", "a cluster RCT must name its cluster (what cluster_id holds)"))
    if design == "individual_rct" and cluster:
        found.append(("cluster", "an individual RCT has no cluster; set it to null"))
    timepoints = raw.get("timepoints") if isinstance(raw.get("timepoints"), dict) else {}
    for name, tp in timepoints.items():
        window, day = (tp or {}).get("window"), (tp or {}).get("day")
        if name == HR_TIMEPOINT:
            found.append((f"timepoints.{name}", f"'{HR_TIMEPOINT}' is the HR outcomes' timepoint"))
        if isinstance(window, list) and len(window) == 2 and all(isinstance(d, int) for d in window):
            if window[0] > window[1]:
                found.append((f"timepoints.{name}.window", f"starts after it ends ({window})"))
            elif isinstance(day, int) and not window[0] <= day <= window[1]:
                found.append(
                    (f"timepoints.{name}.day", f"day {day} is outside its window {window[0]} to {window[1]}")
                )
    feeds = raw.get("feeds") if isinstance(raw.get("feeds"), dict) else {}
    for feed, spec in feeds.items():
        fmt = spec.get("format") if isinstance(spec, dict) else None
        if fmt is None or feed not in FEEDS:
            continue
        if fmt not in FORMATS:
            found.append(
                (
                    f"feeds.{feed}.format",
                    f"unknown format '{fmt}'; known for {feed}: {', '.join(formats_of(feed))}",
                )
            )
        elif FORMATS[fmt] != feed:
            found.append((f"feeds.{feed}.format", f"'{fmt}' is a {FORMATS[fmt]} format, not a {feed} one"))
    survey = feeds.get("survey") if isinstance(feeds.get("survey"), dict) else {}
    items = survey.get("items") if isinstance(survey.get("items"), dict) else {}
    for instrument, columns in items.items():
        where = f"feeds.survey.items.{instrument}"
        if instrument not in INSTRUMENT_ITEMS:
            found.append((where, f"unknown instrument; known: {', '.join(INSTRUMENT_ITEMS)}"))
        elif isinstance(columns, list) and len(columns) != INSTRUMENT_ITEMS[instrument]:
            found.append(
                (where, f"{instrument} has {INSTRUMENT_ITEMS[instrument]} items; {len(columns)} listed")
            )
    columns = [c for cols in items.values() if isinstance(cols, list) for c in cols]
    if len(columns) != len(set(map(str, columns))):
        repeated = sorted({str(c) for c in columns if columns.count(c) > 1})
        found.append(("feeds.survey.items", f"a column serves two items: {', '.join(repeated)}"))
    compliance = raw.get("compliance") if isinstance(raw.get("compliance"), dict) else None
    delivery = feeds.get("delivery") if isinstance(feeds.get("delivery"), dict) else {}
    if compliance is not None and delivery.get("format") in FORMATS:  # an unknown one is said above
        recorded = UPTAKE_MEASURES.get(str(delivery.get("format")), frozenset())
        if compliance.get("measure") not in recorded:
            found.append(
                (
                    "compliance.measure",
                    f"'{compliance.get('measure')}' is not recorded by the delivery feed's format "
                    f"({delivery.get('format')}: "
                    f"{', '.join(sorted(recorded)) or 'no uptake measure'})",
                )
            )
    costs = raw.get("costs") if isinstance(raw.get("costs"), dict) else None
    if costs is not None and isinstance(arms, list) and set(map(str, costs)) != set(map(str, arms)):
        found.append(("costs", f"must name exactly the arms {arms}; names {sorted(map(str, costs))}"))
    outcomes = raw.get("primary_outcomes") if isinstance(raw.get("primary_outcomes"), list) else []
    for i, primary in enumerate(outcomes):
        if not isinstance(primary, dict):
            continue
        code, timepoint = primary.get("outcome"), primary.get("timepoint")
        where = f"primary_outcomes.{i}"
        if code not in OUTCOMES:
            found.append((f"{where}.outcome", f"unknown outcome '{code}'; known: {', '.join(OUTCOMES)}"))
            continue
        measured_by = OUTCOMES[code]["measured_by"]
        if measured_by == "survey":
            if timepoint not in timepoints:
                found.append((f"{where}.timepoint", f"'{timepoint}' is not one of the study's timepoints"))
            if code not in items:
                found.append((f"{where}.outcome", f"{code} is not among the survey's instruments"))
        else:
            if timepoint != HR_TIMEPOINT:
                found.append(
                    (f"{where}.timepoint", f"{code} is an HR outcome, at timepoint '{HR_TIMEPOINT}'")
                )
            if measured_by not in feeds:
                found.append((f"{where}.outcome", f"{code} needs a {measured_by} feed; none is registered"))
    return found


def parse_study_file(path: Path) -> tuple[StudyFile | None, list[Problem]]:
    """The study file and every problem in it (the model is None when it does not validate)."""
    name = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        where = getattr(error, "problem_mark", None)
        line = f"line {where.line + 1}: " if where else ""
        return None, [Problem(name, "", f"{line}not valid YAML ({getattr(error, 'problem', error)})")]
    if not isinstance(raw, dict):
        return None, [Problem(name, "", "a study file is a mapping of keys (study_id: ..., arms: ...)")]
    problems = [Problem(name, path_, message) for path_, message in _cross_checks(raw, path.stem)]
    try:
        study = StudyFile.model_validate(raw)
    except ValidationError as invalid:
        study = None
        for error in invalid.errors():
            message = _message(error)
            if message:
                problems.append(Problem(name, _path(error["loc"]), message))
    return study, sorted(set(problems), key=lambda p: (p.path, p.message))
