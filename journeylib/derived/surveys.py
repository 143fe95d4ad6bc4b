"""Survey rows as several analyses read them: one per response, placed at the dealer they rate.

Notebook 04 (advocacy) and notebook 06 (what changed) both need them, so they live below the analyses.
"""

from __future__ import annotations

import pandas as pd

from journeylib.vocabulary import UNKNOWN


def dedupe_surveys(surveys: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """One row per response_id (the contract's rule; `journey prepare` has applied it, so this is a guard).

    Several responses from one customer are kept: each rates a different sale or service visit.
    Returns the rows kept and the number dropped.
    """
    kept = surveys.sort_values(["response_id", "responded_at"]).drop_duplicates("response_id", keep="first")
    return kept.sort_index(), len(surveys) - len(kept)


def attach_dealer(surveys: pd.DataFrame, sales: pd.DataFrame, service_visits: pd.DataFrame,
                  journeys: pd.DataFrame) -> pd.DataFrame:
    """Surveys with the dealer they rate and the UTC quarter of the response.

    A sales survey rates the customer's latest sale at or before the response,
    a service survey the latest service visit; without one, the customer's dealer.
    """
    out = surveys.copy()
    out["dealer_id"] = pd.Series(pd.NA, index=out.index, dtype="object")
    sources = {"sales": (sales, "sold_at"), "service": (service_visits, "opened_at")}
    for survey_type, (events, at) in sources.items():
        part = out[out["survey_type"] == survey_type]
        found = _latest_event_dealer(part, events, at)
        out.loc[found.index, "dealer_id"] = found.to_numpy()
    home = journeys.set_index("customer_id")["dealer_id"]
    out["dealer_id"] = out["dealer_id"].fillna(out["customer_id"].map(home)).fillna(UNKNOWN)
    out["quarter"] = out["responded_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("Q").astype(str)
    return out


def _latest_event_dealer(part: pd.DataFrame, events: pd.DataFrame, at: str) -> pd.Series:
    """Per survey row, the dealer of the customer's latest event at or before the response (index kept)."""
    if part.empty or events.empty:
        return pd.Series(dtype="object")
    left = part[["customer_id", "responded_at"]].reset_index().sort_values("responded_at")
    right = events[["customer_id", at, "dealer_id"]].dropna(subset=[at]).sort_values(at)
    right = right.astype({"customer_id": left["customer_id"].dtype})
    right[at] = right[at].astype(left["responded_at"].dtype)
    merged = pd.merge_asof(left, right, left_on="responded_at", right_on=at, by="customer_id",
                           direction="backward")
    return merged.set_index("index")["dealer_id"].dropna()
