"""Simulated journeys with known hazard ratios (the tests' and the benchmark's known truth)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def simulate_journeys(customers: int = 3000, seed: int = 0, test_drive_hr: float = 2.0, channel_hrs=None,
                      dealer_hrs=None, base_rate: float = 1 / 200, test_drive_rate: float = 1 / 40,
                      never_test_drive: float = 0.4, window_days: float = 730,
                      as_of: str = "2024-12-31") -> pd.DataFrame:
    """Journeys-table rows with a known time-varying test-drive hazard ratio.

    Purchase hazard = base_rate x channel HR x dealer HR, times test_drive_hr from the test drive on
    (exponential pieces). Test drive times are exponential (rate test_drive_rate) for the leads who
    ever would test-drive; first touches are uniform over the `window_days` before `as_of`, which is
    where everyone still without a purchase is censored.
    """
    channel_hrs = channel_hrs or {"website": 1.0, "search": 1.3, "social": 0.7, "third_party": 1.6}
    dealer_hrs = dealer_hrs or {"D1": 1.0, "D2": 0.8, "D3": 1.25}
    rng = np.random.default_rng(seed)
    channel = rng.choice(list(channel_hrs), size=customers)
    dealer = rng.choice(list(dealer_hrs), size=customers)
    rate = base_rate * np.vectorize(channel_hrs.get)(channel) * np.vectorize(dealer_hrs.get)(dealer)
    test_drive = rng.exponential(1 / test_drive_rate, customers)
    test_drive[rng.random(customers) < never_test_drive] = np.inf
    before = rng.exponential(1.0, customers) / rate
    after = test_drive + rng.exponential(1.0, customers) / (rate * test_drive_hr)
    purchase = np.where(before < test_drive, before, after)
    follow_up = rng.uniform(0, window_days, customers)
    end = pd.Timestamp(as_of, tz="UTC")
    first_touch = end - pd.to_timedelta(follow_up, unit="D")
    bought = purchase <= follow_up
    drove = test_drive <= np.minimum(purchase, follow_up)
    days = np.where(bought, purchase, follow_up)
    return pd.DataFrame({
        "customer_id": [f"C{i:07d}" for i in range(customers)],
        "dealer_id": dealer,
        "first_touch_at": first_touch,
        "acquisition_channel": channel,
        "first_test_drive_at": first_touch + pd.to_timedelta(np.where(drove, test_drive, np.nan), unit="D"),
        "first_purchase_at": first_touch + pd.to_timedelta(np.where(bought, purchase, np.nan), unit="D"),
        "purchased": bought,
        "days_to_purchase": days,
        "censored": ~bought,
    })
