"""Kaplan-Meier curves on exact days: purchase probability by horizon, medians, restricted means, log-rank."""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeylib.stats.intervals import wald_interval
from journeylib.stats.survival import kaplan_meier, logrank  # noqa: F401 - shared with notebook 04


HORIZONS = (30, 90, 180, 365)


def curves_by_level(customers: pd.DataFrame, group_col: str, levels) -> dict:
    """One Kaplan-Meier fit per level of `group_col`, in the order of `levels` (one pass over the rows)."""
    groups = dict(tuple(customers.groupby(group_col, sort=False, observed=True)[["days", "purchased"]]))
    return {level: kaplan_meier(groups[level], label=str(level)) for level in levels}


def _step_at(frame: pd.DataFrame, t: float) -> np.ndarray:
    """Row of a step function (indexed by time) in force at time t."""
    position = np.searchsorted(frame.index.to_numpy(), t, side="right") - 1
    return frame.iloc[max(position, 0)].to_numpy()


def purchase_probability(km, horizons=HORIZONS) -> pd.DataFrame:
    """P(purchase by t) = 1 - S(t) with lifelines' 95% interval (log(-log) Greenwood), per horizon.

    A horizon past the longest follow-up is left empty: the curve says nothing there."""
    survival = km.survival_function_
    bands = km.confidence_interval_survival_function_
    last = float(km.durations.max())
    rows = []
    for t in horizons:
        if t > last:
            rows.append((t, np.nan, np.nan, np.nan))
            continue
        s = float(_step_at(survival, t)[0])
        upper, lower = (float(v) for v in _step_at(bands, t)[[bands.columns.get_loc(c) for c in
                                                               _band_columns(bands)]])
        rows.append((t, 1.0 - s, 1.0 - upper, 1.0 - lower))
    return pd.DataFrame(rows, columns=["days", "estimate", "ci_low", "ci_high"]).set_index("days")


def _band_columns(bands: pd.DataFrame):
    upper = next(c for c in bands.columns if c.endswith("upper_0.95"))
    lower = next(c for c in bands.columns if c.endswith("lower_0.95"))
    return upper, lower


def median_days(km):
    """KM median time to purchase with its 95% interval; inf where the curve never reaches one half."""
    from lifelines.utils import median_survival_times

    ci = median_survival_times(km.confidence_interval_survival_function_)
    upper, lower = _band_columns(km.confidence_interval_survival_function_)
    return float(km.median_survival_time_), float(ci[lower].iloc[0]), float(ci[upper].iloc[0])


def restricted_mean(km, horizon: float):
    """Restricted mean days without purchase within `horizon` (area under the KM curve up to it),
    with a 95% interval from the Greenwood-type variance sum_i A_i^2 d_i / (n_i (n_i - d_i)),
    A_i = area under S from the i-th purchase time to the horizon (Klein & Moeschberger 4.5).
    lifelines' own variance integrates the step function numerically and fails on long curves."""
    table = km.event_table
    table = table.loc[(table["observed"] > 0) & (table.index <= horizon)]
    times = table.index.to_numpy(dtype="float64")
    deaths, at_risk = table["observed"].to_numpy(), table["at_risk"].to_numpy()
    survival = np.cumprod(1.0 - deaths / at_risk)  # S just after each purchase time
    edges = np.concatenate([[0.0], times, [horizon]])
    levels = np.concatenate([[1.0], survival])
    pieces = levels * np.diff(edges)
    mean = pieces.sum()
    area_after = np.cumsum(pieces[::-1])[::-1][1:]  # A_i for each purchase time
    ok = at_risk > deaths
    variance = np.sum(area_after[ok] ** 2 * deaths[ok] / (at_risk[ok] * (at_risk[ok] - deaths[ok])))
    low, high = wald_interval(mean, np.sqrt(variance))
    return float(mean), low, high
