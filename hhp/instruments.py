"""Instrument definitions shared by the generator and the landing checks (docs/instruments.md)."""

from __future__ import annotations

import csv

import yaml

from hhp import DBT_PROJECT_DIR

FREQUENCY_SWEMWBS = ("None of the time", "Rarely", "Some of the time", "Often", "All of the time")
AGREEMENT = ("Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree")
CBI_FREQUENCY = ("Never/almost never", "Seldom", "Sometimes", "Often", "Always")
CBI_DEGREE = (
    "To a very low degree",
    "To a low degree",
    "Somewhat",
    "To a high degree",
    "To a very high degree",
)

# Choice texts per canonical item column, in code order 1..5.
ITEM_SCALES: dict[str, tuple[str, ...]] = {
    **{f"swemwbs_{i}": FREQUENCY_SWEMWBS for i in range(1, 8)},
    **{f"cbi_work_{i}": CBI_DEGREE for i in range(1, 4)},
    **{f"cbi_work_{i}": CBI_FREQUENCY for i in range(4, 8)},
    **{f"belong_{i}": AGREEMENT for i in range(1, 4)},
    **{f"itq_{i}": AGREEMENT for i in range(1, 4)},
}
ITEM_COLUMNS = tuple(ITEM_SCALES)

# The dbt seeds are the one source of the conversion table and the leaving reasons.
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"


def _read_seed(name: str) -> list[dict[str, str]]:
    with open(SEEDS_DIR / f"{name}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# SWEMWBS raw total (7-35) -> metric score, the authors' Rasch conversion table.
SWEMWBS_METRIC = {
    int(row["raw_score"]): float(row["metric_score"]) for row in _read_seed("swemwbs_conversion")
}
# The absence type that is sickness, per format: dbt's variable, the only absence outcomes use.
SICKNESS_TYPES: dict[str, str] = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"][
    "sickness_types"
]
# Every outcome code (docs/instruments.md), its label in words and the feed that measures it.
OUTCOMES = {row["outcome_code"]: row for row in _read_seed("outcomes")}
# Withdrawal levels (docs/instruments.md), lowest first: a later withdrawal may raise one, never lower it.
WITHDRAWAL_LEVELS = tuple(
    row["level"] for row in sorted(_read_seed("withdrawal_levels"), key=lambda row: int(row["level_rank"]))
)
# Leaving reasons (docs/feeds.md) and whether each counts as voluntary turnover.
LEAVING_REASONS = {
    row["leaving_reason"]: row["is_voluntary"] == "true" for row in _read_seed("leaving_reasons")
}

# What each delivery format can tell of uptake (docs/instruments.md, engagement).
UPTAKE_MEASURES: dict[str, frozenset[str]] = {
    "exchange_message_trace_csv": frozenset({"delivered"}),
    "sendgrid_events_jsonl": frozenset({"delivered", "opened"}),
    "postal_dispatch_csv": frozenset({"delivered"}),
    "xapi_statements_json": frozenset({"completed"}),
}


def complies(rule: dict, counts: dict[str, float], due: int) -> bool:
    """Whether a participant of the intervention arm received the intervention, by the study's
    compliance rule ({measure, min_share | min_contacts}) over their due contacts: `counts`
    holds how many were delivered, opened and completed. The generator calls it too, so the
    truth it records is the platform's own definition."""
    got = float(counts.get(rule["measure"], 0) or 0)
    if rule.get("min_contacts") is not None:
        return got >= rule["min_contacts"]
    return due > 0 and got / due >= rule["min_share"]
