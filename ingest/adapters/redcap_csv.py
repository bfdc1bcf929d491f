"""redcap_csv: a research database's raw longitudinal export, one row per record per event.

Item columns map to canonical items through the registry; values are numeric codes.
A cumulative export repeats earlier events: staging keeps the newest per record and event.
The record ID field is the project's first field, named by the registry (record_id_field,
default record_id); the repeat columns exist only in projects with repeating forms. Rows
of a repeating instrument, or of an event the study does not use, belong to other forms:
they are counted in the ledger, not loaded.
"""

from hhp.instruments import ITEM_COLUMNS
from hhp.sql import quote_identifier, quote_literal
from ingest.adapters._base import (
    FileRejected,
    ParseContext,
    first_violation,
    read_csv_by_name,
    require_present,
    survey_items_sql,
    try_date,
)

OPTIONAL = ("redcap_repeat_instrument", "redcap_repeat_instance")
COLUMNS = [
    ("record_id", "text"),
    ("redcap_event_name", "text"),
    ("recorded_at", "timestamp"),
    ("wellbeing_complete", "bigint"),
    *((item, "text") for item in ITEM_COLUMNS),
]
NOT_COMPLETED = "[not completed]"
TIMESTAMP_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")  # survey timestamps come both ways

# (column, allocation column): every row must name someone in the study's allocation
REFERENCE = ("record_id", "participant_id")


def study_events(ctx: ParseContext) -> list[str]:
    return [f"{tp.name}_arm_1" for tp in ctx.study.timepoints]


def parse(ctx: ParseContext) -> str:
    item_map = ctx.study.survey_item_columns()
    if not item_map:
        raise FileRejected("registry", f"study {ctx.study.study_id} maps no survey items")
    record_id = str(ctx.feed_spec.get("record_id_field") or "record_id")
    declared = [
        record_id,
        "redcap_event_name",
        *OPTIONAL,
        "wellbeing_timestamp",
        *item_map,
        "wellbeing_complete",
    ]
    read_csv_by_name(ctx, declared, OPTIONAL)
    events = ", ".join(quote_literal(event) for event in study_events(ctx))
    ctx.skip_rows(
        "nullif(trim(redcap_repeat_instrument), '') is not null",
        "rows of a repeating instrument (another form's)",
    )
    ctx.skip_rows(f"trim(redcap_event_name) not in ({events})", "rows of an event the study does not use")
    for column in (record_id, "redcap_event_name", "wellbeing_complete"):
        require_present(ctx, column)
    recorded_at = "coalesce(" + ", ".join(try_date("wellbeing_timestamp", f) for f in TIMESTAMP_FORMATS) + ")"
    first_violation(
        ctx,
        f"wellbeing_timestamp is not null and wellbeing_timestamp <> {quote_literal(NOT_COMPLETED)} "
        f"and {recorded_at} is null",
        "parseable date",
        "column 'wellbeing_timestamp' is not YYYY-MM-DD HH:MM[:SS] or [not completed]",
    )
    first_violation(
        ctx, "trim(wellbeing_complete) not in ('0', '1', '2')", "value set",
        "column 'wellbeing_complete' is not 0, 1 or 2",
    )  # fmt: skip
    items = survey_items_sql(item_map)
    return f"""
        select
            _row_number,
            trim({quote_identifier(record_id)}) as record_id,
            trim(redcap_event_name) as redcap_event_name,
            {ctx.in_zone(recorded_at)} as recorded_at,
            cast(trim(wellbeing_complete) as bigint) as wellbeing_complete,
            {items}
        from source
    """
