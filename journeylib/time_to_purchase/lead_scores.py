"""Who to call: every open lead's chance of buying within 30 and 90 days, with two plain reasons, and the files.

    scores = score_leads(journeys, touchpoints, as_of)      # LeadScores: .table, .model
    write_lead_lists(scores.table, run_dir, top=25)         # lead_scores.parquet, leads_to_call.csv

An open lead has a first touch on or before the as-of date and no purchase on or before it (a purchase on
the as-of date itself closes the lead). The model is `lead_model`; the facts are `lead_history`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from journeylib.errors import NotEstimable
from journeylib.labels import label
from journeylib.time_to_purchase import lead_model
from journeylib.time_to_purchase.lead_history import NEVER, History, facts, history, seconds

SCORE_COLUMNS = ["customer_id", "dealer_id", "p_purchase_30d", "p_purchase_90d", "last_touch_at", "reason_1",
                 "reason_2"]
SCORES_FILE = "lead_scores.parquet"
TO_CALL_FILE = "leads_to_call.csv"
# the model's columns grouped into the reasons a caller reads
REASON_GROUPS = ("age", "drive", "touches", "intent", "channel", "dealer")


@dataclass
class LeadScores:
    table: pd.DataFrame                 # SCORE_COLUMNS, highest p_purchase_30d first
    model: lead_model.LeadModel | None
    notes: list = field(default_factory=list)

    @property
    def expected_30d(self) -> float:
        return float(self.table["p_purchase_30d"].sum())

    @property
    def expected_90d(self) -> float:
        return float(self.table["p_purchase_90d"].sum())


def as_of_seconds(moment) -> int:
    return int(seconds([pd.Timestamp(moment)])[0])


def score_leads(journeys: pd.DataFrame, events: pd.DataFrame, as_of, min_level_customers: int = 20,
                max_rows: int = 150_000, seed: int = 0) -> LeadScores:
    """Fit on the history known at `as_of` and score the leads open then. NotEstimable: no open lead, or no
    history to learn from (the reason says which)."""
    return score(history(journeys, events, as_of_seconds(as_of)), min_level_customers, max_rows, seed)


def score(h: History, min_level_customers: int = 20, max_rows: int = 150_000, seed: int = 0,
          reasons: bool = True) -> LeadScores:
    """`score_leads` on a history already cut at its as-of date (`h.cutoff`); `reasons=False` leaves them blank."""
    cutoff = h.cutoff
    open_leads = np.flatnonzero(h.open_at(cutoff))
    if not open_leads.size:
        raise NotEstimable("No lead is open at the as-of date (every lead has bought), so there is no one to score.")
    model = lead_model.fit(h, min_level_customers=min_level_customers, max_rows=max_rows, seed=seed)
    known = facts(h, open_leads, cutoff)
    p = model.predict(known)
    reasons = top_reasons(model, known) if reasons else [np.full(len(known), ""), np.full(len(known), "")]
    last = known["last_touch"].to_numpy()
    table = pd.DataFrame({
        "customer_id": h.ids[open_leads],
        "dealer_id": h.dealer[open_leads],
        "p_purchase_30d": p["p_30"].to_numpy(),
        "p_purchase_90d": p["p_90"].to_numpy(),
        "last_touch_at": pd.to_datetime(np.where(last == NEVER, 0, last), unit="s", utc=True).where(last != NEVER),
        "reason_1": reasons[0],
        "reason_2": reasons[1],
    })
    table = table.sort_values(["p_purchase_30d", "customer_id"], ascending=[False, True], kind="stable")
    return LeadScores(table.reset_index(drop=True), model, list(model.notes))


def _group(column: str) -> str | None:
    prefix = column.split(":")[0]
    return {"age": "age", "drive": "drive", "touches_14": "touches", "touches_30": "touches", "intent_30": "intent",
            "channel": "channel", "dealer": "dealer"}.get(prefix)


def _days(values) -> np.ndarray:
    d = np.floor(np.nan_to_num(np.asarray(values, float))).astype(np.int64)
    return np.where(d <= 0, "today", np.where(d == 1, "1 day ago", np.char.add(d.astype(str), " days ago")))


def _phrase(group: str, known: pd.DataFrame) -> np.ndarray:
    """The words reason group `group` says for each row of `known`."""
    if group == "age":
        return np.char.add("first touch ", _days(known["age_days"]))
    if group == "drive":
        return np.char.add("test drive ", _days(known["days_since_drive"]))
    if group == "touches":
        touches = known["touches_14"].to_numpy()
        return np.char.add(touches.astype(str), np.where(touches == 1, " touch in the last 14 days",
                                                          " touches in the last 14 days"))
    if group == "intent":
        kinds = pd.Series(known["intent_type"].to_numpy())
        words = kinds.map({k: label(k).lower() if k else "" for k in kinds.unique()}).to_numpy(str)
        return np.char.add(np.char.add(words, " "), _days(known["days_since_intent"]))
    values = pd.Series(known["channel" if group == "channel" else "dealer"].to_numpy())
    if group == "channel":
        return values.map({c: "came through " + label(c) for c in values.unique()}).to_numpy(str)
    return ("leads at dealer " + values).to_numpy(str)


def top_reasons(model: lead_model.LeadModel, known: pd.DataFrame, k: int = 2) -> list[np.ndarray]:
    """Per lead, the `k` largest positive contributions to the 30-day log-odds, in plain words ("" when fewer)."""
    fit = model.fits[30]
    x = model.design(known).reindex(columns=fit.columns, fill_value=0.0)
    contribution = np.zeros((len(known), len(REASON_GROUPS)))
    for column, coefficient in zip(fit.columns, fit.beta):
        group = _group(column)
        if group is not None:
            contribution[:, REASON_GROUPS.index(group)] += coefficient * x[column].to_numpy(float)
    order = np.argsort(-contribution, axis=1, kind="stable")
    rows = np.arange(len(known))
    out = []
    for i in range(k):
        picked = order[:, i]
        said = contribution[rows, picked] > 0.05
        words = np.full(len(known), "", dtype=object)
        for g, group in enumerate(REASON_GROUPS):  # words only for the rows that give this reason
            where = np.flatnonzero(said & (picked == g))
            if where.size:
                words[where] = _phrase(group, known.iloc[where])
        out.append(words)
    return out


def to_call(table: pd.DataFrame, top: int) -> pd.DataFrame:
    """The `top` leads per dealer by p_purchase_30d (ties: customer id)."""
    # only the rows at or above each dealer's top-th chance can make the list: sort those (a million rows took 1 s)
    kth = table.groupby("dealer_id")["p_purchase_30d"].apply(lambda chances: chances.nlargest(int(top)).min())
    table = table[table["p_purchase_30d"] >= table["dealer_id"].map(kth)]
    ranked = table.sort_values(["dealer_id", "p_purchase_30d", "customer_id"], ascending=[True, False, True],
                               kind="stable")
    return ranked.groupby("dealer_id", sort=True).head(int(top)).reset_index(drop=True)[SCORE_COLUMNS]


def write_lead_lists(table: pd.DataFrame, run_dir, top: int = 25) -> tuple[Path, Path] | None:
    """Write lead_scores.parquet and leads_to_call.csv into the run folder (nothing outside a run).

    Ids and scores only: a column outside SCORE_COLUMNS, or customer ids that look like email addresses,
    stop the write before anything is written.
    """
    from journeylib.privacy import check_shareable, write_shareable

    check_shareable(table, SCORE_COLUMNS, "lead lists")  # the whole table: a stray column stops the write
    scores = write_shareable(table[SCORE_COLUMNS], run_dir, SCORES_FILE, SCORE_COLUMNS, "lead lists")
    if scores is None:
        return None
    calls = write_shareable(to_call(table, top), run_dir, TO_CALL_FILE, SCORE_COLUMNS, "lead lists")
    return scores, calls
