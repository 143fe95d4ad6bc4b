"""Reviews and social shares buyers post after their first purchase, by satisfaction band."""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeylib.advocacy.inputs import ADVOCACY_EVENTS
from journeylib.advocacy.referrals import BANDS
from journeylib.stats.intervals import poisson_rate_interval, wilson_interval

ALL = "all"


def advocacy_events(buyers: pd.DataFrame, touchpoints: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per buyer: reviews and shares after the first purchase (counts_for_journey) by as-of."""
    events = touchpoints[touchpoints["event_type"].isin(ADVOCACY_EVENTS)
                         & touchpoints["counts_for_journey"].fillna(False).astype(bool)
                         & (touchpoints["occurred_at"] <= as_of)
                         & touchpoints["customer_id"].isin(buyers.index)]
    counts = events.groupby(["customer_id", "event_type"]).size().unstack(fill_value=0)
    counts = counts.reindex(index=buyers.index, columns=list(ADVOCACY_EVENTS), fill_value=0).fillna(0).astype(int)
    counts["satisfaction"] = buyers["satisfaction"].astype(str)
    counts["exposure_years"] = buyers["exposure_years"]
    return counts


def advocacy_by_band(events: pd.DataFrame, bands=BANDS) -> pd.DataFrame:
    """Share of buyers with at least one review / share (Wilson 95%) and events per buyer-year, per band and `all`."""
    rows = []
    for event in ADVOCACY_EVENTS:
        for band in [*bands, ALL]:
            part = events if band == ALL else events[events["satisfaction"] == band]
            n, doers = len(part), int((part[event] > 0).sum())
            low, high = wilson_interval(doers, n)
            rate, rate_low, rate_high = poisson_rate_interval(int(part[event].sum()), float(part["exposure_years"].sum()))
            rows.append({"event": event, "satisfaction": band, "buyers": n, "buyers_with_event": doers,
                         "share": doers / n if n else np.nan, "ci_low": low, "ci_high": high,
                         "per_buyer_year": rate, "rate_ci_low": rate_low, "rate_ci_high": rate_high})
    return pd.DataFrame(rows)


def highlights(by_band: pd.DataFrame) -> dict | None:
    """What the report says about reviews and shares (None when no band has a share, e.g. no buyers).

    overall: per event, the share of all buyers; top: per event, the band with the largest share;
    top_share: that share; others: (band, review share) of detractors and passives not on top.
    """
    shares = by_band.set_index(["event", "satisfaction"])["share"]
    bands = shares.drop(ALL, level="satisfaction")
    if not bands.loc["review_posted"].notna().any():
        return None
    top = {event: bands.loc[event].idxmax() for event in ADVOCACY_EVENTS}
    return {"overall": {event: shares.loc[(event, ALL)] for event in ADVOCACY_EVENTS}, "top": top,
            "top_share": {event: shares.loc[(event, band)] for event, band in top.items()},
            "others": [(band, shares.loc[("review_posted", band)]) for band in ("detractor", "passive")
                       if band != top["review_posted"] and pd.notna(shares.loc[("review_posted", band)])]}
