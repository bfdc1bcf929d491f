"""redcap_csv: a research database's raw longitudinal export, one row per record per event.

Item columns map to canonical items through the registry; values are numeric codes.
A cumulative export repeats earlier events: staging keeps the newest per record and event.
"""

from hhp.instruments import ITEM_COLUMNS
from hhp.sql import quote_literal
from ingest.adapters._base import (
    FileRejected,
    ParseContext,
    check_columns,
    csv_header,
    first_violation,
    read_csv_as_text,
    require_present,
    survey_items_sql,
    try_date,
)

FORMAT = "redcap_csv"
METADATA = ["record_id", "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance",
            "wellbeing_timestamp"]  # fmt: skip
COLUMNS = [
    ("record_id", "text"),
    ("redcap_event_name", "text"),
    ("recorded_at", "timestamp"),
    ("wellbeing_complete", "bigint"),
    *((item, "text") for item in ITEM_COLUMNS),
]
NOT_COMPLETED = "[not completed]"
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M"

# (column, allocation column): every row must name someone in the study's allocation
REFERENCE = ("record_id", "participant_id")


def parse(ctx: ParseContext) -> str:
    item_map = ctx.study.survey_item_columns()
    if not item_map:
        raise FileRejected("registry", f"study {ctx.study.study_id} maps no survey items")
    header = [*METADATA, *item_map, "wellbeing_complete"]
    check_columns(csv_header(ctx.path)[0], header)
    read_csv_as_text(ctx, csv_header(ctx.path)[0])
    for column in ("record_id", "redcap_event_name", "wellbeing_complete"):
        require_present(ctx, column)
    first_violation(
        ctx,
        f"wellbeing_timestamp is not null and wellbeing_timestamp <> {quote_literal(NOT_COMPLETED)} "
        f"and {try_date('wellbeing_timestamp', TIMESTAMP_FORMAT)} is null",
        "parseable date",
        "column 'wellbeing_timestamp' is not YYYY-MM-DD HH:MM or [not completed]",
    )
    first_violation(
        ctx, "trim(wellbeing_complete) not in ('0', '1', '2')", "value set",
        "column 'wellbeing_complete' is not 0, 1 or 2",
    )  # fmt: skip
    items = survey_items_sql(item_map)
    return f"""
        select
            _row_number,
            trim(record_id) as record_id,
            trim(redcap_event_name) as redcap_event_name,
            {try_date("wellbeing_timestamp", TIMESTAMP_FORMAT)} as recorded_at,
            cast(trim(wellbeing_complete) as bigint) as wellbeing_complete,
            {items}
        from source
    """
