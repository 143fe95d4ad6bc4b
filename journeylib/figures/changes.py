"""Notebook 06's figure: one chart per flagged change, the measure per period, the baseline shaded, the latest marked."""

from __future__ import annotations

import numpy as np


def draw_change(frame, row: dict, title: str):
    """frame: period, estimate, ci_low, ci_high (series); row: the comparison. Returns the figure."""
    import matplotlib.pyplot as plt

    from journeylib.figures.style import plain

    scale = 100 if row["kind"] == "share" else 1
    fig, ax = plt.subplots(figsize=(8, 3.2))
    x = np.arange(len(frame))
    est = frame["estimate"].to_numpy(float) * scale
    low = np.fmin(frame["ci_low"].to_numpy(float) * scale, est)
    high = np.fmax(frame["ci_high"].to_numpy(float) * scale, est)
    latest = frame["period"].to_numpy() == row["latest_period"]
    ax.errorbar(x[~latest], est[~latest], yerr=[est[~latest] - low[~latest], high[~latest] - est[~latest]],
                fmt="o", color="#52606d", capsize=3, label="baseline periods (95% interval)")
    ax.errorbar(x[latest], est[latest], yerr=[est[latest] - low[latest], high[latest] - est[latest]],
                fmt="o", color="#c0392b", capsize=3, markersize=8, label="latest complete period")
    before = row["before"] * scale if row["kind"] != "count" else row["per_period_before"]
    ax.axhline(before, color="#52606d", linestyle="--", linewidth=1, label="baseline (pooled)")
    ax.set_xticks(x, frame["period"], rotation=45, ha="right")
    unit = {"share": "share (%)", "nps": "NPS", "count": f"{row.get('unit', 'units')} per period"}[row["kind"]]
    ax.set_ylabel(unit)
    ax.set_xlabel("period")
    ax.set_title(plain(title), fontsize=10, loc="left")
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig
