"""exchange_message_trace_csv: an email server's message trace (no opens or clicks).

The message number comes from the Subject through the registry's pattern; the Subject
itself, the sender and the IP addresses are not kept.
"""

from hhp.sql import quote_literal
from ingest.adapters._base import (
    FileRejected,
    ParseContext,
    check_columns,
    csv_header,
    first_violation,
    read_csv_as_text,
    require_number,
    require_present,
    to_timestamp,
    try_date,
)

FORMAT = "exchange_message_trace_csv"
HEADER = [
    "Received",
    "SenderAddress",
    "RecipientAddress",
    "Subject",
    "Status",
    "ToIP",
    "FromIP",
    "Size",
    "MessageId",
    "MessageTraceId",
]
COLUMNS = [
    ("received_at", "timestamp"),
    ("recipient_pseudonym", "text"),
    ("message_no", "bigint"),
    ("status", "text"),
    ("size_bytes", "bigint"),
    ("message_id", "text"),
    ("message_trace_id", "text"),
]
RECEIVED_FORMAT = "%m/%d/%Y %I:%M:%S %p"  # US, e.g. 11/2/2026 9:00:14 AM (UTC)

# (column, allocation column): every row must name someone in the study's allocation
REFERENCE = ("recipient_pseudonym", "email_pseudonym")


def parse(ctx: ParseContext) -> str:
    pattern = ctx.feed_spec.get("message_no_pattern")
    if not pattern:
        raise FileRejected("registry", f"study {ctx.study.study_id} gives no message_no_pattern")
    message_no = f'try_cast(regexp_extract("Subject", {quote_literal(pattern)}, 1) as bigint)'
    check_columns(csv_header(ctx.path)[0], HEADER)
    read_csv_as_text(ctx, HEADER)
    for column in ("Received", "RecipientAddress", "Subject", "Status", "MessageTraceId"):
        require_present(ctx, column)
    first_violation(
        ctx,
        f"{try_date('Received', RECEIVED_FORMAT)} is null",
        "parseable date",
        "column 'Received' is not a date-time in the form M/d/yyyy h:mm:ss AM",
    )
    first_violation(
        ctx,
        f"{message_no} is null",
        "message number",
        f"column 'Subject' does not match the study's message pattern {pattern}",
    )
    require_number(ctx, "Size")
    return f"""
        select
            _row_number,
            {to_timestamp("Received", RECEIVED_FORMAT)} as received_at,
            {ctx.email_pseudonym("RecipientAddress")} as recipient_pseudonym,
            {message_no} as message_no,
            trim("Status") as status,
            cast(trim("Size") as bigint) as size_bytes,
            trim("MessageId") as message_id,
            trim("MessageTraceId") as message_trace_id
        from source
    """
