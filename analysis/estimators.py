"""The estimators of docs/instruments.md's analysis conventions, each on plain arrays, so each can be
checked against a worked example: ANCOVA (OLS, cluster-robust in a cluster RCT), the linear
probability model with robust SEs, the odds ratio, Hedges' g, Benjamini-Hochberg and
DerSimonian-Laird pooling (the sample-ratio test is hhp.randomisation's). statsmodels does the fitting."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests

COX_SCALE = 1.65  # d = ln(OR) / 1.65, the Cox index


@dataclass(frozen=True)
class Estimate:
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int


def design_matrix(treat: np.ndarray, covariates: pd.DataFrame | None = None) -> pd.DataFrame:
    """Intercept, the treatment indicator (first after the intercept), then the covariates."""
    x = pd.DataFrame({"const": 1.0, "treat": np.asarray(treat, float)})
    if covariates is not None and not covariates.empty:
        x = pd.concat([x, covariates.reset_index(drop=True).astype(float)], axis=1)
    return x


def stratum_dummies(strata: pd.Series | None) -> pd.DataFrame | None:
    """Indicator columns for every stratum but the first; None when unstratified."""
    if strata is None or strata.nunique(dropna=True) < 2:
        return None
    return pd.get_dummies(strata.astype(str).reset_index(drop=True), prefix="stratum", drop_first=True)


def baseline_covariates(baseline: pd.Series) -> pd.DataFrame:
    """The baseline score, missing values set to the mean with an indicator beside them (the
    missing-indicator method: keeps everyone with an outcome in the ITT analysis, and is
    unbiased in a randomised trial because baseline is independent of arm)."""
    baseline = pd.Series(baseline, dtype=float).reset_index(drop=True)
    missing = baseline.isna()
    out = pd.DataFrame({"baseline": baseline.fillna(baseline.mean() if (~missing).any() else 0.0)})
    if missing.any() and (~missing).any():
        out["baseline_missing"] = missing.astype(float)
    return out if (~missing).any() else pd.DataFrame(index=baseline.index)


def _fit_ols(y, x: pd.DataFrame, clusters=None, robust: str | None = None):
    model = sm.OLS(np.asarray(y, float), x)
    if clusters is not None:
        groups = pd.factorize(pd.Series(clusters).reset_index(drop=True))[0]
        return model.fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    if robust:
        return model.fit(cov_type=robust, use_t=True)
    return model.fit()


def _treatment(fit, n: int, scale: float = 1.0) -> Estimate:
    low, high = fit.conf_int(0.05).iloc[1]
    return Estimate(
        float(fit.params.iloc[1]) * scale,
        float(fit.bse.iloc[1]) * scale,
        float(low) * scale,
        float(high) * scale,
        float(fit.pvalues.iloc[1]),
        n,
    )


def ancova(y, treat, covariates: pd.DataFrame | None = None, clusters=None) -> Estimate:
    """Adjusted difference (treated minus control) from OLS of y on treat and the covariates;
    standard errors clustered on `clusters` when given (t with G - 1 df), else the model's."""
    return _treatment(_fit_ols(y, design_matrix(treat, covariates), clusters), len(y))


def risk_difference_pp(y, treat, covariates: pd.DataFrame | None = None, clusters=None) -> Estimate:
    """Linear probability model: the risk difference in percentage points, with HC1 robust
    standard errors (cluster-robust in a cluster RCT)."""
    fit = _fit_ols(y, design_matrix(treat, covariates), clusters, robust="HC1")
    return _treatment(fit, len(y), scale=100.0)


def complier_effect(
    y, assigned, received, covariates: pd.DataFrame | None = None, clusters=None, scale: float = 1.0
) -> Estimate | None:
    """The complier average causal effect: two-stage least squares of y on receiving the
    intervention, instrumented by the arm randomised to, with the ITT model's covariates;
    heteroskedasticity-robust standard errors, clustered on `clusters` when given. None when
    no one received it (the instrument has no first stage)."""
    from linearmodels.iv import IV2SLS

    received = np.asarray(received, float)
    if received.sum() == 0:
        return None
    exog = pd.DataFrame({"const": np.ones(len(received))})
    if covariates is not None and not covariates.empty:
        exog = pd.concat([exog, covariates.reset_index(drop=True).astype(float)], axis=1)
    model = IV2SLS(
        np.asarray(y, float),
        exog,
        pd.DataFrame({"received": received}),
        pd.DataFrame({"assigned": np.asarray(assigned, float)}),
    )
    if clusters is not None:
        groups = pd.Series(pd.factorize(pd.Series(clusters).reset_index(drop=True))[0])
        fit = model.fit(cov_type="clustered", clusters=groups, debiased=True)
    else:
        fit = model.fit(cov_type="robust", debiased=True)
    low, high = fit.conf_int(level=0.95).loc["received"]
    return Estimate(
        float(fit.params["received"]) * scale,
        float(fit.std_errors["received"]) * scale,
        float(low) * scale,
        float(high) * scale,
        float(fit.pvalues["received"]),
        len(received),
    )


def odds_ratio(y, treat, covariates: pd.DataFrame | None = None, clusters=None) -> Estimate | None:
    """Logistic regression: the odds ratio with its CI (estimate and CI on the OR scale, se on
    the log scale); None when it cannot be estimated (no events in an arm, separation)."""
    y = np.asarray(y, float)
    treat = np.asarray(treat, float)
    if any(y[treat == arm].sum() in (0, (treat == arm).sum()) for arm in (0.0, 1.0)):
        return None
    x = design_matrix(treat, covariates)
    try:
        model = sm.Logit(y, x)
        if clusters is not None:
            groups = pd.factorize(pd.Series(clusters).reset_index(drop=True))[0]
            fit = model.fit(disp=False, cov_type="cluster", cov_kwds={"groups": groups})
        else:
            fit = model.fit(disp=False)
    except (np.linalg.LinAlgError, sm.tools.sm_exceptions.PerfectSeparationError):
        return None
    log_or, se = float(fit.params.iloc[1]), float(fit.bse.iloc[1])
    z = stats.norm.ppf(0.975)
    return Estimate(
        math.exp(log_or),
        se,
        math.exp(log_or - z * se),
        math.exp(log_or + z * se),
        float(fit.pvalues.iloc[1]),
        len(y),
    )


def cox_d(odds: float) -> float:
    """An odds ratio as a standardised difference, for binary and continuous on one scale."""
    return math.log(odds) / COX_SCALE


def pooled_sd(control, intervention) -> float:
    control, intervention = np.asarray(control, float), np.asarray(intervention, float)
    n0, n1 = len(control), len(intervention)
    return math.sqrt(((n0 - 1) * control.var(ddof=1) + (n1 - 1) * intervention.var(ddof=1)) / (n0 + n1 - 2))


def hedges_g(difference: float, sd: float, n_control: int, n_intervention: int) -> tuple[float, float]:
    """Hedges' g = difference / pooled SD x J, J = 1 - 3 / (4N - 9), and its standard error."""
    n = n_control + n_intervention
    j = 1 - 3 / (4 * n - 9)
    d = difference / sd
    se_d = math.sqrt(n / (n_control * n_intervention) + d * d / (2 * n))
    return d * j, se_d * j


def benjamini_hochberg(p_values) -> np.ndarray:
    """Adjusted p-values (false discovery rate) for one family of tests; NaN stays NaN."""
    p = np.asarray(p_values, float)
    out = np.full_like(p, np.nan)
    present = ~np.isnan(p)
    if present.any():
        out[present] = multipletests(p[present], method="fdr_bh")[1]
    return out


@dataclass(frozen=True)
class Pooled:
    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    q: float
    q_p_value: float
    tau2: float
    i2: float


def dersimonian_laird(estimates, standard_errors) -> Pooled:
    """Inverse-variance random-effects pooling with the DerSimonian-Laird tau-squared; Q with its
    chi-squared p-value and I-squared (a percentage). Written out rather than statsmodels'
    combine_effects(method_re="dl"), which does not truncate tau-squared at zero: with Q below
    k - 1 it weights by 1 / (v + a negative tau-squared), even dividing by zero."""
    y, v = np.asarray(estimates, float), np.asarray(standard_errors, float) ** 2
    k = len(y)
    w = 1 / v
    fixed = (w * y).sum() / w.sum()
    q = float((w * (y - fixed) ** 2).sum())
    c = w.sum() - (w**2).sum() / w.sum()
    tau2 = max(0.0, (q - (k - 1)) / c) if k > 1 else 0.0
    w_random = 1 / (v + tau2)
    pooled = float((w_random * y).sum() / w_random.sum())
    se = float(math.sqrt(1 / w_random.sum()))
    z = stats.norm.ppf(0.975)
    return Pooled(
        k,
        pooled,
        se,
        float(pooled - z * se),
        float(pooled + z * se),
        float(2 * stats.norm.sf(abs(pooled / se))),
        q,
        float(stats.chi2.sf(q, k - 1)) if k > 1 else float("nan"),
        float(tau2),
        max(0.0, (q - (k - 1)) / q) * 100 if q > 0 else 0.0,
    )
