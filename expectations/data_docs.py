"""Data Docs: the quality gate's one self-contained page. At the top, a summary of the checks
passed, warned, failed and not applicable by Kahn category and by study; below, per study, every
check with its figures and its history across data releases (quality.check_results keeps every
run), drawn as small marks, one per release, oldest first."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"
OUTCOMES = ("passed", "warned", "failed", "not applicable")
COLOURS = {"passed": "#1b7f3b", "warned": "#c77700", "failed": "#b00020", "not applicable": "#9a9a9a"}
MAX_RELEASES = 12  # the marks a trend shows: the latest releases


def outcome(status: str, severity: str) -> str:
    """A result as the page counts it: a failed warning is 'warned'; an error is 'failed'."""
    if status == "not_applicable":
        return "not applicable"
    if status == "passed":
        return "passed"
    return "warned" if severity == "warning" and status == "failed" else "failed"


def history(wh) -> dict[tuple[str, str], list[dict]]:
    """Per (study, check): its outcome at each data release (the release's latest run), oldest
    release first."""
    rows = wh.query(
        "with runs as (select data_release, study_id, check_name, status, severity, violating_rows, "
        "denominator, checked_at, row_number() over (partition by data_release, study_id, check_name "
        "order by checked_at desc) as latest, min(checked_at) over (partition by data_release) as first_seen "
        "from quality.check_results) "
        "select study_id, check_name, data_release, status, severity, violating_rows, denominator "
        "from runs where latest = 1 order by first_seen, data_release"
    )
    trends: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for study_id, check, release, status, severity, violating, denominator in rows:
        share = f", {100.0 * violating / denominator:.2f}%" if denominator else ""
        trends[(study_id, check)].append(
            {
                "release": release,
                "outcome": outcome(status, severity),
                "figures": f"{violating} of {denominator}{share}",
            }
        )
    return {key: marks[-MAX_RELEASES:] for key, marks in trends.items()}


def render(results, catalogue: dict, release: str, trends: dict[tuple[str, str], list[dict]]) -> str:
    """The page, for the gate's results of this run."""
    by_category: dict[str, Counter] = defaultdict(Counter)
    by_study: dict[str, Counter] = defaultdict(Counter)
    for r in results:
        shown = outcome(r.status, r.severity)
        by_category[r.category][shown] += 1
        by_study[r.study_id][shown] += 1
    studies = []
    for study_id in sorted(by_study):
        checks = sorted(
            (r for r in results if r.study_id == study_id), key=lambda r: (r.category, r.check_name)
        )
        studies.append({
            "study_id": study_id,
            "counts": by_study[study_id],
            "checks": [{
                "result": r,
                "entry": catalogue[r.catalogue_id],
                "outcome": outcome(r.status, r.severity),
                "percentage": f"{r.percentage:.2f}%" if r.percentage is not None else "",
                "trend": trends.get((study_id, r.check_name), []),
            } for r in checks],
        })  # fmt: skip
    releases = sorted({m["release"] for marks in trends.values() for m in marks})
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    return env.get_template("data_docs.html.j2").render(
        release=release,
        checked_at=f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        outcomes=OUTCOMES,
        colours=COLOURS,
        total=Counter(outcome(r.status, r.severity) for r in results),
        by_category=dict(sorted(by_category.items())),
        studies=studies,
        releases=len(releases),
    )
