"""Notebook 03's figures: churn rate panels, the retention curve, lapse Kaplan-Meier panels, calibration and lift.

Each draws a table of journeylib.retention's result and returns the figure; the
odds ratios use journeylib.figures.forest (`odds_ratio_forest`).
"""

from __future__ import annotations

import pandas as pd

from journeylib.figures.curves import draw_km
from journeylib.figures.forest import forest
from journeylib.figures.style import error_bars, named, percent_axis
from journeylib.labels import percent

SATISFACTION_BANDS = ("promoter", "passive", "detractor", "no_response")


def rate_panels(rates: pd.DataFrame, overall_rate: float, labels: dict, title: str):
    """One panel per feature of `labels` (feature -> label): churn rate per level with its interval,
    the overall rate dashed; `rates` has retention.rates.RATE_COLUMNS."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    for ax, (feature, label) in zip(axes.flat, labels.items()):
        table = rates[rates["feature"] == feature].sort_values("churn_rate")
        rate, errors = error_bars(table, "churn_rate")
        ax.errorbar(rate, range(len(table)), xerr=errors, fmt="o", capsize=3)
        ax.axvline(overall_rate, color="grey", linestyle="--", linewidth=1, label="all eligible buyers")
        ax.set_yticks(range(len(table)), [f"{named(level)} (n={n:,})" for level, n in zip(table["level"], table["buyers"])])
        percent_axis(ax, "x")
        ax.set(title=f"Churn rate by {label}", xlabel="share of eligible buyers churned (95% interval)", ylabel=label)
    axes.flat[0].legend(loc="lower right")
    fig.suptitle(title, fontweight="bold")
    fig.tight_layout()
    return fig


def retention_bars(curve: pd.DataFrame, window_months: int):
    """The share of buyers with a service visit in each window since purchase (retention.rates.CURVE_COLUMNS)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4.5))
    ax.bar(curve["window"], curve["share"], color="C0", alpha=0.8)
    share, errors = error_bars(curve, "share")
    ax.errorbar(curve["window"].to_numpy(), share, yerr=errors, fmt="none", ecolor="black", capsize=4)
    for x, (share, n) in enumerate(zip(curve["share"], curve["buyers"])):
        ax.text(x, share / 2, f"{share:.0%}\nof {n}\nbuyers", ha="center", va="center", color="white", fontsize=9,
                fontweight="bold")
    ax.set_ylim(0, 1)
    percent_axis(ax, "y")
    ax.set(title=f"Share of buyers with a service visit in each {window_months}-month window since purchase",
           xlabel="window since first purchase", ylabel="share with a service visit (95% interval)")
    fig.tight_layout()
    return fig


def lapse_panels(lapses: pd.DataFrame, churn_after_days: int, min_count: int):
    """Kaplan-Meier share not yet lapsed: all buyers, and per satisfaction band with at least `min_count` buyers."""
    import matplotlib.pyplot as plt

    from journeylib.retention.rates import lapse_km

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), sharey=True)
    draw_km(axes[0], lapse_km(lapses, "all buyers"), "survival", colour="C0")
    axes[0].legend()
    axes[0].set(title="All buyers")
    for i, band in enumerate(SATISFACTION_BANDS):
        part = lapses[lapses["satisfaction"] == band]
        if len(part) >= min_count:
            draw_km(axes[1], lapse_km(part, f"{named(band)} (n={len(part):,})"), "survival", colour=f"C{i % 10}", ci_alpha=0.12)
    if axes[1].lines:
        axes[1].legend()
    axes[1].set(title="By sales-survey satisfaction")
    for ax in axes:
        ax.axvline(churn_after_days, color="grey", linestyle=":", linewidth=1)
        ax.set(xlabel="days since first purchase", ylabel="share not yet lapsed", ylim=(0, 1.02))
        percent_axis(ax, "y")
    fig.suptitle(f"Time from purchase to lapse ({churn_after_days} days without a service visit), "
                 "Kaplan-Meier with 95% bands", fontweight="bold")
    fig.tight_layout()
    return fig


def odds_ratio_forest(odds: pd.DataFrame, title: str):
    """The model's odds ratios (retention.model.ODDS_COLUMNS) as a forest plot, each label naming its reference."""
    import matplotlib.pyplot as plt

    labels = [f"{named(t.split(':')[0])} (per doubling of 1 + days)" if r == "per doubling"
              else f"{named(t)} (vs {named(r)})" for t, r in zip(odds["term"], odds["reference"])]
    fig, ax = plt.subplots(figsize=(10, 0.33 * odds["odds_ratio"].notna().sum() + 1.8))
    forest(odds.assign(label=labels), ax, label="label", estimate="odds_ratio", group="feature", title=title,
           xlabel="odds ratio of churn (log scale, 95% interval)")
    fig.tight_layout()
    return fig


def _groups(calibration: pd.DataFrame) -> str:
    """'10 groups of about 53 buyers' (of about 1 buyer on a tiny export)."""
    size = round(float(calibration["buyers"].median()))
    return f"{len(calibration)} groups of about {size} buyer{'' if size == 1 else 's'}"


def calibration_and_lift(calibration: pd.DataFrame, lift: pd.DataFrame, measures: dict):
    """Observed against predicted churn on the holdout (with the no-model baseline), and lift by risk decile."""
    import matplotlib.pyplot as plt

    fig, (ax, right) = plt.subplots(1, 2, figsize=(13, 5))
    top = max(calibration["predicted"].max(), calibration["ci_high"].max(), measures["train_churn_rate"]) * 1.05
    ax.plot([0, top], [0, top], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    observed, errors = error_bars(calibration, "observed")
    ax.errorbar(calibration["predicted"].to_numpy(dtype=float), observed, yerr=errors, fmt="o-", capsize=3,
                label=f"model ({_groups(calibration)}, 95% interval)")
    ax.plot([measures["train_churn_rate"]], [measures["test_churn_rate"]], "s", color="C1", markersize=9,
            label="no-model baseline (everyone at the training rate)")
    ax.set(title=f"Calibration on the holdout (slope {measures['calibration_slope']:.2f}, "
                 f"intercept {measures['calibration_intercept']:.2f})",
           xlabel="mean predicted risk of churn", ylabel="observed share churned", xlim=(0, top), ylim=(0, top))
    ax.legend(loc="upper left")
    right.bar(lift["decile"], lift["lift"], color="C0")
    right.axhline(1, color="C1", linestyle=":", label="no-model baseline (lift 1)")
    right.set_xticks(lift["decile"])
    right.set(title="Lift by risk decile on the holdout", xlabel="risk decile (1 = highest predicted risk)",
              ylabel="churn rate / overall holdout churn rate")
    right.legend(loc="upper right")
    fig.tight_layout()
    return fig


def return_calibration(calibration: pd.DataFrame, as_of, until):
    """The service backtest: share who came back against the mean predicted probability, per tenth of buyers."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 5.6))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    # points, not a line: when the model gives every group nearly the same probability a line through them
    # reads as a vertical stroke; each point is numbered (1 = lowest predicted) and sized by its buyers
    predicted = calibration["predicted"].to_numpy(dtype=float)
    observed = calibration["observed"].to_numpy(dtype=float)
    buyers = calibration["buyers"].to_numpy(dtype=float)
    groups = _groups(calibration)
    low, high = percent(predicted.min()), percent(predicted.max())
    ax.scatter(predicted, observed, s=120 * buyers / max(buyers.max(), 1), color="C0", alpha=0.8, zorder=3,
               label=f"{groups}, numbered from lowest to highest predicted "
                     f"({f'all about {low}' if low == high else f'{low} to {high}'})")
    for number, x, y in zip(range(1, len(calibration) + 1), predicted, observed):  # odd right, even left: no overlap
        ax.annotate(str(number), (x, y), xytext=(8 if number % 2 else -8, 0), textcoords="offset points",
                    ha="left" if number % 2 else "right", va="center", fontsize=8)
    ax.set(title=f"Scored on {as_of:%d %b %Y}, checked on {until:%d %b %Y}",
           xlabel="predicted probability of a service visit within 12 months",
           ylabel="share who came back within 12 months", xlim=(0, 1), ylim=(0, 1))
    percent_axis(ax, "x")
    percent_axis(ax, "y")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), fontsize=9)  # below: never over a point
    fig.tight_layout()
    return fig


# ------------------------------------------------ notebook 03's figures of a result, None when nothing to draw


def show(fig, alt: str | None = None) -> None:
    """`figures.show` for a figure; nothing at all for None (the section's takeaway says why)."""
    from journeylib.figures import show as show_figure

    if fig is not None:
        show_figure(fig, alt)


def churn_rates(result):
    """The churn-rate panels of a RetentionResult; None without a churn rate."""
    from journeylib.retention.rates import RATE_FEATURES

    if result.churn_rate_ is None:
        return None
    return rate_panels(result.rates_, result.churn_rate, RATE_FEATURES, result.rate_title())


def retention_curve(result):
    return None if result.curve_.empty else retention_bars(result.curve_, result.params.window_months)


def lapses(result):
    if result.lapses_ is None:
        return None
    return lapse_panels(result.lapses_, result.params.churn_after_days, result.params.min_level_customers)


def odds_ratios(result):
    return None if result.model is None else odds_ratio_forest(result.odds_ratios_, result.odds_title())


def holdout(result):
    """Calibration and lift on the holdout; None without a holdout or with a measure not defined on it."""
    checked = result.holdout
    if checked is None or checked.missing:
        return None
    return calibration_and_lift(checked.calibration, checked.lift, checked.metrics)


def service_backtest(result):
    checked = result.service.backtest
    return None if checked is None else return_calibration(checked.calibration, checked.as_of, checked.until)
