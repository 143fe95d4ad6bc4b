"""The forest plot: one row per term, a point and its 95% interval, a line at "no difference"."""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeylib.figures.style import log_ticks, plain


def forest(table: pd.DataFrame, ax=None, *, label: str = "term", estimate: str = "ratio",
           group: str | None = None, title: str = "", xlabel: str = "", reference_line: float | None = 1.0,
           log: bool = True):
    """Draw `table` (columns `label`, `estimate`, `ci_low`, `ci_high`, optional `group` for colours) top to bottom.

    Rows with a missing estimate are left out (they are "not estimable" in the table beside it).
    Returns the axes.
    """
    import matplotlib.pyplot as plt

    shown = table.dropna(subset=[estimate]).iloc[::-1]
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 0.38 * len(shown) + 1.6))
    y = np.arange(len(shown))
    values = shown[estimate].to_numpy(dtype=float)
    low = shown["ci_low"].to_numpy(dtype=float)
    high = shown["ci_high"].to_numpy(dtype=float)
    errors = [np.clip(values - low, 0, None), np.clip(high - values, 0, None)]
    if group is None:
        ax.errorbar(values, y, xerr=errors, fmt="o", capsize=3, color="C0")
    else:
        for i, name in enumerate(dict.fromkeys(shown[group][::-1])):  # one colour per group, in table order
            part = (shown[group] == name).to_numpy()
            ax.errorbar(values[part], y[part], xerr=[errors[0][part], errors[1][part]], fmt="o", capsize=3,
                        color=f"C{i % 10}")
    if reference_line is not None:
        ax.axvline(reference_line, color="grey", linestyle="--", linewidth=1)
    if log and len(shown):
        ax.set_xscale("log")
        ticks = log_ticks(float(np.nanmin(low)), float(np.nanmax(high)))
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.minorticks_off()
    ax.set_yticks(y, [plain(v) for v in shown[label]])
    ax.set(title=title, xlabel=xlabel, ylabel="")
    return ax
