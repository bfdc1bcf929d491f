"""allocation_csv: the trial team's randomisation list and linkage key."""

from ingest.adapters._base import (
    ParseContext,
    read_csv_by_name,
    require_date,
    require_present,
    to_date,
)

HEADER = ["participant_id", "employee_number", "email", "arm", "randomised_on", "stratum", "cluster_id"]
COLUMNS = [
    ("participant_id", "text"),
    ("employee_pseudonym", "text"),
    ("email_pseudonym", "text"),
    ("arm", "text"),
    ("randomised_on", "date"),
    ("stratum", "text"),
    ("cluster_id", "text"),
    # links a learning record store that names actors by mbox_sha1sum (xapi_statements_json)
    ("mbox_sha1sum_pseudonym", "text"),
]

REFERENCE = None  # the allocation is what the other feeds refer to


def parse(ctx: ParseContext) -> str:
    read_csv_by_name(ctx, HEADER)
    for column in ("participant_id", "employee_number", "email", "arm", "randomised_on"):
        require_present(ctx, column)
    require_date(ctx, "randomised_on", "%Y-%m-%d")
    return f"""
        select
            _row_number,
            trim(participant_id) as participant_id,
            {ctx.employee_pseudonym("employee_number")} as employee_pseudonym,
            {ctx.email_pseudonym("email")} as email_pseudonym,
            trim(arm) as arm,
            {to_date("randomised_on", "%Y-%m-%d")} as randomised_on,
            nullif(trim(stratum), '') as stratum,
            nullif(trim(cluster_id), '') as cluster_id,
            {ctx.mbox_sha1sum_pseudonym("email")} as mbox_sha1sum_pseudonym
        from source
    """
