"""esr_absence_csv: an NHS Electronic Staff Record sickness extract (cumulative; UK dates)."""

from ingest.adapters._base import (
    ParseContext,
    check_columns,
    csv_header,
    first_violation,
    read_csv_as_text,
    require_date,
    require_number,
    require_present,
    to_date,
)

FORMAT = "esr_absence_csv"
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

# (column, allocation column): every row must name someone in the study's allocation
REFERENCE = ("employee_pseudonym", "employee_pseudonym")


def parse(ctx: ParseContext) -> str:
    check_columns(csv_header(ctx.path)[0], HEADER)
    read_csv_as_text(ctx, HEADER)
    for column in ("Employee Number", "Absence Type", "Absence Start Date"):
        require_present(ctx, f'"{column}"', column)
    for column in ("Absence Start Date", "Absence End Date"):
        require_date(ctx, f'"{column}"', "%d/%m/%Y", column)
    for column in ("Calendar Days Lost", "FTE Days Lost"):
        require_number(ctx, f'"{column}"', column)
    first_violation(
        ctx,
        "try_strptime(\"Absence End Date\", '%d/%m/%Y') < try_strptime(\"Absence Start Date\", '%d/%m/%Y')",
        "end after start",
        "the absence ends before it starts",
    )
    return f"""
        select
            _row_number,
            {ctx.employee_pseudonym('"Employee Number"')} as employee_pseudonym,
            trim("Absence Type") as absence_type,
            nullif(trim("Absence Reason"), '') as absence_reason,
            {to_date('"Absence Start Date"', "%d/%m/%Y")} as start_date,
            {to_date('"Absence End Date"', "%d/%m/%Y")} as end_date,
            cast(trim("Calendar Days Lost") as double) as calendar_days_lost,
            cast(trim("FTE Days Lost") as double) as fte_days_lost
        from source
    """
