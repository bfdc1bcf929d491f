"""The dbt project's structure, in the spirit of dbt-project-evaluator (whose package cannot be
installed here): layer prefixes, layer dependencies, a grain and a primary key on every model,
contracts and column docs on marts, freshness on sources.

An exception is allowed only when listed, with its reason, in dbt_project/structure_exceptions.yml.
"""

from __future__ import annotations

import json

import pytest
import yaml

from hhp import DBT_PROJECT_DIR
from transform.dbt import run_dbt

from .conftest import settings_for

PREFIXES = {
    "staging": ("stg_",),
    "intermediate": ("int_",),
    "marts": ("dim_", "fct_"),
    "reporting": ("rpt_",),
    "releases": ("rel_",),
}
# what analysts and leads read: contracts and column docs
PUBLISHED = ("marts", "reporting", "releases")
KEY_TESTS = {"primary_key"}
MAX_NAME = 50


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    settings = settings_for(tmp_path_factory.mktemp("dbt_parse"))
    run_dbt(settings, "parse")
    return json.loads((settings.home / "dbt" / "target" / "manifest.json").read_text())


def _exceptions() -> set[tuple[str, str]]:
    listed = yaml.safe_load((DBT_PROJECT_DIR / "structure_exceptions.yml").read_text()) or []
    for entry in listed:
        assert entry.get("reason"), f"exception {entry} gives no reason"
    return {(entry["rule"], entry["node"]) for entry in listed}


def _models(manifest: dict) -> dict[str, dict]:
    return {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"}


def _layer(node: dict) -> str:
    return node["fqn"][1]


def _findings(manifest: dict) -> list[tuple[str, str, str]]:
    """(rule, node name, what is wrong) for everything the structure rules flag."""
    models = _models(manifest)
    nodes = manifest["nodes"]
    tests_by_model: dict[str, set[str]] = {}
    for node in nodes.values():
        if node["resource_type"] == "test" and node.get("attached_node"):
            name = (node.get("test_metadata") or {}).get("name", "")
            tests_by_model.setdefault(node["attached_node"], set()).add(name)

    found = []
    for uid, node in models.items():
        name, layer = node["name"], _layer(node)
        parents = node["depends_on"]["nodes"]
        if not name.startswith(PREFIXES.get(layer, ("?",))):
            found.append(("naming", name, f"a {layer} model must start with {' or '.join(PREFIXES[layer])}"))
        if layer == "staging":
            models_read = [p for p in parents if p.startswith("model.")]
            if models_read:
                found.append(("staging_reads_sources_only", name, f"reads {', '.join(models_read)}"))
        elif any(p.startswith("source.") for p in parents):
            found.append(("only_staging_reads_sources", name, f"a {layer} model reads a source directly"))
        for parent in parents:
            if parent in models and _layer(models[parent]) == "marts" and layer not in PUBLISHED:
                found.append(("no_upstream_reads_marts", name, f"reads the mart {models[parent]['name']}"))
        if len(name) > MAX_NAME:
            found.append(("name_length", name, f"longer than {MAX_NAME} characters"))
        if "one row per" not in node["description"].lower():
            found.append(("grain_in_description", name, "the description does not state the grain"))
        if not tests_by_model.get(uid, set()) & KEY_TESTS:
            found.append(("primary_key_test", name, "no primary_key test"))
        if layer in PUBLISHED:
            if not node["config"].get("contract", {}).get("enforced"):
                found.append(("mart_contract", name, "the contract is not enforced"))
            undocumented = [c for c, spec in node["columns"].items() if not spec.get("description")]
            if undocumented:
                found.append(("mart_column_docs", name, f"columns without a description: {undocumented}"))
    for unit_test in manifest.get("unit_tests", {}).values():
        if len(unit_test["name"]) > MAX_NAME:  # PostgreSQL cuts relation names at 63 characters
            found.append(("name_length", unit_test["name"], f"longer than {MAX_NAME} characters"))
    for source in manifest["sources"].values():
        name = f"{source['source_name']}.{source['name']}"
        if not source.get("description"):
            found.append(("source_description", name, "no description"))
        freshness = source.get("freshness") or {}
        if not source.get("loaded_at_field") or not (freshness.get("warn_after") or {}).get("count"):
            found.append(("source_freshness", name, "no loaded_at_field and freshness"))
    return found


def test_the_project_follows_the_structure_rules(manifest):
    allowed = _exceptions()
    broken = [
        f"{rule}: {name}: {what}" for rule, name, what in _findings(manifest) if (rule, name) not in allowed
    ]
    assert not broken, "\n".join(broken)


def test_every_listed_exception_is_still_needed(manifest):
    flagged = {(rule, name) for rule, name, _ in _findings(manifest)}
    assert _exceptions() <= flagged, f"no longer needed: {_exceptions() - flagged}"


def test_the_rules_catch_a_breach(manifest):
    """A staging model reading another model, with no key test and no grain, is flagged."""
    broken = json.loads(json.dumps(manifest))
    uid = next(u for u, n in _models(broken).items() if n["name"] == "stg_sendgrid__events")
    broken["nodes"][uid]["depends_on"]["nodes"].append("model.hhp.stg_allocation__participants")
    broken["nodes"][uid]["description"] = "Events."
    for node in broken["nodes"].values():
        if node.get("attached_node") == uid:
            node["test_metadata"] = {"name": "not_null"}
    rules = {rule for rule, name, _ in _findings(broken) if name == "stg_sendgrid__events"}
    assert rules == {"staging_reads_sources_only", "grain_in_description", "primary_key_test"}
