"""exchange_message_trace_csv: an email server's message trace (no opens or clicks).

The message number comes from the Subject through the registry's pattern; the Subject
itself, the sender and the IP addresses are not kept. PowerShell's Export-Csv may add a
`#TYPE` line and every other property of a trace (left unread); `Received` is in the
exporting machine's locale, which the registry names (received_locale: US, the default, or
UK), never guessed: 3/4/2026 is either.
"""

from hhp.sql import quote_literal
from ingest.adapters._base import (
    ParseContext,
    first_violation,
    read_csv_by_name,
    require_number,
    require_present,
    to_timestamp,
    try_date,
)

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
RECEIVED_FORMATS = {  # UTC, in the exporting machine's locale
    "US": ("%m/%d/%Y %I:%M:%S %p", "M/d/yyyy h:mm:ss AM"),  # 11/2/2026 9:00:14 AM
    "UK": ("%d/%m/%Y %H:%M:%S", "dd/MM/yyyy HH:mm:ss"),  # 02/11/2026 09:00:14
}

# (column, allocation column): every row must name someone in the study's allocation
REFERENCE = ("recipient_pseudonym", "email_pseudonym")


def parse(ctx: ParseContext) -> str:
    # both checked by the registry's schema (hhp/study_schema.py) before any file is read
    pattern = ctx.feed_spec["message_no_pattern"]
    locale = ctx.feed_spec.get("received_locale", "US")
    received_format, shown_format = RECEIVED_FORMATS[locale]
    message_no = f'try_cast(regexp_extract("Subject", {quote_literal(pattern)}, 1) as bigint)'
    read_csv_by_name(ctx, HEADER, preamble="#TYPE")
    for column in ("Received", "RecipientAddress", "Subject", "Status", "MessageTraceId"):
        require_present(ctx, column)
    first_violation(
        ctx,
        f"{try_date('Received', received_format)} is null",
        "parseable date",
        f"column 'Received' is not a date-time in the form {shown_format} (the study's {locale} locale)",
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
            {ctx.in_zone(to_timestamp("Received", received_format))} as received_at,
            {ctx.email_pseudonym("RecipientAddress")} as recipient_pseudonym,
            {message_no} as message_no,
            trim("Status") as status,
            cast(trim("Size") as bigint) as size_bytes,
            trim("MessageId") as message_id,
            trim("MessageTraceId") as message_trace_id
        from source
    """
