"""Every `hhp` command's expected errors (configuration, registry, a warehouse locked by another
process or refusing, missing credentials) print `error: ...` in one line each, exit 1 and show
no traceback, unless HHP_LOG_LEVEL=DEBUG; output to a file or a pipe is never wrapped."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hhp.registry import RegistryError
from pipeline.cli import app

runner = CliRunner()

# every command, with arguments that would otherwise let it start
COMMANDS = {
    "generate": ["generate", "--out", "{tmp}/out"],
    "land": ["land", "{tmp}/nothing"],
    "ingest": ["ingest"],
    "build": ["build"],
    "gate": ["gate"],
    "report": ["report"],
    "run": ["run"],
    "demo": ["demo"],
    "status": ["status"],
    "status --json": ["status", "--json"],
    "config": ["config"],
    "check": ["check"],
    "quarantine list": ["quarantine", "list"],
    "quarantine release": ["quarantine", "release", "a/b/c_2026-01-01.csv", "--reason", "fixed"],
    "rotate-key": ["rotate-key"],
    "infra roles": ["infra", "roles"],
    "docs": ["docs"],
    "airflow": ["airflow", "--port", "1"],
}


def _one_line_errors(result, expected: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), result.output
    assert any(expected in line for line in lines), result.output
    assert "Traceback" not in result.output


def _run(args: list[str], tmp_path: Path, env: dict[str, str]):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    return runner.invoke(app, args, env={"HHP_HOME": str(tmp_path / "home"), **env})


@pytest.mark.parametrize(
    "command", [c for c in COMMANDS if c not in ("generate", "check")]
)  # no settings read
def test_a_configuration_error_is_one_line_for_every_command(command, tmp_path):
    env = {"HHP_WAREHOUSE": "postgresql://hhp_loader@127.0.0.1:1/hhp", "HHP_TRANSFORM_WAREHOUSE": "x.duckdb"}
    result = _run(COMMANDS[command], tmp_path, env)
    _one_line_errors(result, "HHP_TRANSFORM_WAREHOUSE must be a postgresql:// URL")


REGISTRY_COMMANDS = ["generate", "ingest", "build", "gate", "report", "run", "demo", "check"]


@pytest.mark.parametrize("command", REGISTRY_COMMANDS)
def test_a_registry_error_is_one_line_per_problem_for_every_command_that_reads_it(command, tmp_path):
    studies = tmp_path / "studies"
    studies.mkdir()
    (studies / "broken.yml").write_text("study_id: broken\narms: [control]\n")
    result = _run(COMMANDS[command], tmp_path, {"HHP_STUDIES": str(studies)})
    _one_line_errors(result, "broken.yml: arms: two different arms, control first; found ['control']")
    assert len(result.output.splitlines()) > 5  # every problem, not the first found


def test_at_debug_level_the_traceback_is_kept(tmp_path):
    studies = tmp_path / "studies"
    studies.mkdir()
    (studies / "broken.yml").write_text("study_id: broken\n")
    result = _run(["ingest"], tmp_path, {"HHP_STUDIES": str(studies), "HHP_LOG_LEVEL": "DEBUG"})
    assert isinstance(result.exception, RegistryError)


@pytest.mark.parametrize(
    "command", ["ingest", "status", "quarantine list", "quarantine release", "build", "docs"]
)
def test_a_warehouse_that_refuses_the_connection_is_one_line(command, tmp_path):
    env = {"HHP_WAREHOUSE": "postgresql://hhp_loader@127.0.0.1:1/hhp", "HHP_PSEUDONYM_KEY": "k" * 64}
    result = _run(COMMANDS[command], tmp_path, env)
    _one_line_errors(result, "cannot connect to the PostgreSQL warehouse: connection to server at")


def test_a_warehouse_locked_by_another_process_is_one_line(tmp_path):
    warehouse = tmp_path / "home" / "warehouse.duckdb"
    warehouse.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys, time
            con = duckdb.connect({str(warehouse)!r})
            print("locked", flush=True)
            time.sleep(120)
        """)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        for command in ("status", "ingest", "quarantine list"):
            result = _run(COMMANDS[command], tmp_path, {})
            _one_line_errors(result, f"the warehouse {warehouse} is in use by another process")
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("command", ["land", "ingest", "status"])
def test_missing_aws_credentials_are_one_line(command, tmp_path, monkeypatch):
    import boto3

    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # an earlier test's session keeps its credentials
    (tmp_path / "a" / "roster").mkdir(parents=True)
    (tmp_path / "a" / "roster" / "r_2026-01-31.csv").write_text("x\n")
    args = ["land", str(tmp_path / "a")] if command == "land" else COMMANDS[command]
    env = {
        "HHP_LANDING": "s3://hhp-nowhere/landing",
        "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
        "AWS_PROFILE": None, "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": "eu-west-2", "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
    }  # fmt: skip
    started = time.monotonic()
    result = _run(args, tmp_path, env)
    _one_line_errors(result, "no AWS credentials found")
    assert time.monotonic() - started < 60


def test_output_to_a_file_or_a_pipe_is_never_wrapped_or_cut(tmp_path, generated):
    from .conftest import STUDY

    home = tmp_path / (
        "a-platform-home-with-a-name-long-enough-that-wrapping-at-eighty-columns-would-show" * 2
    )
    result = runner.invoke(app, ["land", str(generated / STUDY / "allocation")], env={"HHP_HOME": str(home)})
    assert result.exit_code == 0, result.output
    assert f"landed 1 files in {home / 'landing'}\n" in result.output
    status = runner.invoke(app, ["status"], env={"HHP_HOME": str(home), "COLUMNS": "40"})
    cells = [[cell.strip() for cell in line.split("│")[1:-1]] for line in status.output.splitlines()]
    assert [STUDY, "allocation", "0", "0", "1"] in [row[:5] for row in cells]  # waiting
    assert "gratitude_letters" in [row[0] for row in cells if row]  # the longest study name, whole
