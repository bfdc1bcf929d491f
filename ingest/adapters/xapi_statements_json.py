"""xapi_statements_json: a learning record store's export, one JSON document per file.

_row_number is the statement's position in the document (1-based). The actor's mbox
(mailto: plus the work email) is pseudonymised; timestamps carry offsets and are stored
in UTC.
"""

from hhp.sql import quote_literal
from ingest.adapters._base import ParseContext, first_violation, read_json_lines, require_present
from ingest.adapters._json_stream import list_as_json_lines

FORMAT = "xapi_statements_json"
COLUMNS = [
    ("statement_id", "text"),
    ("email_pseudonym", "text"),
    ("verb", "text"),
    ("object_id", "text"),
    ("module_no", "bigint"),
    ("completion", "boolean"),
    ("statement_at", "timestamp"),
    ("stored_at", "timestamp"),
]
STATEMENT = {
    "id": "VARCHAR",
    "actor": "STRUCT(objectType VARCHAR, mbox VARCHAR)",
    "verb": "STRUCT(id VARCHAR)",
    "object": "STRUCT(id VARCHAR)",
    "result": "STRUCT(completion BOOLEAN)",
    "timestamp": "VARCHAR",
    "stored": "VARCHAR",
}
VERBS = "http://adlnet.gov/expapi/verbs/"

# (column, allocation column): every row must name someone in the study's allocation
REFERENCE = ("email_pseudonym", "email_pseudonym")


def parse(ctx: ParseContext) -> str:
    lines = ctx.scratch("statements.jsonl")
    list_as_json_lines(ctx.path, "statements", lines)
    read_json_lines(ctx, STATEMENT, lines, records="statement")
    ctx.con.execute(
        """
        create or replace temp table source as
        select
            _row_number, id, actor.mbox as mbox, substr(actor.mbox, 8) as email, verb.id as verb_id,
            object.id as object_id,
            result.completion as completion, "timestamp", stored
        from source
        """
    )
    for column, label in (("id", "id"), ("mbox", "actor.mbox"), ("verb_id", "verb.id"),
                          ("object_id", "object.id"), ("timestamp", "timestamp")):  # fmt: skip
        require_present(ctx, column, label)
    first_violation(
        ctx, "mbox not like 'mailto:%'", "value set", "field 'actor.mbox' is not a mailto: address"
    )
    verbs = ", ".join(quote_literal(VERBS + verb) for verb in ("launched", "progressed", "completed"))
    first_violation(
        ctx, f"verb_id not in ({verbs})",
        "value set", "field 'verb.id' is not launched, progressed or completed",
    )  # fmt: skip
    first_violation(
        ctx, "try_cast(regexp_extract(\"object_id\", '/(\\d+)$', 1) as bigint) is null", "module number",
        "field 'object.id' does not end with a module number",
    )  # fmt: skip
    first_violation(
        ctx, "try_cast(\"timestamp\" as timestamptz) is null", "parseable date",
        "field 'timestamp' is not an ISO 8601 date-time with offset",
    )  # fmt: skip
    return f"""
        select
            _row_number,
            id as statement_id,
            {ctx.email_pseudonym("email")} as email_pseudonym,
            replace(verb_id, {quote_literal(VERBS)}, '') as verb,
            object_id,
            cast(regexp_extract(object_id, '/(\\d+)$', 1) as bigint) as module_no,
            completion,
            cast(cast("timestamp" as timestamptz) at time zone 'UTC' as timestamp) as statement_at,
            cast(try_cast(stored as timestamptz) at time zone 'UTC' as timestamp) as stored_at
        from source
    """
