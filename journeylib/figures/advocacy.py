"""Notebook 04's figures besides the forest plot, each drawn from an advocacy result's tables.

Every function returns the figure; the notebook shows it with `journeylib.figures.show`.
"""

from __future__ import annotations

import numpy as np

from journeylib.advocacy.referrals import BANDS
from journeylib.figures.curves import draw_km
from journeylib.figures.style import error_bars, named, percent_axis, plain

CATEGORY_COLOURS = {"detractor": "#d55e00", "passive": "#999999", "promoter": "#009e73"}
SURVEY_COLOURS = {"sales": "C0", "service": "C1"}
EVENT_LABELS = {"review_posted": "posted a review", "social_share": "shared on social media"}


def _colour(survey_type: str) -> str:
    return SURVEY_COLOURS.get(survey_type, "C1")


def score_distributions(distribution, nps):
    """One bar panel per survey type: share of responses per score 0-10, coloured by NPS category."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    fig, axes = plt.subplots(1, len(nps), figsize=(12, 4.5), sharey=True, squeeze=False)
    for ax, (survey_type, part) in zip(axes[0], distribution.groupby("survey_type")):
        ax.bar(part["score"], part["share"], color=[CATEGORY_COLOURS[c] for c in part["category"]])
        row = nps.loc[survey_type]
        ax.set(title=f"{survey_type.capitalize()} survey: NPS {row['nps']:.0f} ({int(row['responses'])} responses)",
               xlabel="likelihood to recommend (0-10)", ylabel="share of responses", xticks=range(11))
        percent_axis(ax)
    handles = [Patch(color=color, label=label) for label, color in CATEGORY_COLOURS.items()]
    axes[0][-1].legend(handles=handles, title="category", loc="upper left")
    fig.suptitle("Score distributions", fontweight="bold")
    fig.tight_layout()
    return fig


def nps_by_dealer(by_dealer, min_responses: int):
    """NPS per dealer with its interval, sales and service side by side; hollow: fewer than `min_responses`."""
    import matplotlib.pyplot as plt

    dealers = sorted(by_dealer["dealer_id"].astype(str).unique())
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(dealers) + 2))
    for offset, (survey_type, part) in zip((-0.15, 0.15), by_dealer.groupby("survey_type")):
        y = np.array([dealers.index(str(d)) for d in part["dealer_id"]]) + offset
        small = part["responses"] < min_responses
        color = _colour(survey_type)
        nps, errors = error_bars(part, "nps")
        ax.errorbar(nps, y, xerr=errors, fmt="none", capsize=3, color=color)
        ax.scatter(part["nps"], y, edgecolors=color, facecolors=np.where(small, "white", color),
                   label=f"{survey_type} survey", zorder=3)
    ax.axvline(0, color="grey", linestyle="--")
    ax.set_yticks(range(len(dealers)), [plain(d) for d in dealers])
    ax.set(title="NPS by dealer (95% interval)", xlabel="NPS (-100 to 100)", ylabel="dealer", xlim=(-100, 100))
    ax.invert_yaxis()
    ax.legend(loc="lower left")
    fig.tight_layout()
    return fig


def nps_by_quarter(by_quarter, min_responses: int):
    """NPS per quarter of response with its interval band per survey type; hollow: few responses."""
    import matplotlib.pyplot as plt

    quarters = sorted(by_quarter["quarter"].unique())
    fig, ax = plt.subplots(figsize=(11, 4.5))
    for survey_type, part in by_quarter.groupby("survey_type"):
        part = part.sort_values("quarter")
        x = part["quarter"].map(quarters.index)
        color = _colour(survey_type)
        ax.plot(x, part["nps"], marker="o", color=color, label=f"{survey_type} survey")
        ax.fill_between(x, part["ci_low"], part["ci_high"], color=color, alpha=0.15)
        small = part["responses"] < min_responses
        ax.scatter(x[small], part.loc[small, "nps"], color="white", edgecolor=color, zorder=3)
    ax.set_xticks(range(len(quarters)), quarters)
    ax.set(title="NPS by quarter of response (95% interval; hollow: few responses)", xlabel="quarter (UTC)",
           ylabel="NPS (-100 to 100)", ylim=(-100, 100))
    ax.tick_params(axis="x", rotation=45)
    ax.legend(loc="lower left")
    fig.tight_layout()
    return fig


def referrals_per_buyer(model_frame, rates_by_band, top: int = 5):
    """Left: buyers by number of referrals (top+ pooled); right: referrals per buyer-year by band."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    counts = model_frame["referrals"].clip(upper=top).value_counts().reindex(range(top + 1), fill_value=0)
    axes[0].bar([str(c) if c < top else f"{top}+" for c in counts.index], counts.to_numpy())
    axes[0].set(title="Referrals per buyer", xlabel="referrals made since the first purchase", ylabel="buyers")
    rate, errors = error_bars(rates_by_band, "per_buyer_year")
    axes[1].bar([named(b) for b in rates_by_band["satisfaction"].astype(str)], rate, capsize=4, color="C2", yerr=errors)
    axes[1].set(title="Referrals per buyer-year by satisfaction band", xlabel="satisfaction band (sales survey)",
                ylabel="referrals per buyer per year (95% interval)")
    fig.tight_layout()
    return fig


def count_fit(table):
    """Buyers with 0, 1, 2, ... referrals: observed, Poisson expected and NB2 expected, side by side."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5))
    x = np.arange(len(table))
    for shift, column, label in ((-0.27, "observed", "observed"), (0, "poisson_expected", "Poisson expected"),
                                 (0.27, "nb2_expected", "NB2 expected")):
        ax.bar(x + shift, table[column], width=0.27, label=label)
    ax.set_xticks(x, table["referrals"])
    ax.set(title="Buyers by number of referrals: observed and expected", xlabel="referrals made", ylabel="buyers")
    ax.legend()
    fig.tight_layout()
    return fig


def referral_funnel(funnel):
    """Horizontal bars from referrals to referred buyers, each labelled with its share of the step above."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3.5))
    ax.barh(funnel["step"][::-1], funnel["count"][::-1], color="C2")
    for y, (_, row) in enumerate(funnel[::-1].iterrows()):
        share = row["share_of_previous"]
        label = f"{row['count']}" + ("" if np.isnan(share) else f"  ({share:.0%} of the step above)")
        ax.text(row["count"], y, "  " + label, va="center")
    ax.set(title="From referrals to referred buyers", xlabel="count", ylabel="", xlim=(0, funnel["count"].max() * 1.45))
    fig.tight_layout()
    return fig


def purchase_curves(curves: dict):
    """Share of leads who have bought over days since first touch, one Kaplan-Meier curve per group, at-risk counts."""
    import matplotlib.pyplot as plt
    from lifelines.plotting import add_at_risk_counts

    fig, ax = plt.subplots(figsize=(9, 5))
    for i, km in enumerate(curves.values()):
        draw_km(ax, km, "cumulative", colour=f"C{i % 10}", ci_alpha=0.15)
    ax.legend()
    ax.set(title="Share of leads who have bought: referred against other leads", xlabel="days since first touch",
           ylabel="share bought", ylim=(0, 1))
    add_at_risk_counts(*curves.values(), ax=ax, rows_to_show=["At risk"])
    fig.tight_layout()
    return fig


def chain_depth(depth_table):
    """Referred customers per chain depth (depth 0, the unreferred, left out)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    referred = depth_table[depth_table["depth"] > 0]
    ax.bar(referred["depth"].astype(str), referred["customers"], color="C4")
    ax.set(title="Referred customers by chain depth", xlabel="chain depth (1 = referred by an unreferred customer)",
           ylabel="customers")
    fig.tight_layout()
    return fig


def reviews_by_band(by_band, bands=BANDS, width: float = 0.38):
    """Share of buyers who reviewed or shared after their purchase, per satisfaction band (95% interval)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4.5))
    bands = list(bands)
    for i, (event, part) in enumerate(by_band[by_band["satisfaction"] != "all"].groupby("event")):
        part = part.set_index("satisfaction").reindex(bands)
        x = np.arange(len(bands)) + (i - 0.5) * width
        share, errors = error_bars(part, "share")
        ax.bar(x, share, width=width, label=EVENT_LABELS.get(event, event), yerr=errors, capsize=3)
    ax.set_xticks(np.arange(len(bands)), [named(b) for b in bands])
    percent_axis(ax)
    ax.set(title="Buyers who reviewed or shared after their purchase, by satisfaction band",
           xlabel="satisfaction band (sales survey)", ylabel="share of buyers (95% interval)")
    ax.legend()
    fig.tight_layout()
    return fig
