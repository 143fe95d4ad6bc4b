"""The churn data set: one row per buyer, purchase-time features plus the labels at the as-of date.

Definitions (docs/retention_churn.md):

- A buyer is **churned** at the as-of date when they have no service visit in
  the window (as_of - N days, as_of], N = `churn_after_days`. A visit exactly
  N days before as-of is outside the window; a visit on the as-of date is in.
- A buyer is **eligible** when the first purchase is at or before as_of - N
  days, so that the whole window lies after the purchase.
- A buyer **lapses** at the first moment they would be churned: N days after
  the purchase or a visit, when no visit follows within those N days (a gap
  of more than N days). Buyers who never lapse by as-of are censored there.

The features are only what is known at or just after the purchase (the shared
buyer table): no service counts, nothing observed later.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeylib.vocabulary import UNKNOWN

DEFAULT_CHURN_AFTER_DAYS = 365
CATEGORICAL_FEATURES = ("finance_type", "condition", "satisfaction", "acquisition_channel", "price_band",
                        "trade_in", "dealer_id")
NUMERIC_FEATURE = "log2_days_to_purchase"  # odds ratio per doubling of (1 + days to purchase)


def churn_labels(buyers: pd.DataFrame, service_visits: pd.DataFrame, as_of: pd.Timestamp,
                 churn_after_days: int = DEFAULT_CHURN_AFTER_DAYS) -> pd.DataFrame:
    """Eligibility and churn at the as-of date, one row per buyer (index: customer_id).

    Columns: first_purchase_at, last_visit_at (latest visit at or before as-of),
    eligible, churned (only eligible buyers can be churned) and active (not churned).
    """
    window_start = as_of - pd.Timedelta(days=churn_after_days)
    visits = service_visits[service_visits["customer_id"].isin(buyers.index)
                            & (service_visits["opened_at"] <= as_of)]
    labels = pd.DataFrame(index=buyers.index)
    labels["first_purchase_at"] = buyers["first_purchase_at"]
    labels["last_visit_at"] = visits.groupby("customer_id")["opened_at"].max().reindex(buyers.index)
    labels["eligible"] = (labels["first_purchase_at"] <= window_start).fillna(False).astype(bool)
    visited = (labels["last_visit_at"] > window_start).fillna(False).astype(bool)
    labels["churned"] = labels["eligible"] & ~visited
    labels["active"] = ~labels["churned"]
    return labels


def lapse_times(buyers: pd.DataFrame, service_visits: pd.DataFrame, as_of: pd.Timestamp,
                churn_after_days: int = DEFAULT_CHURN_AFTER_DAYS) -> pd.DataFrame:
    """Days from first purchase to the first lapse, censored at as-of (index: customer_id).

    From the purchase and after each visit, the buyer lapses N days later unless
    a visit comes strictly within those N days; a lapse on the as-of date
    counts (the buyer is churned then). Columns: duration_days, lapsed.
    """
    gap = pd.Timedelta(days=churn_after_days)
    start = pd.DataFrame({"customer_id": buyers.index.to_numpy(), "at": buyers["first_purchase_at"].to_numpy()})
    visits = service_visits[service_visits["customer_id"].isin(buyers.index)][["customer_id", "opened_at"]]
    visits = visits.merge(start, on="customer_id")
    visits = visits[(visits["opened_at"] > visits["at"]) & (visits["opened_at"] <= as_of)]
    moments = pd.concat([start[["customer_id", "at"]], visits[["customer_id", "opened_at"]].rename(
        columns={"opened_at": "at"})], ignore_index=True).sort_values(["customer_id", "at"], kind="stable")
    moments["next_at"] = moments.groupby("customer_id")["at"].shift(-1)
    lapse_at = moments["at"] + gap
    lapses = np.where(moments["next_at"].notna(), lapse_at < moments["next_at"], lapse_at <= as_of)
    first_lapse = lapse_at[lapses].groupby(moments.loc[lapses, "customer_id"]).min()
    out = pd.DataFrame(index=buyers.index)
    out["lapsed"] = out.index.isin(first_lapse.index)
    end = first_lapse.reindex(out.index).fillna(as_of)
    out["duration_days"] = (end - buyers["first_purchase_at"]).dt.total_seconds() / 86400
    return out[["duration_days", "lapsed"]]


def feature_frame(buyers: pd.DataFrame) -> pd.DataFrame:
    """Model features from the shared buyer table: categories as strings, `unknown` for missing."""
    out = pd.DataFrame(index=buyers.index)
    for column in CATEGORICAL_FEATURES:
        if column == "trade_in":
            values = buyers[column].map({True: "yes", False: "no"})
        else:
            values = buyers[column].astype("object")
        out[column] = values.where(values.notna(), UNKNOWN).astype(str)
    days = pd.to_numeric(buyers["days_to_purchase"], errors="coerce").clip(lower=0)
    # a missing time to purchase is rare; the median keeps the buyer without moving the estimate
    out[NUMERIC_FEATURE] = np.log2(1 + days.fillna(days.median() if days.notna().any() else 0))
    out["first_purchase_at"] = buyers["first_purchase_at"]
    return out


def churn_dataset(buyers: pd.DataFrame, service_visits: pd.DataFrame, as_of: pd.Timestamp,
                  churn_after_days: int = DEFAULT_CHURN_AFTER_DAYS) -> pd.DataFrame:
    """Every buyer's model features plus the eligibility and churn label at as-of."""
    labels = churn_labels(buyers, service_visits, as_of, churn_after_days)
    frame = feature_frame(buyers)
    frame[["eligible", "churned", "active"]] = labels[["eligible", "churned", "active"]]
    return frame


def retention_gap(dataset: pd.DataFrame, as_of: pd.Timestamp, churn_after_days: int) -> str | None:
    """Why there is no churn rate on this export (one sentence), or None when there is one."""
    if dataset.empty:
        return f"No customer had bought by the as-of date ({as_of.date()}), so there is no retention to measure."
    if not dataset["eligible"].any():
        return (f"No buyer's first purchase is at least {churn_after_days} days before the as-of date "
                f"({as_of.date()}), so nobody is eligible for churn yet.")
    return None
