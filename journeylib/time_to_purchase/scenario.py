"""The business scenario: extra purchases if more leads took a test drive early."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from journeylib.errors import NotEstimable
from journeylib.time_to_purchase.cox import CoxResult
from journeylib.time_to_purchase.leads import ID, START, STOP, TEST_DRIVE
from journeylib.time_to_purchase.risksets import RiskSets, breslow_cumulative_hazard, covariate_patterns, \
    cumulative_hazard_at


@dataclass
class Scenario:
    eligible: int
    extra_test_drives: float
    extra_purchases: float
    ci_low: float
    ci_high: float
    p_without: float
    p_with: float


def test_drive_scenario(result: CoxResult, share: float = 0.10, window_days: int = 14, horizon_days: int = 90,
                        draws: int = 200, seed: int = 0) -> Scenario:
    """Expected extra purchases by day `horizon_days` if `share` of the eligible leads took a test drive
    on day `window_days`.

    Eligible: leads with no test drive and no purchase in their first `window_days` days. For each,
    the model gives P(purchase in (window, horizon] | still a lead at `window`) with and without a
    test drive at `window` (and none later); the gain times `share`, summed. The interval redraws the
    coefficients from their estimated sampling distribution and recomputes the baseline hazard.
    Assumptions (docs/time_to_purchase.md): the hazard ratio is causal, proportional hazards hold,
    the extra test-drivers look like the eligible leads, and without the push they would not
    test-drive before the horizon (so the figure is an upper bound on that count)."""
    long, params = result.long, result.fitter.params_
    if TEST_DRIVE not in params.index:
        raise NotEstimable("The model has no test-drive effect on this export, so the test-drive scenario "
                           "cannot be computed.")
    covariates = [c for c in params.index if c != TEST_DRIVE]
    first = long.groupby(ID, sort=False).agg(last_day=(STOP, "max"))
    first["td_from"] = long.loc[long[TEST_DRIVE] == 1].groupby(ID)[START].min().reindex(first.index)
    # Still a lead at the end of the window: not purchased by then (model time > window)
    # and not test-driven during it.
    eligible_ids = first.index[(first["last_day"] > window_days) &
                               ~(first["td_from"] < window_days)]
    if len(eligible_ids) == 0:
        raise NotEstimable(f"No lead was still shopping without a test drive on day {window_days}, so the "
                           "test-drive scenario has nobody to apply to.")
    x = result.design.frame.set_index(ID).loc[eligible_ids, covariates].to_numpy(dtype="float64")
    # The redraws group the eligible leads by covariate pattern too (see RiskSets): same sums, other order.
    patterns, pattern = covariate_patterns(x)
    leads = np.bincount(pattern, minlength=len(patterns))

    def gain(beta: pd.Series, baseline: pd.Series, x: np.ndarray, leads=None):
        h_from, h_to = cumulative_hazard_at(baseline, [window_days, horizon_days])
        risk = np.exp(x @ beta[covariates].to_numpy()) * (h_to - h_from)
        p0 = 1.0 - np.exp(-risk)
        p1 = 1.0 - np.exp(-risk * np.exp(beta[TEST_DRIVE]))
        if leads is None:
            return share * (p1 - p0).sum(), p0.mean(), p1.mean()
        return share * (leads * (p1 - p0)).sum()

    estimate, p0, p1 = gain(params, breslow_cumulative_hazard(long, params), x)
    rng = np.random.default_rng(seed)
    samples = rng.multivariate_normal(params.to_numpy(), result.fitter.variance_matrix_.to_numpy(), size=draws)
    risk_sets = RiskSets(long, params.index)
    spread = []
    for b in samples:
        beta = pd.Series(b, index=params.index)
        spread.append(gain(beta, risk_sets.baseline(beta), patterns, leads))
    low, high = np.percentile(spread, [2.5, 97.5])
    return Scenario(len(eligible_ids), share * len(eligible_ids), estimate, float(low), float(high), p0, p1)
