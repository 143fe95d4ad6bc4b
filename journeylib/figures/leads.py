"""Notebook 02's lead-score figure: the backtest's calibration by tenth of predicted probability."""

from __future__ import annotations

import pandas as pd

from journeylib.figures.style import percent_axis


def calibration(table: pd.DataFrame, title: str):
    """Mean predicted probability against the share that bought, per tenth of the leads
    (`table`: leads, predicted, observed; time_to_purchase.lead_backtest.calibration_table)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 5))
    top = max(float(table["predicted"].max()), float(table["observed"].max()), 0.01) * 1.1
    ax.plot([0, top], [0, top], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    ax.plot(table["predicted"], table["observed"], "o-", label="leads, by tenth of predicted probability")
    ax.set(xlim=(0, top), ylim=(0, top), title=title, xlabel="predicted probability of buying (mean of the tenth)",
           ylabel="share that bought")
    percent_axis(ax, "x")
    percent_axis(ax, "y")
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig
