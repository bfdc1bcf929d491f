"""qualtrics_csv: a survey platform's export with three header rows.

Item columns are the survey's own names; the registry maps them to canonical item
columns (swemwbs_1 ... itq_3). Values stay as sent (choice text or code): the landing
suite checks them against the registry's coding, dbt turns them into codes.
Names, emails, IP addresses and locations are dropped. An export "with numeric values" codes
Status too: codes become their labels, so both exports load the same rows. Row 3 may
declare a date column's zone ({"ImportId":"startDate","timeZone":"America/Denver"}): its
dates are read in that zone and stored in UTC.
"""

import json

from hhp.instruments import ITEM_COLUMNS
from hhp.sql import quote_identifier, quote_literal
from ingest.adapters._base import (
    CsvHeader,
    FileRejected,
    ParseContext,
    first_violation,
    is_known_zone,
    read_csv_by_name,
    read_csv_header,
    require_number,
    require_present,
    survey_items_sql,
    to_timestamp,
    try_date,
)

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
# Status as an export "with numeric values" codes it; real responses are IP Address and Offline
STATUS_CODES = {
    "0": "IP Address", "1": "Survey Preview", "2": "Survey Test", "4": "Imported", "8": "Spam",
    "9": "Survey Preview Spam", "12": "Imported Spam", "16": "Offline", "17": "Offline Survey Preview",
    "32": "EX", "40": "EX Spam", "48": "EX Offline",
}  # fmt: skip
DATE_COLUMNS = ("StartDate", "EndDate", "RecordedDate")


# (column, allocation column): every row must name someone in the study's allocation
REFERENCE = ("participant_id", "participant_id")


def declared_zones(header: CsvHeader) -> dict[str, str]:
    """Date column -> the zone row 3 declares for it, where it declares one."""
    names, import_ids = header.records[0], header.records[2]
    zones = {}
    for name, cell in zip(names, import_ids, strict=False):
        if name not in DATE_COLUMNS:
            continue
        try:
            zone = json.loads(cell).get("timeZone")
        except (ValueError, AttributeError):
            continue  # an import id without a zone: the dates are UTC
        if zone is None:
            continue
        if not is_known_zone(zone):
            raise FileRejected(
                "time zone", f"row 3 declares column '{name}' in {zone!r}, which is not a known time zone",
                header.lines[2],
            )  # fmt: skip
        zones[name] = zone
    return zones


def parse(ctx: ParseContext) -> str:
    item_map = ctx.study.survey_item_columns()  # partner column -> canonical item
    if not item_map:
        raise FileRejected("registry", f"study {ctx.study.study_id} maps no survey items")
    first_rows = read_csv_header(ctx.path, 3)
    if any(first_rows.names) and "ExternalReference" not in first_rows.names:
        raise FileRejected(
            "columns",
            "missing column(s) 'ExternalReference': an anonymised export, whose responses cannot be "
            "linked to the allocation",
            first_rows.lines[0],
        )
    header = read_csv_by_name(ctx, METADATA + list(item_map), header_records=3)
    zones = declared_zones(header)
    for column in ("Status", "RecordedDate", "ResponseId", "ExternalReference", "wave", "Finished"):
        require_present(ctx, column)
    for column in DATE_COLUMNS:
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
    status = (
        'case trim("Status") '
        + " ".join(f"when {quote_literal(k)} then {quote_literal(v)}" for k, v in STATUS_CODES.items())
        + ' else trim("Status") end'
    )
    dates = {
        column: ctx.in_zone(to_timestamp(column, TIMESTAMP_FORMAT), zones.get(column))
        for column in DATE_COLUMNS
    }
    items = survey_items_sql(item_map)
    return f"""
        select
            _row_number,
            trim("ResponseId") as response_id,
            trim("ExternalReference") as participant_id,
            trim(wave) as wave,
            {status} as status,
            {dates["StartDate"]} as started_at,
            {dates["EndDate"]} as ended_at,
            {dates["RecordedDate"]} as recorded_at,
            cast(trim("Progress") as double) as progress,
            cast(trim("Duration (in seconds)") as double) as duration_seconds,
            {finished} as finished,
            nullif(trim("DistributionChannel"), '') as distribution_channel,
            nullif(trim("UserLanguage"), '') as user_language,
            {items}
        from source
    """
