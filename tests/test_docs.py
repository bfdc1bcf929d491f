"""`hhp docs`: dbt's documentation as one static page that headless Chromium opens from disk with
no outside request and no console error; every column of every model is described, the marts
and reporting views are the public interface, and exposures say who reads what."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

from .conftest import CHROMIUM, run_chromium

pytestmark = pytest.mark.slow
OFFLINE = ["--disable-quic", "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0"]


@pytest.fixture(scope="module")
def docs(duckdb_chain):
    result = CliRunner().invoke(app, ["docs"], env={"HHP_HOME": str(duckdb_chain.home)})
    assert result.exit_code == 0, result.output
    path = duckdb_chain.home / "docs" / "index.html"
    assert result.output == f"docs: {path}\n"
    return path


def test_every_column_of_every_model_is_described_and_the_interface_is_marked(docs, duckdb_chain):
    target = duckdb_chain.home / "dbt" / "target"
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    models = {uid: manifest["nodes"][uid] for uid in catalog["nodes"] if uid.startswith("model.")}
    # every model the build makes: a data release's snapshots exist once a release is made
    built = [
        n for n in manifest["nodes"].values() if n["resource_type"] == "model" and "release" not in n["tags"]
    ]
    assert len(models) == len(built)
    columns = [(m["name"], c) for uid, m in models.items() for c in catalog["nodes"][uid]["columns"]]
    assert len(columns) > 400
    undescribed = [(m, c) for m, c in columns if not manifest["nodes"][f"model.hhp.{m}"]["columns"].get(c, {})
                   .get("description", "").strip()]  # fmt: skip
    assert undescribed == []
    workings = [m for m in models.values() if m["fqn"][1] in ("staging", "intermediate")]
    lineage = {
        m["columns"]["source_file_key"]["description"] for m in workings if "source_file_key" in m["columns"]
    }
    assert len(lineage) == 1 and next(iter(lineage)).startswith("Lineage:")  # one shared description
    for m in models.values():
        layer = m["fqn"][1]
        expected = ("public", "programme_leads" if layer == "reporting" else "analysis") if layer in (
            "marts", "reporting", "releases") else ("protected", "data_platform")  # fmt: skip
        assert (m["access"], m["group"]) == expected, m["name"]
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert set(exposures) == {"programme_report", "leads_reporting_file"}
    assert "model.hhp.fct_outcomes" in exposures["programme_report"]["depends_on"]["nodes"]
    assert "model.hhp.rpt_effect_summary" in exposures["leads_reporting_file"]["depends_on"]["nodes"]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)")
def test_the_docs_page_opens_offline_with_no_request_and_no_console_error(docs, tmp_path):
    url = docs.as_uri() + "#!/model/model.hhp.stg_esr__absences"
    opened = run_chromium(tmp_path / "profile", *OFFLINE, "--virtual-time-budget=30000", "--dump-dom", url)
    problems = [line for line in opened.stderr.splitlines() if "CONSOLE" in line or "Refused to" in line]
    assert problems == []
    dom = opened.stdout
    assert "Content-Security-Policy" in dom and "default-src 'none'" in dom  # nothing outside may load
    assert 'class="break ng-binding">stg_esr__absences<' in dom  # drawn by the page's scripts
    assert re.search(r"ng-binding\">Data platform team", dom)  # the model's owner, from its group
    run_chromium(tmp_path / "profile", *OFFLINE, "--virtual-time-budget=30000", "--window-size=1400,1000",
                 f"--screenshot={docs.parent / 'docs.png'}", url)  # fmt: skip
    assert (docs.parent / "docs.png").stat().st_size > 30_000
