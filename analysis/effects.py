"""Unadjusted effect summaries per study x outcome x timepoint: n and mean by arm, the
difference (intervention minus control) and its 95% CI (Welch's t)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


@dataclass
class EffectSummary:
    study_id: str
    outcome_code: str
    timepoint: str
    control_arm: str
    intervention_arm: str
    n_control: int
    n_intervention: int
    mean_control: float | None
    mean_intervention: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None


def welch_difference(control: np.ndarray, intervention: np.ndarray, level: float = 0.95):
    """Difference in means (intervention - control) with Welch's CI; None when n < 2 in an arm."""
    n0, n1 = len(control), len(intervention)
    if n0 < 2 or n1 < 2:
        return None, None, None
    diff = intervention.mean() - control.mean()
    v0, v1 = control.var(ddof=1) / n0, intervention.var(ddof=1) / n1
    se = np.sqrt(v0 + v1)
    if se == 0:
        return diff, diff, diff
    df = (v0 + v1) ** 2 / (v0**2 / (n0 - 1) + v1**2 / (n1 - 1))
    half = stats.t.ppf(0.5 + level / 2, df) * se
    return diff, diff - half, diff + half


def summarise(outcomes: pd.DataFrame, studies: pd.DataFrame) -> list[EffectSummary]:
    """outcomes: fct_outcomes rows; studies: dim_study rows (control and intervention arms)."""
    arms = studies.set_index("study_id")[["control_arm", "intervention_arm"]].to_dict("index")
    analysed = outcomes[outcomes["analysis_flag"] & outcomes["value"].notna()]
    out = []
    for (study_id, code, timepoint), group in analysed.groupby(["study_id", "outcome_code", "timepoint"]):
        control_arm, intervention_arm = arms[study_id]["control_arm"], arms[study_id]["intervention_arm"]
        control = group.loc[group["arm"] == control_arm, "value"].to_numpy(float)
        intervention = group.loc[group["arm"] == intervention_arm, "value"].to_numpy(float)
        diff, low, high = welch_difference(control, intervention)
        out.append(
            EffectSummary(
                study_id,
                code,
                timepoint,
                control_arm,
                intervention_arm,
                len(control),
                len(intervention),
                control.mean() if len(control) else None,
                intervention.mean() if len(intervention) else None,
                diff,
                low,
                high,
            )
        )
    return out
