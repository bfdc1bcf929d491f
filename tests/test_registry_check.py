"""The registry is checked before it bites: every mistake in every study file found in one run,
each in one line with its file and key path; ingest refuses to start on a broken registry, so a
partner's file is never quarantined for the platform's own mistake."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from hhp.registry import check_registry, load_registry
from hhp.study_schema import SCHEMA_FILE, json_schema
from ingest.landing import open_landing
from pipeline.cli import app

from .conftest import STUDY, land_tree, settings_for

STUDIES = Path(__file__).resolve().parents[1] / "studies"
runner = CliRunner()


def _copy_registry(tmp_path: Path) -> Path:
    studies = tmp_path / "studies"
    shutil.copytree(STUDIES, studies)
    return studies


def _edit(studies: Path, study_id: str, change) -> None:
    path = studies / f"{study_id}.yml"
    entry = yaml.safe_load(path.read_text())
    change(entry)
    path.write_text(yaml.safe_dump(entry, sort_keys=False))


def test_the_published_schema_is_the_model_and_every_study_file_meets_it():
    schema = json.loads((STUDIES / SCHEMA_FILE).read_text())
    assert (STUDIES / SCHEMA_FILE).read_text() == json_schema(), (
        "run `hhp check --schema > studies/study.schema.json`"
    )
    for path in sorted(STUDIES.glob("*.yml")):
        assert path.read_text().startswith(f"# yaml-language-server: $schema={SCHEMA_FILE}\n"), path.name
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)
    assert check_registry(STUDIES) == []
    # the schema itself refuses what the model refuses, for an editor with no platform at hand
    entry = yaml.safe_load((STUDIES / f"{STUDY}.yml").read_text())
    entry["feeds"]["roster"]["on_bad_row"] = "load_good_rows"
    with pytest.raises(jsonschema.ValidationError, match="on_bad_row"):
        jsonschema.validate(entry, schema)


TEN_MISTAKES = {
    "unknown format": (
        "mod_ding",
        lambda e: e["feeds"]["delivery"].update(format="exchange_mesage_trace_csv"),
        "mod_ding.yml: feeds.delivery.format: unknown format 'exchange_mesage_trace_csv'; "
        "known for delivery: exchange_message_trace_csv, sendgrid_events_jsonl, postal_dispatch_csv, "
        "xapi_statements_json",
    ),
    "arms and ratio disagree": (
        "tea_coffee",
        lambda e: e.update(allocation_ratio={"control": 1, "free_refreshment": 1}),
        "tea_coffee.yml: allocation_ratio: must name exactly the arms ['control', 'free_refreshments']; "
        "names ['control', 'free_refreshment']",
    ),
    "a window outside its timepoint": (
        "tea_coffee",
        lambda e: e["timepoints"]["endline"].update(window=[161, 170]),
        "tea_coffee.yml: timepoints.endline.day: day 182 is outside its window 161 to 170",
    ),
    "an unknown outcome": (
        "dispatch_stories",
        lambda e: e["primary_outcomes"][0].update(outcome="CBI_WRK"),
        "dispatch_stories.yml: primary_outcomes.0.outcome: unknown outcome 'CBI_WRK'; known: SWEMWBS, "
        "CBI_WORK, BELONG, ITQ, ABS_DAYS, ABS_RATE, ABS_SPELLS, ABS_MH_DAYS, BRADFORD, LEFT_ANY, LEFT_VOL",
    ),
    "a feed with no format": (
        "gratitude_letters",
        lambda e: e["feeds"].update(leavers={}),
        "gratitude_letters.yml: feeds.leavers: the feed names no format",
    ),
    "an unknown feed": (
        "gratitude_letters",
        lambda e: e["feeds"].update(absense=e["feeds"].pop("absence")),
        "gratitude_letters.yml: feeds.absense: unknown feed 'absense'; known: allocation, roster, leavers, "
        "absence, delivery, survey, withdrawals",
    ),
    "a misspelt setting": (
        "goal_setting",
        lambda e: e["feeds"]["roster"].update(on_bad_row=e["feeds"]["roster"].pop("on_bad_rows")),
        "goal_setting.yml: feeds.roster.on_bad_row: unknown key (a misspelt setting?)",
    ),
    "a time zone that is not one": (
        "goal_setting",
        lambda e: e["feeds"]["survey"].update(time_zone="Europe/Londn"),
        "goal_setting.yml: feeds.survey.time_zone: 'Europe/Londn' is not an IANA time zone "
        "(e.g. Europe/London)",
    ),
    "too few items for an instrument": (
        "goal_setting",
        lambda e: e["feeds"]["survey"]["items"].update(BELONG=["belong_1", "belong_2"]),
        "goal_setting.yml: feeds.survey.items.BELONG: BELONG has 3 items; 2 listed",
    ),
    "a number that is not one": (
        "mod_ding",
        lambda e: e.update(hr_period_days="six months"),
        "mod_ding.yml: hr_period_days: Input should be a valid integer, unable to parse string as an "
        "integer, not 'six months'",
    ),
}


def test_ten_kinds_of_registry_mistake_each_get_their_own_line_all_in_one_run(tmp_path):
    studies = _copy_registry(tmp_path)
    for study_id, change, _ in TEN_MISTAKES.values():
        _edit(studies, study_id, change)
    result = runner.invoke(app, ["check"], env={"HHP_STUDIES": str(studies), "HHP_HOME": str(tmp_path)})
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert sorted(lines) == sorted(f"error: {message}" for _, _, message in TEN_MISTAKES.values())
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda e: e.update(design="cluster_rct", cluster=None),
         "cluster: a cluster RCT must name its cluster"),
        (lambda e: e["primary_outcomes"].append({"outcome": "ABS_RATE", "timepoint": "endline"}),
         "primary_outcomes.1.timepoint: ABS_RATE is an HR outcome, at timepoint 'period'"),
        (lambda e: e["timepoints"]["endline"].update(window=[203, 161]),
         "timepoints.endline.window: starts after it ends ([203, 161])"),
        (lambda e: e["feeds"]["survey"].update(format="esr_absence_csv"),
         "feeds.survey.format: 'esr_absence_csv' is a absence format, not a survey one"),
        (lambda e: e["feeds"]["delivery"].update(message_no_pattern="Week \\d+"),
         "feeds.delivery.message_no_pattern: the pattern needs a group"),
        (lambda e: e.update(study_id="mod-ding"), "study_id: 'mod-ding' must match the file name (mod_ding)"),
        (lambda e: e.pop("arms"), "arms: missing (required)"),
        (lambda e: e["compliance"].update(measure="opened"),
         "compliance.measure: 'opened' is not recorded by the delivery feed's format "
         "(exchange_message_trace_csv: delivered)"),
        (lambda e: e["compliance"].update(min_contacts=2),
         "compliance: compliance gives either min_share or"),
        (lambda e: e["costs"].update(letter={"delivery": 1.0}),
         "costs: must name exactly the arms"),
        (lambda e: e["costs"]["weekly_messages"].update(delivery=-1),
         "costs.weekly_messages.delivery: Input should"),
    ],
)  # fmt: skip
def test_more_mistakes_each_name_their_key(tmp_path, change, message):
    studies = _copy_registry(tmp_path)
    _edit(studies, STUDY, change)
    assert any(message in str(p) for p in check_registry(studies)), check_registry(studies)


def test_a_study_file_that_is_not_yaml_names_its_line(tmp_path):
    studies = _copy_registry(tmp_path)
    (studies / "tea_coffee.yml").write_text("study_id: tea_coffee\narms: [control\n")
    (problem,) = check_registry(studies)
    assert str(problem).startswith("tea_coffee.yml: line 3: not valid YAML")


def test_the_registry_typo_story(tmp_path, generated, monkeypatch):
    """A misspelt format: `hhp check` names it; ingest refuses to start and quarantines nothing;
    after the fix, everything loads."""
    studies = _copy_registry(tmp_path)
    _edit(studies, STUDY, lambda e: e["feeds"]["leavers"].update(format="hr_leaver_csv"))
    monkeypatch.setenv("HHP_STUDIES", str(studies))
    settings = settings_for(tmp_path / "home")
    env = {"HHP_STUDIES": str(studies), "HHP_HOME": str(settings.home)}
    landed = land_tree(settings, generated / STUDY)

    checked = runner.invoke(app, ["check"], env=env)
    assert checked.exit_code == 1
    assert checked.output == (
        "error: mod_ding.yml: feeds.leavers.format: unknown format 'hr_leaver_csv'; known for leavers: "
        "hr_leavers_csv\n"
    )
    refused = runner.invoke(app, ["ingest"], env=env)
    assert (refused.exit_code, refused.output) == (1, checked.output)
    landing = open_landing(settings)
    assert len(landing.list()) == landed and landing.quarantined() == [] and landing.archived() == []

    _edit(studies, STUDY, lambda e: e["feeds"]["leavers"].update(format="hr_leavers_csv"))
    assert runner.invoke(app, ["check"], env=env).exit_code == 0
    assert STUDY in load_registry(studies)  # the fixed file is read again, not the cached one
    loaded = runner.invoke(app, ["ingest"], env=env)
    assert loaded.exit_code == 0, loaded.output
    assert f"{landed} files loaded" in loaded.output and "0 quarantined" in loaded.output
    assert landing.list() == [] and landing.quarantined() == []
