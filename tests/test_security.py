"""Least privilege on a real PostgreSQL: each role reads what its work needs and nothing more,
the pipeline runs as the loader and the transformer, and provisioning is idempotent."""

from __future__ import annotations

import psycopg2
import pytest

from hhp.config import ConfigError, load_settings
from hhp.warehouse import open_warehouse
from infra.postgres_roles import ANALYST, LEAD, LOADER, TRANSFORMER, provision

pytestmark = pytest.mark.postgres

NEVER_FOR_ANALYSTS = {"raw", "staging", "intermediate", "ops"}
FOR_ANALYSTS = {"marts", "analysis", "reporting", "reference", "quality", "releases"}


def _relations(server) -> list[tuple[str, str]]:
    with psycopg2.connect(server.url) as con, con.cursor() as cur:
        cur.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema not in ('pg_catalog', 'information_schema') order by 1, 2"
        )
        return cur.fetchall()


def _readable(server, role: str, relations) -> dict[tuple[str, str], bool]:
    con = psycopg2.connect(server.role_url(role))
    con.autocommit = True
    readable = {}
    try:
        with con.cursor() as cur:
            for schema, table in relations:
                try:
                    cur.execute(f'select * from "{schema}"."{table}" limit 1')
                    readable[schema, table] = True
                except psycopg2.errors.InsufficientPrivilege:
                    readable[schema, table] = False
    finally:
        con.close()
    return readable


@pytest.fixture(scope="module")
def reported_chain(postgres_chain):
    """The PostgreSQL chain with its analysis written too (as the transformer)."""
    from pipeline import chain as pipeline

    pipeline.report(postgres_chain)
    return postgres_chain


def test_the_analyst_reads_marts_and_analysis_but_never_raw_or_staging(reported_chain, postgres_server):
    relations = _relations(postgres_server)
    schemas = {schema for schema, _ in relations}
    assert {"raw", "staging", "intermediate", "marts", "analysis", "reporting"} <= schemas
    readable = _readable(postgres_server, ANALYST, relations)
    refused = [r for r in relations if r[0] in NEVER_FOR_ANALYSTS and readable[r]]
    allowed = [r for r in relations if r[0] in FOR_ANALYSTS and not readable[r]]
    assert refused == [] and allowed == []
    assert sum(1 for r in relations if r[0] == "raw") >= 10  # every format's table was tried


def test_the_lead_reads_only_the_reporting_views(reported_chain, postgres_server):
    relations = _relations(postgres_server)
    readable = _readable(postgres_server, LEAD, relations)
    wrong = [r for r in relations if readable[r] != (r[0] == "reporting")]
    assert wrong == []
    con = psycopg2.connect(postgres_server.role_url(LEAD))
    with con, con.cursor() as cur:  # the views show rows, though their marts are closed to the lead
        cur.execute("select count(*) from reporting.rpt_participant_flow")
        (rows,) = cur.fetchone()
        cur.execute("select n from reporting.rpt_participant_flow where n <> 'c'")
        shown = [int(n) for (n,) in cur.fetchall()]
    con.close()
    assert rows > 20 and shown and all(n % 5 == 0 and n >= 10 for n in shown)


def test_the_pipeline_ran_as_the_loader_and_the_transformer(reported_chain, postgres_server):
    with psycopg2.connect(postgres_server.url) as con, con.cursor() as cur:
        cur.execute(
            "select n.nspname, pg_get_userbyid(c.relowner), count(*) from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r', 'v') "
            "and n.nspname in ('raw', 'ops', 'staging', 'marts', 'reporting', 'analysis', 'quality') "
            "group by 1, 2"
        )
        owners = {(schema, owner) for schema, owner, _ in cur.fetchall()}
        cur.execute(
            "select rolname from pg_roles where rolname like 'hhp\\_%%' and (rolsuper or rolcreaterole "
            "or rolcreatedb or rolbypassrls)"
        )
        privileged = cur.fetchall()
    assert owners == {
        ("raw", LOADER),
        ("ops", LOADER),
        ("ops", TRANSFORMER),  # dbt's build record
        ("staging", TRANSFORMER),
        ("marts", TRANSFORMER),
        ("reporting", TRANSFORMER),
        ("analysis", TRANSFORMER),
        ("quality", TRANSFORMER),
    }
    assert privileged == []
    with open_warehouse(reported_chain) as wh:
        (loaded,) = wh.query("select count(*) from ops.landed_files where state = 'loaded'")[0]
    assert loaded > 50


def test_the_platform_refuses_to_run_as_a_superuser(postgres_server, tmp_path):
    settings = load_settings(
        {
            "HHP_HOME": str(tmp_path),
            "HHP_WAREHOUSE": postgres_server.url,
            "HHP_PSEUDONYM_KEY": "test-only-key",
        }
    )
    with pytest.raises(ConfigError, match="superuser"):
        open_warehouse(settings)


def test_no_role_but_the_owner_can_change_grants(reported_chain, postgres_server):
    for role, statement in [
        (TRANSFORMER, f"grant select on marts.dim_participant to {LEAD}"),  # its own table
        (LOADER, f"grant select on ops.landed_files to {ANALYST}"),
        (TRANSFORMER, f"alter default privileges in schema marts grant select on tables to {LEAD}"),
        (ANALYST, f"grant {TRANSFORMER} to {ANALYST}"),
    ]:
        con = psycopg2.connect(postgres_server.role_url(role))
        try:
            with pytest.raises(psycopg2.Error), con.cursor() as cur:
                cur.execute(statement)
        finally:
            con.close()


def _privileges(server) -> list[tuple]:
    with psycopg2.connect(server.url) as con, con.cursor() as cur:
        cur.execute(
            "select grantee, table_schema, table_name, privilege_type "
            "from information_schema.role_table_grants where grantee like 'hhp\\_%%' union all "
            "select 'schema', nspname, coalesce(nspacl::text, ''), '' from pg_namespace union all "
            "select 'default', coalesce(defaclnamespace::regnamespace::text, ''), defaclacl::text, '' "
            "from pg_default_acl order by 1, 2, 3, 4"
        )
        return cur.fetchall()


def test_provisioning_again_changes_nothing_and_takes_back_drift(reported_chain, postgres_server):
    before = _privileges(postgres_server)
    with psycopg2.connect(postgres_server.url) as con, con.cursor() as cur:  # someone grants by hand
        cur.execute(f"grant select on all tables in schema raw to {ANALYST}")
        cur.execute(f"grant usage on schema staging to {LEAD}")
    assert _privileges(postgres_server) != before
    provision(postgres_server.url)
    assert _privileges(postgres_server) == before
    readable = _readable(postgres_server, ANALYST, [("raw", "allocation_csv")])
    assert readable == {("raw", "allocation_csv"): False}
