"""Notebook 02's one rule for channel and dealer levels: the sentences it writes for the report."""

from __future__ import annotations

import pandas as pd

from journeylib.time_to_purchase.coding import choose_levels


def test_a_missing_reference_channel_is_named_by_its_label():
    customers = pd.DataFrame({
        "customer_id": [f"C{i}" for i in range(120)],
        "acquisition_channel": ["walk_in"] * 70 + ["third_party"] * 50,
        "dealer_id": ["D01"] * 60 + ["D02"] * 60,
        "purchased": [i % 3 == 0 for i in range(120)],
    })
    choice = choose_levels(customers, min_level_customers=20, reference_channel="website")
    assert choice.reference_channel == "walk_in"
    said = [s for s in choice.sentences if s.startswith("The usual reference channel")]
    assert said == ["The usual reference channel 'Website' is not in this export, so hazard ratios compare each "
                    "channel with the largest one, 'Walk-in'."]
