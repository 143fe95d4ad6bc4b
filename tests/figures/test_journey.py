"""Notebook 01's figures: what a reviewer reads on them."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd

from journeylib.figures import journey as figures
from journeylib.journey_map.compare import GroupComparison


def test_the_compare_chart_names_each_behaviour_as_its_sentence_does():
    table = pd.DataFrame({
        "kind": ["event", "channel", "step"], "behaviour": ["credit_application", "walk_in", "test_drive → deposit"],
        "share_a": [0.44, 0.87, 0.20], "share_b": [0.02, 0.48, 0.01], "difference": [0.42, 0.39, 0.19],
        "ci_low": [0.39, 0.35, 0.16], "ci_high": [0.46, 0.42, 0.22], "p": [1e-9] * 3, "q_value": [1e-8] * 3,
        "flagged": [True] * 3})
    found = GroupComparison(("buyers", "non-buyers"), (930, 1220), table, 0.1, 30.0, None)
    fig = figures.behaviour_differences(found)
    try:
        drawn = [tick.get_text() for tick in fig.axes[0].get_yticklabels()]
    finally:
        plt.close(fig)
    assert drawn == ["Test drive → Deposit (step)", "Walk-in (channel)", "Credit application (event)"]
    said = found.sentences()[1:]
    assert [s.split(":")[0] for s in said] == drawn[::-1]
    assert said[0].startswith("Credit application (event): 44% of buyers against 2% of non-buyers")
