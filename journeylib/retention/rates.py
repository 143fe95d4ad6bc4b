"""Rates with intervals: churn per group, the retention curve since purchase, the share not yet lapsed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeylib.stats import levels
from journeylib.stats.intervals import wilson_interval

DAYS_PER_MONTH = 365.25 / 12
# The groups of the churn-rate panels (metrics `churn_rate_by.<feature>`), with their label in the report.
RATE_FEATURES = {"finance_type": "finance type", "condition": "condition",
                 "satisfaction": "sales-survey satisfaction", "dealer_id": "dealer (of the first sale)"}
RATE_COLUMNS = ["feature", "level", "buyers", "churned", "churn_rate", "ci_low", "ci_high"]
CURVE_COLUMNS = ["window", "months_from", "buyers", "with_visit", "share", "ci_low", "ci_high"]


def churn_rates(frame: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Churn rate with a 95% Wilson interval, overall (by=None) or per level of `by`.

    `frame` holds eligible buyers with a boolean `churned` column.
    """
    groups = [("all", frame)] if by is None else list(frame.groupby(by, observed=True, dropna=False))
    rows = []
    for level, part in groups:
        n, churned = len(part), int(part["churned"].sum())
        low, high = wilson_interval(churned, n)
        rows.append({by or "group": level, "buyers": n, "churned": churned,
                     "churn_rate": churned / n if n else float("nan"), "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows).sort_values("buyers", ascending=False, kind="stable").reset_index(drop=True)


def churn_rates_pooled(frame: pd.DataFrame, by: str, min_count: int) -> tuple[pd.DataFrame, list]:
    """`churn_rates` per level of `by`, levels with fewer than `min_count` buyers pooled into `other`.

    Returns the table and the pooled levels (for the report's sentence and `levels_pooled`).
    """
    values, pooled = levels.pool_rare(frame[by].astype("object"), min_count)
    return churn_rates(frame.assign(**{by: values}), by), pooled


def rates_by_group(frame: pd.DataFrame, min_count: int, features=tuple(RATE_FEATURES)) -> tuple[pd.DataFrame, dict]:
    """`churn_rates_pooled` for each feature in one table (RATE_COLUMNS), and the pooled levels per feature."""
    tables, pooled = [], {}
    for feature in features:
        table, merged = churn_rates_pooled(frame, feature, min_count)
        tables.append(table.rename(columns={feature: "level"}).assign(feature=feature))
        if merged:
            pooled[feature] = merged
    return pd.concat(tables, ignore_index=True)[RATE_COLUMNS], pooled


def rate_extremes(rates: pd.DataFrame, min_count: int):
    """The groups with the highest and the lowest churn rate among those of at least `min_count` buyers
    (two rows of `rates`), or None when no group is that large."""
    big = rates[rates["buyers"] >= min_count]
    if big.empty:
        return None
    return big.loc[big["churn_rate"].idxmax()], big.loc[big["churn_rate"].idxmin()]


def retention_curve(buyers: pd.DataFrame, service_visits: pd.DataFrame, as_of: pd.Timestamp,
                    window_months: int = 6) -> pd.DataFrame:
    """Share of buyers with a service visit in each window since purchase, with Wilson intervals.

    Window k covers (purchase + k*W, purchase + (k+1)*W], W = `window_months`
    months of 365.25/12 days; a buyer counts for window k only when it has
    ended by the as-of date.
    """
    width = pd.Timedelta(days=window_months * DAYS_PER_MONTH)
    purchase = buyers["first_purchase_at"].dropna()
    observed_windows = ((as_of - purchase) // width).astype(int)  # complete windows per buyer
    visits = service_visits[service_visits["customer_id"].isin(purchase.index)
                            & (service_visits["opened_at"] <= as_of)]
    since = visits["opened_at"] - visits["customer_id"].map(purchase)
    after = since > pd.Timedelta(0)
    # ceil(since / W) - 1: a visit exactly at the end of a window belongs to that window
    window = (-(-since[after] // width) - 1).astype(int)
    hits = pd.DataFrame({"customer_id": visits.loc[after, "customer_id"], "window": window}).drop_duplicates()
    hits = hits[hits["window"] < observed_windows.reindex(hits["customer_id"]).to_numpy()]
    rows = []
    for k in range(int(observed_windows.max()) if len(observed_windows) else 0):
        buyers_k = int((observed_windows > k).sum())
        visited_k = int((hits["window"] == k).sum())
        low, high = wilson_interval(visited_k, buyers_k)
        rows.append({"window": f"{k * window_months}-{(k + 1) * window_months} months", "months_from": k * window_months,
                     "buyers": buyers_k, "with_visit": visited_k, "share": visited_k / buyers_k,
                     "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows, columns=CURVE_COLUMNS)


def lapse_km(lapses: pd.DataFrame, label: str = "all buyers"):
    """Kaplan-Meier fit of days from first purchase to lapse (labels.lapse_times' output)."""
    from lifelines import KaplanMeierFitter

    return KaplanMeierFitter(label=label).fit(lapses["duration_days"], lapses["lapsed"].astype(bool))


def still_active(km, days=(365, 545, 730, 1095)) -> pd.DataFrame:
    """Share of buyers not yet lapsed at each day since purchase (KM, 95% interval); empty past the follow-up."""
    survival = km.survival_function_.iloc[:, 0]
    bands = km.confidence_interval_survival_function_
    rows = []
    for day in days:
        if day > km.timeline.max():
            rows.append((day, np.nan, np.nan, np.nan))
            continue
        at = survival.index[survival.index <= day][-1]
        rows.append((day, float(survival[at]), float(bands.loc[at].iloc[0]), float(bands.loc[at].iloc[1])))
    return pd.DataFrame(rows, columns=["day", "estimate", "ci_low", "ci_high"]).set_index("day")
