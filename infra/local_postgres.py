"""A throwaway PostgreSQL 15 server in a temporary folder, bound to 127.0.0.1.

initdb refuses to run as root, so as root the server runs as the `postgres` system user.
The initdb user is the owner; `provision_roles()` adds the platform's roles (trusted on
127.0.0.1, so no passwords). Used by the tests; also handy for trying the platform on PostgreSQL locally.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from infra.postgres_roles import LOADER, TRANSFORMER, provision


def _bindir() -> Path:
    for candidate in (os.environ.get("PG_BINDIR"), "/usr/lib/postgresql/15/bin"):
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=True).stdout
        return Path(out.strip())
    raise RuntimeError("PostgreSQL server binaries not found (set PG_BINDIR)")


def free_port() -> int:
    """A TCP port free on 127.0.0.1, for a server of ours to bind there."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LocalPostgres:
    root: Path
    port: int
    user: str = "hhp"
    database: str = "hhp"

    @property
    def url(self) -> str:
        """The owner's URL (a superuser here): for provisioning, never for the pipeline."""
        return self.role_url(self.user)

    def role_url(self, role: str) -> str:
        return f"postgresql://{role}@127.0.0.1:{self.port}/{self.database}"

    def pipeline_env(self) -> dict[str, str]:
        """The platform's settings for this server, once provision_roles() has run."""
        return {"HHP_WAREHOUSE": self.role_url(LOADER), "HHP_TRANSFORM_WAREHOUSE": self.role_url(TRANSFORMER)}

    def another_database(self, name: str) -> LocalPostgres:
        """A second database on the same server (the roles are the server's; grants are per
        database, so provision it too)."""
        import psycopg2

        con = psycopg2.connect(self.url)
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f"create database {name}")
        con.close()
        return replace(self, database=name)

    def provision_roles(self) -> LocalPostgres:
        provision(self.url)
        return self

    def _as_owner(self, args: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args

    @classmethod
    def start(cls) -> LocalPostgres:
        root = Path(tempfile.mkdtemp(prefix="hhp-pg-"))
        server = cls(root, free_port())
        data, sockets = root / "data", root / "sockets"
        sockets.mkdir()
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
            shutil.chown(sockets, "postgres")
        bindir = _bindir()
        subprocess.run(
            server._as_owner(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    server.user,
                    "--auth=trust",
                    "--no-sync",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ]
            ),
            check=True,
            capture_output=True,
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {server.port} -k {sockets} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        subprocess.run(
            server._as_owner(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-l",
                    str(root / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        server._create_database()
        return server

    def _create_database(self) -> None:
        import psycopg2

        for _ in range(50):
            try:
                con = psycopg2.connect(host="127.0.0.1", port=self.port, user=self.user, dbname="postgres")
                break
            except psycopg2.OperationalError:
                time.sleep(0.2)
        else:
            raise RuntimeError("PostgreSQL did not accept connections")
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f"create database {self.database}")
        con.close()

    def stop(self) -> None:
        subprocess.run(
            self._as_owner(
                [str(_bindir() / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop"]
            ),
            capture_output=True,
        )
        shutil.rmtree(self.root, ignore_errors=True)
