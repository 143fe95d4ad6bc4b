"""The lead-score model: P(purchase within 30 / 90 days | open now, what is known now).

A landmark (discrete-time) model: at calendar landmarks every `step_days` before the cutoff, every lead
open then is one row, described by what was known at that landmark (lead age, the latest test drive,
touches and high-intent events in the last 14/30 days, channel, dealer), and the outcome is whether it
bought within the horizon. One ridge-penalised logistic regression per horizon (30 and 90 days) gives the
probabilities directly; only landmarks whose whole horizon lies before the cutoff are used, so every
outcome is known. Scoring a lead at the cutoff is one more landmark. Why this and not the Cox model's
conditional survival: docs/time_to_purchase.md ("Lead scores").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from journeylib.errors import NotEstimable
from journeylib.stats import levels
from journeylib.stats.ridge import expit, fit_logistic
from journeylib.time_to_purchase.lead_history import DAY, History, facts
from journeylib.vocabulary import REFERENCE_CHANNEL

HORIZONS = (30, 90)
AGE_EDGES = (0, 14, 30, 90, 180, 365)          # lead age bands (days); 365+ is the reference
DRIVE_EDGES = (0, 14, 60, 180)                  # days since the latest test drive; "none" is the reference
RIDGE = 1.0                                     # keeps sparse levels and separated columns finite


@dataclass
class Fit:
    columns: list
    beta: np.ndarray
    rows: int
    events: int


@dataclass
class LeadModel:
    """Two fits sharing one design (`columns`) and one level plan."""
    plan: levels.LevelPlan
    fits: dict                         # horizon -> Fit
    notes: list = field(default_factory=list)

    def design(self, known: pd.DataFrame) -> pd.DataFrame:
        return design(known, self.plan)

    def predict(self, known: pd.DataFrame) -> pd.DataFrame:
        """p_30 and p_90 per row of `facts`; p_90 is never below p_30."""
        x = self.design(known)
        out = {}
        for days, fit in self.fits.items():
            out[days] = expit(x.reindex(columns=fit.columns, fill_value=0.0).to_numpy(float) @ fit.beta)
        p30, p90 = out[30], np.maximum(out[90], out[30])
        return pd.DataFrame({"p_30": p30, "p_90": p90}, index=known.index)


def _bands(values: np.ndarray, edges, prefix: str, reference_last: bool) -> dict:
    """0/1 columns for the bands [edges[i], edges[i+1]) (the last band open); NaN in none of them."""
    cols = {}
    bounds = list(edges) + [np.inf]
    for i, low in enumerate(edges):
        high = bounds[i + 1]
        if reference_last and i == len(edges) - 1:
            continue
        name = f"{prefix}:{low}-{high:g}" if np.isfinite(high) else f"{prefix}:{low}+"
        cols[name] = ((values >= low) & (values < high)).astype(float)
    return cols


def design(known: pd.DataFrame, plan: levels.LevelPlan) -> pd.DataFrame:
    """The model's columns from `facts` rows (no intercept; sparse levels recoded by `plan`)."""
    cols = {"intercept": np.ones(len(known))}
    cols.update(_bands(known["age_days"].to_numpy(float), AGE_EDGES, "age", reference_last=True))
    cols.update(_bands(known["days_since_drive"].to_numpy(float), DRIVE_EDGES, "drive", reference_last=False))
    cols["touches_14"] = np.log1p(known["touches_14"].to_numpy(float))
    cols["touches_30"] = np.log1p(known["touches_30"].to_numpy(float))
    cols["intent_30"] = (known["intent_30"].to_numpy() > 0).astype(float)
    since = known["days_since_touch"].to_numpy(float)
    cols["quiet_90"] = ~(since <= 90)
    cols["quiet_90"] = cols["quiet_90"].astype(float)
    coded = plan.apply(pd.DataFrame({"acquisition_channel": known["channel"].to_numpy(),
                                     "dealer_id": known["dealer"].to_numpy()}))
    for feature, prefix in (("acquisition_channel", "channel"), ("dealer_id", "dealer")):
        if feature not in plan.levels:
            continue
        values = coded[feature].to_numpy()
        for level in plan.levels[feature]:
            if level != plan.references[feature]:
                cols[f"{prefix}:{level}"] = (values == level).astype(float)
    return pd.DataFrame(cols, index=known.index)


def level_plan(h: History, min_level_customers: int) -> levels.LevelPlan:
    """Sparse channels and dealers pooled as notebook 02 does (fewer leads than the minimum, or no purchase)."""
    seen = h.seen
    frame = pd.DataFrame({"acquisition_channel": h.channel[seen], "dealer_id": h.dealer[seen],
                          "purchased": h.purchase[seen] <= h.cutoff})

    def is_sparse(rows: pd.DataFrame) -> bool:
        return len(rows) < min_level_customers or not rows["purchased"].any()

    return levels.plan_levels(frame, ("acquisition_channel", "dealer_id"), is_sparse,
                              {"acquisition_channel": REFERENCE_CHANNEL})


def landmark_rows(h: History, days: int, step_days: int, max_rows: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """(lead, landmark) pairs with the whole horizon before the cutoff; a random set of whole leads past max_rows."""
    last = h.cutoff - days * DAY
    if not h.seen.any() or last < h.first.min():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    count = int((last - h.first.min()) // (step_days * DAY)) + 1
    marks = last - step_days * DAY * np.arange(count)[::-1]          # ascending
    lo = np.searchsorted(marks, h.first, "left")                      # first landmark on or after first touch
    hi = np.searchsorted(marks, h.purchase, "left")                   # landmarks before the purchase
    n = np.maximum(hi - lo, 0)
    total = int(n.sum())
    if total > max_rows:
        n = np.where(rng.random(len(h)) < max_rows / total, n, 0)
    lead = np.repeat(np.arange(len(h)), n)
    offset = np.arange(lead.size) - np.repeat(np.cumsum(n) - n, n)
    return lead, marks[lo[lead] + offset]


def fit(h: History, min_level_customers: int = 20, step_days: int = 30, max_rows: int = 150_000,
        seed: int = 0) -> LeadModel:
    """Fit both horizons on the history known at `h.cutoff`. NotEstimable when the history cannot support it."""
    if not h.seen.any():
        raise NotEstimable("No lead had a first touch by then, so there is no history to learn from.")
    if not (h.purchase <= h.cutoff).any():
        raise NotEstimable("No lead had bought by then, so there is no purchase to learn from.")
    plan = level_plan(h, min_level_customers)
    rng = np.random.default_rng(seed)
    fits, notes = {}, []
    for days in HORIZONS:
        lead, mark = landmark_rows(h, days, step_days, max_rows, rng)
        if not lead.size:
            raise NotEstimable(f"The history is shorter than {days} days, so no lead's next {days} days are "
                               "known to learn from.")
        y = (h.purchase[lead] <= mark + days * DAY).astype(float)
        if y.sum() == 0:
            raise NotEstimable(f"No open lead bought within {days} days of any earlier date, so there is nothing "
                               "to learn from.")
        x = design(facts(h, lead, mark), plan)
        varying = [c for c in x.columns if c == "intercept" or x[c].nunique() > 1]
        if len(varying) == 1:
            notes.append("No lead characteristic varies among the leads, so every open lead gets the same "
                         "probability: the share of open leads who bought within the horizon in the past.")
        beta = fit_logistic(x[varying].to_numpy(float), y, RIDGE)
        fits[days] = Fit(varying, beta, int(y.size), int(y.sum()))
    return LeadModel(plan, fits, list(dict.fromkeys(notes)))
