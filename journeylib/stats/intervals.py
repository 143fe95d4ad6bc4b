"""Confidence intervals shared by every analysis (statsmodels where it does the job)."""

from __future__ import annotations

import numpy as np

# The 97.5% normal quantile, for 95% Wald intervals: scipy.stats.norm.ppf(0.975), written out so that
# importing this module does not import scipy.stats (most of a second); tests/stats/test_intervals.py holds them equal.
Z95 = 1.959963984540054


def wilson_interval(successes, trials, alpha: float = 0.05):
    """Wilson score interval for a proportion (95% by default); NaN where trials is 0.

    Scalars give two numbers, arrays (or Series) give two arrays.
    """
    from statsmodels.stats.proportion import proportion_confint

    k = np.asarray(successes, dtype="float64")
    n = np.asarray(trials, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        safe_n = np.where(n > 0, n, 1.0)
        low, high = proportion_confint(np.where(n > 0, k, 0.0), safe_n, alpha=alpha, method="wilson")
        low, high = np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)
    # At 0% or 100% the end lands a rounding error inside the estimate; the
    # interval always contains p, so error bars never get a negative length.
    low = np.clip(np.fmin(low, p), 0.0, 1.0)
    high = np.clip(np.fmax(high, p), 0.0, 1.0)
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


def poisson_rate_interval(events, exposure) -> tuple[float, float, float]:
    """Events per unit exposure with the exact (Garwood) 95% Poisson interval (statsmodels' "exact-c")."""
    from statsmodels.stats.rates import confint_poisson

    if exposure <= 0:
        return float("nan"), float("nan"), float("nan")
    low, high = confint_poisson(float(events), float(exposure), method="exact-c", alpha=0.05)
    low = 0.0 if events == 0 or not np.isfinite(low) else float(low)
    return events / exposure, low, float(high)


def adjusted_wald_nps(promoters: int, detractors: int, n: int) -> tuple[float, float, float]:
    """NPS on the -100..100 scale with its 95% adjusted Wald interval (Rocks 2016).

    The estimate is the plain NPS, 100 * (promoters - detractors) / n. The
    interval adds 3/4 to promoters and to detractors and 3 to n, then uses the
    variance of a difference of two multinomial proportions,
    (p_pro + p_det - (p_pro - p_det)^2) / n_adj; it is clipped to -100..100.
    """
    if n <= 0:
        return float("nan"), float("nan"), float("nan")
    n_adj = n + 3
    p_pro, p_det = (promoters + 0.75) / n_adj, (detractors + 0.75) / n_adj
    centre = p_pro - p_det
    half = Z95 * np.sqrt((p_pro + p_det - centre ** 2) / n_adj)
    estimate = 100 * (promoters - detractors) / n
    # The interval is centred on the adjusted estimate; in a tiny group the plain estimate can lie outside
    # it (one promoter: NPS 100, upper end 98), so its ends are widened to include the estimate.
    low, high = max(-100.0, 100 * (centre - half)), min(100.0, 100 * (centre + half))
    return float(estimate), float(min(low, estimate)), float(max(high, estimate))


def wald_interval(estimate, standard_error, z: float = Z95):
    """estimate ± z·se (arrays or scalars)."""
    estimate = np.asarray(estimate, dtype="float64")
    half = z * np.asarray(standard_error, dtype="float64")
    low, high = estimate - half, estimate + half
    if low.ndim == 0:
        return float(low), float(high)
    return low, high
