"""The whole chain on the embedded default: outcomes, gate, report, status."""

from __future__ import annotations

import csv
import re
import shutil

import pytest

from analysis.estimates import analyse, load_marts
from expectations.gate import GateFailed, enforce, run_gate
from hhp.instruments import ITEM_SCALES, SWEMWBS_METRIC
from hhp.warehouse import open_warehouse
from pipeline.status import ledger_status, reconcile

from .conftest import STUDY, settings_for


def _frames(settings):
    with open_warehouse(settings) as wh:
        outcomes = wh.query_arrow("select * from marts.fct_outcomes").to_pandas()
        studies = wh.query_arrow("select * from marts.dim_study").to_pandas()
    return outcomes, studies


def test_primary_outcome_ci_covers_the_truth(duckdb_chain, truth):
    with open_warehouse(duckdb_chain) as wh:
        effects = analyse(load_marts(wh))["effect_estimates"]
    effects = effects.set_index(["study_id", "outcome_code", "timepoint"])
    effect = effects.loc[(STUDY, "SWEMWBS", "endline")]
    true_effect = truth[STUDY]["effects"]["SWEMWBS"]["endline"]
    assert effect.ci_low <= true_effect <= effect.ci_high, (effect, true_effect)
    assert effect.n_control > 300 and effect.n_intervention > 300 and effect.is_primary


def test_every_randomised_participant_has_every_outcome_row(duckdb_chain, truth):
    outcomes, _ = _frames(duckdb_chain)
    per_participant = outcomes.groupby("participant_id").size()
    # 4 instruments x 3 timepoints + 7 HR outcomes over the period
    assert per_participant.nunique() == 1 and per_participant.iloc[0] == 4 * 3 + 7
    # everyone randomised but those erased (a data withdrawal)
    assert outcomes["participant_id"].nunique() == 1200 - truth[STUDY]["withdrawals"]["data"]
    required = {"SWEMWBS", "CBI_WORK", "BELONG", "ITQ", "ABS_RATE", "ABS_DAYS", "LEFT_ANY", "LEFT_VOL"}
    assert required <= set(outcomes["outcome_code"])


def _python_scores(row: dict, columns: dict[str, str]) -> dict[str, float | None]:
    """An independent re-implementation of docs/instruments.md's scoring, from the partner file."""
    codes = {}
    for partner, canonical in columns.items():
        text = row[partner]
        codes[canonical] = ITEM_SCALES[canonical].index(text) + 1 if text else None
    sw = [codes[f"swemwbs_{i}"] for i in range(1, 8)]
    cbi = [
        (5 - c if i == 7 else c - 1) * 25 for i in range(1, 8) if (c := codes[f"cbi_work_{i}"]) is not None
    ]
    return {
        "SWEMWBS": SWEMWBS_METRIC[sum(sw)] if None not in sw else None,
        "CBI_WORK": sum(cbi) / len(cbi) if len(cbi) >= 4 else None,
    }


def test_scores_match_an_independent_computation_from_the_partner_file(duckdb_chain, generated):
    from hhp.registry import load_registry

    columns = load_registry()[STUDY].survey_item_columns()
    survey = next((generated / STUDY / "survey").glob("*endline*.csv"))
    with open(survey, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        next(reader), next(reader)
        rows = [dict(zip(header, r, strict=True)) for r in reader if r[2] == "IP Address"]
    # no response of someone who withdrew from follow-up (or their data) is used: left out here
    register = sorted((generated / STUDY / "withdrawals").glob("*.csv"))[-1]
    with open(register, newline="") as handle:
        stopped = {w["participant_id"] for w in csv.DictReader(handle) if w["level"] != "intervention"}
    rows = [row for row in rows if row["ExternalReference"] not in stopped]
    with open_warehouse(duckdb_chain) as wh:
        stored = {
            (response_id, code): value
            for response_id, code, value in wh.query(
                "select response_id, outcome_code, value from intermediate.int_survey_scores_windowed "
                "where outcome_code in ('SWEMWBS', 'CBI_WORK')"
            )
        }
    checked = incomplete = 0
    for row in rows:
        for code, expected in _python_scores(row, columns).items():
            value = stored[(row["ResponseId"], code)]
            if expected is None:
                assert value is None
                incomplete += 1
            else:
                assert value == pytest.approx(expected, abs=1e-9)
                checked += 1
    assert checked > 1000 and incomplete > 0


def test_gate_records_results_per_study(duckdb_chain):
    with open_warehouse(duckdb_chain) as wh:
        rows = wh.query(
            "select check_name, study_id, status, denominator, data_release, category "
            "from quality.check_results"
        )
    statuses = {(c, s): st for c, s, st, _, _, _ in rows}
    assert statuses[("dim_participant.has_rows", STUDY)] == "passed"
    assert statuses[("fct_outcomes.value_in_range[SWEMWBS]", STUDY)] == "passed"
    assert statuses[("allocation.sample_ratio", STUDY)] == "passed"
    assert statuses[("allocation.cluster_single_arm", STUDY)] == "not_applicable"  # an individual RCT
    assert statuses[("allocation.sample_ratio", "tea_coffee")] == "not_applicable"  # no data landed yet
    assert all(d > 0 for _, _, st, d, _, _ in rows if st == "passed")
    assert {c for *_, c in rows} == {"conformance", "completeness", "plausibility"}
    assert all(re.fullmatch(r"\d+-files-[0-9a-f]{12}", r[4]) for r in rows)
    assert (duckdb_chain.home / "data_docs" / "index.html").exists()


def test_gate_stops_the_chain_on_an_out_of_range_value(duckdb_chain, tmp_path):
    broken = settings_for(tmp_path / "broken")
    broken.home.mkdir(parents=True)
    shutil.copyfile(duckdb_chain.warehouse, broken.warehouse)
    with open_warehouse(broken) as wh:
        wh.execute(
            "update marts.fct_outcomes set value = 36 "
            "where outcome_code = 'SWEMWBS' and timepoint = 'endline' and participant_id = "
            "(select min(participant_id) from marts.fct_outcomes "
            "where value is not null and outcome_code = 'SWEMWBS' and timepoint = 'endline')"
        )
    results = run_gate(broken)
    with pytest.raises(GateFailed) as failure:
        enforce(results, broken)
    message = str(failure.value)
    assert "mod_ding: fct_outcomes.value_in_range[SWEMWBS]: failed, 1 of" in message
    assert "dim_participant" not in message
    assert f"Data Docs: {broken.home / 'data_docs' / 'index.html'}" in message


def test_gate_never_passes_an_empty_mart(duckdb_chain, tmp_path):
    empty = settings_for(tmp_path / "empty")
    empty.home.mkdir(parents=True)
    shutil.copyfile(duckdb_chain.warehouse, empty.warehouse)
    with open_warehouse(empty) as wh:
        wh.execute("delete from marts.fct_outcomes")
        wh.execute("delete from marts.dim_participant")
    results = run_gate(empty)
    on_the_marts = [r for r in results if r.check_name.startswith(("dim_participant.", "fct_outcomes."))]
    assert on_the_marts and not any(r.status == "passed" for r in on_the_marts)
    statuses = {(r.check_name, r.study_id): r.status for r in results}
    assert statuses[("fct_outcomes.has_rows", STUDY)] == "failed"
    assert statuses[("allocation.sample_ratio", STUDY)] == "failed"
    with pytest.raises(GateFailed):
        enforce(results)


def test_report_is_written_and_self_contained(duckdb_chain):
    report = duckdb_chain.reports_dir / "programme_report.html"
    html = report.read_text()
    assert "SWEMWBS" in html and "endline" in html and "95% CI" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@" not in html


def test_status_reconciles_landed_with_loaded_quarantined_waiting(duckdb_chain, generated):
    counts = ledger_status(duckdb_chain)
    check = reconcile(counts)
    landed = sum(1 for p in (generated / STUDY).rglob("*") if p.is_file())
    assert check.holds and check.mismatches == []
    assert check.landed == landed == check.loaded + check.quarantined + check.waiting
    allocation = counts[(STUDY, "allocation")]
    assert (allocation["loaded"], allocation["archived"], allocation["rows"]) == (1, 1, 1200)


def test_leads_get_a_file_of_their_own_with_only_the_reporting_views(duckdb_chain):
    """DuckDB has no roles: leads get reports/reporting.duckdb, holding the reporting views'
    rows and nothing else."""
    import duckdb

    con = duckdb.connect(str(duckdb_chain.reports_dir / "reporting.duckdb"), read_only=True)
    try:
        tables = {t for (t,) in con.execute("select table_name from information_schema.tables").fetchall()}
        counts = [n for (n,) in con.execute("select n from rpt_participant_flow").fetchall()]
    finally:
        con.close()
    assert tables == {"rpt_studies", "rpt_participant_flow", "rpt_effect_summary"}
    assert counts and all(n == "c" or (int(n) % 5 == 0 and int(n) >= 10) for n in counts)
