"""Data Docs as a person sees it: headless Chromium opens the page from disk, offline; a summary
of passed, warned, failed and not applicable checks by Kahn category and by study is at the top;
after two data releases every check has a trend with a mark for each. A screenshot is kept."""

from __future__ import annotations

import re
import shutil

import pytest

from expectations.gate import data_docs_path
from pipeline import chain as pipeline

from .conftest import CHROMIUM, STUDY, land_tree, run_chromium, settings_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)"),
]
OFFLINE = ["--disable-quic", "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0"]
LAST = f"{STUDY}/survey/wellbeing_followup_2026-10-25.csv"


def test_data_docs_show_the_summary_and_a_trend_for_each_check_after_two_releases(generated, tmp_path):
    first = tmp_path / "first"
    shutil.copytree(generated / STUDY, first / STUDY)
    (first / LAST).unlink()  # the follow-up survey comes in the second data release
    settings = settings_for(tmp_path / "home")
    progress = []  # what a terminal's progress bar is told: (nodes done, nodes in all, node)
    for tree in (first / STUDY, generated / LAST):
        land_tree(settings, tree)
        pipeline.ingest(settings)
        pipeline.build(settings, on_node=lambda *node: progress.append(node))
        results, _ = pipeline.gate(settings)
    full = progress[: next(i for i, (done, total, _) in enumerate(progress) if done == total) + 1]
    assert [done for done, _, _ in full] == list(range(1, len(full) + 1)) and full[-1][1] == len(full) > 50
    assert "fct_outcomes" in {name for _, _, name in full}

    page = data_docs_path(settings)
    screenshot = settings.home / "data_docs.png"
    opened = run_chromium(tmp_path / "profile", *OFFLINE, "--dump-dom", page.as_uri())
    run_chromium(
        tmp_path / "profile", *OFFLINE, "--window-size=1300,1600", f"--screenshot={screenshot}", page.as_uri()
    )
    assert [line for line in opened.stderr.splitlines() if "CONSOLE" in line or "Refused to" in line] == []
    dom = opened.stdout
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)|url\(|@import""", dom, re.IGNORECASE)
    assert "history over 2 data release(s)" in dom

    summary = dom.split('id="summary-by-category"')[1].split("</table>")[0]
    for category in ("completeness", "conformance", "plausibility"):
        assert f"<td>{category}</td>" in summary
    total = re.search(r"<th>all</th>((?:<th class=\"n\">\d+</th>){4})", summary)
    counted = [int(n) for n in re.findall(r"\d+", total.group(1))]
    assert sum(counted) == len(results)
    shown = {"passed": 0, "warned": 0, "failed": 0, "not applicable": 0}
    for r in results:
        shown["not applicable" if r.status == "not_applicable" else "passed" if r.status == "passed"
              else "warned" if r.severity == "warning" else "failed"] += 1  # fmt: skip
    assert counted == list(shown.values())
    assert f'<a href="#{STUDY}">{STUDY}</a>' in dom.split('id="summary-by-study"')[1].split("</table>")[0]

    rows = [row for row in dom.split('<tr class="check"')[1:] if 'data-check="' in row]
    study_rows = dom.split(f'<h2 id="{STUDY}">')[1].split("</table>")[0].split('<tr class="check"')[1:]
    assert len(study_rows) == len([r for r in results if r.study_id == STUDY]) and rows
    for row in study_rows:
        assert row.count('class="mark"') == 2, row[:200]
    # the follow-up survey changed what the second release checked: some trend marks differ
    assert any(len(set(re.findall(r'fill="(#[0-9a-f]{6})"', row))) == 2 for row in study_rows) or any(
        len(set(re.findall(r"<title>[^<]*: \w[\w ]*, (\d+ of \d+)", row))) == 2 for row in study_rows
    )
    assert screenshot.stat().st_size > 30_000
