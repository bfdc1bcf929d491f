"""hris_absence_json: a cloud HR system's time-off export, one worker per line."""

from ingest.adapters._base import (
    ParseContext,
    first_violation,
    read_json_lines,
    require_date,
    require_present,
    run_checks,
    to_date,
    try_date,
)

COLUMNS = [
    ("worker_pseudonym", "text"),
    ("extract_date", "date"),
    ("item_no", "bigint"),
    ("absence_type", "text"),
    ("reason", "text"),
    ("start_date", "date"),
    ("end_date", "date"),
    ("quantity", "double"),
    ("unit", "text"),
]
TIME_OFF = (
    'STRUCT(type VARCHAR, reason VARCHAR, start VARCHAR, "end" VARCHAR, quantity DOUBLE, unit VARCHAR)[]'
)

ISO_DATE = "%Y-%m-%d"

# (column, allocation column): every row must name someone in the study's allocation
REFERENCE = ("worker_pseudonym", "employee_pseudonym")


def parse(ctx: ParseContext) -> str:
    read_json_lines(ctx, {"worker_id": "VARCHAR", "extract_date": "VARCHAR", "time_off": TIME_OFF})
    require_present(ctx, "worker_id")
    require_present(ctx, "extract_date")
    require_date(ctx, "extract_date", ISO_DATE)
    first_violation(ctx, "time_off is null", "required", "field 'time_off' is missing")
    run_checks(ctx)  # before the records are unnested
    ctx.con.execute(
        """
        create temp table items as
        select _row_number, worker_id, extract_date, unnest(time_off) as item,
               generate_subscripts(time_off, 1) as item_no
        from source
        """
    )
    ctx.con.execute(
        "create temp table flat as select _row_number, worker_id, extract_date, item_no, item.* from items"
    )
    for column in ("type", "start"):
        require_present(ctx, column, f"time_off.{column}", table="flat")
    for column in ("start", "end"):
        require_date(ctx, column, ISO_DATE, f"time_off.{column}", table="flat")
    first_violation(
        ctx,
        f"{try_date('end', ISO_DATE)} < {try_date('start', ISO_DATE)}",
        "end after start",
        "time_off ends before it starts",
        table="flat",
    )
    first_violation(
        ctx,
        "quantity is not null and unit is null",
        "required",
        "field 'time_off.unit' is missing",
        table="flat",
    )
    return f"""
        select
            _row_number,
            {ctx.employee_pseudonym("worker_id")} as worker_pseudonym,
            {to_date("extract_date", ISO_DATE)} as extract_date,
            item_no,
            trim("type") as absence_type,
            nullif(trim(reason), '') as reason,
            {to_date("start", ISO_DATE)} as start_date,
            {to_date("end", ISO_DATE)} as end_date,
            quantity,
            trim(unit) as unit
        from flat
    """
