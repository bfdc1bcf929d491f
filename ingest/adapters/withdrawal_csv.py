"""withdrawal_csv: the trial team's register of withdrawals (cumulative: each file lists every
withdrawal so far; a later row may raise a participant's level, never lower it)."""

from hhp.instruments import WITHDRAWAL_LEVELS
from hhp.sql import quote_literal
from ingest.adapters._base import (
    ParseContext,
    first_violation,
    read_csv_by_name,
    require_date,
    require_present,
    to_date,
)

HEADER = ["participant_id", "withdrawn_on", "level", "reason_code"]
COLUMNS = [
    ("participant_id", "text"),
    ("withdrawn_on", "date"),
    ("level", "text"),
    ("reason_code", "text"),
]

# A withdrawal names someone randomised; once erased (level data) they are in the allocation no
# longer, so ingest also resolves a withdrawal against the register's own erased ids.
REFERENCE = ("participant_id", "participant_id")


def parse(ctx: ParseContext) -> str:
    read_csv_by_name(ctx, HEADER)
    for column in ("participant_id", "withdrawn_on", "level"):
        require_present(ctx, column)
    require_date(ctx, "withdrawn_on", "%Y-%m-%d")
    levels = ", ".join(quote_literal(level) for level in WITHDRAWAL_LEVELS)
    first_violation(
        ctx, f"lower(trim(level)) not in ({levels})", "value set",
        f"column 'level' is not one of {', '.join(WITHDRAWAL_LEVELS)}",
    )  # fmt: skip
    return f"""
        select
            _row_number,
            trim(participant_id) as participant_id,
            {to_date("withdrawn_on", "%Y-%m-%d")} as withdrawn_on,
            lower(trim(level)) as level,
            nullif(lower(trim(reason_code)), '') as reason_code
        from source
    """
