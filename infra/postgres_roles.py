"""Least privilege on PostgreSQL: the platform's four roles, their schemas and grants.

Run by the database's owner (`hhp infra roles`), as often as you like: every run brings the
roles and grants back to exactly this, whatever drifted.

- hhp_loader       ingest: writes `raw` and the ledger in `ops`, reads nothing else
- hhp_transformer  dbt, gate, analysis: reads `raw` and `ops`, writes the dbt schemas,
                   `quality`, `analysis` and its own `ops` tables; and erases (a `data`
                   withdrawal, ingest/erasure.py): deletes rows in `raw` (and renumbers a rewritten
                   file's rows), records the erasure
                   and the archive's rewrites in the ledger's `ops` tables
- hhp_analyst      reads the marts, `analysis`, `reporting`, the reference seeds, the
                   gate's results (`quality`) and the data releases' snapshots
                   (`releases`); never `raw`, `staging`, `intermediate` or `ops`
- hhp_lead         reads only `reporting`: disclosure-controlled views

The owner creates every schema; each pipeline role owns the tables it makes, and default
privileges pass read access on. No role is a superuser, creates roles or holds a grant option;
and because PostgreSQL lets a table's owner grant on it, an event trigger refuses GRANT,
REVOKE and ALTER DEFAULT PRIVILEGES from anyone but the owner (where the owner may create
event triggers, i.e. is a superuser; otherwise provision() says so and carries on).
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg2 import sql

LOADER, TRANSFORMER, ANALYST, LEAD = "hhp_loader", "hhp_transformer", "hhp_analyst", "hhp_lead"
ROLES = (LOADER, TRANSFORMER, ANALYST, LEAD)
SCHEMAS = (
    "raw", "ops", "staging", "intermediate", "marts", "reference", "reporting", "analysis", "quality",
    "releases",
)  # fmt: skip


@dataclass(frozen=True)
class Access:
    writes: tuple[str, ...] = ()  # usage and create: the role makes (and owns) its tables there
    reads: tuple[str, ...] = ()  # usage, and select on every table now and to come
    reads_from: tuple[str, ...] = ()  # whose tables in `reads` it may select (default privileges)


ACCESS = {
    LOADER: Access(writes=("raw", "ops")),
    TRANSFORMER: Access(
        writes=(
            "ops",
            "staging",
            "intermediate",
            "marts",
            "reference",
            "reporting",
            "analysis",
            "quality",
            "releases",
        ),
        reads=("raw", "ops"),
        reads_from=(LOADER,),
    ),
    ANALYST: Access(
        reads=("marts", "analysis", "reporting", "reference", "quality", "releases"),
        reads_from=(TRANSFORMER,),
    ),
    LEAD: Access(reads=("reporting",), reads_from=(TRANSFORMER,)),
}
# Beyond reading: what the transformer may do to the loader's tables, to erase in one transaction
# with the derived tables it owns (no other role deletes a raw row).
ERASES = {TRANSFORMER: (("raw", "delete, update"), ("ops", "insert, update"))}
TEMPORARY = (TRANSFORMER, ANALYST)  # dbt's incremental models stage rows in temporary tables

GUARD = """
create or replace function public.hhp_only_owner_grants() returns event_trigger
language plpgsql as $$
begin
    if current_user <> {owner} and not (select rolsuper from pg_roles where rolname = current_user) then
        raise exception 'only % may change privileges in this database (% refused for %)',
            {owner}, tg_tag, current_user;
    end if;
end $$
"""


def provision(admin_url: str, passwords: dict[str, str] | None = None) -> list[str]:
    """Create or correct the roles, schemas and grants, giving each role in `passwords` its
    password (Settings.role_passwords); returns what it could not enforce."""
    import psycopg2

    con = psycopg2.connect(admin_url)
    notes = []
    try:
        with con.cursor() as cur:
            cur.execute(
                "select current_user, current_database(), rolsuper from pg_roles where rolname = current_user"
            )
            owner, database, is_superuser = cur.fetchone()
            _roles(cur, passwords or {})
            _database(cur, database)
            _schemas(cur, owner)
            if is_superuser:
                _guard(cur, owner)
            else:
                notes.append(
                    f"{owner} is not a superuser, so no event trigger stops a table's owner from "
                    "granting on it; review grants with \\dp"
                )
        con.commit()  # all of it or none of it
    finally:
        con.close()
    return notes


def _run(cur, template: str, *names: str, params: list | None = None) -> None:
    """A statement with identifiers quoted into its {} places."""
    cur.execute(sql.SQL(template).format(*map(sql.Identifier, names)), params)


def _roles(cur, passwords: dict[str, str]) -> None:
    attributes = "login nosuperuser nocreatedb nocreaterole noreplication nobypassrls"
    for role in ROLES:
        cur.execute("select 1 from pg_roles where rolname = %s", [role])
        _run(cur, ("alter" if cur.fetchone() else "create") + " role {} " + attributes, role)
        if passwords.get(role):
            _run(cur, "alter role {} password %s", role, params=[passwords[role]])
        cur.execute(  # no role of ours may act as another
            "select r.rolname from pg_auth_members m join pg_roles r on r.oid = m.roleid "
            "where m.member = (select oid from pg_roles where rolname = %s)",
            [role],
        )
        for (granted,) in cur.fetchall():
            _run(cur, "revoke {} from {}", granted, role)


def _database(cur, database: str) -> None:
    _run(cur, "revoke all on database {} from public", database)
    _run(cur, "revoke all on schema public from public")
    for role in ROLES:
        _run(cur, "revoke all on database {} from {}", database, role)
        _run(cur, "grant connect on database {} to {}", database, role)
        if role in TEMPORARY:
            _run(cur, "grant temporary on database {} to {}", database, role)


def _schemas(cur, owner: str) -> None:
    for schema in SCHEMAS:
        _run(cur, "create schema if not exists {} authorization {}", schema, owner)
    for role, access in ACCESS.items():
        for schema in SCHEMAS:  # from nothing, so a run also takes back what drifted in
            _run(cur, "revoke all on schema {} from {}", schema, role)
            if role in (ANALYST, LEAD):  # readers own no tables
                _run(cur, "revoke all on all tables in schema {} from {}", schema, role)
            for writer in (LOADER, TRANSFORMER):
                _run(cur, "alter default privileges for role {} in schema {} revoke all on tables from {}",
                     writer, schema, role)  # fmt: skip
        for schema in access.writes:
            _run(cur, "grant usage, create on schema {} to {}", schema, role)
        for schema in access.reads:
            _run(cur, "grant usage on schema {} to {}", schema, role)
            for writer in access.reads_from:
                _grant_existing(cur, schema, writer, role)
                _run(cur, "alter default privileges for role {} in schema {} grant select on tables to {}",
                     writer, schema, role)  # fmt: skip
        for schema, privileges in ERASES.get(role, ()):
            for writer in access.reads_from:
                _grant_existing(cur, schema, writer, role, privileges)
                cur.execute(
                    sql.SQL(
                        "alter default privileges for role {} in schema {} grant {} on tables to {}"
                    ).format(
                        sql.Identifier(writer),
                        sql.Identifier(schema),
                        sql.SQL(privileges),
                        sql.Identifier(role),
                    )
                )


def _grant_existing(cur, schema: str, owner: str, reader: str, privileges: str = "select") -> None:
    """Select (or `privileges`, a constant of ours) on the tables and views `owner` already has
    in `schema`."""
    cur.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and pg_get_userbyid(c.relowner) = %s and c.relkind in ('r', 'v', 'm', 'p')",
        [schema, owner],
    )
    for (table,) in cur.fetchall():
        cur.execute(
            sql.SQL("grant {} on {}.{} to {}").format(
                sql.SQL(privileges), sql.Identifier(schema), sql.Identifier(table), sql.Identifier(reader)
            )
        )


def _guard(cur, owner: str) -> None:
    cur.execute(sql.SQL(GUARD).format(owner=sql.Literal(owner)))
    cur.execute("drop event trigger if exists hhp_only_owner_grants")
    cur.execute(
        "create event trigger hhp_only_owner_grants on ddl_command_start "
        "when tag in ('GRANT', 'REVOKE', 'ALTER DEFAULT PRIVILEGES') "
        "execute function public.hhp_only_owner_grants()"
    )
