"""The lead table notebook 02 models: one row per customer with a journey, and its start/stop form.

The clock starts at a customer's first touch and stops at the first purchase;
customers who have not bought by the as-of date are censored there. A test
drive changes a lead's state part-way through the journey, so it enters the
Cox model as a time-varying covariate (start/stop rows). Coding "ever
test-drove" at baseline credits the test-drivers with the purchase-free days
before their test drive (immortal time); `naive_table` builds that coding only
to show the bias.

Model time is day-grained: a customer's purchase or censoring falls on journey
day floor(days) + 1 (day 1 is the first 24 hours), and the test-driven state
starts at the beginning of the test drive's journey day, so a test drive and a
purchase on the same day count as "test drive, then purchase". Whole days
give few distinct event times, which is what keeps the Cox fits fast on large
data. Kaplan-Meier curves, purchase probabilities and restricted means use the
exact (fractional) days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeylib.vocabulary import UNKNOWN


ID, START, STOP, EVENT, TEST_DRIVE = "customer_id", "start", "stop", "event", "test_drive"
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


def long_format(customers: pd.DataFrame, covariates=("acquisition_channel", "dealer_id")) -> pd.DataFrame:
    """Start/stop rows: "not yet test-driven" until the test drive's day begins, "test-driven" after.

    A customer without a test drive has one row (0, day]; one who test-drove on journey day k
    has (0, k-1] with test_drive=0 (left out when k = 1) and (k-1, day] with test_drive=1.
    The event flag sits on the customer's last row only.
    """
    covariates = list(covariates)
    day = customers["day"].to_numpy()
    td_day = model_day(customers["test_drive_days"].to_numpy())  # NaN stays NaN
    switch = td_day - 1.0
    has_td = ~np.isnan(switch)
    before = has_td & (switch > 0)

    base = customers[[ID, *covariates]].reset_index(drop=True)
    no_td = base.loc[~has_td].assign(start=0.0, stop=day[~has_td], test_drive=0,
                                     event=customers["purchased"].to_numpy()[~has_td])
    pre = base.loc[before].assign(start=0.0, stop=switch[before], test_drive=0, event=False)
    post = base.loc[has_td].assign(start=np.where(before[has_td], switch[has_td], 0.0), stop=day[has_td],
                                   test_drive=1, event=customers["purchased"].to_numpy()[has_td])
    long = pd.concat([no_td, pre, post], ignore_index=True)
    long["event"] = long["event"].astype(bool)
    long["test_drive"] = long["test_drive"].astype("int8")
    return long.sort_values([ID, START], kind="stable").reset_index(drop=True)[
        [ID, START, STOP, TEST_DRIVE, EVENT, *covariates]]


def naive_table(customers: pd.DataFrame, covariates=("acquisition_channel", "dealer_id")) -> pd.DataFrame:
    """The WRONG coding, for contrast: "ever test-drove" fixed at first touch (immortal-time bias)."""
    out = customers[[ID, *covariates]].copy()
    out["day"] = customers["day"].to_numpy()
    out[EVENT] = customers["purchased"].to_numpy()
    out["ever_test_drove"] = customers["test_drive_days"].notna().astype("int8").to_numpy()
    return out
