"""Known answers, to 3 decimal places: each estimator against a published worked example or
the textbook formula computed by hand (numpy, independently of statsmodels)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.estimators import (
    ancova,
    baseline_covariates,
    benjamini_hochberg,
    complier_effect,
    cox_d,
    dersimonian_laird,
    hedges_g,
    odds_ratio,
    pooled_sd,
    risk_difference_pp,
)


def _trial(n: int = 120, clusters: int = 0, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    treat = np.tile([0, 1], n // 2)
    baseline = rng.normal(23, 4, n)
    cluster = np.arange(n) % clusters if clusters else None
    shock = rng.normal(0, 2, clusters)[cluster] if clusters else 0
    y = 5 + 1.2 * treat + 0.6 * baseline + shock + rng.normal(0, 3, n)
    return pd.DataFrame({"y": y, "treat": treat, "baseline": baseline, "cluster": cluster})


def _by_hand(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.column_stack([np.ones(len(df)), df["treat"], df["baseline"]])
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ x.T @ df["y"].to_numpy()
    return x, xtx_inv, beta


def test_ancova_is_ols_on_arm_and_baseline():
    df = _trial()
    x, xtx_inv, beta = _by_hand(df)
    residuals = df["y"].to_numpy() - x @ beta
    sigma2 = residuals @ residuals / (len(df) - 3)
    se = math.sqrt(sigma2 * xtx_inv[1, 1])
    result = ancova(df["y"], df["treat"], df[["baseline"]])
    assert result.estimate == pytest.approx(beta[1], abs=5e-4)
    assert result.se == pytest.approx(se, abs=5e-4)
    half = 1.9799 * se  # t(0.975, 117)
    assert (result.ci_low, result.ci_high) == pytest.approx((beta[1] - half, beta[1] + half), abs=1e-3)


def test_cluster_robust_standard_error_is_the_sandwich_with_the_small_sample_factor():
    df = _trial(n=200, clusters=20)
    x, xtx_inv, beta = _by_hand(df)
    residuals = df["y"].to_numpy() - x @ beta
    meat = np.zeros((3, 3))
    for g in range(20):
        score = x[df["cluster"] == g].T @ residuals[df["cluster"] == g]
        meat += np.outer(score, score)
    n, k, groups = len(df), 3, 20
    factor = groups / (groups - 1) * (n - 1) / (n - k)
    se = math.sqrt((xtx_inv @ meat @ xtx_inv)[1, 1] * factor)
    result = ancova(df["y"], df["treat"], df[["baseline"]], clusters=df["cluster"])
    assert result.se == pytest.approx(se, abs=5e-4)
    half = 2.0930 * se  # t(0.975, G - 1 = 19)
    assert result.ci_high - result.estimate == pytest.approx(half, abs=1e-3)


def test_risk_difference_uses_hc1_robust_errors_in_percentage_points():
    rng = np.random.default_rng(3)
    treat = np.tile([0, 1], 150)
    y = (rng.random(300) < np.where(treat == 1, 0.05, 0.10)).astype(float)
    x = np.column_stack([np.ones(300), treat])
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ x.T @ y
    u = y - x @ beta
    sandwich = xtx_inv @ (x.T * u**2) @ x @ xtx_inv * 300 / (300 - 2)
    result = risk_difference_pp(y, treat)
    assert result.estimate == pytest.approx(100 * (y[treat == 1].mean() - y[treat == 0].mean()), abs=5e-4)
    assert result.se == pytest.approx(100 * math.sqrt(sandwich[1, 1]), abs=5e-4)


def test_odds_ratio_of_a_two_by_two_table_is_the_cross_product():
    # treated: 20 events, 80 without; control: 30 events, 70 without
    y = np.r_[np.ones(20), np.zeros(80), np.ones(30), np.zeros(70)]
    treat = np.r_[np.ones(100), np.zeros(100)]
    result = odds_ratio(y, treat)
    assert result.estimate == pytest.approx((20 / 80) / (30 / 70), abs=5e-4)  # 0.583
    assert result.se == pytest.approx(math.sqrt(1 / 20 + 1 / 80 + 1 / 30 + 1 / 70), abs=5e-4)  # 0.332
    assert cox_d(result.estimate) == pytest.approx(math.log(0.58333) / 1.65, abs=5e-4)  # -0.327
    assert odds_ratio(np.r_[np.zeros(100), np.ones(5), np.zeros(95)], treat) is None  # no events in an arm


def test_hedges_g_reproduces_borenstein_worked_example():
    # Borenstein et al. (2009) Introduction to Meta-Analysis, ch. 4: means 103 and 100, SDs 5.5
    # and 4.5, 50 per arm: d = 0.5970, J = 0.9923, g = 0.5924, SE(g) = 0.2028.
    sd = math.sqrt((49 * 5.5**2 + 49 * 4.5**2) / 98)
    g, se = hedges_g(3.0, sd, 50, 50)
    assert g == pytest.approx(0.5924, abs=5e-4)
    assert se == pytest.approx(0.2028, abs=5e-4)
    assert pooled_sd([1, 2, 3, 4], [2, 4, 6, 8]) == pytest.approx(
        math.sqrt((3 * 1.6667 + 3 * 6.6667) / 6), abs=5e-4
    )


def test_dersimonian_laird_matches_the_formulas_on_borensteins_six_studies():
    # Borenstein et al. (2009) ch. 12 data, as printed (g and V to 3 dp).
    y = np.array([0.095, 0.277, 0.367, 0.664, 0.462, 0.185])
    v = np.array([0.033, 0.031, 0.050, 0.011, 0.043, 0.023])
    w = 1 / v
    fixed = (w * y).sum() / w.sum()
    q = (w * (y - fixed) ** 2).sum()
    c = w.sum() - (w**2).sum() / w.sum()
    tau2 = max(0.0, (q - 5) / c)
    w_star = 1 / (v + tau2)
    pooled = (w_star * y).sum() / w_star.sum()
    se = math.sqrt(1 / w_star.sum())
    result = dersimonian_laird(y, np.sqrt(v))
    assert (result.q, result.tau2, result.i2) == pytest.approx((q, tau2, (q - 5) / q * 100), abs=5e-4)
    assert (result.estimate, result.se) == pytest.approx((pooled, se), abs=5e-4)
    assert result.estimate == pytest.approx(0.358, abs=5e-4)  # the book's M*
    assert (result.ci_low, result.ci_high) == pytest.approx(
        (pooled - 1.96 * se, pooled + 1.96 * se), abs=1e-3
    )
    alike = dersimonian_laird([0.2, 0.21, 0.19], [0.1, 0.1, 0.1])  # Q < k - 1: tau-squared is 0
    assert (alike.tau2, alike.i2) == (0.0, 0.0)
    assert alike.estimate == pytest.approx(0.2, abs=5e-4) and alike.se == pytest.approx(
        0.1 / math.sqrt(3), abs=5e-4
    )


def test_benjamini_hochberg_worked_example():
    adjusted = benjamini_hochberg([0.01, 0.04, 0.03, 0.005, float("nan")])
    assert adjusted[:4] == pytest.approx([0.02, 0.04, 0.04, 0.02], abs=5e-4)
    assert math.isnan(adjusted[4])


def test_baseline_missing_values_get_the_mean_and_an_indicator():
    covariates = baseline_covariates(pd.Series([10.0, None, 20.0]))
    assert covariates["baseline"].tolist() == [10.0, 15.0, 20.0]
    assert covariates["baseline_missing"].tolist() == [0.0, 1.0, 0.0]
    assert baseline_covariates(pd.Series([None, None])).empty


def _noncompliance(n: int = 400, share: float = 0.4, effect: float = 3.0, seed: int = 11, noise: float = 1.0):
    """Half randomised to the intervention; of those, `share` receive it, and only they gain
    `effect` (the exclusion restriction holds by construction)."""
    rng = np.random.default_rng(seed)
    assigned = np.tile([0.0, 1.0], n // 2)
    baseline = rng.normal(23, 4, n)
    received = assigned * (rng.random(n) < share)
    y = 10 + 0.5 * baseline + effect * received + rng.normal(0, noise, n)
    return y, assigned, received, pd.DataFrame({"baseline": baseline})


def test_complier_effect_without_noise_is_the_complier_effect_exactly():
    y, assigned, received, covariates = _noncompliance(noise=0.0)
    fit = complier_effect(y, assigned, received, covariates)
    assert fit.estimate == pytest.approx(3.0, abs=1e-9)


def test_complier_effect_is_the_wald_ratio_and_not_the_itt_effect():
    """Without covariates, 2SLS is the Wald estimator: the ITT difference in outcomes over the
    difference in receipt; with a share of 0.4 the ITT effect is near 1.2, the CACE near 3."""
    y, assigned, received, _ = _noncompliance()
    fit = complier_effect(y, assigned, received)
    wald = (y[assigned == 1].mean() - y[assigned == 0].mean()) / received[assigned == 1].mean()
    assert fit.estimate == pytest.approx(wald, abs=1e-9)
    assert fit.ci_low < 3.0 < fit.ci_high and fit.ci_high < 3.0 * 1.5
    itt = ancova(y, assigned)
    assert itt.ci_high < fit.ci_low or itt.estimate < 2.0  # the ITT effect is diluted


def test_complier_effect_errors_are_robust_and_clustered_when_asked():
    y, assigned, received, covariates = _noncompliance(n=600)
    robust = complier_effect(y, assigned, received, covariates)
    clusters = np.arange(600) % 30
    clustered = complier_effect(y, assigned, received, covariates, clusters)
    assert robust.se > 0 and clustered.se > 0 and clustered.se != pytest.approx(robust.se, rel=1e-6)
    assert complier_effect(y, assigned, np.zeros(600)) is None  # no one received it: no first stage
