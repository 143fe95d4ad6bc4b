"""The alternative the lead scores were chosen against: the Cox model's conditional survival.

For a lead open at the cutoff, a days into its journey, P(purchase within h days) =
1 - exp(-exp(x b) (H0(a + h) - H0(a))) with the notebook's Cox model (test drive as recorded by the
cutoff, channel, dealer) refitted on what was known at the cutoff, H0 its Breslow baseline. Used by
`benchmarks/bench_lists.py --compare-cox` only; docs/time_to_purchase.md gives the comparison.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeylib.time_to_purchase.coding import choose_levels
from journeylib.time_to_purchase.cox import purchase_model
from journeylib.time_to_purchase.leads import ID, TEST_DRIVE, customer_table, model_day
from journeylib.time_to_purchase.risksets import breslow_cumulative_hazard, cumulative_hazard_at


def cox_scores(journeys: pd.DataFrame, cutoff: pd.Timestamp, horizons=(30, 90)) -> pd.DataFrame:
    """customer_id and p_purchase_<h>d for every lead open at `cutoff` (journeys: the `journeys` table columns
    customer_id, dealer_id, first_touch_at, acquisition_channel, first_test_drive_at, first_purchase_at)."""
    frame = journeys.loc[journeys["first_touch_at"] <= cutoff].copy()
    bought = frame["first_purchase_at"] <= cutoff
    end = frame["first_purchase_at"].where(bought, cutoff)
    frame["purchased"] = bought.to_numpy()
    frame["days_to_purchase"] = (end - frame["first_touch_at"]).dt.total_seconds() / 86400.0
    frame["first_test_drive_at"] = frame["first_test_drive_at"].where(frame["first_test_drive_at"] <= cutoff)
    customers = customer_table(frame)
    choice = choose_levels(customers)
    model = purchase_model(choice)
    params = model.fitter.params_
    baseline = breslow_cumulative_hazard(model.long, params)
    last = model.long.groupby(ID, sort=False).tail(1).set_index(ID)       # each lead's state at the cutoff
    open_ids = customers.loc[~customers["purchased"], ID]
    state = last.loc[open_ids]
    x = state[list(params.index)].to_numpy(float)
    risk = np.exp(x @ params.to_numpy())
    day = model_day(customers.set_index(ID).loc[open_ids, "days"].to_numpy())
    out = {ID: open_ids.to_numpy()}
    for h in horizons:
        delta = cumulative_hazard_at(baseline, day + h) - cumulative_hazard_at(baseline, day)
        out[f"p_purchase_{h}d"] = 1 - np.exp(-risk * delta)
    out[TEST_DRIVE] = state[TEST_DRIVE].to_numpy() if TEST_DRIVE in state else 0
    return pd.DataFrame(out)
