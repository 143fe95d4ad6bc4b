"""Notebook 05's figures, drawn from a `journeylib.personas.PersonasResult`'s tables, and the persona card."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from journeylib import report
from journeylib.personas.profile import DIFFERENCE_FEATURES

BANDS = ("promoter", "passive", "detractor")


def _words(name) -> str:
    return str(name).replace("_", " ")


def _heatmap(table: pd.DataFrame, ax, fmt: str, cmap: str, label: str, center=None) -> None:
    sns.heatmap(table.rename(index=_words, columns=_words), annot=True, fmt=fmt, cmap=cmap, center=center, ax=ax,
                cbar_kws={"label": label})


def k_choice(k_table: pd.DataFrame, k: int):
    """Silhouette score per k, the chosen k circled."""
    fig, ax = plt.subplots()
    sns.lineplot(data=k_table, x="k", y="silhouette", marker="o", ax=ax)
    chosen = k_table[k_table["chosen"]].iloc[0]
    ax.scatter([chosen["k"]], [chosen["silhouette"]], s=160, facecolors="none", edgecolors="red", linewidths=2,
               label=f"chosen: k = {k}")
    ax.set(title="Choosing the number of personas", xlabel="number of personas (k)", ylabel="silhouette score")
    ax.legend()
    return fig


def persona_sizes(profile: pd.DataFrame):
    fig, ax = plt.subplots()
    sns.barplot(x=profile["share"] * 100, y=profile.index.str.replace("_", " "), ax=ax, color="C0")
    ax.set(title="Persona sizes", xlabel="share of customers (%)", ylabel="persona")
    return fig


def persona_differences(z: pd.DataFrame, features=DIFFERENCE_FEATURES):
    """Each persona's difference from all customers, in standard deviations, per feature."""
    fig, ax = plt.subplots(figsize=(10, 0.6 * len(z) + 2))
    sns.heatmap(z[list(features)].rename(index=_words), annot=True, fmt=".1f", center=0, cmap="vlag", ax=ax,
                cbar_kws={"label": "difference from all customers (sd)"})
    ax.set(title="What sets each persona apart", xlabel="feature", ylabel="persona")
    return fig


def persona_card(row: pd.Series) -> str:
    """A persona card in Markdown: numbers formatted here, text from the data (bands, channels, themes) escaped."""
    text = {key: report.escape_text(_words(row[key])) for key in
            ("top_income_band", "top_gender", "top_region", "top_acquisition_channel", "top_finance_type",
             "top_pain_points")}
    days = "n/a" if pd.isna(row["median_days_to_purchase"]) else f"{row['median_days_to_purchase']:.0f} days"
    age = "n/a" if pd.isna(row["median_age"]) else f"{row['median_age']:.0f}"
    return "\n".join([
        f"**{row['customers']} customers ({report.pct(row['share'])})**",
        f"- Who: median age {age}, most often income {text['top_income_band']}, gender {text['top_gender']}, "
        f"region {text['top_region']}",
        f"- Channels: first touch mostly {text['top_acquisition_channel']}, {row['channels_used']:.1f} channels used; "
        f"shopping events {report.pct(row['digital_share'], 0)} digital, {report.pct(row['social_share'], 0)} social, "
        f"{report.pct(row['in_person_share'], 0)} in person",
        f"- Research: {row['vdp_views']:.1f} vehicle-detail views, {row['build_and_price']:.1f} build-and-price, "
        f"{row['price_tools']:.1f} trade-in/finance tools; test drive {report.pct(row['test_drive_rate'], 0)}",
        f"- Buying: conversion {report.pct(row['conversion'])}, median time to purchase {days}, "
        f"mostly pays by {text['top_finance_type']}",
        f"- Pain points: {text['top_pain_points']}",
    ])


def show_card(name: str, row: pd.Series) -> None:
    """The persona's heading and card, in the notebook."""
    from IPython.display import Markdown, display

    report.heading(f"Persona: {_words(name)}", level=3)
    display(Markdown(persona_card(row)))


def theme_bars(summary: pd.DataFrame):
    """How often each theme comes up, and its mean sentiment (themes by mentions)."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    order = summary.sort_values("mentions", ascending=False).index
    labels = [_words(t) for t in order]
    sns.barplot(x=summary.loc[order, "share"] * 100, y=labels, ax=axes[0], color="C0")
    axes[0].set(title="How often each theme comes up", xlabel="share of comments (%)", ylabel="theme")
    sns.barplot(x=summary.loc[order, "mean_sentiment"], y=labels, ax=axes[1], color="C3")
    axes[1].axvline(0, color="black", linewidth=0.8)
    axes[1].set(title="How customers feel about it", xlabel="mean sentiment (-1..1)", ylabel="")
    return fig


def themes_by_stage_and_band(by_stage: pd.DataFrame, by_band: pd.DataFrame):
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    _heatmap(by_stage * 100, axes[0], ".0f", "Blues", "% of comments")
    axes[0].set(title="Themes by journey stage", xlabel="survey", ylabel="theme")
    _heatmap(by_band * 100, axes[1], ".0f", "Reds", "% of comments")
    axes[1].set(title="Themes by satisfaction band", xlabel="band", ylabel="")
    return fig


def sentiment_by_band(scored: pd.DataFrame):
    fig, ax = plt.subplots()
    sns.boxplot(data=scored, x="band", y="sentiment", order=[b for b in BANDS if b in set(scored["band"])],
                ax=ax, color="C0")
    ax.set(title="Comment sentiment by satisfaction band", xlabel="satisfaction band", ylabel="sentiment (-1..1)")
    return fig


def pain_by_persona(table: pd.DataFrame):
    fig, ax = plt.subplots(figsize=(10, 0.6 * len(table) + 2))
    _heatmap(table, ax, ".0f", "Reds", "% of the persona's comments")
    ax.set(title="Pain points by persona (negative mentions)", xlabel="theme", ylabel="persona")
    return fig
