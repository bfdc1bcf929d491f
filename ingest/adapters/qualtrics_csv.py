"""qualtrics_csv: a survey platform's export with three header rows.

Item columns are the survey's own names; the registry maps them to canonical item
columns (swemwbs_1 ... itq_3). Values stay as sent (choice text or code): the landing
suite checks them against the registry's coding, dbt turns them into codes.
Names, emails, IP addresses and locations are dropped.
"""

from hhp.instruments import ITEM_COLUMNS
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
FINISHED = {"True": "true", "False": "false", "1": "true", "0": "false", "TRUE": "true", "FALSE": "false"}


def _timestamp(column: str) -> str:
    return f"strptime(trim(\"{column}\"), '{TIMESTAMP_FORMAT}')"


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
        require_present(ctx, f'"{column}"', column)
    for column in ("StartDate", "EndDate", "RecordedDate"):
        first_violation(
            ctx,
            f'"{column}" is not null and try_strptime(trim("{column}"), \'{TIMESTAMP_FORMAT}\') is null',
            "parseable date",
            f"column '{column}' is not a date-time in the form YYYY-MM-DD HH:MM:SS",
        )
    for column in ("Progress", "Duration (in seconds)"):
        require_number(ctx, f'"{column}"', column)
    allowed = ", ".join(f"'{v}'" for v in FINISHED)
    first_violation(
        ctx,
        f'trim("Finished") not in ({allowed})',
        "value set",
        "column 'Finished' is not True/False or 1/0",
    )
    finished = (
        'case trim("Finished") ' + " ".join(f"when '{k}' then {v}" for k, v in FINISHED.items()) + " end"
    )
    items = survey_items_sql(item_map)
    return f"""
        select
            _row_number,
            trim("ResponseId") as response_id,
            trim("ExternalReference") as participant_id,
            trim(wave) as wave,
            trim("Status") as status,
            {_timestamp("StartDate")} as started_at,
            {_timestamp("EndDate")} as ended_at,
            {_timestamp("RecordedDate")} as recorded_at,
            cast(trim("Progress") as double) as progress,
            cast(trim("Duration (in seconds)") as double) as duration_seconds,
            {finished} as finished,
            nullif(trim("DistributionChannel"), '') as distribution_channel,
            nullif(trim("UserLanguage"), '') as user_language,
            {items}
        from source
    """
