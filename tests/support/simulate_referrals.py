"""Simulated buyers with referral counts of known truth, for the advocacy tests (not part of the package)."""

from __future__ import annotations

import numpy as np
import pandas as pd

SIMULATED_BAND_SHARES = {"promoter": 0.3, "passive": 0.2, "detractor": 0.1, "no_response": 0.4}
SIMULATED_RATE_RATIOS = {"promoter": 3.0, "passive": 1.0, "detractor": 0.4, "no_response": 1.0}


def simulate_buyers(n: int = 2000, seed: int = 0, base_rate: float = 0.15, alpha: float = 0.5,
                    rate_ratios: dict | None = None, max_years: float = 3.5) -> pd.DataFrame:
    """Buyers with NB2 referral counts of known truth: mean = base_rate * RR(satisfaction) * exposure.

    Finance type, condition and acquisition channel are drawn at random with
    no effect (their true rate ratios are 1). Counts are gamma-Poisson with
    variance mu + alpha mu^2.
    """
    rate_ratios = {**SIMULATED_RATE_RATIOS, **(rate_ratios or {})}
    rng = np.random.default_rng(seed)
    bands = list(SIMULATED_BAND_SHARES)
    frame = pd.DataFrame({
        "satisfaction": rng.choice(bands, n, p=list(SIMULATED_BAND_SHARES.values())),
        "finance_type": rng.choice(["finance", "cash", "lease"], n, p=[0.55, 0.25, 0.2]),
        "condition": rng.choice(["new", "used", "cpo"], n, p=[0.5, 0.35, 0.15]),
        "acquisition_channel": rng.choice(["website", "search", "walk_in", "email"], n, p=[0.4, 0.3, 0.27, 0.03]),
        "exposure_years": rng.uniform(0.05, max_years, n),
    }, index=pd.Index([f"B{i:05d}" for i in range(n)], name="customer_id"))
    mu = base_rate * frame["satisfaction"].map(rate_ratios).to_numpy() * frame["exposure_years"].to_numpy()
    frame["referrals"] = rng.poisson(rng.gamma(1 / alpha, alpha * mu)) if alpha > 0 else rng.poisson(mu)
    return frame
