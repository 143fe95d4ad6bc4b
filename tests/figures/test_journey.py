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


def _poster_table(touchpoint: str, channel: str, pain: str) -> pd.DataFrame:
    stages = ["awareness", "consideration", "purchase", "retention", "advocacy"]
    return pd.DataFrame({
        "stage": stages, "reach": [1000, 800, 400, 300, 100], "reach_share": [1.0, 0.8, 0.4, 0.3, 0.1],
        "conversion": [0.8, 0.5, 0.75, 0.33, float("nan")], "ci_low": [0.77, 0.46, 0.7, 0.28, float("nan")],
        "ci_high": [0.83, 0.54, 0.8, 0.39, float("nan")], "median_days_to_next": [16.0, 228.0, 65.0, 67.0, float("nan")],
        "top_touchpoints": [[touchpoint, "site_visit", "srp_view"]] * 5, "top_channels": [[channel, "website"]] * 5,
        "survey_responses": [120.0] * 5, "mean_score": [7.8] * 5, "nps": [23.0] * 5, "pain_points": [[pain]] * 5})


def test_long_names_on_the_poster_stay_in_their_column():
    table = _poster_table("online_finance_pre_approval_request_submitted", "dealer_group_partner_marketplace_listing",
                          "waiting_for_the_finance_manager_after_the_test_drive")
    fig = figures.draw_journey_map(table, title="Customer journey map")
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        columns = [ax for ax in fig.axes if ax.texts and not ax.axison]
        assert len(columns) == 5
        for ax in columns:
            box, right = ax.texts[0].get_window_extent(renderer), ax.get_window_extent(renderer).x1
            assert box.x1 <= right, (ax.texts[0].get_text(), box.x1, right)
        text = columns[1].texts[0].get_text()
    finally:
        plt.close(fig)
    assert "Online finance pre" in text and "Site visit" in text  # wrapped, not dropped
    assert max(len(line) for line in text.splitlines()) <= figures.POSTER_LINE_CHARS
