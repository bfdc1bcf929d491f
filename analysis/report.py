"""The programme report: one self-contained HTML file, disclosure-controlled."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from analysis.effects import EffectSummary, summarise
from hhp.config import Settings
from hhp.warehouse import open_warehouse
from ingest.ledger import data_release

TEMPLATES = Path(__file__).parent / "templates"
MIN_CELL = 10  # no count under 10 shown, no statistic over fewer than 10 people
TIMEPOINT_ORDER = {"baseline": 0, "endline": 1, "followup": 2, "period": 3}


def neutralise(text: str) -> str:
    """Text starting like a spreadsheet formula is prefixed so it can never run as one."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def disclosed_count(n: int) -> str:
    return "c" if n < MIN_CELL else str(int(5 * round(n / 5)))


def _number(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _row(effect: EffectSummary, primary: set[tuple[str, str]]) -> dict:
    enough = min(effect.n_control, effect.n_intervention) >= MIN_CELL
    return {
        "outcome_code": effect.outcome_code,
        "timepoint": effect.timepoint,
        "primary": (effect.outcome_code, effect.timepoint) in primary,
        "n_control": disclosed_count(effect.n_control),
        "n_intervention": disclosed_count(effect.n_intervention),
        "mean_control": _number(effect.mean_control) if effect.n_control >= MIN_CELL else "c",
        "mean_intervention": _number(effect.mean_intervention) if effect.n_intervention >= MIN_CELL else "c",
        "difference": _number(effect.difference) if enough else "c",
        "ci": f"{_number(effect.ci_low)} to {_number(effect.ci_high)}"
        if enough and effect.ci_low is not None
        else "",
    }


def build_report(settings: Settings) -> Path:
    with open_warehouse(settings) as wh:
        outcomes = wh.query_arrow("select * from marts.fct_outcomes").to_pandas()
        studies = wh.query_arrow("select * from marts.dim_study order by study_id").to_pandas()
        release = data_release(wh)
    effects = summarise(outcomes, studies)
    sections = []
    for study in studies.to_dict("records"):
        primary = {
            tuple(p.strip().split("@")) for p in (study["primary_outcomes"] or "").split(",") if "@" in p
        }
        rows = sorted(
            (e for e in effects if e.study_id == study["study_id"]),
            key=lambda e: (TIMEPOINT_ORDER.get(e.timepoint, 9), e.outcome_code),
        )
        sections.append(
            {
                **{k: neutralise(str(v)) if isinstance(v, str) else v for k, v in study.items()},
                "rows": [_row(e, primary) for e in rows],
            }
        )
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    html = env.get_template("programme_report.html.j2").render(
        studies=sections,
        release=release,
        built_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    path = settings.reports_dir / "programme_report.html"
    partial = path.with_suffix(".html.partial")
    partial.write_text(html, encoding="utf-8")
    partial.replace(path)
    return path
