"""Every setting of the platform: one `HHP_*` environment variable each, declared once here with
its default and meaning. The README's table is this declaration (tests/test_settings.py holds
them equal); `hhp config` prints the effective values, secrets masked. Nothing outside this
module reads an `HHP_*` variable from the environment.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import unquote, urlparse

from hhp import STUDIES_DIR
from hhp.errors import ExpectedError


class ConfigError(ExpectedError):
    """A setting is missing or unusable."""


@dataclass(frozen=True)
class Setting:
    """An environment variable: its name, its default as people read it, and what it means."""

    env: str
    default: str
    meaning: str
    secret: bool = False


def _setting(env: str, default: str, meaning: str, secret: bool = False, value: object = None):
    return field(default=value, repr=not secret, metadata={"setting": Setting(env, default, meaning, secret)})


@dataclass(frozen=True)
class Settings:
    home: Path = _setting(
        "HHP_HOME", "`./.hhp`", "working folder: landing, archive, quarantine, warehouse, reports"
    )
    landing: str = _setting("HHP_LANDING", "`$HHP_HOME/landing`", "a folder, or `s3://bucket/prefix`")
    archive: str = _setting(
        "HHP_ARCHIVE",
        "beside the landing area (`$HHP_HOME/archive`, or `s3://<bucket>/archive`)",
        "where loaded files are kept, for lineage and key rotation",
    )
    quarantine: str = _setting(
        "HHP_QUARANTINE",
        "beside the landing area (`$HHP_HOME/quarantine`, or `s3://<bucket>/quarantine`)",
        "where rejected files go, each with its reason",
    )
    warehouse: str = _setting(
        "HHP_WAREHOUSE",
        "`$HHP_HOME/warehouse.duckdb`",
        "a DuckDB file, or a `postgresql://` URL (on PostgreSQL, as `hhp_loader`: ingest, status)",
    )
    transform_warehouse: str = _setting(
        "HHP_TRANSFORM_WAREHOUSE",
        "`HHP_WAREHOUSE`",
        "PostgreSQL only: the URL as `hhp_transformer` (build, gate, report)",
        value="",
    )
    pseudonym_key: str = _setting(
        "HHP_PSEUDONYM_KEY",
        "a demo key in `$HHP_HOME` (DuckDB only)",
        "the HMAC key for pseudonyms; required on PostgreSQL; in Airflow tasks also the variable "
        "`hhp_pseudonym_key` from its secrets backend",
        secret=True,
        value="",
    )
    new_pseudonym_key: str = _setting(
        "HHP_NEW_PSEUDONYM_KEY",
        "none",
        "the key `hhp rotate-key` re-keys every pseudonym to",
        secret=True,
        value="",
    )
    studies: Path = _setting(
        "HHP_STUDIES", "the registry the platform ships with (`studies/`)", "the study registry folder"
    )
    duckdb_memory: str = _setting(
        "HHP_DUCKDB_MEMORY",
        "`512MB`",
        "memory each of our DuckDB connections may use before it spills to disk; bounds ingest of "
        "a file of any size",
        value="512MB",
    )
    log_level: str = _setting(
        "HHP_LOG_LEVEL", "`WARNING`", "log level (stderr); logs never hold an identifier", value="WARNING"
    )
    events_queue: str = _setting(
        "HHP_EVENTS_QUEUE",
        "none (a local landing folder is polled every 2 minutes)",
        "S3 mode: the SQS queue of the landing bucket's events, which starts the ingest DAG "
        "(`hhp infra up` writes it to `$HHP_HOME/infra.env`)",
        value="",
    )
    task_retries: str = _setting(
        "HHP_TASK_RETRIES",
        "2",
        "Airflow: how often a failed task is retried before it fails and alerts",
        value="",
    )
    pg_admin_url: str = _setting(
        "HHP_PG_ADMIN_URL",
        "none",
        "`hhp infra roles`: the database owner's `postgresql://` URL",
        secret=True,
        value="",
    )
    loader_password: str = _setting(
        "HHP_LOADER_PASSWORD", "none", "`hhp infra roles`: `hhp_loader`'s password", secret=True, value=""
    )
    transformer_password: str = _setting(
        "HHP_TRANSFORMER_PASSWORD",
        "none",
        "`hhp infra roles`: `hhp_transformer`'s password",
        secret=True,
        value="",
    )
    analyst_password: str = _setting(
        "HHP_ANALYST_PASSWORD", "none", "`hhp infra roles`: `hhp_analyst`'s password", secret=True, value=""
    )
    lead_password: str = _setting(
        "HHP_LEAD_PASSWORD", "none", "`hhp infra roles`: `hhp_lead`'s password", secret=True, value=""
    )
    fault_point: str = _setting(
        "HHP_FAULT_POINT",
        "none",
        "tests only: kill the process at this named point (`hhp/faults.py`)",
        value="",
    )

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

    def role_passwords(self) -> dict[str, str]:
        """`hhp infra roles`: each role's password, where one is set."""
        passwords = {
            "hhp_loader": self.loader_password,
            "hhp_transformer": self.transformer_password,
            "hhp_analyst": self.analyst_password,
            "hhp_lead": self.lead_password,
        }
        return {role: password for role, password in passwords.items() if password}

    def dbt_profile_env(self) -> dict[str, str]:
        """Environment variables that profiles.yml reads (no credential in any file). dbt scrubs
        the values of DBT_ENV_SECRET_* variables from its logs."""
        env = {"DBT_HHP_TARGET": self.dbt_target, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        if self.is_postgres:
            url = urlparse(self.transformer.warehouse)
            env |= {
                "DBT_HHP_PG_HOST": url.hostname or "127.0.0.1",
                "DBT_HHP_PG_PORT": str(url.port or 5432),
                "DBT_HHP_PG_USER": unquote(url.username or ""),
                "DBT_ENV_SECRET_HHP_PG_PASSWORD": unquote(url.password or ""),
                "DBT_HHP_PG_DATABASE": (url.path or "/").lstrip("/"),
            }
        else:
            env["DBT_HHP_DUCKDB_PATH"] = self.warehouse
        return env


SETTINGS: tuple[tuple[str, Setting], ...] = tuple((f.name, f.metadata["setting"]) for f in fields(Settings))


def setting(name: str, environ: Mapping[str, str] | None = None) -> str:
    """One setting's raw value from the environment ('' when unset), for code that must read it
    without the rest (at DAG parse, at a fault point): the only reader of the environment."""
    env = os.environ if environ is None else environ
    (declared,) = [s for field_name, s in SETTINGS if field_name == name]
    return env.get(declared.env) or ""


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Every setting from the environment (or `environ`), defaults filled in."""
    env = os.environ if environ is None else environ
    values = {name: env.get(s.env) or "" for name, s in SETTINGS}
    home = Path(values["home"] or ".hhp").resolve()
    landing = values["landing"] or str(home / "landing")
    if landing.startswith("s3://"):
        bucket = landing[len("s3://") :].rstrip("/").split("/", 1)[0]
        archive_default, quarantine_default = f"s3://{bucket}/archive", f"s3://{bucket}/quarantine"
    else:
        landing = str(Path(landing).resolve())
        archive_default, quarantine_default = str(home / "archive"), str(home / "quarantine")
    warehouse = values["warehouse"] or str(home / "warehouse.duckdb")
    if not _is_postgres(warehouse):
        warehouse = str(Path(warehouse).resolve())
    transform_warehouse = warehouse  # one DuckDB file, one writer: no roles to split
    if _is_postgres(warehouse):
        transform_warehouse = values["transform_warehouse"] or warehouse
        if not _is_postgres(transform_warehouse):
            raise ConfigError("HHP_TRANSFORM_WAREHOUSE must be a postgresql:// URL, as HHP_WAREHOUSE is")
    return Settings(
        **values
        | {
            "home": home,
            "landing": landing,
            "archive": values["archive"] or archive_default,
            "quarantine": values["quarantine"] or quarantine_default,
            "warehouse": warehouse,
            "transform_warehouse": transform_warehouse,
            "studies": Path(values["studies"] or STUDIES_DIR).resolve(),
            "duckdb_memory": values["duckdb_memory"] or "512MB",
            "log_level": (values["log_level"] or "WARNING").upper(),
        }
    )


def duckdb_memory_limit() -> str:
    """HHP_DUCKDB_MEMORY, for a connection opened without the settings at hand (a parse)."""
    return setting("duckdb_memory") or "512MB"


def masked(settings: Settings) -> list[tuple[str, str, bool]]:
    """(variable, effective value, set in the environment?) for each setting, each secret shown
    only as set or not and each URL's password hidden, for `hhp config`."""
    shown = []
    for name, declared in SETTINGS:
        value = str(getattr(settings, name) or "")
        if declared.secret and value:
            value = "<set>" if not _is_postgres(value) else _without_password(value)
        shown.append((declared.env, _without_password(value), bool(os.environ.get(declared.env))))
    return shown


def settings_table() -> str:
    """The README's table of settings (tests/test_settings.py holds the README to it)."""
    rows = [f"| `{s.env}` | {s.default} | {s.meaning} |" for _, s in SETTINGS]
    return "\n".join(["| variable | default | meaning |", "|---|---|---|", *rows]) + "\n"


def _without_password(value: str) -> str:
    url = urlparse(value)
    if not url.scheme or not url.password:
        return value
    return value.replace(f":{url.password}@", ":****@", 1)


def pseudonym_key(settings: Settings, environ: Mapping[str, str] | None = None) -> bytes:
    """The HMAC key. Only the embedded default may fall back to a local demo key."""
    if settings.pseudonym_key:
        return settings.pseudonym_key.encode()
    from_airflow = airflow_secret(AIRFLOW_KEY_VARIABLE, environ)
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


def airflow_secret(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """Inside an Airflow task: the Airflow variable `name`, from whatever secrets backend the
    deployment configures (HashiCorp Vault, AWS Secrets Manager, AIRFLOW_VAR_<NAME>...), looked
    up through the Task SDK so the value is masked in task logs. None anywhere else."""
    if "AIRFLOW_CTX_DAG_ID" not in (os.environ if environ is None else environ):
        return None
    try:
        from airflow.sdk import Variable  # deferred: only inside an Airflow task, where it is installed

        return Variable.get(name, default=None)
    except Exception:  # no supervisor to ask (not inside a running task), or no Airflow at all
        return None


def uses_demo_key(settings: Settings, environ: Mapping[str, str] | None = None) -> bool:
    return (
        not settings.pseudonym_key
        and not settings.is_postgres
        and not airflow_secret(AIRFLOW_KEY_VARIABLE, environ)
    )
