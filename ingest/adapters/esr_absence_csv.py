"""esr_absence_csv: an NHS Electronic Staff Record sickness extract (cumulative; UK dates)."""

from ingest.adapters._base import (
    ParseContext,
    first_violation,
    read_csv_by_name,
    require_date,
    require_number,
    require_present,
    to_date,
    try_date,
)

HEADER = ["Employee Number", "Absence Type", "Absence Reason", "Absence Start Date", "Absence End Date",
          "Calendar Days Lost", "FTE Days Lost"]  # fmt: skip
COLUMNS = [
    ("employee_pseudonym", "text"),
    ("absence_type", "text"),
    ("absence_reason", "text"),
    ("start_date", "date"),
    ("end_date", "date"),
    ("calendar_days_lost", "double"),
    ("fte_days_lost", "double"),
]

UK_DATE = "%d/%m/%Y"

# (column, allocation column): every row must name someone in the study's allocation
REFERENCE = ("employee_pseudonym", "employee_pseudonym")


def parse(ctx: ParseContext) -> str:
    read_csv_by_name(ctx, HEADER)
    for column in ("Employee Number", "Absence Type", "Absence Start Date"):
        require_present(ctx, column)
    for column in ("Absence Start Date", "Absence End Date"):
        require_date(ctx, column, UK_DATE)
    for column in ("Calendar Days Lost", "FTE Days Lost"):
        require_number(ctx, column)
    first_violation(
        ctx,
        f"{try_date('Absence End Date', UK_DATE)} < {try_date('Absence Start Date', UK_DATE)}",
        "end after start",
        "the absence ends before it starts",
    )
    return f"""
        select
            _row_number,
            {ctx.employee_pseudonym("Employee Number")} as employee_pseudonym,
            trim("Absence Type") as absence_type,
            nullif(trim("Absence Reason"), '') as absence_reason,
            {to_date("Absence Start Date", UK_DATE)} as start_date,
            {to_date("Absence End Date", UK_DATE)} as end_date,
            cast(trim("Calendar Days Lost") as double) as calendar_days_lost,
            cast(trim("FTE Days Lost") as double) as fte_days_lost
        from source
    """
