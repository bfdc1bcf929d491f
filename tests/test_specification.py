"""The repository carries its own specification (docs/feeds.md, docs/instruments.md), true to
the adapters and the seeds, and refers to nothing outside itself."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from expectations.marts import OUTCOME_RANGES
from hhp.formats import FORMATS
from hhp.instruments import LEAVING_REASONS, SWEMWBS_METRIC
from ingest.adapters import ADAPTERS

REPO = Path(__file__).resolve().parents[1]
FEEDS = (REPO / "docs" / "feeds.md").read_text()
INSTRUMENTS = (REPO / "docs" / "instruments.md").read_text()
# the programme's own files, which a clone of this repository does not have
OUTSIDE = ["FEEDS", "INSTRUMENTS", "ARCHITECTURE", "STUDIES", "STYLE"]
OUTSIDE_REFERENCE = re.compile(r"\b(" + "|".join(OUTSIDE) + r")\.md\b|\.\./shared\b")
MARKDOWN_LINK = re.compile(r"\]\(([^)#\s]+)")


def _tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True)
    paths = [REPO / name for name in names.stdout.splitlines()] + [REPO / "docs" / "feeds.md"]
    texts = []
    for path in dict.fromkeys(paths):
        try:
            texts.append((path, path.read_text(encoding="utf-8")))
        except (UnicodeDecodeError, FileNotFoundError):
            continue
    return texts


def test_no_file_refers_to_a_specification_outside_the_repository():
    files = _tracked_text_files()
    assert len(files) > 150
    found = [
        f"{path.relative_to(REPO)}:{text.count(chr(10), 0, m.start()) + 1}: {m[0]}"
        for path, text in files
        for m in OUTSIDE_REFERENCE.finditer(text)
    ]
    assert found == []


def test_every_relative_link_in_the_docs_stays_inside_the_repository():
    broken = []
    for page in [REPO / "README.md", *(REPO / "docs").glob("*.md")]:
        for target in MARKDOWN_LINK.findall(page.read_text()):
            if "://" in target:
                continue
            resolved = (page.parent / target).resolve()
            if not resolved.is_relative_to(REPO) or not resolved.exists():
                broken.append(f"{page.name}: {target}")
    assert broken == []


def test_the_finder_finds_an_outside_reference():
    assert OUTSIDE_REFERENCE.search("scored as " + OUTSIDE[1] + ".md states")
    assert OUTSIDE_REFERENCE.search("see ../" + "shared/programme")
    assert not OUTSIDE_REFERENCE.search("see docs/instruments.md")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_specified_with_every_column_its_adapter_reads(fmt):
    heading = re.compile(rf"^## \w+: `{fmt}`$", re.M)
    (section,) = [part for part in re.split(r"^(?=## )", FEEDS, flags=re.M) if heading.match(part)]
    adapter = ADAPTERS[fmt]
    named = [
        *getattr(adapter, "HEADER", []),
        *getattr(adapter, "METADATA", []),
        *getattr(adapter, "FIELDS", {}),
    ]
    named += list(getattr(adapter, "OPTIONAL", ()))
    missing = [column for column in named if f"`{column}`" not in section]
    assert missing == [], f"docs/feeds.md's {fmt} section does not name {missing}"
    assert FORMATS[fmt] in heading.search(section)[0]  # under the feed it serves


def test_the_instruments_page_holds_the_seeds():
    reasons = "\n".join(f"| {r} | {'yes' if v else 'no'} |" for r, v in LEAVING_REASONS.items())
    assert "| leaving_reason | voluntary |\n|---|---|\n" + reasons + "\n" in INSTRUMENTS
    rows = sorted(SWEMWBS_METRIC.items())
    for raw, metric in rows:
        assert re.search(rf"\| {raw} \| {metric:.2f} \|", INSTRUMENTS), raw
    table = INSTRUMENTS.split("### SWEMWBS raw score to metric score")[1].split("###")[0]
    assert re.findall(r"(\d+) \| (\d+\.\d\d)", table) == [
        (str(r), f"{m:.2f}") for r, m in rows_by_column(rows)
    ]


def rows_by_column(rows: list) -> list:
    """The table's reading order: three (raw, metric) columns side by side, ten rows."""
    return [rows[i + 10 * j] for i in range(10) for j in range(3) if i + 10 * j < len(rows)]


def test_every_outcome_code_is_specified():
    assert [code for code in OUTCOME_RANGES if f"`{code}`" not in INSTRUMENTS] == []
