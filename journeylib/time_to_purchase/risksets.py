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
    eta = long[list(params.index)].to_numpy(dtype="float64") @ params.to_numpy()
    weight = np.exp(eta)
    start, stop = long[start_col].to_numpy(), long[stop_col].to_numpy()
    event = long[event_col].to_numpy(dtype=bool)
    times, deaths = np.unique(stop[event], return_counts=True)
    # Risk set at t: rows with start < t <= stop = (rows with stop >= t) - (rows with start >= t).
    order_stop, order_start = np.argsort(stop), np.argsort(start)
    tail_stop = np.concatenate([np.cumsum(weight[order_stop][::-1])[::-1], [0.0]])
    tail_start = np.concatenate([np.cumsum(weight[order_start][::-1])[::-1], [0.0]])
    risk = (tail_stop[np.searchsorted(stop[order_stop], times, side="left")]
            - tail_start[np.searchsorted(start[order_start], times, side="left")])
    return pd.Series(np.cumsum(deaths / risk), index=times, name="baseline_cumulative_hazard")


class RiskSets:
    """The Breslow baseline hazard for many coefficient vectors (the scenario's redraws), cheaply.

    Rows with the same covariates share one risk score, so each risk set is counted once per
    covariate pattern (a few hundred at most: test drive x channel x dealer); a coefficient vector
    then costs a (event times x patterns) product instead of passes over every row. The same sums
    as `breslow_cumulative_hazard`, added in another order (they agree to rounding, 1e-15).
    """

    def __init__(self, long: pd.DataFrame, covariates, start_col=START, stop_col=STOP, event_col=EVENT):
        self.covariates = list(covariates)
        x = long[self.covariates].to_numpy(dtype="float64")
        start, stop = long[start_col].to_numpy(), long[stop_col].to_numpy()
        event = long[event_col].to_numpy(dtype=bool)
        self.times, self.deaths = np.unique(stop[event], return_counts=True)
        self.patterns, pattern = covariate_patterns(x)
        # A row is at risk at the event times k with start < times[k] <= stop: k in [first, last).
        first = np.searchsorted(self.times, start, side="right")
        last = np.searchsorted(self.times, stop, side="right")
        change = np.zeros((len(self.times) + 1, len(self.patterns)))
        np.add.at(change, (first, pattern), 1.0)
        np.add.at(change, (last, pattern), -1.0)
        self.at_risk = np.cumsum(change, axis=0)[:-1]  # event times x patterns: rows at risk

    def baseline(self, params: pd.Series) -> pd.Series:
        weight = np.exp(self.patterns @ params[self.covariates].to_numpy())
        return pd.Series(np.cumsum(self.deaths / (self.at_risk @ weight)), index=self.times,
                         name="baseline_cumulative_hazard")


def covariate_patterns(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of `x` and, per row, the position of its pattern (hashing, not sorting rows)."""
    if x.shape[1] == 0:
        return np.zeros((1, 0)), np.zeros(len(x), dtype=int)
    frame = pd.DataFrame(x)
    pattern = frame.groupby(list(frame.columns), sort=False).ngroup().to_numpy()
    _, first = np.unique(pattern, return_index=True)
    return x[first], pattern


def cumulative_hazard_at(baseline: pd.Series, t) -> np.ndarray:
    """Step-function value of a cumulative hazard at times t (0 before the first event)."""
    t = np.atleast_1d(np.asarray(t, dtype="float64"))
    position = np.searchsorted(baseline.index.to_numpy(), t, side="right")
    values = np.concatenate([[0.0], baseline.to_numpy()])
    return values[position]
