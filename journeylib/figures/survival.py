"""Notebook 02's figures besides the forest plot: purchase curves (1 - Kaplan-Meier) and Schoenfeld residuals."""

from __future__ import annotations

import pandas as pd

from journeylib.figures.curves import MAX_POINTS, draw_km
from journeylib.figures.style import named, percent_axis


def purchase_curves(curves, title: str, at_risk_rows=None, ci_alpha: float = 0.3,
                    max_points: int = MAX_POINTS):
    """Share bought by day since first touch, one curve per fitted KaplanMeierFitter, with 95% bands and
    the at-risk counts under the plot (`at_risk_rows`, e.g. ["At risk"]; None: at risk, censored, events).

    A curve is drawn at `max_points` evenly spaced days at most (journeylib.figures.curves)."""
    import matplotlib.pyplot as plt
    from lifelines.plotting import add_at_risk_counts

    curves = list(curves)
    names = [named(km._label) for km in curves]  # channel codes as words (walk_in -> Walk-in)
    fig, ax = plt.subplots(figsize=(9, 5) if len(curves) == 1 else (10, 6))
    for i, (km, name) in enumerate(zip(curves, names)):
        draw_km(ax, km, "cumulative", colour=f"C{i % 10}", ci_alpha=ci_alpha, label=name, max_points=max_points)
    ax.legend(loc="upper left")
    ax.set(title=title, xlabel="days since first touch", ylabel="share bought", ylim=(0, 1))
    percent_axis(ax)  # shares as percentages, as in every other figure
    if at_risk_rows is None:
        add_at_risk_counts(*curves, ax=ax, labels=names)
    else:
        add_at_risk_counts(*curves, ax=ax, rows_to_show=at_risk_rows, labels=names)
    plt.tight_layout()
    return fig


def panel(curves, title: str):
    """Several groups' purchase curves in one panel: lighter bands, only the at-risk row under the plot."""
    return purchase_curves(list(curves), title, at_risk_rows=["At risk"], ci_alpha=0.12)


def schoenfeld_residuals(residuals: pd.DataFrame, term: str, coefficient: float):
    """Scaled Schoenfeld residuals of one term over journey time, a running mean, and the model's constant."""
    import matplotlib.pyplot as plt

    ordered = residuals.sort_values("time")
    smooth = ordered[term].rolling(max(25, len(residuals) // 20), center=True, min_periods=5).mean()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.scatter(residuals["time"], residuals[term], s=6, alpha=0.3)
    ax.plot(ordered["time"], smooth, color="black", label="running mean")
    ax.axhline(coefficient, color="red", linestyle="--", label="model's constant log hazard ratio")
    ax.set(title=f"{named(term)}: scaled Schoenfeld residuals over the journey",
           xlabel="journey day of the purchase", ylabel="log hazard ratio at that time (residual)")
    ax.legend()
    plt.tight_layout()
    return fig


def hazard_ratios(table: pd.DataFrame, reference_channel=None, reference_dealer=None):
    """The Cox model's hazard ratios (a `hazard_ratios` table indexed by covariate) as a forest plot."""
    from journeylib.figures.forest import forest

    refs = ", ".join([*([f"channel {named(reference_channel)}"] if reference_channel else []),
                      *([f"dealer {named(reference_dealer)}"] if reference_dealer else [])])
    rows = table.reset_index()
    rows["covariate"] = rows["covariate"].map(named)
    ax = forest(rows, label="covariate", estimate="hazard_ratio",
                title="Hazard ratios for buying" + (f" (reference: {refs})" if refs else ""),
                xlabel="hazard ratio (log scale, 95% interval)")
    return ax.figure


def restricted_means(table: pd.DataFrame, horizon):
    """Restricted mean days shopping per channel (estimate, ci_low, ci_high indexed by channel), fastest first."""
    from journeylib.figures.forest import forest

    rows = table.reset_index()
    rows["channel"] = rows["channel"].map(named)
    ax = forest(rows, label="channel", estimate="estimate", log=False, reference_line=None,
                title=f"Restricted mean days to purchase within {horizon:g} days, by channel",
                xlabel=f"mean days shopping within the first {horizon:g} days (95% interval)")
    ax.set_ylabel("acquisition channel")
    return ax.figure
