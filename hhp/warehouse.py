"""One small interface over the two warehouse engines: DuckDB (embedded) and PostgreSQL."""

from __future__ import annotations

import atexit
import functools
import io
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from hhp.config import ConfigError, Settings, duckdb_memory_limit
from hhp.errors import ExpectedError
from hhp.sql import quote_identifier

# Logical column types used by the raw tables, per engine.
TYPES = {
    "duckdb": {
        "text": "varchar",
        "date": "date",
        "timestamp": "timestamp",
        "double": "double",
        "bigint": "bigint",
        "boolean": "boolean",
    },
    "postgres": {
        "text": "text",
        "date": "date",
        "timestamp": "timestamp",
        "double": "double precision",
        "bigint": "bigint",
        "boolean": "boolean",
    },
}


@functools.cache
def private_spill_dir() -> str:
    """Where DuckDB spills beyond its memory limit. A parse's temporary tables hold the file's
    raw text, identifiers included: so a folder only this user can open (not DuckDB's default
    beside the warehouse), one per process, removed when the process ends."""
    folder = tempfile.mkdtemp(prefix="hhp-duckdb-spill-")
    atexit.register(shutil.rmtree, folder, True)
    return folder


class WarehouseUnavailable(ExpectedError):
    """The warehouse cannot be opened: locked by another process, or the server refuses."""


class Warehouse:
    """A connection to the warehouse. SQL uses %s placeholders on both engines."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.engine = "postgres" if settings.is_postgres else "duckdb"
        if self.engine == "postgres":
            import psycopg2

            # a literal's backslash is never an escape (hhp.sql quotes by the standard); a session
            # reads and shows times in UTC, never in the server's or the host's zone
            options = "-c standard_conforming_strings=on -c timezone=UTC"
            try:
                self._con = psycopg2.connect(settings.warehouse, options=options)
            except psycopg2.OperationalError as error:  # the server's words; they hold no password
                first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                raise WarehouseUnavailable(f"cannot connect to the PostgreSQL warehouse: {first}") from error
            self._refuse_superuser()
        else:
            import duckdb

            Path(settings.warehouse).parent.mkdir(parents=True, exist_ok=True)
            config = {"memory_limit": duckdb_memory_limit(), "temp_directory": private_spill_dir()}
            try:
                self._con = duckdb.connect(settings.warehouse, config=config)
            except duckdb.IOException as error:
                if "lock" not in str(error).lower():
                    raise
                raise WarehouseUnavailable(
                    f"the warehouse {settings.warehouse} is in use by another process (DuckDB allows "
                    "one writer); try again when it has finished"
                ) from error
            self._con.execute("set TimeZone = 'UTC'")  # never the host's zone
        self._in_transaction = False

    def _refuse_superuser(self) -> None:
        """The pipeline runs as hhp_loader and hhp_transformer (infra/postgres_roles.py), never
        as a role that could read or change everything."""
        with self._con.cursor() as cur:
            cur.execute("select current_user, rolsuper from pg_roles where rolname = current_user")
            user, is_superuser = cur.fetchone()
        self._con.commit()
        if is_superuser:
            self._con.close()
            raise ConfigError(
                f"the warehouse URL connects as {user}, a superuser: the pipeline runs as the roles "
                "`hhp infra roles` provisions (hhp_loader for HHP_WAREHOUSE, hhp_transformer for "
                "HHP_TRANSFORM_WAREHOUSE)"
            )

    @property
    def duckdb(self):
        """The DuckDB connection itself, for work done inside the engine (DuckDB only)."""
        assert self.engine == "duckdb", "a DuckDB warehouse only"
        return self._con

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _sql(self, sql: str) -> str:
        return sql.replace("%s", "?") if self.engine == "duckdb" else sql

    def execute(self, sql: str, params: Sequence | None = None) -> None:
        if self.engine == "duckdb":
            self._con.execute(self._sql(sql), params or [])
        else:
            with self._con.cursor() as cur:
                cur.execute(sql, params)
            if not self._in_transaction:
                self._con.commit()

    def query(self, sql: str, params: Sequence | None = None) -> list[tuple]:
        if self.engine == "duckdb":
            return self._con.execute(self._sql(sql), params or []).fetchall()
        with self._con.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
        if not self._in_transaction:
            self._con.commit()
        return rows

    def query_arrow(self, sql: str, params: Sequence | None = None) -> pa.Table:
        if self.engine == "duckdb":
            return self._con.sql(self._sql(sql), params=params or None).to_arrow_table()
        with self._con.cursor() as cur:
            cur.execute(sql, params)
            names = [d[0] for d in cur.description]
            rows = cur.fetchall()
        self._con.commit()
        return pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})

    @contextmanager
    def transaction(self) -> Iterator[Warehouse]:
        """All or nothing: a file's rows and its ledger entry commit together."""
        if self.engine == "duckdb":
            self._con.execute("begin transaction")
        self._in_transaction = True
        try:
            yield self
        except BaseException:
            self._con.rollback() if self.engine == "postgres" else self._con.execute("rollback")
            raise
        else:
            self._con.commit() if self.engine == "postgres" else self._con.execute("commit")
        finally:
            self._in_transaction = False

    def table_exists(self, schema: str, table: str) -> bool:
        rows = self.query(
            "select count(*) from information_schema.tables where table_schema = %s and table_name = %s",
            [schema, table],
        )
        return rows[0][0] > 0

    def ensure_table(self, qualified: str, columns: Sequence[tuple[str, str]]) -> None:
        schema = qualified.split(".")[0]
        types = TYPES[self.engine]
        body = ", ".join(f"{quote_identifier(column)} {types[kind]}" for column, kind in columns)
        if not self.query("select 1 from information_schema.schemata where schema_name = %s", [schema]):
            self.execute(f"create schema {schema}")  # on PostgreSQL the owner made them: no right needed
        self.execute(f"create table if not exists {qualified} ({body})")
        # a column added since the table was made (a new release): altered only when missing,
        # since PostgreSQL locks the table for any alter, even one that changes nothing
        existing = {
            name
            for (name,) in self.query(
                "select column_name from information_schema.columns "
                "where table_schema = %s and table_name = %s",
                [schema, qualified.split(".", 1)[1]],
            )
        }
        for column, kind in columns:
            if column not in existing:
                self.execute(f"alter table {qualified} add column {quote_identifier(column)} {types[kind]}")

    def refresh_statistics(self, qualified: str) -> None:
        """PostgreSQL plans by statistics; a freshly loaded table has none until analysed."""
        if self.engine == "postgres":
            self.execute(f"analyze {qualified}")

    def insert_arrow(self, qualified: str, data: pa.Table | pa.RecordBatchReader) -> None:
        """Bulk insert: DuckDB scans the Arrow data, PostgreSQL takes it by COPY, batch by
        batch, so a reader of any length streams."""
        column_list = ", ".join(quote_identifier(column) for column in data.schema.names)
        if self.engine == "duckdb":
            self._con.register("_hhp_batch", data)
            try:
                self._con.execute(
                    f"insert into {qualified} ({column_list}) select {column_list} from _hhp_batch"
                )
            finally:
                self._con.unregister("_hhp_batch")
            return
        batches = data.to_batches() if isinstance(data, pa.Table) else data
        with self._con.cursor() as cur:
            for batch in batches:
                buffer = io.BytesIO()
                pacsv.write_csv(batch, buffer, pacsv.WriteOptions(include_header=False))
                buffer.seek(0)
                cur.copy_expert(f"copy {qualified} ({column_list}) from stdin with (format csv)", buffer)
        if not self._in_transaction:
            self._con.commit()


def open_warehouse(settings: Settings) -> Warehouse:
    return Warehouse(settings)
