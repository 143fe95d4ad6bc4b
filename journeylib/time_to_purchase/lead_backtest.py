"""The lead scores' backtest: refit as of `as_of - horizon` with only what was known then, score the leads open
then, and compare with what they did up to the as-of date.

Purchases after the backtest date are read from the full lead table only to judge the scores; the model
never sees them (lead_history cuts every input at the backtest date).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from journeylib.errors import NotEstimable
from journeylib.time_to_purchase.lead_history import DAY, History, history
from journeylib.time_to_purchase.lead_scores import as_of_seconds, score, to_call

HORIZON_DAYS = 90


@dataclass
class Backtest:
    as_of: pd.Timestamp            # the backtest date (as_of - horizon)
    end: pd.Timestamp              # the as-of date
    scored: pd.DataFrame           # every lead open then: p_purchase_30d/90d, bought_30d/90d, dealer_id, customer_id
    top_n: int                     # leads on the call list then (top k per dealer)
    bought_top_n: int
    expected_top_n: float
    auc_30d: float | None
    auc_90d: float | None
    missing: dict                  # metrics key -> reason (AUC on one class or on equal scores)

    @property
    def leads(self) -> int:
        return len(self.scored)

    def totals(self) -> dict:
        s = self.scored
        return {"expected_30d": float(s["p_purchase_30d"].sum()), "observed_30d": int(s["bought_30d"].sum()),
                "expected_90d": float(s["p_purchase_90d"].sum()), "observed_90d": int(s["bought_90d"].sum())}

    @property
    def precision_top_n(self) -> float | None:
        return self.bought_top_n / self.top_n if self.top_n else None

    def calibration(self, horizon: int = 90, groups: int = 10) -> pd.DataFrame:
        """Leads in tenths by predicted probability: leads, mean predicted, share that bought."""
        return calibration_table(self.scored[f"p_purchase_{horizon}d"], self.scored[f"bought_{horizon}d"], groups)

    def sentence(self) -> str:
        """The reviewer's one sentence on the list we would have made on the backtest date."""
        start, end = _date(self.as_of), _date(self.end)
        people = "lead" if self.top_n == 1 else "leads"
        return (f"Of the {self.top_n:,} {people} we would have called on {start}, {self.bought_top_n:,} bought by "
                f"{end}; we expected {self.expected_top_n:.0f}.")


def _date(stamp: pd.Timestamp) -> str:
    return f"{stamp.day} {stamp:%B %Y}"


def calibration_table(predicted, observed, groups: int = 10) -> pd.DataFrame:
    predicted = np.asarray(predicted, float)
    observed = np.asarray(observed, float)
    order = np.argsort(predicted, kind="stable")
    group = np.empty(predicted.size, np.int64)
    group[order] = np.arange(predicted.size) * groups // max(predicted.size, 1)
    frame = pd.DataFrame({"group": group + 1, "predicted": predicted, "observed": observed})
    table = frame.groupby("group").agg(leads=("predicted", "size"), predicted=("predicted", "mean"),
                                       observed=("observed", "mean"))
    return table.rename_axis("tenth")


def auc(score, outcome) -> float:
    """Area under the ROC curve (ties count half); NotEstimable on one class or on equal scores."""
    score = np.asarray(score, float)
    outcome = np.asarray(outcome, bool)
    positives, negatives = int(outcome.sum()), int((~outcome).sum())
    if not positives or not negatives:
        raise NotEstimable("every lead in the backtest had the same outcome" if positives or negatives
                           else "there was no lead to judge")
    if np.ptp(score) == 0:
        raise NotEstimable("every lead got the same score, so the scores cannot rank them")
    ranks = pd.Series(score).rank(method="average").to_numpy()
    return float((ranks[outcome].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def backtest(journeys: pd.DataFrame, events: pd.DataFrame, as_of, top_per_dealer: int = 25,
             horizon_days: int = HORIZON_DAYS, min_level_customers: int = 20, max_rows: int = 150_000,
             seed: int = 0, known: History | None = None) -> Backtest:
    """Score the leads open at `as_of - horizon_days` from what was known then and judge them by the as-of date.

    `known`: the history at the as-of date when already built (the scores' own); it is cut at the backtest date.
    """
    end = pd.Timestamp(as_of)
    end = end.tz_localize("UTC") if end.tzinfo is None else end.tz_convert("UTC")
    start = end - pd.Timedelta(days=horizon_days)
    known = history(journeys, events, as_of_seconds(end)) if known is None else known
    cutoff = as_of_seconds(start)
    try:
        scores = score(known.cut(cutoff), min_level_customers=min_level_customers, max_rows=max_rows, seed=seed,
                       reasons=False)
    except NotEstimable as error:
        raise NotEstimable(f"The backtest as of {_date(start)} could not be run: {error.reason[0].lower()}"
                           f"{error.reason[1:]}") from None
    table = scores.table
    bought_at = known.purchase[pd.Index(known.ids).get_indexer(table["customer_id"])]  # purchases up to as-of
    table = table.assign(bought_30d=bought_at <= cutoff + 30 * DAY, bought_90d=bought_at <= known.cutoff)
    calls = to_call(table, top_per_dealer)
    called = table.set_index("customer_id").loc[calls["customer_id"]]
    missing, aucs = {}, {}
    for days in (30, 90):
        try:
            aucs[days] = auc(table[f"p_purchase_{days}d"], table[f"bought_{days}d"])
        except NotEstimable as error:
            aucs[days] = None
            missing[f"auc_{days}d"] = f"The backtest's AUC for {days} days is not defined: {error.reason}."
    return Backtest(start, end, table, len(calls), int(called["bought_90d"].sum()),
                    float(called["p_purchase_90d"].sum()), aucs[30], aucs[90], missing)
