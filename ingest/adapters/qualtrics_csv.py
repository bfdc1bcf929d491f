"""qualtrics_csv: a survey platform's export with three header rows.

Item columns are the survey's own names; the registry maps them to canonical item
columns (swemwbs_1 ... itq_3). Values stay as sent (choice text or code): the landing
suite checks them against the registry's coding, dbt turns them into codes.
Names, emails, IP addresses and locations are dropped.
"""

from hhp.instruments import ITEM_COLUMNS
from hhp.sql import quote_identifier, quote_literal
from ingest.adapters._base import (
    FileRejected,
    ParseContext,
    check_columns,
    csv_header,
    first_violation,
    read_csv_as_text,
    require_number,
    require_present,
    survey_items_sql,
    to_timestamp,
    try_date,
)

FORMAT = "qualtrics_csv"
METADATA = [
    "StartDate",
    "EndDate",
    "Status",
    "IPAddress",
    "Progress",
    "Duration (in seconds)",
    "Finished",
    "RecordedDate",
    "ResponseId",
    "RecipientLastName",
    "RecipientFirstName",
    "RecipientEmail",
    "ExternalReference",
    "LocationLatitude",
    "LocationLongitude",
    "DistributionChannel",
    "UserLanguage",
    "wave",
]
COLUMNS = [
    ("response_id", "text"),
    ("participant_id", "text"),
    ("wave", "text"),
    ("status", "text"),
    ("started_at", "timestamp"),
    ("ended_at", "timestamp"),
    ("recorded_at", "timestamp"),
    ("progress", "double"),
    ("duration_seconds", "double"),
    ("finished", "boolean"),
    ("distribution_channel", "text"),
    ("user_language", "text"),
    *((item, "text") for item in ITEM_COLUMNS),
]
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
FINISHED = {"True": True, "False": False, "1": True, "0": False, "TRUE": True, "FALSE": False}


# (column, allocation column): every row must name someone in the study's allocation
REFERENCE = ("participant_id", "participant_id")


def parse(ctx: ParseContext) -> str:
    item_map = ctx.study.survey_item_columns()  # partner column -> canonical item
    if not item_map:
        raise FileRejected("registry", f"study {ctx.study.study_id} maps no survey items")
    header = METADATA + list(item_map)
    check_columns(csv_header(ctx.path)[0], header, ordered=False)
    read_csv_as_text(ctx, csv_header(ctx.path)[0], header_lines=3)
    for column in ("Status", "RecordedDate", "ResponseId", "ExternalReference", "wave", "Finished"):
        require_present(ctx, column)
    for column in ("StartDate", "EndDate", "RecordedDate"):
        first_violation(
            ctx,
            f"{quote_identifier(column)} is not null and {try_date(column, TIMESTAMP_FORMAT)} is null",
            "parseable date",
            f"column '{column}' is not a date-time in the form YYYY-MM-DD HH:MM:SS",
        )
    for column in ("Progress", "Duration (in seconds)"):
        require_number(ctx, column)
    allowed = ", ".join(quote_literal(v) for v in FINISHED)
    first_violation(
        ctx,
        f'trim("Finished") not in ({allowed})',
        "value set",
        "column 'Finished' is not True/False or 1/0",
    )
    finished = (
        'case trim("Finished") '
        + " ".join(f"when {quote_literal(k)} then {quote_literal(v)}" for k, v in FINISHED.items())
        + " end"
    )
    items = survey_items_sql(item_map)
    return f"""
        select
            _row_number,
            trim("ResponseId") as response_id,
            trim("ExternalReference") as participant_id,
            trim(wave) as wave,
            trim("Status") as status,
            {to_timestamp("StartDate", TIMESTAMP_FORMAT)} as started_at,
            {to_timestamp("EndDate", TIMESTAMP_FORMAT)} as ended_at,
            {to_timestamp("RecordedDate", TIMESTAMP_FORMAT)} as recorded_at,
            cast(trim("Progress") as double) as progress,
            cast(trim("Duration (in seconds)") as double) as duration_seconds,
            {finished} as finished,
            nullif(trim("DistributionChannel"), '') as distribution_channel,
            nullif(trim("UserLanguage"), '') as user_language,
            {items}
        from source
    """
