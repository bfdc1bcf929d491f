"""sendgrid_events_jsonl: an email service's event webhook stream, one event per line.

The recipient's email is pseudonymised; user agents, IP addresses and clicked URLs are
dropped. The same event (sg_event_id) can arrive more than once: staging keeps one.
Partners who keep the webhook's raw request bodies send JSON arrays of events, one body
after another: _row_number is then each event's position in the file (a reason also names
its line). Events
of a type the platform does not use are counted in the ledger and not loaded.
"""

import re
from pathlib import Path

from hhp.sql import quote_literal
from ingest.adapters._base import ParseContext, first_violation, read_json_lines, require_present
from ingest.adapters._json_stream import values_as_json_lines

COLUMNS = [
    ("sg_event_id", "text"),
    ("sg_message_id", "text"),
    ("email_pseudonym", "text"),
    ("event", "text"),
    ("event_at", "timestamp"),
    ("message_no", "bigint"),
    ("is_machine_open", "boolean"),
    ("category", "text"),
    ("bounce_reason", "text"),
    ("bounce_type", "text"),
]
FIELDS = {
    "email": "VARCHAR",
    "timestamp": "VARCHAR",
    "event": "VARCHAR",
    "sg_event_id": "VARCHAR",
    "sg_message_id": "VARCHAR",
    "category": "JSON",
    "study_message_no": "VARCHAR",
    "sg_machine_open": "VARCHAR",
    "reason": "VARCHAR",
    "type": "VARCHAR",
}
KNOWN_DROPPED = ("url", "useragent", "ip")  # in the format, personal: never read
# SendGrid's other event types (account_status_change has no email): counted, never loaded
UNUSED_EVENTS = ("group_unsubscribe", "group_resubscribe", "account_status_change")
ARRAY_LINE = re.compile(rb"\n[ \t\r]*\[")  # a line opening an array (no '^|': 30 times slower)

# (column, allocation column): every row must name someone in the study's allocation
REFERENCE = ("email_pseudonym", "email_pseudonym")


def holds_arrays(path: Path) -> bool:
    """Whether a line of the file opens a JSON array (a webhook's raw request body)."""
    tail = b"\n"  # the first line too
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            text = tail + (chunk.removeprefix(b"\xef\xbb\xbf") if tail == b"\n" else chunk)
            if ARRAY_LINE.search(text):
                return True
            tail = text[text.rfind(b"\n") :] if b"\n" in text else text
    return False


def parse(ctx: ParseContext) -> str:
    if holds_arrays(ctx.path):
        events = ctx.scratch("events.jsonl")
        lines = values_as_json_lines(ctx.path, events)
        read_json_lines(ctx, FIELDS, events, lines, KNOWN_DROPPED, record_kind="event")
    else:
        read_json_lines(ctx, FIELDS, known=KNOWN_DROPPED)
    for event in UNUSED_EVENTS:
        ctx.skip_rows(
            f"trim(event) = {quote_literal(event)}",
            f"event(s) of type '{event}', which the platform does not use,",
        )
    for field in ("email", "timestamp", "event", "sg_event_id"):
        require_present(ctx, field)
    first_violation(
        ctx, "try_cast(\"timestamp\" as bigint) is null", "number",
        "field 'timestamp' is not Unix seconds",
    )  # fmt: skip
    first_violation(
        ctx, "study_message_no is not null and try_cast(study_message_no as bigint) is null", "number",
        "field 'study_message_no' is not a message number",
    )  # fmt: skip
    first_violation(
        ctx, "sg_machine_open is not null and lower(sg_machine_open) not in ('true', 'false')", "value set",
        "field 'sg_machine_open' is not true or false",
    )  # fmt: skip
    return f"""
        select
            _row_number,
            sg_event_id,
            sg_message_id,
            {ctx.email_pseudonym("email")} as email_pseudonym,
            trim(event) as event,
            cast(to_timestamp(cast("timestamp" as bigint)) at time zone 'UTC' as timestamp) as event_at,
            cast(study_message_no as bigint) as message_no,
            lower(sg_machine_open) = 'true' as is_machine_open,
            cast(category as varchar) as category,
            reason as bounce_reason,
            "type" as bounce_type
        from source
    """
