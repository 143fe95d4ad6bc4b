"""Step curves (Kaplan-Meier and the like) drawn at a bounded number of points.

A curve read at up to `MAX_POINTS` evenly spaced times is exact at those times and looks the
same at a figure's resolution; a million distinct event times would only slow the drawing
(matplotlib and the PNG) by seconds per figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_POINTS = 2000


def thinned(step: pd.DataFrame, max_points: int = MAX_POINTS) -> pd.DataFrame:
    """A step function (indexed by time, sorted) read at no more than about `max_points` times, ends included."""
    if len(step) <= max_points:
        return step
    times = step.index.to_numpy(dtype=float)
    grid = np.linspace(times[0], times[-1], max_points)
    rows = np.unique(np.append(np.searchsorted(times, grid, side="right") - 1, len(times) - 1))
    return step.iloc[rows]


def draw_km(ax, km, kind: str = "survival", colour=None, ci_alpha: float = 0.3, label=None,
            max_points: int = MAX_POINTS):
    """A fitted lifelines KaplanMeierFitter on `ax`: its survival function (`kind="survival"`) or its
    cumulative density (`"cumulative"`), with the 95% band, both thinned to `max_points`."""
    if kind == "survival":
        curve, band = km.survival_function_, km.confidence_interval_survival_function_
    elif kind == "cumulative":
        curve, band = km.cumulative_density_, km.confidence_interval_cumulative_density_
    else:
        raise ValueError(f"kind={kind!r}: expected 'survival' or 'cumulative'")
    curve, band = thinned(curve, max_points), thinned(band, max_points)
    (line,) = ax.step(curve.index, curve.iloc[:, 0], where="post", color=colour,
                      label=km._label if label is None else label)
    ax.fill_between(band.index, band.iloc[:, 0], band.iloc[:, 1], step="post", color=line.get_color(),
                    alpha=ci_alpha, linewidth=0)
    return line
