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
    low, high = centre - half, centre + half
    if low.ndim == 0:
        return float(low), float(high)
    return low, high
