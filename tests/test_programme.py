"""The whole programme: five studies, eleven formats, re-sent files, a study added by registry alone."""

from __future__ import annotations

import hashlib
import json
import random
import shutil

import pytest
import yaml

from generator import generate
from hhp import STUDIES_DIR
from hhp.registry import load_registry
from hhp.warehouse import open_warehouse
from ingest.adapters import ADAPTERS
from ingest.landing import files_under, open_landing
from pipeline.status import ledger_status, reconcile

from .conftest import SEED, allocation_identifiers, run_chain, settings_for, true_effect
from .test_no_identifiers import _scan

pytestmark = pytest.mark.slow
MARTS = ("dim_study", "dim_participant", "fct_outcomes")


@pytest.fixture(scope="module")
def programme(programme_chain, programme_files):
    return programme_chain, programme_files


def _marts_digest(settings) -> dict[str, str]:
    digests = {}
    with open_warehouse(settings) as wh:
        for mart in MARTS:
            rows = wh.query(f"select * from marts.{mart} order by all")
            digests[mart] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def test_every_format_reaches_its_raw_table(programme):
    settings, _ = programme
    with open_warehouse(settings) as wh:
        counts = {fmt: wh.query(f"select count(*) from raw.{fmt}")[0][0] for fmt in ADAPTERS}
        studies = {s for (s,) in wh.query("select study_id from marts.dim_participant group by study_id")}
    assert len(counts) == 12 and all(n > 0 for n in counts.values()), counts
    assert studies == {"mod_ding", "dispatch_stories", "tea_coffee", "gratitude_letters", "goal_setting"}


def test_the_cluster_trial_keeps_every_team_in_one_arm(programme):
    settings, _ = programme
    with open_warehouse(settings) as wh:
        rows = wh.query(
            "select cluster_id, count(distinct arm) from marts.dim_participant "
            "where study_id = 'tea_coffee' group by cluster_id"
        )
    assert len(rows) == 40 and all(arms == 1 for _, arms in rows)


def test_the_gate_and_the_report_read_one_sample_ratio_test(programme):
    """Both run hhp.randomisation: for every study the same units, counts and p-value, and for
    the cluster trial its 40 teams, not its people."""
    import csv

    from pipeline import chain as pipeline

    settings, _ = programme
    report = pipeline.report(settings)
    with open_warehouse(settings) as wh:
        gate = dict(wh.query(
            "select study_id, detail from quality.check_results where check_name = 'allocation.sample_ratio'"
        ))  # fmt: skip
        report_rows = wh.query(
            "select study_id, units, allocation_ratio, n_control, n_intervention, chi_square, p_value "
            "from analysis.sample_ratio"
        )
    registry = load_registry()
    assert len(report_rows) == len(gate) == 5
    for study_id, units, ratio, control, intervention, statistic, p in report_rows:
        arms = registry[study_id].arms
        shown = f"{units}: {arms[0]} {control}, {arms[1]} {intervention} against {ratio}; "
        assert gate[study_id] == shown + f"chi-square {statistic:.2f}, p = {p:.4f}", study_id
    by_study = {row[0]: row for row in report_rows}
    assert by_study["tea_coffee"][1:5] == ("clusters", "1:1", 20, 20)
    assert {by_study[s][1] for s in by_study if s != "tea_coffee"} == {"participants"}
    with open(report.parent / "sample_ratio.csv", newline="") as handle:
        exported = {r["study_id"]: r for r in csv.DictReader(handle)}
    assert exported["tea_coffee"]["units"] == "clusters" and exported["tea_coffee"]["n_control"] == "20"
    assert "Sample ratio check of the clusters randomised" in report.read_text()


def test_reconciliation_holds_and_no_identifier_is_stored(programme):
    settings, out = programme
    check = reconcile(ledger_status(settings))
    landed = sum(1 for p in out.rglob("*") if p.is_file() and p.name != "truth.json")
    assert check.holds and check.landed == landed and check.waiting == 0
    scanned, found = _scan(settings, allocation_identifiers(out))
    assert scanned > 80 and found == []


def test_relanding_everything_and_shuffled_extracts_changes_no_mart(programme, tmp_path):
    from pipeline import chain as pipeline

    settings, out = programme
    before = _marts_digest(settings)
    landing = open_landing(settings)
    files = [(f, k) for f, k in files_under([out]) if f.name != "truth.json"]
    for file, key in files:  # every file a second time, under its own name
        landing.put(file, key)
    cumulative = [(f, k) for f, k in files if k.split("/")[1] in ("leavers", "absence", "survey", "delivery")]
    random.Random(7).shuffle(cumulative)
    for n, (file, key) in enumerate(cumulative):  # and the cumulative extracts again, renamed, in any order
        study, feed, name = key.split("/")
        stem, suffix = name.rsplit(".", 1)
        landing.put(file, f"{study}/{feed}/resent{n}_{stem}.{suffix}")
    results = pipeline.ingest(settings)
    pipeline.build(settings)
    assert sum(r.rows for r in results) == 0
    assert {r.state for r in results} <= {"skipped", "loaded"}
    assert _marts_digest(settings) == before
    assert reconcile(ledger_status(settings)).holds


def test_a_new_study_needs_only_a_registry_file(tmp_path, monkeypatch):

    registry = tmp_path / "studies"
    shutil.copytree(STUDIES_DIR, registry)
    new = yaml.safe_load((STUDIES_DIR / "gratitude_letters.yml").read_text())
    new.update(study_id="thank_you_notes", title="Handwritten thank-you notes from team leaders")
    new["generator"].update(participants=300, id_prefix="TYN", org_domain="police.example")
    (registry / "thank_you_notes.yml").write_text(yaml.safe_dump(new))
    monkeypatch.setenv("HHP_STUDIES", str(registry))

    out = tmp_path / "files"
    generate(out, ["thank_you_notes"], seed=SEED)
    settings = settings_for(tmp_path / "home")
    run_chain(settings, out, with_report=False)

    with open_warehouse(settings) as wh:
        study = wh.query(
            "select participants_randomised from marts.dim_study where study_id = 'thank_you_notes'"
        )
        outcomes = wh.query(
            "select count(value) from marts.fct_outcomes "
            "where study_id = 'thank_you_notes' and outcome_code = 'SWEMWBS' and timepoint = 'endline'"
        )
    erased = json.loads((out / "truth.json").read_text())["thank_you_notes"]["withdrawals"]["data"]
    assert study == [(300 - erased,)]  # everyone randomised but those erased
    assert outcomes[0][0] > 100


def test_an_xapi_document_beyond_duckdbs_object_limit_loads_whole(programme_files, tmp_path):
    """DuckDB reads a JSON document whole, up to 16 MiB; a store's export of a whole programme
    is larger, and its statements stream."""
    import json

    from pipeline.chain import ingest as ingest_pending

    study = programme_files / "goal_setting"
    export = max((study / "delivery").glob("xapi_statements_*.json"), key=lambda p: p.stat().st_size)
    statements = json.loads(export.read_text())["statements"]
    copies = [
        {**statement, "id": f"{copy:05d}-{statement['id']}"}
        for copy in range(1 + (17 << 20) // len(export.read_bytes()))
        for statement in statements
    ]
    document = json.dumps({"statements": copies, "more": ""}, indent=1).encode()
    assert len(document) > 16 << 20
    settings = settings_for(tmp_path / "home")
    (allocation,) = (study / "allocation").glob("*.csv")
    for source, key in (
        (allocation.read_bytes(), f"goal_setting/allocation/{allocation.name}"),
        (document, f"goal_setting/delivery/{export.name}"),
    ):
        target = tmp_path / "home" / "landing" / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source)

    results = {r.file_key: r for r in ingest_pending(settings)}

    loaded = results[f"goal_setting/delivery/{export.name}"]
    assert (loaded.state, loaded.rows) == ("loaded", len(copies))
    with open_warehouse(settings) as wh:
        rows = wh.query("select count(distinct statement_id), max(_row_number) from raw.xapi_statements_json")
    assert rows == [(len(copies), len(copies))]


def test_the_effect_summary_covers_the_truth_of_every_primary_outcome(programme, tmp_path):
    import json

    settings, files = programme
    truth = json.loads((files / "truth.json").read_text())
    with open_warehouse(settings) as wh:
        primary = wh.query(
            "select study_id, outcome_code, timepoint, difference, ci_lower, ci_upper "
            "from marts.fct_effect_summary where is_primary order by 1, 2"
        )
    assert {row[0] for row in primary} == set(truth)
    for study, outcome, timepoint, difference, lower, upper in primary:
        true = true_effect(truth, study, outcome, timepoint)
        assert lower <= true <= upper, f"{study} {outcome}@{timepoint}: {true} outside ({lower}, {upper})"
        if (study, outcome) == ("dispatch_stories", "CBI_WORK"):
            assert abs(difference - true) <= 4, f"CBI effect {difference} is not within 4 points of {true}"
