"""Referrals: which count, per buyer over their exposure, and what they bring (funnel, k-factor).

A referral counts when a buyer makes it at or after their first purchase and by the as-of date.
Rates are per buyer-year of exposure (first purchase to as-of) with quasi-Poisson intervals, since
counts cluster by person (a keen referrer brings several friends).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeylib.stats import levels
from journeylib.stats.intervals import Z95, poisson_rate_interval, wilson_interval
from journeylib.vocabulary import OTHER_LEVEL, UNKNOWN

MODEL_FEATURES = ("satisfaction", "finance_type", "condition", "acquisition_channel")
BANDS = ("promoter", "passive", "detractor", "no_response")
STATUSES = ("counted", "before_purchase", "after_as_of", "not_a_buyer")
BAND_RATE_COLUMNS = ["satisfaction", "buyers", "referrals", "buyer_years", "per_buyer_year", "ci_low", "ci_high",
                     "share_referring"]
NO_EXPOSURE = "No buyer had any time to refer someone before the as-of date"


def window_referrals(buyers: pd.DataFrame, referrals: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Referrals labelled by whether they count: made by a buyer, at or after the first purchase, by as-of.

    Adds `status`: counted, before_purchase, after_as_of or not_a_buyer.
    """
    out = referrals.copy()
    purchase = out["referrer_customer_id"].map(buyers["first_purchase_at"])
    status = np.select(
        [purchase.isna(), out["referred_at"] > as_of, out["referred_at"] < purchase],
        ["not_a_buyer", "after_as_of", "before_purchase"], "counted")
    out["status"] = status
    return out


def status_counts(labelled: pd.DataFrame) -> pd.Series:
    """Referrals per status (every status, zeros included), in STATUSES order."""
    return labelled["status"].value_counts().reindex(list(STATUSES), fill_value=0).astype(int)


def referral_counts(buyers: pd.DataFrame, labelled: pd.DataFrame) -> pd.Series:
    """Counted referrals per buyer (zeros included), indexed like `buyers`; `labelled` from window_referrals."""
    counted = labelled[labelled["status"] == "counted"]
    return counted.groupby("referrer_customer_id").size().reindex(buyers.index, fill_value=0).rename("referrals")


def model_frame(buyers: pd.DataFrame, counts: pd.Series) -> pd.DataFrame:
    """The features, exposure and referral count per buyer; missing categories are `unknown`.

    Buyers without positive exposure (bought on the as-of date) are left out:
    they had no time to refer anyone and log(0) has no offset.
    """
    out = pd.DataFrame(index=buyers.index)
    for feature in MODEL_FEATURES:
        values = buyers[feature].astype("object")
        out[feature] = values.where(values.notna(), UNKNOWN).astype(str)
    out["exposure_years"] = buyers["exposure_years"].astype(float)
    out["referrals"] = counts.reindex(buyers.index, fill_value=0).astype(int)
    return out[out["exposure_years"] > 0]


def referral_rate(counts: pd.Series) -> dict:
    """Share of buyers who made at least one counted referral, with its Wilson 95% interval."""
    referrers, n = int((counts > 0).sum()), len(counts)
    low, high = wilson_interval(referrers, n)
    return {"estimate": referrers / n if n else float("nan"), "ci_low": low, "ci_high": high,
            "referrers": referrers, "buyers": n}


def quasi_poisson_rate(counts, exposure) -> dict:
    """Pooled rate sum(counts) / sum(exposure) with a 95% interval widened for overdispersion.

    Counts per person cluster (a keen referrer refers several friends), so the
    exact Poisson interval is too narrow. The log-rate standard error is
    sqrt(phi / sum(counts)), phi = Pearson chi2 / (n - 1) of the constant-rate
    model (never below 1).
    """
    y = np.asarray(counts, dtype=float)
    t = np.asarray(exposure, dtype=float)
    if len(y) != len(t) or (t < 0).any():
        raise ValueError("quasi_poisson_rate: counts and exposure must have the same length, exposure >= 0")
    if (y[t == 0] > 0).any():
        raise ValueError("quasi_poisson_rate: events on zero exposure")
    total, time = y.sum(), t.sum()
    rate = total / time if time > 0 else float("nan")
    # Units with no exposure (bought on the as-of date) add nothing to the rate and have no
    # expected count: they are left out of the dispersion estimate.
    y, t = y[t > 0], t[t > 0]
    if total == 0 or len(y) < 2:
        _, low, high = poisson_rate_interval(int(total), time)
        return {"estimate": rate, "ci_low": low, "ci_high": high, "dispersion": float("nan"),
                "events": int(total), "exposure": float(time)}
    expected = rate * t
    phi = max(1.0, float(np.sum((y - expected) ** 2 / expected) / (len(y) - 1)))
    se = np.sqrt(phi / total)
    return {"estimate": rate, "ci_low": float(rate * np.exp(-Z95 * se)), "ci_high": float(rate * np.exp(Z95 * se)),
            "dispersion": phi, "events": int(total), "exposure": float(time)}


def rates_by_band(frame: pd.DataFrame, min_buyers: int) -> tuple[pd.DataFrame, list]:
    """Referrals per buyer-year per satisfaction band (no adjustment), bands under `min_buyers` pooled into `other`.

    Returns the table (BAND_RATE_COLUMNS, one row per band with buyers) and the pooled bands.
    """
    band_of, pooled = levels.pool_rare(frame["satisfaction"], min_buyers)
    rows = []
    for band in [*BANDS, OTHER_LEVEL]:
        part = frame[band_of == band]
        if len(part):
            rate = quasi_poisson_rate(part["referrals"], part["exposure_years"])
            rows.append({"satisfaction": band, "buyers": len(part), "referrals": int(part["referrals"].sum()),
                         "buyer_years": part["exposure_years"].sum(), "per_buyer_year": rate["estimate"],
                         "ci_low": rate["ci_low"], "ci_high": rate["ci_high"],
                         "share_referring": (part["referrals"] > 0).mean()})
    return pd.DataFrame(rows, columns=BAND_RATE_COLUMNS), pooled


# ---------------------------------------------------------------- what referrals bring


def referral_outcomes(referrals: pd.DataFrame, journeys: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Each referral made by as-of with its outcome.

    Adds: has_customer (referred_customer_id is a known customer) and
    became_buyer (that customer's first purchase is at or after the referral
    and by as-of: a referral cannot bring someone who had already bought).
    """
    out = referrals[referrals["referred_at"] <= as_of].copy()
    known = journeys.set_index("customer_id")
    out["has_customer"] = out["referred_customer_id"].isin(known.index)
    purchase = out["referred_customer_id"].map(known["first_purchase_at"])
    # map() gives an object column with NaN for unknown customers: `eq(True)` reads it without downcasting
    bought = out["referred_customer_id"].map(known["purchased"]).eq(True)
    out["became_buyer"] = out["has_customer"] & bought & (purchase >= out["referred_at"])
    return out


def referral_funnel(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Referrals -> referred customers -> referred buyers, each step's share of the one before (Wilson 95%)."""
    steps = [("referrals", len(outcomes), None),
             ("referred customers", int(outcomes["has_customer"].sum()), len(outcomes)),
             ("referred buyers", int(outcomes["became_buyer"].sum()), int(outcomes["has_customer"].sum()))]
    rows = []
    for name, count, base in steps:
        share = count / base if base else np.nan
        low, high = wilson_interval(count, base) if base else (np.nan, np.nan)
        rows.append({"step": name, "count": count, "share_of_previous": share, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)


def k_factor(buyers: pd.DataFrame, outcomes: pd.DataFrame, as_of: pd.Timestamp) -> dict:
    """Referred buyers per buyer per year of exposure (the referral coefficient k), quasi-Poisson 95% interval.

    Counts a referral when it counts for the referrer (window_referrals) and
    its referred customer became a buyer by as-of. Recent referrals have had
    little time to convert, so k is a lower bound of the eventual value.
    """
    labelled = window_referrals(buyers, outcomes, as_of)
    counted = labelled[(labelled["status"] == "counted") & labelled["became_buyer"]]
    per_buyer = counted.groupby("referrer_customer_id").size().reindex(buyers.index, fill_value=0)
    exposure = buyers["exposure_years"].clip(lower=0)
    return quasi_poisson_rate(per_buyer.to_numpy(), exposure.to_numpy())
