"""Airflow on the embedded default, for one machine: SQLite metadata and the four components
(API server, scheduler, triggerer, dag-processor) with this project's DAGs, unpaused, and the
UI and API on 127.0.0.1 only.

Not `airflow standalone`: its scheduler and triggerer each start a log server bound to every
interface (Airflow hard-codes it); here they are started without one, since the API server
reads task logs from the local disk anyway.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hhp import bundled
from hhp.config import Settings
from orchestration import WAREHOUSE_POOL

ORCHESTRATION = Path(__file__).resolve().parent  # an installed wheel carries dags/ in it


def airflow_environment(settings: Settings, port: int = 8080) -> dict[str, str]:
    home = settings.home / "airflow"
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(bundled("dags", ORCHESTRATION)),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        # one person on their own machine: no login page (never set this on a shared server)
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "DO_NOT_TRACK": "1",
        "SCARF_ANALYTICS": "false",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "GX_ANALYTICS_ENABLED": "false",
        "HHP_HOME": str(settings.home),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        # airflow_local_settings.py: the scheduler preloads what every task imports
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(bundled("airflow_settings", ORCHESTRATION)), os.environ.get("PYTHONPATH")) if p
        ),
    }


def _airflow() -> str:
    return str(Path(sys.executable).parent / "airflow")


def components(port: int) -> dict[str, list[str]]:
    return {
        "api-server": [_airflow(), "api-server", "--host", "127.0.0.1", "--port", str(port)],
        "scheduler": [_airflow(), "scheduler", "--skip-serve-logs"],
        "triggerer": [_airflow(), "triggerer", "--skip-serve-logs"],
        "dag-processor": [_airflow(), "dag-processor"],
    }


def run(settings: Settings, port: int = 8080) -> int:
    """Migrate the metadata database, start the components, and stop them all when one stops
    or on SIGTERM / Ctrl-C. Returns the first exit code."""
    import signal
    import subprocess
    import time

    env = airflow_environment(settings, port)
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    subprocess.run([_airflow(), "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    slots = "4" if settings.is_postgres else "1"  # a DuckDB file has one writer
    subprocess.run([_airflow(), "pools", "set", WAREHOUSE_POOL, slots, "tasks that open the warehouse"],
                   env=env, check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    # each component in its own process group, so stopping it stops its workers too
    running = [
        subprocess.Popen(command, env=env, start_new_session=True) for command in components(port).values()
    ]
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        while all(p.poll() is None for p in running):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        for p in running:
            _signal_group(p.pid, signal.SIGTERM)
        for p in running:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
            _signal_group(p.pid, signal.SIGKILL)  # any worker left behind
    return next((p.returncode for p in running if p.returncode), 0)


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        pass
