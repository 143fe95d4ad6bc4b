"""The lead table: one row per customer with a journey, from first touch to purchase or the as-of date.

Notebook 02 models it (`journeylib.time_to_purchase`) and notebook 04 compares referred leads on it
(`journeylib.advocacy.lead_times`), so it lives below both. Model time is day-grained: a purchase or
censoring falls on journey day floor(days) + 1 (day 1 is the first 24 hours); curves, probabilities and
restricted means use the exact (fractional) days. docs/time_to_purchase.md has the definitions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeylib.vocabulary import UNKNOWN

ID = "customer_id"
NO_DEALER = "(none)"


def customer_table(journeys: pd.DataFrame) -> pd.DataFrame:
    """One row per customer with a journey: duration, event flag and covariates known at first touch.

    Columns: customer_id, days (exact, from first touch to purchase or as-of), purchased,
    day (model time, whole journey days >= 1), acquisition_channel, dealer_id,
    first_touch_month, test_drive_days (days from first touch to the first test drive
    before the purchase or as-of; NaN when none).
    """
    frame = journeys.loc[journeys["first_touch_at"].notna()].copy()
    days = frame["days_to_purchase"].astype("float64")
    if (days < 0).any():
        raise ValueError("journeys.days_to_purchase has negative values")
    purchased = frame["purchased"].fillna(False).astype(bool)
    test_drive_days = (frame["first_test_drive_at"] - frame["first_touch_at"]).dt.total_seconds() / 86400.0
    # Only a test drive before (or at) the purchase or the as-of date can speed up this purchase.
    test_drive_days = test_drive_days.where(test_drive_days <= days)
    first_touch = frame["first_touch_at"]
    if getattr(first_touch.dt, "tz", None) is not None:
        first_touch = first_touch.dt.tz_convert("UTC").dt.tz_localize(None)
    return pd.DataFrame({
        ID: frame["customer_id"].astype(str).to_numpy(),
        "days": days.to_numpy(),
        "purchased": purchased.to_numpy(),
        "day": model_day(days.to_numpy()),
        "acquisition_channel": frame["acquisition_channel"].fillna(UNKNOWN).astype(str).to_numpy(),
        "dealer_id": frame["dealer_id"].fillna(NO_DEALER).astype(str).to_numpy(),
        "first_touch_month": _year_month(first_touch),
        "test_drive_days": test_drive_days.to_numpy(),
    })


def _year_month(stamps: pd.Series) -> np.ndarray:
    """"YYYY-MM" per timestamp; formats each distinct month once (strftime per row takes seconds at 1M rows)."""
    month = stamps.dt.year.to_numpy() * 100 + stamps.dt.month.to_numpy()
    distinct, position = np.unique(month, return_inverse=True)
    return np.array([f"{m // 100:04d}-{m % 100:02d}" for m in distinct], dtype=object)[position]


def model_day(days) -> np.ndarray:
    """Exact days since first touch -> journey day (1 = the first 24 hours)."""
    return np.floor(np.asarray(days, dtype="float64")) + 1.0
