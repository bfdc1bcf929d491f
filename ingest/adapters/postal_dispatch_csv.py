"""postal_dispatch_csv: the mailing house's dispatch log for posted letters."""

from ingest.adapters._base import (
    ParseContext,
    first_violation,
    read_csv_by_name,
    require_date,
    require_present,
    to_date,
)

HEADER = ["participant_id", "letter_ref", "dispatched_on", "returned_undelivered", "returned_on"]
COLUMNS = [
    ("participant_id", "text"),
    ("letter_ref", "text"),
    ("dispatched_on", "date"),
    ("returned_undelivered", "boolean"),
    ("returned_on", "date"),
]

# (column, allocation column): every row must name someone in the study's allocation
REFERENCE = ("participant_id", "participant_id")


def parse(ctx: ParseContext) -> str:
    read_csv_by_name(ctx, HEADER)
    for column in ("participant_id", "letter_ref", "dispatched_on", "returned_undelivered"):
        require_present(ctx, column)
    for column in ("dispatched_on", "returned_on"):
        require_date(ctx, column, "%Y-%m-%d")
    first_violation(
        ctx, "upper(trim(returned_undelivered)) not in ('Y', 'N')", "value set",
        "column 'returned_undelivered' is not Y or N",
    )  # fmt: skip
    return f"""
        select
            _row_number,
            trim(participant_id) as participant_id,
            trim(letter_ref) as letter_ref,
            {to_date("dispatched_on", "%Y-%m-%d")} as dispatched_on,
            upper(trim(returned_undelivered)) = 'Y' as returned_undelivered,
            {to_date("returned_on", "%Y-%m-%d")} as returned_on
        from source
    """
