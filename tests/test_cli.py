"""The hhp command, as a data engineer uses it."""

from __future__ import annotations

from typer.testing import CliRunner

from pipeline.cli import app

from .conftest import STUDY

runner = CliRunner()


def _env(settings) -> dict[str, str]:
    return {"HHP_HOME": str(settings.home), "COLUMNS": "200"}


def test_land_ingest_status(generated, fresh_home):
    env = _env(fresh_home)
    landed = runner.invoke(
        app,
        [
            "land",
            str(generated / STUDY / "allocation"),
            str(next((generated / STUDY / "leavers").glob("*.csv"))),
        ],
        env=env,
    )
    assert landed.exit_code == 0, landed.output
    assert "landed 2 files" in landed.output

    before = runner.invoke(app, ["status"], env=env)
    assert "allocation" in before.output and "leavers" in before.output

    ingested = runner.invoke(app, ["ingest"], env=env)
    assert ingested.exit_code == 0, ingested.output
    assert "2 files loaded" in ingested.output

    after = runner.invoke(app, ["status"], env=env)
    line = next(row for row in after.output.splitlines() if "allocation" in row)
    assert line.split("│")[3].strip() == "1"  # loaded
    assert line.split("│")[5].strip() == "0"  # waiting


def test_ingest_names_a_quarantined_file(fresh_home, tmp_path):
    bad = tmp_path / STUDY / "allocation" / "allocation_2026-03-02.csv"
    bad.parent.mkdir(parents=True)
    bad.write_text("participant_id,arm\nMDI-1,control\n")
    env = _env(fresh_home)
    assert runner.invoke(app, ["land", str(tmp_path / STUDY)], env=env).exit_code == 0
    result = runner.invoke(app, ["ingest"], env=env)
    assert "1 quarantined" in result.output
    assert f"{STUDY}/allocation/allocation_2026-03-02.csv" in result.output
    assert "missing column(s)" in result.output


def test_land_refuses_a_missing_path(fresh_home, tmp_path):
    result = runner.invoke(app, ["land", str(tmp_path / "nowhere")], env=_env(fresh_home))
    assert result.exit_code == 1
    assert "no such file or folder" in result.output


def test_generate_writes_files_and_truth(tmp_path):
    result = runner.invoke(
        app, ["generate", "--out", str(tmp_path), "--studies", STUDY, "--seed", "7", "--scale", "0.1"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "truth.json").exists()
    assert len(list((tmp_path / STUDY).rglob("*.csv"))) > 5


def test_generate_rejects_an_unknown_study(tmp_path):
    result = runner.invoke(app, ["generate", "--out", str(tmp_path), "--studies", "nope"])
    assert result.exit_code == 1
    assert "unknown studies" in result.output
