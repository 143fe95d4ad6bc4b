"""Sums over start/stop risk sets: the concordance and the Breslow baseline hazard, and the customer subsample."""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeylib.time_to_purchase.leads import EVENT, ID, START, STOP


def _subsample_ids(long: pd.DataFrame, max_rows, seed: int, id_col=ID) -> pd.DataFrame:
    """Whole customers, drawn at random until about max_rows rows: a customer's history is never cut."""
    if max_rows is None or len(long) <= max_rows:
        return long
    ids = long[id_col].unique()
    rows_per_id = len(long) / len(ids)
    keep = np.random.default_rng(seed).choice(ids, size=max(2, int(max_rows / rows_per_id)), replace=False)
    return long.loc[long[id_col].isin(keep)]


def time_varying_concordance(long: pd.DataFrame, params: pd.Series, max_rows=None, seed: int = 0,
                             start_col=START, stop_col=STOP, event_col=EVENT) -> float:
    """Harrell's C for start/stop data: at each purchase day, the buyer's risk score (its covariates
    on that day) against every customer still at risk and not buying that day. Pairs tied on
    score count one half. With one row per customer this is ordinary Harrell's C."""
    data = _subsample_ids(long, max_rows, seed)
    eta = data[list(params.index)].to_numpy(dtype="float64") @ params.to_numpy()
    start, stop = data[start_col].to_numpy(), data[stop_col].to_numpy()
    event = data[event_col].to_numpy(dtype=bool)
    concordant = total = 0.0
    for t in np.unique(stop[event]):
        at_risk = (start < t) & (t <= stop)
        dies = at_risk & event & (stop == t)
        others = np.sort(eta[at_risk & ~dies])
        if len(others) == 0:
            continue
        below = np.searchsorted(others, eta[dies], side="left")
        ties = np.searchsorted(others, eta[dies], side="right") - below
        concordant += below.sum() + 0.5 * ties.sum()
        total += len(others) * dies.sum()
    return concordant / total if total else float("nan")


def breslow_cumulative_hazard(long: pd.DataFrame, params: pd.Series, start_col=START, stop_col=STOP,
                              event_col=EVENT) -> pd.Series:
    """Breslow baseline cumulative hazard (covariates all zero) at each event time, from sorted sums."""
    return RiskSets(long, list(params.index), start_col, stop_col, event_col).baseline(params)


class RiskSets:
    """Start/stop rows sorted once, so the Breslow baseline hazard for many coefficient vectors (the
    scenario's redraws) costs one pass each instead of two sorts each."""

    def __init__(self, long: pd.DataFrame, covariates, start_col=START, stop_col=STOP, event_col=EVENT):
        self.covariates = list(covariates)
        self.x = long[self.covariates].to_numpy(dtype="float64")
        start, stop = long[start_col].to_numpy(), long[stop_col].to_numpy()
        event = long[event_col].to_numpy(dtype=bool)
        self.times, self.deaths = np.unique(stop[event], return_counts=True)
        self.order_stop, self.order_start = np.argsort(stop), np.argsort(start)
        self.stop_at = np.searchsorted(stop[self.order_stop], self.times, side="left")
        self.start_at = np.searchsorted(start[self.order_start], self.times, side="left")

    def baseline(self, params: pd.Series) -> pd.Series:
        weight = np.exp(self.x @ params[self.covariates].to_numpy())
        # Risk set at t: rows with start < t <= stop = (rows with stop >= t) - (rows with start >= t).
        tail_stop = np.concatenate([np.cumsum(weight[self.order_stop][::-1])[::-1], [0.0]])
        tail_start = np.concatenate([np.cumsum(weight[self.order_start][::-1])[::-1], [0.0]])
        risk = tail_stop[self.stop_at] - tail_start[self.start_at]
        return pd.Series(np.cumsum(self.deaths / risk), index=self.times, name="baseline_cumulative_hazard")


def cumulative_hazard_at(baseline: pd.Series, t) -> np.ndarray:
    """Step-function value of a cumulative hazard at times t (0 before the first event)."""
    t = np.atleast_1d(np.asarray(t, dtype="float64"))
    position = np.searchsorted(baseline.index.to_numpy(), t, side="right")
    values = np.concatenate([[0.0], baseline.to_numpy()])
    return values[position]
