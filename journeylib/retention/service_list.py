"""The service lists for the people who call: every buyer's scores, and the top few per dealer by value at risk."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from journeylib.privacy import write_shareable
from journeylib.retention.service_scores import SCORE_COLUMNS

SCORES_FILE = "service_scores.parquet"  # in the run folder (metrics `service_scores.file`)
TO_CALL_FILE = "service_to_call.csv"  # (metrics `service_scores.to_call_file`)


def at_stake(scores: pd.DataFrame) -> pd.Series:
    """What a lost buyer costs: value at risk, or the visits at risk when revenue cannot be estimated."""
    if scores["value_at_risk_12m"].notna().all():
        return scores["value_at_risk_12m"]
    return scores["expected_if_alive"] - scores["expected_visits_12m"]


def to_call(scores: pd.DataFrame, top: int = 25) -> pd.DataFrame:
    """The `top` buyers per dealer by value at risk (ties by customer id), dealers in order, SCORE_COLUMNS only.
    Buyers whose first service is not due yet (column `not_yet_due`, when there) are not lost: never listed."""
    if "not_yet_due" in scores:
        scores = scores[~scores["not_yet_due"].to_numpy(bool)]
    ranked = scores.reset_index(drop=True).assign(_stake=at_stake(scores).to_numpy(),
                                                  _dealer=scores["dealer_id"].astype(str).to_numpy())
    # only buyers within their dealer's top (ties kept) need the full sort with its tie-break by id
    rank = ranked.groupby("_dealer")["_stake"].rank(method="min", ascending=False)
    ranked = ranked[rank <= top]
    ranked = ranked.sort_values(["_dealer", "_stake", "customer_id"], ascending=[True, False, True], kind="stable")
    return ranked.groupby("_dealer", sort=False).head(top)[SCORE_COLUMNS].reset_index(drop=True)


def write_scores(scores: pd.DataFrame, run_dir, name: str = SCORES_FILE) -> Path | None:
    """Every buyer's scores as parquet in the run folder (nothing outside a run); ids only, no personal data."""
    return write_shareable(scores[SCORE_COLUMNS], run_dir, name, SCORE_COLUMNS, "service scores")


def write_to_call(table: pd.DataFrame, run_dir, name: str = TO_CALL_FILE) -> Path | None:
    """The to-call list as CSV in the run folder (nothing outside a run)."""
    return write_shareable(table, run_dir, name, SCORE_COLUMNS, "service list")
