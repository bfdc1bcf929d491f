"""The partner formats the platform reads, and the feed each serves: the one list of them.

Each format is read by the adapter module of its name (`ingest/adapters/<format>.py`), checked
by its landing suite (`expectations/landing.py`), loaded into `raw.<format>` and staged by dbt
(`dbt_project/models/staging/`); the Airflow assets are named after it. docs/feeds.md describes
each one.
"""

from __future__ import annotations

# the feeds a study may have, in the order a study's files are needed
FEEDS = ("allocation", "roster", "leavers", "absence", "delivery", "survey", "withdrawals")

FORMATS: dict[str, str] = {
    "allocation_csv": "allocation",
    "hr_roster_csv": "roster",
    "hr_leavers_csv": "leavers",
    "hris_absence_json": "absence",
    "esr_absence_csv": "absence",
    "exchange_message_trace_csv": "delivery",
    "sendgrid_events_jsonl": "delivery",
    "postal_dispatch_csv": "delivery",
    "xapi_statements_json": "delivery",
    "qualtrics_csv": "survey",
    "redcap_csv": "survey",
    "withdrawal_csv": "withdrawals",
}


def formats_of(feed: str) -> tuple[str, ...]:
    """The formats a study may name for `feed`."""
    return tuple(fmt for fmt, served in FORMATS.items() if served == feed)
