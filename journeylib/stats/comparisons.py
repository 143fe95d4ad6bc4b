"""Is it real? Two samples compared: notebook 06's latest complete period against the pooled baseline periods,
notebook 01's buyers against non-buyers (`journeylib.changes.compare` and `journey_map.compare` both use these).

- shares (conversions, rates, channel mix): difference in proportions, Newcombe's
  hybrid score interval, score test (statsmodels);
- NPS: difference of two NPS with the adjusted Wald variance notebook 04 uses
  (Rocks 2016; `journeylib.stats.intervals.adjusted_wald_nps` gives the same interval per group);
- counts (lead volume): rate ratio per day, exact conditional test and interval
  (given the total, the latest count is binomial);
- the family: Benjamini-Hochberg at q (statsmodels `multipletests`).
"""

from __future__ import annotations

import warnings

import numpy as np

# scipy.stats.norm.ppf(0.975) and .ppf(0.80), written out so that importing this module (every analysis
# package does, through `journey_map.compare` and `changes`) does not import scipy.stats; the test holds them equal.
Z95 = 1.959963984540054
POWER_Z = 0.8416212335729143


def proportion_change(k1: int, n1: int, k0: int, n0: int) -> dict:
    """Latest k1/n1 against baseline k0/n0: difference (latest - baseline), 95% CI, p."""
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    if n1 <= 0 or n0 <= 0:
        raise ValueError("proportion_change needs units in both the latest period and the baseline")
    after, before = k1 / n1, k0 / n0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = confint_proportions_2indep(k1, n1, k0, n0, method="newcomb", compare="diff")
        pooled = (k1 + k0) / (n1 + n0)
        p = 1.0 if pooled in (0.0, 1.0) else float(test_proportions_2indep(k1, n1, k0, n0, method="score").pvalue)
    return {"estimate": after - before, "ci_low": float(low), "ci_high": float(high), "p": p,
            "after": after, "before": before, "n_after": int(n1), "n_before": int(n0)}


def nps_parts(promoters: int, detractors: int, n: int) -> tuple[float, float]:
    """(plain NPS -100..100, variance of the adjusted NPS on the 0-1 scale), as notebook 04's interval."""
    n_adj = n + 3
    p_pro, p_det = (promoters + 0.75) / n_adj, (detractors + 0.75) / n_adj
    return 100 * (promoters - detractors) / n, (p_pro + p_det - (p_pro - p_det) ** 2) / n_adj


def nps_change(latest: tuple, baseline: tuple) -> dict:
    """(promoters, detractors, n) latest against baseline: NPS difference in points, 95% CI, p (z test)."""
    from scipy import stats

    if latest[2] <= 0 or baseline[2] <= 0:
        raise ValueError("nps_change needs responses in both the latest period and the baseline")
    after, var1 = nps_parts(*latest)
    before, var0 = nps_parts(*baseline)
    se = 100 * np.sqrt(var1 + var0)
    diff = after - before
    p = float(2 * stats.norm.sf(abs(diff) / se))
    return {"estimate": diff, "ci_low": max(-200.0, diff - Z95 * se), "ci_high": min(200.0, diff + Z95 * se),
            "p": p, "after": after, "before": before, "n_after": int(latest[2]), "n_before": int(baseline[2])}


def rate_change(c1: int, t1: float, c0: int, t0: float) -> dict:
    """Count c1 over exposure t1 (days) against c0 over t0: rate ratio, exact 95% CI, exact p.

    Given c1 + c0, c1 is Binomial(c1 + c0, t1 R / (t1 R + t0)); Clopper-Pearson for that
    share gives the ratio's interval, the binomial test at R = 1 the p-value.
    """
    from scipy import stats

    if t1 <= 0 or t0 <= 0:
        raise ValueError("rate_change needs positive exposure in both")
    total = c1 + c0
    after, before = c1 / t1, c0 / t0
    if total == 0:
        return {"estimate": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "p": 1.0,
                "after": after, "before": before, "n_after": int(c1), "n_before": int(c0)}
    test = stats.binomtest(int(c1), int(total), t1 / (t1 + t0))
    ci = test.proportion_ci(confidence_level=0.95, method="exact")

    def ratio(share):
        return float("inf") if share >= 1 else share / (1 - share) * t0 / t1

    return {"estimate": after / before if before > 0 else float("inf"), "ci_low": ratio(ci.low),
            "ci_high": ratio(ci.high), "p": float(test.pvalue), "after": after, "before": before,
            "n_after": int(c1), "n_before": int(c0)}


def benjamini_hochberg(p_values, q: float) -> tuple[np.ndarray, np.ndarray]:
    """(flagged, adjusted p) under Benjamini-Hochberg at false-discovery rate q."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(list(p_values), dtype=float)
    if p.size == 0:
        return np.zeros(0, bool), np.zeros(0)
    reject, adjusted, _, _ = multipletests(p, alpha=q, method="fdr_bh")
    return reject, adjusted


def detectable_share(rate: float, n1: int, n0: int, alpha: float) -> float:
    """Smallest difference in a share (80% power, two-sided level alpha) for these sizes."""
    from scipy import stats

    if n1 <= 0 or n0 <= 0:
        return float("nan")
    rate = min(max(rate, 0.02), 0.98)  # a 0% or 100% baseline still has some room to move
    z = float(stats.norm.ppf(1 - alpha / 2)) + POWER_Z
    return z * float(np.sqrt(rate * (1 - rate) * (1 / n1 + 1 / n0)))


def detectable_nps(promoters: int, detractors: int, n0: int, n1: int, alpha: float) -> float:
    """Smallest NPS difference in points (80% power) with the baseline's spread and these sizes."""
    from scipy import stats

    if n1 <= 0 or n0 <= 0:
        return float("nan")
    _, var = nps_parts(promoters, detractors, n0)
    per_response = var * (n0 + 3)
    z = float(stats.norm.ppf(1 - alpha / 2)) + POWER_Z
    return 100 * z * float(np.sqrt(per_response * (1 / n1 + 1 / n0)))


def detectable_rate(c0: int, t0: float, t1: float, alpha: float) -> float:
    """Smallest relative fall in a count (0-1, 80% power) given the baseline count and exposures."""
    from scipy import stats

    if c0 <= 0 or t0 <= 0:
        return float("nan")
    expected = c0 * t1 / t0
    z = float(stats.norm.ppf(1 - alpha / 2)) + POWER_Z
    return float(1 - np.exp(-z * np.sqrt(1 / c0 + 1 / max(expected, 1e-9))))
