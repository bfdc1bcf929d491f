"""hr_leavers_csv: HR's leavers extract (cumulative; UK dates)."""

from ingest.adapters._base import (
    ParseContext,
    read_csv_by_name,
    require_date,
    require_present,
    to_date,
)

HEADER = ["employee_number", "termination_date", "leaving_reason", "notice_given_date"]
COLUMNS = [
    ("employee_pseudonym", "text"),
    ("termination_date", "date"),
    ("leaving_reason", "text"),
    ("notice_given_date", "date"),
]

# (column, allocation column): every row must name someone in the study's allocation
REFERENCE = ("employee_pseudonym", "employee_pseudonym")


def parse(ctx: ParseContext) -> str:
    read_csv_by_name(ctx, HEADER)
    for column in ("employee_number", "termination_date", "leaving_reason"):
        require_present(ctx, column)
    for column in ("termination_date", "notice_given_date"):
        require_date(ctx, column, "%d/%m/%Y")
    return f"""
        select
            _row_number,
            {ctx.employee_pseudonym("employee_number")} as employee_pseudonym,
            {to_date("termination_date", "%d/%m/%Y")} as termination_date,
            trim(leaving_reason) as leaving_reason,
            {to_date("notice_given_date", "%d/%m/%Y")} as notice_given_date
        from source
    """
