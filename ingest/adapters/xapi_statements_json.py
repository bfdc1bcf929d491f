"""xapi_statements_json: a learning record store's export, one JSON document per file.

_row_number is the statement's position in the document (a reason also names its line).
The actor is identified as the registry says (actor_identifier: mbox, the default;
mbox_sha1sum; or account, whose name holds the work email or, with account_name:
employee_number, the employee number); only its pseudonym is kept. A timestamp without an
offset is in UTC. Voiding statements load as they are (verb 'voided', object_id the voided
statement's id): staging applies them across files. An export whose `more` is not empty is
one page of several: it loads, and the ledger notes it.
"""

from hhp.registry import Study
from hhp.sql import quote_literal
from ingest.adapters._base import (
    ParseContext,
    first_violation,
    read_json_lines,
    require_present,
)
from ingest.adapters._json_stream import list_as_json_lines

COLUMNS = [
    ("statement_id", "text"),
    ("email_pseudonym", "text"),
    ("employee_pseudonym", "text"),
    ("mbox_sha1sum_pseudonym", "text"),
    ("verb", "text"),
    ("object_id", "text"),
    ("module_no", "bigint"),
    ("completion", "boolean"),
    ("statement_at", "timestamp"),
    ("stored_at", "timestamp"),
]
STATEMENT = {
    "id": "VARCHAR",
    "actor": (
        "STRUCT(objectType VARCHAR, mbox VARCHAR, mbox_sha1sum VARCHAR, "
        "account STRUCT(homePage VARCHAR, name VARCHAR))"
    ),
    "verb": "STRUCT(id VARCHAR)",
    "object": "STRUCT(id VARCHAR, objectType VARCHAR)",
    "result": "STRUCT(completion BOOLEAN)",
    "timestamp": "VARCHAR",
    "stored": "VARCHAR",
}
VERBS = "http://adlnet.gov/expapi/verbs/"
USED_VERBS = ("launched", "progressed", "completed")
VOIDED = "voided"
# cmi5's other verbs: a cmi5 LRS records them for every session; counted, not loaded
CMI5_VERBS = tuple(
    VERBS + v for v in ("initialized", "terminated", "passed", "failed", "abandoned", "waived")
) + ("https://w3id.org/xapi/adl/verbs/satisfied",)


def actor_key(study: Study) -> tuple[str, str]:
    """(identifier, what it holds) the study's learning record store names actors by (the
    registry's schema, hhp/study_schema.py, says which it may be)."""
    spec = study.feeds.get("delivery", {})
    identifier = str(spec.get("actor_identifier", "mbox"))
    holds = str(spec.get("account_name", "email")) if identifier == "account" else "email"
    return identifier, holds


def reference(study: Study) -> tuple[str, str]:
    """(column, allocation column): every statement's actor must be someone in the allocation."""
    identifier, holds = actor_key(study)
    if identifier == "mbox_sha1sum":
        return ("mbox_sha1sum_pseudonym", "mbox_sha1sum_pseudonym")
    if holds == "employee_number":
        return ("employee_pseudonym", "employee_pseudonym")
    return ("email_pseudonym", "email_pseudonym")


def parse(ctx: ParseContext) -> str:
    identifier, holds = actor_key(ctx.study)
    statements = ctx.scratch("statements.jsonl")
    others, lines = list_as_json_lines(ctx.path, "statements", statements)
    if others.get("more"):
        ctx.notes.append("the export announced more pages ('more' is not empty): it is one page of several")
    read_json_lines(ctx, STATEMENT, statements, lines, record_kind="statement")
    ctx.undeclared.extend(f"(document) {name}" for name in others if name != "more")
    ctx.con.execute(
        """
        create or replace temp table source as
        select
            _row_number, id, actor.mbox as mbox, substr(actor.mbox, 8) as email_from_mbox,
            actor.mbox_sha1sum as mbox_sha1sum,
            actor.account.name as account_name, verb.id as verb_id, object.id as object_id,
            object.objectType as object_type, result.completion as completion, "timestamp", stored
        from source
        """
    )
    ctx.skip_rows(
        f"verb_id in ({', '.join(quote_literal(v) for v in CMI5_VERBS)})",
        "statements with a cmi5 verb the platform does not use",
    )
    voiding = f"verb_id = {quote_literal(VERBS + VOIDED)}"
    for column, label in (("id", "id"), ("verb_id", "verb.id"), ("object_id", "object.id"),
                          ("timestamp", "timestamp")):  # fmt: skip
        require_present(ctx, column, label)
    actor_column = {"mbox": "mbox", "mbox_sha1sum": "mbox_sha1sum", "account": "account_name"}[identifier]
    actor_label = {
        "mbox": "actor.mbox",
        "mbox_sha1sum": "actor.mbox_sha1sum",
        "account": "actor.account.name",
    }
    first_violation(
        ctx, f"not ({voiding}) and nullif(trim({actor_column}), '') is null", "required",
        f"field '{actor_label[identifier]}' is blank (the study's store names actors by {identifier})",
    )  # fmt: skip
    if identifier == "mbox":
        first_violation(
            ctx, "not (" + voiding + ") and mbox not like 'mailto:%'", "value set",
            "field 'actor.mbox' is not a mailto: address",
        )  # fmt: skip
    if identifier == "mbox_sha1sum":
        first_violation(
            ctx, f"not ({voiding}) and not regexp_full_match(trim(mbox_sha1sum), '[0-9a-fA-F]{{40}}')",
            "value set", "field 'actor.mbox_sha1sum' is not a SHA-1 in hex",
        )  # fmt: skip
    verbs = ", ".join(quote_literal(VERBS + verb) for verb in (*USED_VERBS, VOIDED))
    first_violation(
        ctx, f"verb_id not in ({verbs})",
        "value set", "field 'verb.id' is not launched, progressed, completed or voided",
    )  # fmt: skip
    first_violation(
        ctx, f"{voiding} and coalesce(object_type, '') <> 'StatementRef'", "value set",
        "a voiding statement's object is not a StatementRef",
    )  # fmt: skip
    first_violation(
        ctx, f"not ({voiding}) and try_cast(regexp_extract(\"object_id\", '/(\\d+)$', 1) as bigint) is null",
        "module number", "field 'object.id' does not end with a module number",
    )  # fmt: skip
    first_violation(
        ctx, "try_cast(\"timestamp\" as timestamptz) is null", "parseable date",
        "field 'timestamp' is not an ISO 8601 date-time",
    )  # fmt: skip
    email = (
        {"mbox": "email_from_mbox", "account": "account_name"}.get(identifier) if holds == "email" else None
    )

    def actor(column: str | None, pseudonym) -> str:
        return (
            f"case when not ({voiding}) then {pseudonym(column)} end" if column else "cast(null as varchar)"
        )

    return f"""
        select
            _row_number,
            id as statement_id,
            {actor(email, ctx.email_pseudonym)} as email_pseudonym,
            {actor("account_name" if holds == "employee_number" else None, ctx.employee_pseudonym)}
                as employee_pseudonym,
            {
        actor(
            "mbox_sha1sum" if identifier == "mbox_sha1sum" else None,
            lambda c: ctx.mbox_sha1sum_pseudonym(c, hashed=True),
        )
    } as mbox_sha1sum_pseudonym,
            replace(verb_id, {quote_literal(VERBS)}, '') as verb,
            object_id,
            try_cast(regexp_extract(object_id, '/(\\d+)$', 1) as bigint) as module_no,
            completion,
            cast(cast("timestamp" as timestamptz) at time zone 'UTC' as timestamp) as statement_at,
            cast(try_cast(stored as timestamptz) at time zone 'UTC' as timestamp) as stored_at
        from source
    """
