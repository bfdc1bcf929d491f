"""The report as a person sees it: rendered by headless Chromium from disk, offline, with no
console error and no network request; a screenshot of the summary page is kept in $HHP_HOME."""

from __future__ import annotations

import re
import subprocess

import pytest

from pipeline import chain as pipeline

from .conftest import CHROMIUM, run_chromium

# The browser's own background traffic (updates, time sync) resolves nowhere; console to stderr.
OFFLINE = ["--disable-quic", "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)")


def _chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    return run_chromium(tmp_path / "profile", *OFFLINE, *args)


@pytest.fixture(scope="module")
def report(programme_chain):
    return pipeline.report(programme_chain)


def _console_problems(stderr: str) -> list[str]:
    """The page's console messages and refused loads, as Chromium logs them."""
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Refused to" in line]


def test_the_report_opens_offline_without_console_errors_or_requests(report, programme_chain, tmp_path):
    opened = _chromium(tmp_path, "--dump-dom", report.as_uri())
    assert _console_problems(opened.stderr) == []
    dom = opened.stdout
    # the page may fetch nothing: its policy refuses every load, and nothing in it points outside
    assert "default-src 'none'" in dom
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)|url\(|@import""", dom, re.IGNORECASE)
    assert dom.count('class="forest"') >= 10, "the summary page has no forest plots"
    primary_row = next(row for row in dom.split("<tr") if 'class="primary"' in row)
    assert "Mental wellbeing" in primary_row or "Work-related burnout" in primary_row  # in words
    assert " to " in primary_row

    screenshot = programme_chain.home / "report_summary.png"
    _chromium(tmp_path, "--window-size=1300,2000", f"--screenshot={screenshot}", report.as_uri())
    assert screenshot.stat().st_size > 50_000


def test_an_outside_request_would_be_caught(report, tmp_path):
    """The check above can fail: a report that asks for an outside image is refused and logged."""
    tampered = tmp_path / "tampered.html"
    tampered.write_text(
        report.read_text().replace("<main>", '<main><img src="http://example.invalid/a.png">')
    )
    opened = _chromium(tmp_path, "--dump-dom", tampered.as_uri())
    assert any("Content Security Policy" in line for line in _console_problems(opened.stderr)), opened.stderr[
        -2000:
    ]


def test_a_consort_diagram_per_study_and_the_cost_comparison_show(report, programme_chain, tmp_path):
    """Every study's participant flow as a CONSORT diagram, its counts disclosure-controlled
    (none under 10 shown, others multiples of 5), and the cost beside each primary effect; a
    screenshot of one diagram and the cost table is kept in $HHP_HOME."""
    opened = _chromium(tmp_path, "--dump-dom", report.as_uri())
    assert _console_problems(opened.stderr) == []
    dom = opened.stdout
    figures = re.findall(r'<figure class="consort" id="consort-([a-z_]+)">(.*?)</figure>', dom, re.S)
    studies = {"mod_ding", "dispatch_stories", "tea_coffee", "gratitude_letters", "goal_setting"}
    assert {study for study, _ in figures} == studies
    for study, svg in figures:
        texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
        assert any(t.startswith("Randomised: ") for t in texts) and "their data (erased): " in " ".join(texts)
        counts = [t.rsplit(": ", 1)[1] for t in texts if re.search(r": (c|\d+)$", t)]
        assert counts and all(n == "c" or (int(n) >= 10 and int(n) % 5 == 0) for n in counts), (study, counts)
    costs = dom.split('<h2 id="costs">')[1].split("</table>")[0]
    assert costs.count("<tr>") == 1 + 6 and "Effect per £100" in costs  # the header and each primary outcome
    head = dom[: dom.index("<body")]
    page = tmp_path / "consort.html"
    page.write_text(
        f"{head}<body><main>{costs}</table><figure>{dict(figures)['mod_ding']}</figure></main></body></html>"
    )
    screenshot = programme_chain.home / "report_consort_and_costs.png"
    _chromium(tmp_path, "--window-size=1100,1000", f"--screenshot={screenshot}", page.as_uri())
    assert screenshot.stat().st_size > 30_000
