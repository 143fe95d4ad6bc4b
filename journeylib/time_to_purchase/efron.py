"""The Cox partial likelihood with Efron ties on start/stop rows, computed with whole-array operations.

statsmodels' PHReg gives the same estimates, but builds its risk sets and Efron terms in Python loops
over rows and event times: about 15 s a fit at a million customers, and notebook 02 fits four. Here a
row is at risk at the event times in one index range (start < t <= stop), so every risk-set sum is a
cumulative sum over event times, and the Hessian's risk-set part is one X'WX product: a Newton step
is a few passes over the rows.
"""

from __future__ import annotations

import numpy as np

TOLERANCE = 1e-8  # Newton stops when no coefficient moves more than this (statsmodels' default)
MAX_ITERATIONS = 100


class NotConverging(Exception):
    """Newton's method reached MAX_ITERATIONS without settling."""


class EfronCox:
    """Efron's partial likelihood of start/stop rows; `strata` (integer codes) each get their own risk sets."""

    def __init__(self, start, stop, event, x, strata=None):
        start, stop = np.asarray(start, dtype="float64"), np.asarray(stop, dtype="float64")
        event = np.asarray(event, dtype=bool)
        x = np.asarray(x, dtype="float64")
        strata = np.zeros(len(stop), dtype=np.int64) if strata is None else np.asarray(strata)
        # One axis of event times for all strata: each stratum's sorted times in a block of their own.
        first = np.empty(len(stop), dtype=np.int64)  # the first event time a row is at risk at
        last = np.empty(len(stop), dtype=np.int64)   # ... and the last one
        slot = np.full(len(stop), -1, dtype=np.int64)  # an event row's own event time
        offset = 0
        for level in np.unique(strata):
            rows = np.flatnonzero(strata == level)
            times = np.unique(stop[rows][event[rows]])
            first[rows] = offset + np.searchsorted(times, start[rows], side="right")
            last[rows] = offset + np.searchsorted(times, stop[rows], side="right") - 1
            events = rows[event[rows]]
            slot[events] = offset + np.searchsorted(times, stop[events], side="left")
            offset += len(times)
        at_risk = first <= last  # rows never at risk at an event time carry no information
        self.n_times = offset
        self.x, self.first, self.last = x[at_risk], first[at_risk], last[at_risk]
        self.event_x = x[event]
        self.event_slot = slot[event]
        self.n_events = int(event.sum())
        # Efron: the l-th of d purchases tied at one time sees the risk set less l/d of the tied buyers.
        order = np.argsort(self.event_slot, kind="stable")
        slots = self.event_slot[order]
        starts = np.searchsorted(slots, slots, side="left")
        ties = np.bincount(self.event_slot, minlength=self.n_times)
        self.tie_slot = slots
        self.tie_fraction = (np.arange(len(slots)) - starts) / ties[slots]

    def _sums(self, beta):
        """Risk-set and tied-event sums of exp(x'beta) and exp(x'beta) x per event time, scaled by exp(-shift)."""
        eta = self.x @ beta
        event_eta = self.event_x @ beta
        shift = max(eta.max(initial=-np.inf), event_eta.max(initial=-np.inf))
        w, event_w = np.exp(eta - shift), np.exp(event_eta - shift)
        size = self.n_times + 1

        def risk_sum(weights):
            change = np.bincount(self.first, weights, size) - np.bincount(self.last + 1, weights, size)
            return np.cumsum(change)[:-1]

        s0 = risk_sum(w)
        s1 = np.column_stack([risk_sum(w * column) for column in self.x.T]) if self.x.shape[1] else \
            np.zeros((self.n_times, 0))
        a0 = np.bincount(self.event_slot, event_w, self.n_times)
        a1 = np.column_stack([np.bincount(self.event_slot, event_w * column, self.n_times)
                              for column in self.event_x.T]) if self.event_x.shape[1] else np.zeros((self.n_times, 0))
        return eta, event_eta, shift, w, event_w, s0, s1, a0, a1

    def _terms(self, beta):
        eta, event_eta, shift, w, event_w, s0, s1, a0, a1 = self._sums(beta)
        k, c = self.tie_slot, self.tie_fraction
        denominator = s0[k] - c * a0[k]
        mean = (s1[k] - c[:, None] * a1[k]) / denominator[:, None]  # one row per (event time, tie rank)
        return eta, event_eta, shift, w, event_w, denominator, mean

    def loglike(self, beta) -> float:
        _, event_eta, shift, _, _, denominator, _ = self._terms(beta)
        return float(event_eta.sum() - np.log(denominator).sum() - shift * self.n_events)

    def _score_and_hessian(self, beta):
        _, _, _, w, event_w, denominator, mean = self._terms(beta)
        k, c = self.tie_slot, self.tie_fraction
        # sum over event times of (risk-set sum of w x x') / denominator, as one product over the rows
        per_time = np.bincount(k, 1.0 / denominator, self.n_times)
        cumulative = np.concatenate([[0.0], np.cumsum(per_time)])
        row_weight = w * (cumulative[self.last + 1] - cumulative[self.first])
        risk = (self.x * row_weight[:, None]).T @ self.x
        tied_weight = event_w * np.bincount(k, c / denominator, self.n_times)[self.event_slot]
        tied = (self.event_x * tied_weight[:, None]).T @ self.event_x
        score = self.event_x.sum(axis=0) - mean.sum(axis=0)
        return score, -(risk - tied - mean.T @ mean)

    def fit(self, start=None):
        """Newton's method from `start` (default zero), as statsmodels' (stops when no coefficient moves
        more than TOLERANCE). Returns (coefficients, covariance, log-likelihood, score at the end);
        NotConverging after MAX_ITERATIONS, numpy's LinAlgError when the information matrix is singular."""
        beta = np.zeros(self.x.shape[1]) if start is None else np.asarray(start, dtype="float64").copy()
        for _ in range(MAX_ITERATIONS):
            score, hessian = self._score_and_hessian(beta)
            step = np.linalg.solve(-hessian, score)
            beta = beta + step
            if not np.all(np.isfinite(beta)):
                raise NotConverging
            if np.abs(step).max(initial=0.0) <= TOLERANCE:
                break
        else:
            raise NotConverging
        score, hessian = self._score_and_hessian(beta)
        return beta, np.linalg.inv(-hessian), self.loglike(beta), score
