"""The lead table's start/stop form notebook 02 models (the table itself: `journeylib.derived.leads`,
shared with notebook 04).

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

from journeylib.derived.leads import ID, NO_DEALER, customer_table, model_day  # noqa: F401 - the lead table

START, STOP, EVENT, TEST_DRIVE = "start", "stop", "event", "test_drive"


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
