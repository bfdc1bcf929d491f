"""The report as a person sees it: rendered by headless Chromium, offline."""

from __future__ import annotations

import shutil
import subprocess

import pytest

CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)")


def _chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip


def test_report_renders_the_primary_outcome_with_its_interval(duckdb_chain, tmp_path):
    report = duckdb_chain.reports_dir / "programme_report.html"
    dom = _chromium(tmp_path, "--dump-dom", report.as_uri()).stdout
    assert "<table>" in dom and "<h2>" in dom
    primary_row = next(row for row in dom.split("<tr") if 'class="primary"' in row)
    assert "SWEMWBS" in primary_row and "endline" in primary_row and " to " in primary_row

    screenshot = tmp_path / "report.png"
    _chromium(tmp_path, "--window-size=1200,1400", f"--screenshot={screenshot}", report.as_uri())
    assert screenshot.stat().st_size > 10_000
