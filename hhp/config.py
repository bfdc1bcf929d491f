"""Settings from environment variables, with defaults that work on a laptop.

HHP_HOME           working folder (default ./.hhp)
HHP_LANDING        landing folder, or s3://bucket/prefix (default $HHP_HOME/landing)
HHP_ARCHIVE        where loaded files go (default: beside the landing area)
HHP_QUARANTINE     where rejected files go, with their reasons (default: beside the landing area)
HHP_WAREHOUSE      DuckDB file path, or a postgresql:// URL (default $HHP_HOME/warehouse.duckdb);
                   on PostgreSQL, the loader's (hhp_loader): ingest and status
HHP_TRANSFORM_WAREHOUSE  on PostgreSQL, the transformer's URL (hhp_transformer): build, gate,
                   report (default HHP_WAREHOUSE)
HHP_PSEUDONYM_KEY  the HMAC key for pseudonyms; if unset inside an Airflow task, the Airflow
                   variable hhp_pseudonym_key from its secrets backend; only the local DuckDB
                   default may make one up (a demo key in $HHP_HOME)
HHP_STUDIES        the study registry folder (default: studies/ in this repository)
HHP_DUCKDB_MEMORY  memory each DuckDB connection of ours may use before it spills to disk
                   (default 512MB): what keeps ingest of a file larger than memory bounded
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote, urlparse


def duckdb_memory_limit() -> str:
    return os.environ.get("HHP_DUCKDB_MEMORY", "512MB")


class ConfigError(RuntimeError):
    """A setting is missing or unusable."""


@dataclass(frozen=True)
class Settings:
    home: Path
    landing: str
    archive: str
    quarantine: str
    warehouse: str
    transform_warehouse: str = ""

    @property
    def transformer(self) -> Settings:
        """The same settings, connecting as the transformer (dbt, gate, analysis)."""
        return replace(self, warehouse=self.transform_warehouse or self.warehouse)

    @property
    def is_postgres(self) -> bool:
        return self.warehouse.startswith(("postgresql://", "postgres://"))

    @property
    def dbt_target(self) -> str:
        return "postgres" if self.is_postgres else "duckdb"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def key_file(self) -> Path:
        return self.home / "demo_pseudonym.key"

    def dbt_profile_env(self) -> dict[str, str]:
        """Environment variables that profiles.yml reads (no credential in any file)."""
        env = {"HHP_DBT_TARGET": self.dbt_target, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        if self.is_postgres:
            url = urlparse(self.transformer.warehouse)
            env |= {
                "HHP_PG_HOST": url.hostname or "127.0.0.1",
                "HHP_PG_PORT": str(url.port or 5432),
                "HHP_PG_USER": unquote(url.username or ""),
                "HHP_PG_PASSWORD": unquote(url.password or ""),
                "HHP_PG_DATABASE": (url.path or "/").lstrip("/"),
            }
        else:
            env["HHP_DUCKDB_PATH"] = self.warehouse
        return env


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    home = Path(env.get("HHP_HOME") or ".hhp").resolve()
    landing = env.get("HHP_LANDING") or str(home / "landing")
    if landing.startswith("s3://"):
        bucket_and_prefix = landing[len("s3://") :].rstrip("/")
        bucket = bucket_and_prefix.split("/", 1)[0]
        archive_default = f"s3://{bucket}/archive"
        quarantine_default = f"s3://{bucket}/quarantine"
    else:
        landing = str(Path(landing).resolve())
        archive_default = str(home / "archive")
        quarantine_default = str(home / "quarantine")
    warehouse = env.get("HHP_WAREHOUSE") or str(home / "warehouse.duckdb")
    if not warehouse.startswith(("postgresql://", "postgres://")):
        warehouse = str(Path(warehouse).resolve())
    transform_warehouse = warehouse  # one DuckDB file, one writer: no roles to split
    if warehouse.startswith(("postgresql://", "postgres://")):
        transform_warehouse = env.get("HHP_TRANSFORM_WAREHOUSE") or warehouse
        if not transform_warehouse.startswith(("postgresql://", "postgres://")):
            raise ConfigError("HHP_TRANSFORM_WAREHOUSE must be a postgresql:// URL, as HHP_WAREHOUSE is")
    return Settings(
        home=home,
        landing=landing,
        archive=env.get("HHP_ARCHIVE") or archive_default,
        quarantine=env.get("HHP_QUARANTINE") or quarantine_default,
        warehouse=warehouse,
        transform_warehouse=transform_warehouse,
    )


def pseudonym_key(settings: Settings, environ: dict[str, str] | None = None) -> bytes:
    """The HMAC key. Only the embedded default may fall back to a local demo key."""
    env = os.environ if environ is None else environ
    if env.get("HHP_PSEUDONYM_KEY"):
        return env["HHP_PSEUDONYM_KEY"].encode()
    from_airflow = airflow_secret(AIRFLOW_KEY_VARIABLE, env)
    if from_airflow:
        return from_airflow.encode()
    if settings.is_postgres:
        raise ConfigError(
            "HHP_PSEUDONYM_KEY is not set (nor, in an Airflow task, the Airflow variable "
            f"{AIRFLOW_KEY_VARIABLE}): the platform will not pseudonymise into PostgreSQL "
            "with a demo key. Set it from your secret store."
        )
    if not settings.key_file.exists():
        settings.key_file.parent.mkdir(parents=True, exist_ok=True)
        settings.key_file.write_text(secrets.token_hex(32))
        settings.key_file.chmod(0o600)
    return settings.key_file.read_text().strip().encode()


AIRFLOW_KEY_VARIABLE = "hhp_pseudonym_key"


def airflow_secret(name: str, environ) -> str | None:
    """Inside an Airflow task: the Airflow variable `name`, from whatever secrets backend the
    deployment configures (HashiCorp Vault, AWS Secrets Manager, AIRFLOW_VAR_<NAME>...), looked
    up through the Task SDK so the value is masked in task logs. None anywhere else."""
    if "AIRFLOW_CTX_DAG_ID" not in environ:
        return None
    try:
        from airflow.sdk import Variable

        return Variable.get(name, default=None)
    except Exception:  # no supervisor to ask (not inside a running task)
        return None


def uses_demo_key(settings: Settings, environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return (
        not env.get("HHP_PSEUDONYM_KEY")
        and not settings.is_postgres
        and not airflow_secret(AIRFLOW_KEY_VARIABLE, env)
    )
