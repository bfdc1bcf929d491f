"""hr_roster_csv: HR's monthly staff-in-post snapshot."""

from ingest.adapters._base import (
    ParseContext,
    read_csv_by_name,
    require_date,
    require_number,
    require_present,
    to_date,
)

HEADER = [
    "snapshot_date",
    "employee_number",
    "hire_date",
    "fte",
    "contracted_hours_per_week",
    "org_unit",
    "grade",
    "job_role",
]
COLUMNS = [
    ("snapshot_date", "date"),
    ("employee_pseudonym", "text"),
    ("hire_date", "date"),
    ("fte", "double"),
    ("contracted_hours_per_week", "double"),
    ("org_unit", "text"),
    ("grade", "text"),
    ("job_role", "text"),
]

# (column, allocation column): every row must name someone in the study's allocation
REFERENCE = ("employee_pseudonym", "employee_pseudonym")


def parse(ctx: ParseContext) -> str:
    read_csv_by_name(ctx, HEADER)
    for column in ("snapshot_date", "employee_number", "hire_date", "fte"):
        require_present(ctx, column)
    for column in ("snapshot_date", "hire_date"):
        require_date(ctx, column, "%Y-%m-%d")
    for column in ("fte", "contracted_hours_per_week"):
        require_number(ctx, column)
    return f"""
        select
            _row_number,
            {to_date("snapshot_date", "%Y-%m-%d")} as snapshot_date,
            {ctx.employee_pseudonym("employee_number")} as employee_pseudonym,
            {to_date("hire_date", "%Y-%m-%d")} as hire_date,
            cast(trim(fte) as double) as fte,
            cast(trim(contracted_hours_per_week) as double) as contracted_hours_per_week,
            nullif(trim(org_unit), '') as org_unit,
            nullif(trim(grade), '') as grade,
            nullif(trim(job_role), '') as job_role
        from source
    """
