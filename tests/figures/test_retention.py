"""Notebook 03's figures: what a reviewer reads on them."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from journeylib.figures.retention import return_calibration


def test_a_backtest_with_nearly_equal_predictions_is_drawn_as_numbered_points_not_a_vertical_line():
    calibration = pd.DataFrame({"decile": range(1, 11), "buyers": [53] * 9 + [50],
                                "predicted": np.linspace(0.758, 0.763, 10),
                                "observed": [0.17, 0.38, 0.6, 0.755, 0.79, 0.815, 0.83, 0.925, 0.98, 0.98]})
    fig = return_calibration(calibration, pd.Timestamp("2025-06-30"), pd.Timestamp("2026-06-30"))
    try:
        ax = fig.axes[0]
        assert (ax.get_xlim(), ax.get_ylim()) == ((0, 1), (0, 1))
        assert len(ax.lines) == 1 and list(ax.lines[0].get_xdata()) == [0, 1]  # the diagonal, nothing joining points
        points = ax.collections[0]
        np.testing.assert_allclose(points.get_offsets(), calibration[["predicted", "observed"]].to_numpy())
        assert points.get_sizes()[-1] < points.get_sizes()[0]  # sized by buyers
        assert [t.get_text() for t in ax.texts] == [str(n) for n in range(1, 11)]
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
    finally:
        plt.close(fig)
    assert "(75.8% to 76.3%)" in legend[1] and "numbered from lowest to highest" in legend[1]
    same = return_calibration(calibration.assign(predicted=0.762), pd.Timestamp("2025-06-30"), pd.Timestamp("2026-06-30"))
    try:
        assert same.axes[0].get_legend().get_texts()[1].get_text().endswith("predicted (all about 76.2%)")
    finally:
        plt.close(same)


def test_the_backtest_legend_counts_groups_of_one_buyer_in_the_singular():
    calibration = pd.DataFrame({"decile": range(1, 11), "buyers": [1] * 9 + [2],
                                "predicted": np.linspace(0.8, 0.86, 10), "observed": [0.0, 1.0] * 5})
    fig = return_calibration(calibration, pd.Timestamp("2025-06-30"), pd.Timestamp("2026-06-30"))
    try:
        legend = fig.axes[0].get_legend().get_texts()[1].get_text()
    finally:
        plt.close(fig)
    assert legend.startswith("10 groups of about 1 buyer, numbered")
    fig = return_calibration(calibration.assign(buyers=53), pd.Timestamp("2025-06-30"), pd.Timestamp("2026-06-30"))
    try:
        assert fig.axes[0].get_legend().get_texts()[1].get_text().startswith("10 groups of about 53 buyers, numbered")
    finally:
        plt.close(fig)
