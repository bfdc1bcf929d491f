"""The programme's analysis, as docs/instruments.md sets it out, from the marts to the `analysis`
schema: effect estimates per study x outcome x timepoint, random-effects pooling across
studies per outcome, and the trial tables (sample ratio, baseline balance, uptake; the
participant flow is the reporting view rpt_participant_flow).

Intention to treat: everyone randomised with the outcome, in the arm they were randomised
to. No estimate over fewer than 10 people in an arm."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import estimators as est
from hhp import randomisation
from hhp.instruments import UPTAKE_MEASURES, complies
from hhp.registry import load_registry
from hhp.warehouse import Warehouse

MIN_PEOPLE = 10
DOMAINS = {
    "SWEMWBS": "wellbeing",
    "BELONG": "wellbeing",
    "CBI_WORK": "burnout",
    "ITQ": "retention",
    "LEFT_ANY": "retention",
    "LEFT_VOL": "retention",
    "ABS_RATE": "absence",
    "ABS_DAYS": "absence",
    "ABS_SPELLS": "absence",
    "ABS_MH_DAYS": "absence",
    "BRADFORD": "absence",
}
BINARY = {"LEFT_ANY", "LEFT_VOL"}
SURVEY = {"SWEMWBS", "CBI_WORK", "BELONG", "ITQ"}


def _model_text(binary: bool, baseline: bool, strata: bool, clustered: bool) -> str:
    terms = ["arm"] + (["baseline score"] if baseline else []) + (["stratum"] if strata else [])
    kind = "linear probability model" if binary else "ANCOVA"
    errors = "cluster-robust SE" if clustered else ("HC1 robust SE" if binary else "OLS SE")
    return f"{kind}: outcome ~ {' + '.join(terms)}; {errors}"


def _covariates(
    group: pd.DataFrame, code: str
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, pd.DataFrame | None]:
    """(covariates, baseline, strata) of the ITT model: the baseline score (continuous outcomes)
    and the strata."""
    strata = est.stratum_dummies(group["stratum"])
    baseline = None if code in BINARY else est.baseline_covariates(group["baseline_value"])
    parts = [c for c in (baseline, strata) if c is not None and not c.empty]
    return (pd.concat(parts, axis=1) if parts else None), baseline, strata


def _cace(group: pd.DataFrame, code: str, clustered: bool, rule: dict) -> dict:
    """The complier average causal effect beside a primary ITT estimate, on its scale."""
    covariates, _, _ = _covariates(group, code)
    received = group["received"].fillna(False).astype(float).to_numpy()
    treated = group["is_intervention"].astype(bool).to_numpy()
    share = float(received[treated].mean()) if treated.any() else np.nan
    row = {"complier_share": share, "compliance": rule["description"]}
    fit = est.complier_effect(
        group["value"].astype(float).to_numpy(), group["is_intervention"].astype(float).to_numpy(), received,
        covariates, group["cluster_id"] if clustered else None, 100.0 if code in BINARY else 1.0,
    )  # fmt: skip
    if fit is None:
        return row | {"cace_note": "not estimated: no one in the intervention arm received it"}
    note = None
    if share < 0.1:  # the ITT effect is divided by the share who received it, and so is its error
        note = f"only {share:.1%} received the intervention: the interval is wide"
    return row | {
        "cace_estimate": fit.estimate,
        "cace_se": fit.se,
        "cace_ci_low": fit.ci_low,
        "cace_ci_high": fit.ci_high,
        "cace_p_value": fit.p_value,
        "cace_note": note,
    }


def _estimate(group: pd.DataFrame, code: str, clustered: bool) -> dict:
    treat = group["is_intervention"].astype(float).to_numpy()
    y = group["value"].astype(float).to_numpy()
    covariates, baseline, strata = _covariates(group, code)
    clusters = group["cluster_id"] if clustered else None
    control, intervention = y[treat == 0], y[treat == 1]
    row = {
        "model": _model_text(
            code in BINARY, baseline is not None and not baseline.empty, strata is not None, clustered
        ),
        "mean_control": control.mean(),
        "mean_intervention": intervention.mean(),
    }
    if code in BINARY:
        rd = est.risk_difference_pp(y, treat, strata, clusters)
        odds = est.odds_ratio(y, treat, strata, clusters)
        row |= {
            "estimate": rd.estimate,
            "se": rd.se,
            "ci_low": rd.ci_low,
            "ci_high": rd.ci_high,
            "p_value": rd.p_value,
            "scale": "risk difference, percentage points",
        }
        if odds is not None:
            row |= {
                "odds_ratio": odds.estimate,
                "odds_ratio_ci_low": odds.ci_low,
                "odds_ratio_ci_high": odds.ci_high,
                "standardised_effect": est.cox_d(odds.estimate),
                "standardised_se": odds.se / est.COX_SCALE,
                "standardised_kind": "Cox d = ln(OR) / 1.65",
            }
        return row
    fit = est.ancova(y, treat, covariates, clusters)
    g, g_se = est.hedges_g(
        fit.estimate, est.pooled_sd(control, intervention), len(control), len(intervention)
    )
    return row | {
        "estimate": fit.estimate,
        "se": fit.se,
        "ci_low": fit.ci_low,
        "ci_high": fit.ci_high,
        "p_value": fit.p_value,
        "scale": "adjusted difference, outcome units",
        "standardised_effect": g,
        "standardised_se": g_se,
        "standardised_kind": "Hedges' g",
    }


def effect_estimates(outcomes: pd.DataFrame, studies: pd.DataFrame) -> pd.DataFrame:
    """One row per study x outcome x timepoint after baseline (intervention minus control)."""
    by_study, registry = studies.set_index("study_id"), load_registry()
    analysed = outcomes[
        outcomes["analysis_flag"] & outcomes["value"].notna() & (outcomes["timepoint"] != "baseline")
    ]
    rows = []
    for (study_id, code, timepoint), group in analysed.groupby(["study_id", "outcome_code", "timepoint"]):
        study = by_study.loc[study_id]
        n_intervention = int(group["is_intervention"].sum())
        n_control = len(group) - n_intervention
        row = {
            "study_id": study_id,
            "outcome_code": code,
            "timepoint": timepoint,
            "domain": DOMAINS.get(code, "other"),
            "outcome_type": "binary" if code in BINARY else "continuous",
            "is_primary": registry[study_id].is_primary(code, timepoint),
            "n": len(group),
            "n_control": n_control,
            "n_intervention": n_intervention,
        }
        rule = registry[study_id].compliance
        if min(n_control, n_intervention) < MIN_PEOPLE:
            row["model"] = f"not estimated: fewer than {MIN_PEOPLE} people in an arm"
        else:
            clustered = study["design"] == "cluster_rct"
            row |= _estimate(group.reset_index(drop=True), code, clustered)
            if row["is_primary"] and rule and "received" in group:
                row |= _cace(group.reset_index(drop=True), code, clustered, rule)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=EFFECT_COLUMNS_ORDER)
    frame[EFFECT_FIGURES] = frame[EFFECT_FIGURES].astype(float)  # all-missing columns stay numeric
    frame["p_adjusted"] = np.nan
    for _, family in frame.groupby(["study_id", "domain"]):  # BH within each study's outcome domain
        frame.loc[family.index, "p_adjusted"] = est.benjamini_hochberg(family["p_value"].to_numpy(float))
    return frame


def pooled_effects(effects: pd.DataFrame) -> pd.DataFrame:
    """DerSimonian-Laird across the studies with an estimate, per outcome and timepoint."""
    rows = []
    estimated = effects[effects["se"].notna() & (effects["se"] > 0)]
    for (code, timepoint), group in estimated.groupby(["outcome_code", "timepoint"]):
        if len(group) < 2:
            continue
        pooled = est.dersimonian_laird(group["estimate"], group["se"])
        rows.append(
            {
                "outcome_code": code,
                "timepoint": timepoint,
                "domain": DOMAINS.get(code, "other"),
                "scale": group["scale"].iloc[0],
                "k": pooled.k,
                "studies": ", ".join(sorted(group["study_id"])),
                "n": int(group["n"].sum()),
                "estimate": pooled.estimate,
                "se": pooled.se,
                "ci_low": pooled.ci_low,
                "ci_high": pooled.ci_high,
                "p_value": pooled.p_value,
                "q": pooled.q,
                "q_p_value": pooled.q_p_value,
                "tau2": pooled.tau2,
                "i2": pooled.i2,
                "method": "inverse-variance random effects, DerSimonian-Laird tau-squared",
            }
        )
    return pd.DataFrame(rows, columns=POOLED_COLUMNS_ORDER)


def sample_ratio(wh: Warehouse, studies: pd.DataFrame, release: str | None = None) -> pd.DataFrame:
    """The gate's sample-ratio test (hhp.randomisation), one row per study: clusters in a
    cluster RCT, participants otherwise."""
    registry = load_registry()
    rows = []
    for study_id in studies["study_id"]:
        srm = randomisation.sample_ratio(wh, registry[study_id], release)
        control, intervention = (srm.observed[arm] for arm in registry[study_id].arms)
        rows.append(
            {
                "study_id": study_id,
                "units": srm.units,
                "allocation_ratio": srm.allocation_ratio,
                "n_control": control,
                "n_intervention": intervention,
                "chi_square": srm.statistic,
                "p_value": srm.p_value,
            }
        )
    return pd.DataFrame(rows, columns=SAMPLE_RATIO_COLUMNS)


SAMPLE_RATIO_COLUMNS = [
    "study_id",
    "units",
    "allocation_ratio",
    "n_control",
    "n_intervention",
    "chi_square",
    "p_value",
]


def balance(participants: pd.DataFrame) -> pd.DataFrame:
    """Baseline characteristics by arm: mean and SD, with the count they are over."""
    measures = {
        "baseline_swemwbs": "SWEMWBS at baseline",
        "baseline_cbi_work": "CBI_WORK at baseline",
        "baseline_fte": "FTE",
        "tenure_days_at_randomisation": "tenure (days)",
    }
    rows = []
    for (study_id, arm), group in participants.groupby(["study_id", "arm"]):
        for column, label in measures.items():
            values = group[column].dropna().astype(float)
            rows.append(
                {
                    "study_id": study_id,
                    "arm": arm,
                    "characteristic": label,
                    "n": len(values),
                    "mean": values.mean() if len(values) else np.nan,
                    "sd": values.std(ddof=1) if len(values) > 1 else np.nan,
                }
            )
    return pd.DataFrame(rows)


def due_counts(engagement: pd.DataFrame) -> pd.DataFrame:
    """Per participant, their due contacts and how many were delivered, opened and completed."""
    due = engagement[engagement["is_due"].fillna(True).astype(bool)]
    return due.groupby(["study_id", "participant_id"]).agg(
        due=("contact_no", "count"),
        delivered=("is_delivered", "sum"),
        opened=("is_opened_by_human", "sum"),
        completed=("is_completed", "sum"),
    )


def uptake(participants: pd.DataFrame, engagement: pd.DataFrame, studies: pd.DataFrame) -> pd.DataFrame:
    """Per study and arm: the share of due contacts delivered, opened (by a person) and modules
    completed, where the study's delivery format records it, over everyone randomised to the
    arm (described, never used to exclude anyone). A contact scheduled after a participant
    stopped the intervention is not due (docs/instruments.md, withdrawals)."""
    contacts = studies.set_index("study_id")["scheduled_contacts"]
    measures = studies.set_index("study_id")["delivery_format"].map(lambda f: UPTAKE_MEASURES.get(f, set()))
    per_person = due_counts(engagement)
    joined = (
        participants.set_index(["study_id", "participant_id"])
        .join(per_person)
        .fillna({"due": 0, "delivered": 0, "opened": 0, "completed": 0})
    )
    rows = []
    for (study_id, arm), group in joined.reset_index().groupby(["study_id", "arm"]):
        offered = int(contacts.get(study_id, 0) or 0) if group["is_intervention"].iloc[0] else 0
        due_contacts = float(group["due"].sum())
        shares = {
            f"{kind}_share": group[kind].astype(float).sum() / due_contacts
            if offered and due_contacts and kind in measures[study_id]
            else np.nan
            for kind in ("delivered", "opened", "completed")
        }
        rows.append(
            {"study_id": study_id, "arm": arm, "n": len(group), "scheduled_contacts": offered,
             "contacts_due": int(due_contacts), **shares}
        )  # fmt: skip
    return pd.DataFrame(rows)


EFFECT_COLUMNS_ORDER = [
    "study_id",
    "outcome_code",
    "timepoint",
    "domain",
    "outcome_type",
    "is_primary",
    "model",
    "scale",
    "n",
    "n_control",
    "n_intervention",
    "mean_control",
    "mean_intervention",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "standardised_effect",
    "standardised_se",
    "standardised_kind",
    "odds_ratio",
    "odds_ratio_ci_low",
    "odds_ratio_ci_high",
    # the complier average causal effect, beside a primary outcome of a study with an uptake measure
    "compliance",
    "complier_share",
    "cace_estimate",
    "cace_se",
    "cace_ci_low",
    "cace_ci_high",
    "cace_p_value",
    "cace_note",
]
EFFECT_FIGURES = [
    c
    for c in EFFECT_COLUMNS_ORDER[EFFECT_COLUMNS_ORDER.index("mean_control") :]
    if c not in ("standardised_kind", "compliance", "cace_note")
]
POOLED_COLUMNS_ORDER = [
    "outcome_code",
    "timepoint",
    "domain",
    "scale",
    "k",
    "studies",
    "n",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "q",
    "q_p_value",
    "tau2",
    "i2",
    "method",
]


# What the analysis reads: the marts, or a data release's snapshots of them (hhp/releases.py),
# in a fixed order, so that the same rows give the same figures to the last digit
MARTS = {"studies": "marts.dim_study", "participants": "marts.dim_participant",
         "outcomes": "marts.fct_outcomes", "engagement": "marts.fct_engagement"}  # fmt: skip
RELEASE = {"studies": "releases.rel_studies", "participants": "releases.rel_participants",
           "outcomes": "releases.rel_outcomes", "engagement": "releases.rel_engagement"}  # fmt: skip


def load_marts(wh: Warehouse, release: str | None = None) -> dict[str, pd.DataFrame]:
    """The marts the analysis reads, or with `release` that release's snapshots of them."""
    tables = MARTS if release is None else RELEASE
    params = [] if release is None else [release]

    def frame(sql: str) -> pd.DataFrame:
        rows = wh.query_arrow(sql, params).to_pandas()
        return rows.drop(columns=["release_name", "cut_on"], errors="ignore")

    def of(alias: str = "") -> str:  # the release's rows (bound), or all of them
        return "true" if release is None else f"{alias}release_name = %s"

    studies = frame(f"select * from {tables['studies']} where {of()} order by study_id")
    same_release = "" if release is None else ", release_name"
    return {
        "studies": studies,
        "participants": frame(
            f"select * from {tables['participants']} where {of()} and itt_flag "
            "order by study_id, participant_id"
        ),
        "outcomes": frame(
            "select o.study_id, o.participant_id, o.outcome_code, o.timepoint, o.value, o.baseline_value, "
            "o.analysis_flag, p.arm, p.is_intervention, p.stratum, p.cluster_id "
            f"from {tables['outcomes']} o join {tables['participants']} p "
            f"using (study_id, participant_id{same_release}) where {of('o.')} and p.itt_flag "
            "order by o.study_id, o.participant_id, o.outcome_code, o.timepoint"
        ),
        "engagement": frame(
            "select study_id, participant_id, contact_no, is_due, is_delivered, is_opened_by_human, "
            f"is_completed from {tables['engagement']} where {of()} "
            "order by study_id, participant_id, contact_no"
        ),
    } | {"sample_ratio": sample_ratio(wh, studies, release)}


def received_intervention(participants: pd.DataFrame, engagement: pd.DataFrame) -> pd.DataFrame:
    """(study_id, participant_id, received): whether each participant received the intervention
    by their study's compliance rule, over their due contacts; never in the control arm."""
    registry = load_registry()
    counts = due_counts(engagement)
    rows = []
    for person in participants[participants["is_intervention"]].itertuples():
        rule = registry[person.study_id].compliance if person.study_id in registry else None
        if rule is None:
            continue
        key = (person.study_id, person.participant_id)
        got = counts.loc[key].to_dict() if key in counts.index else {}
        rows.append((person.study_id, person.participant_id, complies(rule, got, int(got.get("due", 0)))))
    return pd.DataFrame(rows, columns=["study_id", "participant_id", "received"])


def analyse(marts: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    received = received_intervention(marts["participants"], marts["engagement"])
    outcomes = marts["outcomes"].merge(received, on=["study_id", "participant_id"], how="left")
    effects = effect_estimates(outcomes, marts["studies"])
    return {
        "effect_estimates": effects,
        "pooled_effects": pooled_effects(effects),
        "sample_ratio": marts["sample_ratio"],
        "balance": balance(marts["participants"]),
        "uptake": uptake(marts["participants"], marts["engagement"], marts["studies"]),
    }


def _kind(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "bigint"
    if pd.api.types.is_float_dtype(series):
        return "double"
    return "text"


def write_analysis(wh: Warehouse, tables: dict[str, pd.DataFrame]) -> None:
    """Replace every analysis.* table in one transaction: analysts never see half a release."""
    import pyarrow as pa

    with wh.transaction():
        for table, frame in tables.items():
            wh.execute(f"drop table if exists analysis.{table}")
            wh.ensure_table(f"analysis.{table}", [(c, _kind(frame[c])) for c in frame.columns])
            if len(frame):
                wh.insert_arrow(f"analysis.{table}", pa.Table.from_pandas(frame, preserve_index=False))


def run_analysis(
    wh: Warehouse, withheld: set[str] = frozenset(), release: str | None = None
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Read the marts, analyse them and store the results in `analysis`; returns both, for the
    report. The outcomes of studies the quality gate withheld are left out of every estimate
    and pool. A release's analysis (`release`) reads its snapshots and stores nothing: the
    `analysis` tables are the current data's."""
    marts = load_marts(wh, release)
    marts["outcomes"] = marts["outcomes"][~marts["outcomes"]["study_id"].isin(withheld)]
    tables = analyse(marts)
    if release is None:
        write_analysis(wh, tables)
    return marts, tables
