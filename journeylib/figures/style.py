"""Small shared pieces of the one figure style."""

from __future__ import annotations

import numpy as np


def plain(text) -> str:
    """A label from the data drawn as text: no matplotlib mathtext from a '$' in a dealer id."""
    return str(text).replace("$", r"\$")


def named(code) -> str:
    """A code drawn as its label (`walk_in` -> Walk-in, journeylib.labels), safe from mathtext."""
    from journeylib.labels import label

    return plain(label(code))


def error_bars(table, estimate: str, low: str = "ci_low", high: str = "ci_high"):
    """(estimates, [below, above]) of a table's interval columns as float arrays, as matplotlib's errorbar
    and bar take them: a one-element pandas Series as an error bar makes matplotlib print a
    FutureWarning, which would show in the report (one level left, e.g. a header-only surveys export)."""
    centre, lower, upper = (table[c].to_numpy(dtype=float) for c in (estimate, low, high))
    # an estimate can sit outside its interval (a shrunk rate, a resampled interval on a few customers):
    # matplotlib refuses negative bar lengths, so that side is drawn as zero
    return centre, [np.maximum(centre - lower, 0), np.maximum(upper - centre, 0)]


def percent_axis(ax, axis: str = "y", digits: int = 0) -> None:
    """Tick labels as percentages (values are shares 0..1)."""
    import matplotlib.pyplot as plt

    formatter = plt.FuncFormatter(lambda value, _: f"{value:.{digits}%}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def log_ticks(low: float, high: float, candidates=(0.1, 0.2, 0.25, 0.5, 1, 2, 4, 5, 8, 10, 20)) -> list:
    """Readable ticks for a log axis spanning [low, high], always including 1."""
    ticks = sorted(set(t for t in candidates if low / 1.5 <= t <= high * 1.5) | {1})
    kept = [1]  # from 1 outwards, a tick too close to the last kept one (0.2 beside 0.25) would overprint it
    for tick in reversed([t for t in ticks if t < 1]):
        if kept[0] / tick >= 1.5:
            kept.insert(0, tick)
    for tick in [t for t in ticks if t > 1]:
        if tick / kept[-1] >= 1.5:
            kept.append(tick)
    return kept
