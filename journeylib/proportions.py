"""Intervals for proportions, shared by the funnel, churn and advocacy analyses."""

from __future__ import annotations

import numpy as np
from scipy import stats


def wilson_interval(successes, trials, alpha: float = 0.05):
    """Wilson score interval for a proportion (95% by default); NaN where trials is 0.

    Scalars give two numbers, arrays (or Series) give two arrays.
    """
    z = stats.norm.ppf(1 - alpha / 2)
    k = np.asarray(successes, dtype="float64")
    n = np.asarray(trials, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    # At 0% or 100% the end lands a rounding error inside the estimate; the
    # interval always contains p, so error bars never get a negative length.
    low = np.clip(np.fmin(centre - half, p), 0.0, 1.0)
    high = np.clip(np.fmax(centre + half, p), 0.0, 1.0)
    if low.ndim == 0:
        return float(low), float(high)
    return low, high
