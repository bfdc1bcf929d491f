"""The programme report: one self-contained HTML file (a summary page of forest plots, then a
page per study) and CSV exports beside it, every figure disclosure-controlled as
docs/instruments.md says (analysis.disclosure, the reporting views' own macros): counts under
10 shown as `c`, other counts rounded to the nearest 5, no statistic over fewer than 10
people, and no total that would reveal a suppressed count."""

from __future__ import annotations

import csv
import math
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from analysis.consort import WITHDRAWAL_STAGES, Arm, consort_svg
from analysis.disclosure import SUPPRESSED, disclosed_count, statistic_shown
from analysis.estimates import DOMAINS, received_intervention, run_analysis
from analysis.forest import Line, forest_svg
from hhp import releases
from hhp.config import Settings
from hhp.errors import NothingBuilt
from hhp.instruments import OUTCOMES
from hhp.ledger import data_release
from hhp.registry import load_registry
from hhp.releases import Release
from hhp.spreadsheet import neutralise
from hhp.sql import quote_literal
from hhp.warehouse import open_warehouse

TEMPLATES = Path(__file__).parent / "templates"
TIMEPOINT_ORDER = {"baseline": 0, "endline": 1, "followup": 2, "period": 3}
DOMAIN_ORDER = {domain: i for i, domain in enumerate(dict.fromkeys(DOMAINS.values()))}


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _number(value, digits: int = 2) -> str:
    if _missing(value):
        return ""
    return f"{value:.{digits}f}"


def _p(value) -> str:
    if _missing(value):
        return ""
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _order(frame: pd.DataFrame) -> pd.DataFrame:
    keys = frame.assign(
        _d=frame["domain"].map(DOMAIN_ORDER).fillna(9), _t=frame["timepoint"].map(TIMEPOINT_ORDER).fillna(9)
    )
    return keys.sort_values(["_d", "outcome_code", "_t"]).drop(columns=["_d", "_t"])


def public_effects(effects: pd.DataFrame) -> list[dict]:
    rows = []
    for e in _order(effects).to_dict("records"):
        shown = statistic_shown(min(e["n_control"], e["n_intervention"])) and not math.isnan(e["estimate"])

        def hide(text: str, shown: bool = shown) -> str:
            return text if shown else SUPPRESSED

        cace = shown and not _missing(e.get("cace_estimate"))
        rows.append(
            {
                "study_id": e["study_id"],
                "outcome_code": e["outcome_code"],
                "outcome": outcome_label(e["outcome_code"]),
                "timepoint": e["timepoint"],
                "domain": e["domain"],
                "primary": bool(e["is_primary"]),
                "scale": e["scale"] or "",
                "n_control": disclosed_count(e["n_control"]),
                "n_intervention": disclosed_count(e["n_intervention"]),
                "mean_control": hide(_number(e["mean_control"])),
                "mean_intervention": hide(_number(e["mean_intervention"])),
                "estimate": hide(_number(e["estimate"])),
                "ci_low": hide(_number(e["ci_low"])),
                "ci_high": hide(_number(e["ci_high"])),
                "p_value": hide(_p(e["p_value"])),
                "p_adjusted": hide(_p(e["p_adjusted"])),
                "standardised_effect": hide(_number(e["standardised_effect"])),
                "standardised_kind": e["standardised_kind"] or "",
                "odds_ratio": hide(_number(e["odds_ratio"])),
                "model": e["model"],
                # the complier average causal effect (primary outcomes of studies with an uptake measure)
                "compliance": e.get("compliance") if isinstance(e.get("compliance"), str) else "",
                "complier_share": f"{e['complier_share']:.0%}" if cace else "",
                "cace_estimate": _number(e["cace_estimate"]) if cace else "",
                "cace_ci_low": _number(e["cace_ci_low"]) if cace else "",
                "cace_ci_high": _number(e["cace_ci_high"]) if cace else "",
                "cace_note": e.get("cace_note") if isinstance(e.get("cace_note"), str) else "",
            }
        )
    return rows


def outcome_label(code: str) -> str:
    """An outcome in words, from the one seed of them (dbt_project/seeds/outcomes.csv)."""
    return OUTCOMES[code]["outcome_label"] if code in OUTCOMES else code


def cost_comparison(effects: pd.DataFrame, registry: dict) -> list[dict]:
    """Per primary outcome: what the intervention costs per participant beyond control, and its
    effect per 100 pounds of that (the interval scaled alike: the cost is a registry figure, not
    an estimate); disclosure as the effect's own."""
    rows = []
    for e in _order(effects[effects["is_primary"]]).to_dict("records"):
        study = registry.get(e["study_id"])
        if study is None or not study.costs:
            continue
        control, intervention = study.arms
        cost = study.cost_per_participant(intervention) - study.cost_per_participant(control)
        shown = statistic_shown(min(e["n_control"], e["n_intervention"])) and not _missing(e["estimate"])
        per_100 = shown and cost > 0

        def scaled(value, per_100: bool = per_100, shown: bool = shown, cost: float = cost) -> str:
            if not shown:
                return SUPPRESSED
            return _number(value * 100 / cost) if per_100 else ""

        rows.append(
            {
                "study_id": e["study_id"],
                "outcome_code": e["outcome_code"],
                "outcome": outcome_label(e["outcome_code"]),
                "timepoint": e["timepoint"],
                "scale": e["scale"] or "",
                "cost_per_participant": f"{study.cost_per_participant(intervention):.2f}",
                "extra_cost_per_participant": f"{cost:.2f}",
                "effect": _number(e["estimate"]) if shown else SUPPRESSED,
                "effect_per_100_pounds": scaled(e["estimate"]),
                "per_100_ci_low": scaled(e["ci_low"]),
                "per_100_ci_high": scaled(e["ci_high"]),
            }
        )
    return rows


def public_pooled(pooled: pd.DataFrame) -> list[dict]:
    return [
        {
            "outcome_code": p["outcome_code"],
            "outcome": outcome_label(p["outcome_code"]),
            "timepoint": p["timepoint"],
            "scale": p["scale"],
            "k": p["k"],
            "studies": p["studies"],
            "n": disclosed_count(p["n"]),
            "estimate": _number(p["estimate"]),
            "ci_low": _number(p["ci_low"]),
            "ci_high": _number(p["ci_high"]),
            "p_value": _p(p["p_value"]),
            "q": _number(p["q"]),
            "q_p_value": _p(p["q_p_value"]),
            "tau2": _number(p["tau2"], 3),
            "i2": _number(p["i2"], 0),
        }
        for p in _order(pooled).to_dict("records")
    ]


def public_flow(flow: pd.DataFrame, arms: list[str]) -> list[dict]:
    """The reporting view rpt_participant_flow, disclosure-controlled already, as one row per
    stage and one column per arm; no totals (a total beside a `c` would reveal it)."""
    order = [
        "randomised",
        *WITHDRAWAL_STAGES,
        "survey baseline",
        "survey endline",
        "survey followup",
        "HR record",
    ]
    rows = []
    for stage in sorted(flow["flow_stage"].unique(), key=lambda s: order.index(s) if s in order else 9):
        at = flow[flow["flow_stage"] == stage].set_index("arm")["n"]
        rows.append({"stage": stage, **{arm: at.get(arm, disclosed_count(0)) for arm in arms}})
    return rows


def public_balance(balance: pd.DataFrame) -> list[dict]:
    return [
        {
            "arm": b["arm"],
            "characteristic": b["characteristic"],
            "n": disclosed_count(b["n"]),
            "mean": _number(b["mean"]) if statistic_shown(b["n"]) else SUPPRESSED,
            "sd": _number(b["sd"]) if statistic_shown(b["n"]) else SUPPRESSED,
        }
        for b in balance.to_dict("records")
        if b["n"] > 0 or balance.loc[balance["characteristic"] == b["characteristic"], "n"].sum() > 0
    ]


def public_uptake(uptake: pd.DataFrame) -> list[dict]:
    def share(value, n) -> str:
        if _missing(value):
            return "not recorded"
        return f"{value:.0%}" if statistic_shown(n) else SUPPRESSED

    return [
        {
            "arm": u["arm"],
            "n": disclosed_count(u["n"]),
            "scheduled_contacts": u["scheduled_contacts"],
            "delivered": share(u["delivered_share"], u["n"]),
            "opened": share(u["opened_share"], u["n"]),
            "completed": share(u["completed_share"], u["n"]),
        }
        for u in uptake.to_dict("records")
    ]


def public_sample_ratio(row: dict) -> dict:
    shown = statistic_shown(min(row["n_control"], row["n_intervention"]))
    return {
        "units": row["units"],
        "allocation_ratio": row["allocation_ratio"],
        "n_control": disclosed_count(row["n_control"]),
        "n_intervention": disclosed_count(row["n_intervention"]),
        "p_value": _p(row["p_value"]) if shown else SUPPRESSED,
    }


def consort(title: str, flow: pd.DataFrame, arms: list[str], raw_total: int, received: int | None) -> str:
    """The study's CONSORT diagram from the reporting view's (disclosed) counts; how many
    received the intervention by the study's compliance rule (None: it has no uptake measure)."""
    at = {(r["flow_stage"], r["arm"]): r["n"] for r in flow.to_dict("records")}
    order = ["survey baseline", "survey endline", "survey followup", "HR record"]
    waves = sorted({s for s, _ in at if s.startswith("survey ") or s == "HR record"},
                   key=lambda s: order.index(s) if s in order else 9)  # fmt: skip
    randomised = [at.get(("randomised", arm), disclosed_count(0)) for arm in arms]
    total = SUPPRESSED if SUPPRESSED in randomised else disclosed_count(raw_total)
    shown = []
    for i, arm in enumerate(arms):
        if i == 0:
            got = "not offered (control)"
        else:
            got = disclosed_count(received) if received is not None else "not measured (no uptake measure)"
        shown.append(
            Arm(
                arm,
                randomised[i],
                got,
                {
                    label: at.get((stage, arm), disclosed_count(0))
                    for stage, label in WITHDRAWAL_STAGES.items()
                },
                [
                    (
                        wave.removeprefix("survey ") + (" survey" if wave.startswith("survey") else ""),
                        at.get((wave, arm), disclosed_count(0)),
                    )
                    for wave in waves
                ],  # fmt: skip
            )
        )
    return consort_svg(f"Participant flow: {title}", total, shown)


def forest_plots(effects: pd.DataFrame, pooled: pd.DataFrame) -> list[dict]:
    """One plot per outcome and timepoint: each study's estimate and the pooled one."""
    plots = []
    estimated = effects[
        effects["estimate"].notna()
        & effects[["n_control", "n_intervention"]].min(axis=1).map(statistic_shown)
    ]
    for (code, timepoint), group in _order(estimated).groupby(["outcome_code", "timepoint"], sort=False):
        lines = [
            Line(
                r["study_id"],
                r["estimate"],
                r["ci_low"],
                r["ci_high"],
                bool(r["is_primary"]),
            )
            for r in group.to_dict("records")
        ]
        match = pooled[(pooled["outcome_code"] == code) & (pooled["timepoint"] == timepoint)]
        summary = None
        if len(match):
            p = match.iloc[0]
            summary = Line(
                f"Pooled (random effects), I² {p['i2']:.0f}%", p["estimate"], p["ci_low"], p["ci_high"]
            )
        unit = group["scale"].iloc[0]
        plots.append(
            {
                "outcome_code": code,
                "timepoint": timepoint,
                "outcome": outcome_label(code),
                "svg": forest_svg(f"{outcome_label(code)} at {timepoint}", lines, summary, unit),
            }
        )
    return plots


def _quality(wh) -> dict[str, dict]:
    """Per study: the gate's status counts and failed checks, from its latest run."""
    if not wh.table_exists("quality", "check_results"):
        return {}
    rows = wh.query(
        "select study_id, status, check_name from quality.check_results "
        "where checked_at = (select max(checked_at) from quality.check_results)"
    )
    out: dict[str, dict] = {}
    for study_id, status, check in rows:
        entry = out.setdefault(study_id, {"counts": {}, "failed": []})
        entry["counts"][status] = entry["counts"].get(status, 0) + 1
        if status in ("failed", "error"):
            entry["failed"].append(check)
    return out


def _withheld(wh) -> dict[str, list[str]]:
    """The studies the latest quality gate withheld, with its reasons (expectations.gate)."""
    if not wh.table_exists("quality", "withheld_studies"):
        return {}
    return {study: reasons.split("\n") for study, reasons in wh.query(
        "select study_id, reasons from quality.withheld_studies order by study_id"
    )}  # fmt: skip


def _clean(value):
    """A registry value for the page: text neutralised, a missing value (NaN) as None."""
    if isinstance(value, str):
        return neutralise(value)
    return None if _missing(value) else value


def _write_csv(path: Path, rows: list[dict]) -> None:
    if not rows:
        path.write_text("", encoding="utf-8")
        return
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: neutralise(v) if isinstance(v, str) else v for k, v in row.items()})


def _flow_and_erased(wh, release: Release | None) -> tuple[pd.DataFrame, dict[str, int]]:
    """The participant flow (disclosed) and, per study, how many were erased: the reporting
    view's and the ledger's, or the release's own."""
    if release is None:
        flow = wh.query_arrow("select study_id, flow_stage, arm, n from reporting.rpt_participant_flow")
        erased = wh.query("select study_id, sum(participants) from ops.erasures group by study_id") if (
            wh.table_exists("ops", "erasures")
        ) else []  # fmt: skip
    else:
        flow = wh.query_arrow(
            "select study_id, flow_stage, arm, n from releases.rel_participant_flow where release_name = %s "
            "order by study_id, flow_stage, arm",
            [release.name],
        )
        erased = wh.query(
            f"select study_id, sum(participants) from {releases.ERASURES} "
            "where release_name = %s group by study_id",
            [release.name],
        )
    return flow.to_pandas(), {study: int(n or 0) for study, n in erased}


def study_status(study_id: str, release: Release | None, locks: dict[str, releases.Lock]) -> str:
    """Where the study's analysis stands: an interim on a release, its final one on the release
    it is locked on, or the data as now loaded."""
    lock = locks.get(study_id)
    if lock is not None:
        on = f"on release {lock.release_name} on {lock.locked_at:%Y-%m-%d %H:%M} UTC by {lock.locked_by}"
        if release is not None and lock.release_name == release.name:
            return f"Final analysis: locked {on}"
        return f"Locked {on}; its final analysis is that release's report, these figures are not"
    if release is not None:
        return f"Interim analysis on release {release.name}, cut {release.cut_on:%Y-%m-%d}; not locked"
    return "Not locked: the data as now loaded, not a data release"


def build_report(settings: Settings, release_name: str | None = None) -> Path:
    """The programme report and its CSVs, in the reports folder; with `release_name`, that data
    release's (hhp/releases.py), in reports/releases/NAME: the same figures whenever it is made."""
    settings = settings.transformer  # on PostgreSQL the analysis runs as hhp_transformer
    load_registry()  # refuses a registry with problems, before any work
    with open_warehouse(settings) as wh:
        if not wh.table_exists("marts", "dim_study"):
            raise NothingBuilt("the report")
        release = releases.find(wh, release_name) if release_name else None
        held = _withheld(wh) if release is None else release.withheld
        marts, tables = run_analysis(wh, set(held), release_name)
        flow, erased = _flow_and_erased(wh, release)
        made_from = data_release(wh) if release is None else (
            f"{release.name}, cut {release.cut_on:%Y-%m-%d} ({release.file_set})"
        )  # fmt: skip
        quality = _quality(wh)
        locks = releases.locks(wh)
    studies = marts["studies"]
    titles = dict(zip(studies["study_id"], studies["title"], strict=True))
    effects, pooled = tables["effect_estimates"], tables["pooled_effects"]
    ratios = tables["sample_ratio"].set_index("study_id").to_dict("index")
    exports: dict[str, list[dict]] = {
        "effect_estimates": public_effects(effects),
        "pooled_effects": public_pooled(pooled),
        "cost_comparison": cost_comparison(effects, load_registry()),
    }
    received = received_intervention(marts["participants"], marts["engagement"])
    received_by_study = received.groupby("study_id")["received"].sum().to_dict()
    randomised = marts["participants"].groupby("study_id").size().to_dict()
    registry = load_registry()
    pages = []
    for study in studies.to_dict("records"):
        sid = study["study_id"]
        arms = [study["control_arm"], study["intervention_arm"]]
        of = {name: frame[frame["study_id"] == sid] for name, frame in tables.items() if "study_id" in frame}
        page = {
            "study": {k: _clean(v) for k, v in study.items()},
            "arms": arms,
            "sample_ratio": public_sample_ratio(ratios[sid]),
            "flow": public_flow(flow[flow["study_id"] == sid], arms),
            "consort": consort(
                study["title"],
                flow[flow["study_id"] == sid],
                arms,
                int(randomised.get(sid, 0)) + erased.get(sid, 0),
                int(received_by_study.get(sid, 0)) if registry[sid].compliance else None,
            ),
            "balance": public_balance(of["balance"]),
            "uptake": public_uptake(of["uptake"]),
            "effects": [r for r in exports["effect_estimates"] if r["study_id"] == sid],
            "quality": quality.get(sid, {"counts": {}, "failed": []}),
            "withheld": held.get(sid, []),
            "status": study_status(sid, release, locks),
        }
        pages.append(page)
        for name in ("balance", "uptake"):
            exports.setdefault(name, []).extend({"study_id": sid, **r} for r in page[name])
        exports.setdefault("flow", []).extend(  # long: the arms differ from study to study
            {"study_id": sid, "stage": r["stage"], "arm": arm, "n": r[arm]}
            for r in page["flow"]
            for arm in arms
        )
        exports.setdefault("sample_ratio", []).append({"study_id": sid, **page["sample_ratio"]})
    primary = [r for r in exports["effect_estimates"] if r["primary"]]
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    html = env.get_template("programme_report.html.j2").render(
        pages=pages,
        primary=primary,
        titles=titles,
        plots=forest_plots(effects, pooled),
        pooled=exports["pooled_effects"],
        costs=exports["cost_comparison"],
        withheld={titles.get(sid, sid): reasons for sid, reasons in held.items()},
        release=made_from,
        built_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
    folder = settings.reports_dir if release is None else release_folder(settings, release.name)
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in exports.items():
        _write_csv(folder / f"{name}.csv", rows)
    path = folder / "programme_report.html"
    partial = path.with_suffix(".html.partial")
    partial.write_text(html, encoding="utf-8")
    partial.replace(path)
    if not settings.is_postgres and release is None:
        export_for_leads(settings)
    return path


def release_folder(settings: Settings, name: str) -> Path:
    return settings.reports_dir / "releases" / releases.check_name(name)


LEADS_FILE = "reporting.duckdb"


def export_for_leads(settings: Settings) -> Path:
    """DuckDB has no roles, so a lead cannot be kept out of a file they can open: the leads'
    equivalent of the `reporting` schema is a database of its own beside the report, holding
    only what the reporting views show (docs/threat-model.md)."""
    target = settings.reports_dir / LEADS_FILE
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    with open_warehouse(settings) as wh:
        con = wh.duckdb
        views = [name for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'reporting' "
            "and table_catalog = current_database() order by table_name"
        ).fetchall()]  # fmt: skip
        con.execute(f"attach {quote_literal(str(partial))} as leads")
        try:
            for view in views:
                con.execute(f"create table leads.main.{view} as select * from reporting.{view}")
        finally:
            con.execute("detach leads")
    partial.replace(target)
    return target
