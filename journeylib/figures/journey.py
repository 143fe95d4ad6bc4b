"""The journey figures: funnel bars, group intervals, cohorts, progression, heatmaps, sankeys, attribution, the poster.

Each function draws from a `journeylib.journey_map` result's tables (fixed
columns) and returns the figure; `journeylib.figures.show(fig)` puts it in the
notebook. Nothing here computes a number a metric or a takeaway depends on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeylib.figures.curves import thinned
from journeylib.figures.style import error_bars, percent_axis, plain
from journeylib.journey_map.surveys import SURVEY_STAGE
from journeylib.journey_map.variants import transition_matrix
from journeylib.labels import label
from journeylib.vocabulary import STAGES


POSTER_LINE_CHARS = 26  # a poster column holds about this many characters at its font size (15-inch figure, 5 stages)


def _item(prefix: str, text: str) -> list[str]:
    """One listed name on the poster, wrapped under its prefix so it stays in its column (at most two lines; a
    longer one ends in '…')."""
    import textwrap

    return textwrap.wrap(text, POSTER_LINE_CHARS, initial_indent=prefix, subsequent_indent=" " * len(prefix),
                         max_lines=2, placeholder=" …", break_on_hyphens=False) or [prefix.rstrip()]


def _stage_text(row) -> str:
    """The facts under one stage of the poster, in words: labels for every code, no 'n/a'."""
    share = "" if pd.isna(row["reach_share"]) else f" ({row['reach_share']:.0%})"
    lines = [f"Reach: {row['reach']:,}{share}"]
    if not pd.isna(row["conversion"]):
        lines.append(f"On to next: {row['conversion']:.0%}\n  (95% interval {100 * row['ci_low']:.0f}–{row['ci_high']:.0%})")
        median = row["median_days_to_next"]
        lines.append("Median time to next:\n  " + (_no_median(row) if pd.isna(median) else
                                                   f"{median:.0f} day{'' if round(median) == 1 else 's'}"))
    else:
        lines.append("Last stage")
    lines.append("Top touchpoints:")
    lines += [line for i, v in enumerate(row["top_touchpoints"], 1) for line in _item(f"  {i}. ", plain(label(v)))] \
        or ["  none"]
    lines.append("Top channels:")
    lines += [line for i, v in enumerate(row["top_channels"], 1) for line in _item(f"  {i}. ", plain(label(v)))] \
        or ["  none"]
    if not pd.isna(row["survey_responses"]):
        nps = "" if pd.isna(row["nps"]) else f"NPS {row['nps']:+.0f}\n  "
        mean = "" if pd.isna(row["mean_score"]) else f"mean {row['mean_score']:.1f}/10, "
        lines.append(f"Satisfaction: {nps}{mean}n={int(row['survey_responses']):,}")
    else:
        lines.append("Satisfaction: no survey")
    if row["pain_points"]:
        lines.append("Pain points:")
        lines += [line for p in row["pain_points"] for line in _item("  - ", plain(label(p)))]
    elif row["stage"] in SURVEY_STAGE.values() and not pd.isna(row["survey_responses"]):
        lines.append("Pain points: none named")
    return "\n".join(lines)


def _no_median(row) -> str:
    """Why a stage has no median time to the next: nobody moved on, or everyone who did reached both stages at
    once (a lead form on a third-party site is awareness and consideration at the same moment)."""
    return "nobody moved on yet" if not row["conversion"] > 0 else "reached together"


def draw_journey_map(table: pd.DataFrame, title: str = "Customer journey map"):
    """The printable one-page map: stages as columns, reach bars on top, the stage facts below."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(15, 8))
    grid = fig.add_gridspec(2, len(table), height_ratios=[1, 2.6], hspace=0.06, wspace=0.05)
    bars = fig.add_subplot(grid[0, :])
    colors = plt.cm.Blues(np.linspace(0.85, 0.35, len(table)))
    positions = np.arange(len(table))
    bars.bar(positions, table["reach"], color=colors, width=0.9)
    for x, row in zip(positions, table.itertuples()):
        bars.text(x, row.reach, f"{row.reach:,}", ha="center", va="bottom", fontsize=10, fontweight="bold")
        if not pd.isna(row.conversion):
            bars.annotate(f"{row.conversion:.0%} →", xy=(x + 0.5, max(table["reach"].max(), 1) * 0.55),
                          ha="center", fontsize=10, color="#333333",
                          bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="#999999"))
    bars.set_xticks(positions, [label(s) for s in table["stage"]], fontsize=12, fontweight="bold")
    bars.xaxis.tick_top()
    bars.set_xlim(-0.5, len(table) - 0.5)
    bars.set_ylabel("Customers reached")
    bars.set_ylim(0, max(table["reach"].max(), 1) * 1.25)
    bars.grid(axis="x", visible=False)
    for i, row in enumerate(table.to_dict("records")):
        ax = fig.add_subplot(grid[1, i])
        ax.set_axis_off()
        ax.add_patch(plt.Rectangle((0.02, 0.0), 0.96, 1.0, transform=ax.transAxes, fc=colors[i], alpha=0.12,
                                   ec="#bbbbbb"))
        ax.text(0.07, 0.97, _stage_text(row), transform=ax.transAxes, va="top", ha="left", fontsize=11.5,
                linespacing=1.3)
    fig.suptitle(plain(title), fontsize=15, fontweight="bold", y=1.0)
    return fig


# ---------------------------------------------------------------- flows

def draw_sankey(ax, flows: pd.DataFrame, left_order=None, right_order=None, title: str = "",
                left_label: str = "", right_label: str = "", gap: float = 0.02, min_label_share: float = 0.015):
    """A two-column Sankey/alluvial in plain matplotlib: `flows` has columns source, target, value.

    Node heights are proportional to their totals; each band is drawn between two
    cubic Bezier curves, coloured by its source.
    """
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path
    import matplotlib.pyplot as plt

    flows = flows[flows["value"] > 0]
    total = flows["value"].sum()
    if total <= 0:
        raise ValueError("draw_sankey: no positive flows to draw")
    left = flows.groupby("source")["value"].sum()
    right = flows.groupby("target")["value"].sum()
    left_order = [s for s in (left_order or left.sort_values(ascending=False).index) if s in left.index]
    right_order = [s for s in (right_order or right.sort_values(ascending=False).index) if s in right.index]
    scale = (1 - gap * (max(len(left_order), len(right_order)) - 1)) / total

    def stack(order, sizes):
        tops, y = {}, 1.0
        for name in order:
            tops[name] = y
            y -= sizes[name] * scale + gap
        return tops

    left_top, right_top = stack(left_order, left), stack(right_order, right)
    palette = plt.cm.tab20(np.linspace(0, 1, 20))
    colour = {name: palette[i % 20] for i, name in enumerate(left_order)}
    left_used = {k: 0.0 for k in left_order}
    right_used = {k: 0.0 for k in right_order}
    x0, x1 = 0.12, 0.88
    order = {name: i for i, name in enumerate(right_order)}
    for src in left_order:
        out = flows[flows["source"] == src].assign(_o=lambda f: f["target"].map(order)).sort_values("_o")
        for flow in out.itertuples():
            h = flow.value * scale
            ly = left_top[src] - left_used[src]
            ry = right_top[flow.target] - right_used[flow.target]
            left_used[src] += h
            right_used[flow.target] += h
            mid = (x0 + x1) / 2
            verts = [(x0, ly), (mid, ly), (mid, ry), (x1, ry), (x1, ry - h), (mid, ry - h), (mid, ly - h),
                     (x0, ly - h), (x0, ly)]
            codes = [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4, Path.LINETO, Path.CURVE4, Path.CURVE4,
                     Path.CURVE4, Path.CLOSEPOLY]
            ax.add_patch(PathPatch(Path(verts, codes), fc=colour[src], alpha=0.45, lw=0))
    for names, tops, sizes, x, ha in ((left_order, left_top, left, x0, "right"),
                                      (right_order, right_top, right, x1, "left")):
        for name in names:
            h = sizes[name] * scale
            ax.add_patch(plt.Rectangle((x - 0.012 if ha == "right" else x, tops[name] - h), 0.012, h,
                                       fc=colour.get(name, "#555555"), ec="none"))
            if sizes[name] / total >= min_label_share:
                text = plain(f"{label(name)} ({sizes[name]:,.0f})")
                ax.text(x - 0.02 if ha == "right" else x + 0.02, tops[name] - h / 2, text, ha=ha, va="center",
                        fontsize=9)
    ax.set_xlim(0, 1)
    bottom = min([left_top[n] - left[n] * scale for n in left_order] + [right_top[n] - right[n] * scale for n in right_order])
    ax.set_ylim(bottom - gap, 1.02)
    ax.set_xticks([x0, x1], [left_label, right_label])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title)
    return ax


# ---------------------------------------------------------------- the notebook's figures

STAGE_NAMES = [s.capitalize() for s in STAGES]
STEP_LABELS = {  # the column headings of the time-between-stages table
    "progressed": "moved on", "median_days": "median days", "q1_days": "days, 25th pct", "q3_days": "days, 75th pct",
    "at_risk": "reached the stage", "km_median_days": "KM median days (blank: half never move on)",
    "by_30_days": "KM share by 30 days", "by_90_days": "by 90 days", "by_180_days": "by 180 days"}


def funnel_bars(funnel: pd.DataFrame, conversion: pd.DataFrame):
    """Customers reaching each stage (bars), and stage-to-stage conversion with 95% intervals."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.5), gridspec_kw={"width_ratios": [1.2, 1]})
    sns.barplot(x=funnel["customers"], y=STAGE_NAMES, color=sns.color_palette()[0], ax=left)
    for i, row in enumerate(funnel.itertuples()):
        left.text(row.customers, i, f" {row.customers:,} ({row.share_of_customers:.0%})", va="center")
    left.set(title="Customers reaching each stage", xlabel="customers", ylabel="stage",
             xlim=(0, funnel["customers"].max() * 1.3))
    labels = [f"{a.capitalize()} → {b}" for a, b in zip(conversion["from_stage"], conversion["to_stage"])]
    _intervals(right, conversion, "rate", labels, capsize=4)
    right.set(title="Stage-to-stage conversion (95% CI)", xlabel="share who reach the next stage", ylabel="",
              xlim=(0, 1))
    fig.tight_layout()
    return fig


def _intervals(ax, table: pd.DataFrame, estimate: str, labels, capsize=3):
    centre, errors = error_bars(table, estimate)
    ax.errorbar(centre, list(labels), xerr=errors, fmt="o", capsize=capsize)
    ax.invert_yaxis()
    percent_axis(ax, "x")


def purchase_share_panels(tables: dict):
    """Share of each group's customers who bought, with 95% intervals: one panel per grouping."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(tables), figsize=(13, 4.8))
    for ax, (by, table) in zip(np.atleast_1d(axes), tables.items()):
        title = label(by).lower()
        _intervals(ax, table, "share_of_segment", table["segment"].map(lambda s: plain(label(s))))
        ax.set(title=f"Share who bought, by {title}", xlabel="share of the group's customers who reached purchase",
               ylabel=title, xlim=(-0.02, 1.02))
    fig.tight_layout()
    return fig


def cohort_lines(cohorts: pd.DataFrame, horizon_days: int):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 4.5))
    for stage in ["consideration", "purchase"]:
        ax.plot(cohorts["cohort"], cohorts[stage], marker="o", label=f"reached {stage}")
    ax.set(title=f"Share of each monthly cohort progressing within {horizon_days} days of first touch",
           xlabel="month of first touch", ylabel="share of cohort", ylim=(0, 1))
    percent_axis(ax)
    ax.tick_params(axis="x", rotation=60)
    ax.legend()
    return fig


def _step_name(step) -> str:
    """`awareness → consideration` as `Awareness → consideration` (each part a label)."""
    parts = [label(part.strip()) for part in str(step).split("→")]
    return plain(" → ".join([parts[0]] + [part[:1].lower() + part[1:] for part in parts[1:]]))


def progression_curves(curves: pd.DataFrame):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4.5))
    for step, curve in curves.groupby("step", sort=False):
        curve = thinned(curve.set_index("days")["progressed"].to_frame())
        ax.step(curve.index, curve["progressed"], where="post", label=_step_name(step))
    ax.set(title="Kaplan-Meier: share progressing to the next stage", xlabel="days since reaching the stage",
           ylabel="share progressed", ylim=(0, 1), xlim=(0, 365))
    percent_axis(ax)
    ax.legend()
    return fig


def _named_axes(matrix: pd.DataFrame) -> pd.DataFrame:
    """A matrix of codes with its rows and columns as labels (`walk_in` -> Walk-in); '(start)' and '(end)' stay."""
    def name(code):
        text = str(code)
        return text if text.startswith("(") and text.endswith(")") and text != "(none)" else plain(label(text))

    return matrix.rename(index=name, columns=name)


def heatmap(matrix: pd.DataFrame, ax, title: str, xlabel: str, ylabel: str, fmt: str = ".0%", cmap: str = "Blues",
            **options):
    import seaborn as sns

    sns.heatmap(matrix, annot=True, fmt=fmt, cmap=cmap, ax=ax, **{"cbar": False, **options})
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(False)
    return ax


def channel_mix(mix: pd.DataFrame):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 3.8))
    heatmap(_named_axes(mix), ax, "Channel mix per stage", "channel", "stage", cbar=True,
            cbar_kws={"label": "share of the stage's events"})
    return fig


def channels_used(per_journey: pd.Series, used: pd.DataFrame):
    """Distinct channels per journey (all customers) and before the first purchase (buyers)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4))
    left.bar(per_journey.index, per_journey.to_numpy())
    left.set(title="Channels per journey (whole journey)", xlabel="distinct channels used", ylabel="customers")
    right.bar(used["channels"], used["buyers"].to_numpy(), color=sns.color_palette()[2])
    right.set(title="Channels used before the first purchase (buyers)", xlabel="distinct channels before buying",
              ylabel="buyers")
    fig.tight_layout()
    return fig


def stage_transitions(trans: pd.DataFrame):
    """Stage to next step: shares (rows sum to 1) and median days between the steps (days, as every time measure
    a reviewer reads)."""
    import matplotlib.pyplot as plt

    probability = _named_axes(transition_matrix(trans, "probability", STAGES))
    days = _named_axes(transition_matrix(trans, "median_hours", STAGES) / 24)
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 4.5))
    heatmap(probability, left, "Stage transitions: share of next steps", "next step", "from")
    heatmap(days.drop(columns=[c for c in ["(end)"] if c in days]), right, "Median days between the steps",
            "next step", "from", fmt=".0f", cmap="Oranges")
    fig.tight_layout()
    return fig


def channel_transitions(trans: pd.DataFrame, channels: list):
    """Channel to next channel: shares of next steps, channels in the order given."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(13, 6))
    heatmap(_named_axes(transition_matrix(trans, "probability", channels)), ax, "Channel transitions: share of next steps (every event in the log)", "next channel",
            "from channel", cmap="Purples", annot_kws={"fontsize": 8})
    return fig


def event_type_transitions(trans: pd.DataFrame, event_types: list):
    """Event type to next event type (the most frequent types; the rest pooled into 'other')."""
    import matplotlib.pyplot as plt

    from journeylib.labels import label

    matrix = transition_matrix(trans, "probability", event_types)
    matrix.index = [plain(label(s)) if not s.startswith("(") else s for s in matrix.index]
    matrix.columns = [plain(label(s)) if not s.startswith("(") else s for s in matrix.columns]
    fig, ax = plt.subplots(figsize=(13, 6.5))
    heatmap(matrix, ax, "Event-type transitions: share of next steps (events that count for the journey)",
            "next event type", "from event type", cmap="Greens", annot_kws={"fontsize": 8})
    ax.tick_params(axis="x", rotation=35)
    fig.tight_layout()
    return fig


def flows(stage_flows: pd.DataFrame, channel_flows: pd.DataFrame):
    """Two Sankeys: stage to next step, and first-touch channel to furthest stage."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(15, 7))
    draw_sankey(left, stage_flows, left_order=list(STAGES), right_order=list(STAGES) + ["stopped"],
                title="Stage to next stage (steps)", left_label="from stage", right_label="next step")
    draw_sankey(right, channel_flows, right_order=list(STAGES), title="Acquisition channel to furthest stage (customers)",
                left_label="first-touch channel", right_label="furthest stage reached")
    fig.tight_layout()
    return fig


def attribution_bars(shares: pd.DataFrame, purchases: int):
    """Share of purchase credit per channel under each model, channels by their mean share."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    shares = shares.loc[shares.mean(axis=1).sort_values(ascending=False).index]
    long = shares.rename_axis("channel").reset_index().melt(id_vars="channel", var_name="model", value_name="share")
    fig, ax = plt.subplots(figsize=(13, 5))
    sns.barplot(data=long, x="channel", y="share", hue="model", ax=ax)
    ax.set(title=f"Share of {purchases:,} purchases credited to each channel, by model",
           xlabel="channel", ylabel="share of purchase credit")
    percent_axis(ax)
    ax.tick_params(axis="x", rotation=30)
    return fig


def segment_funnel(by_segment: pd.DataFrame, shown: list, segment_by: str):
    """Share of each shown segment's customers reaching every stage."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(11, 5))
    plotted = by_segment[by_segment["segment"].isin(shown)].assign(
        name=lambda f: f["segment"].map(lambda s: plain(label(s))), stage=lambda f: f["stage"].map(label))
    sns.lineplot(data=plotted, x="stage", y="share_of_segment", hue="name", hue_order=[plain(label(s)) for s in shown],
                 marker="o", ax=ax)
    word = label(segment_by).lower()
    ax.set(title=f"Funnel by {word} (largest {len(shown)} segments)", xlabel="stage",
           ylabel="share of the segment's customers reaching the stage", ylim=(0, 1))
    percent_axis(ax)
    ax.legend(title=word, bbox_to_anchor=(1.01, 1), loc="upper left")
    return fig


def step_funnel(name: str, overall: pd.DataFrame, by_group: pd.DataFrame):
    """One configured funnel: customers reaching each step (bars, with the step's conversion and in-progress
    count), and each step's conversion per dealer and per acquisition channel (empirical-Bayes rates)."""
    import matplotlib.pyplot as plt

    from journeylib.labels import label

    # a grouping with one group (every customer without a dealer) has nothing to compare: no heatmap
    groupings = [by for by in ("dealer_id", "acquisition_channel")
                 if by_group.loc[by_group["by"] == by, "group"].nunique() > 1]
    fig, axes = plt.subplots(1, 1 + len(groupings), figsize=(6 + 5 * len(groupings), 0.6 * len(overall) + 3.2),
                             gridspec_kw={"width_ratios": [1.3] + [1] * len(groupings)})
    axes = np.atleast_1d(axes)
    steps = [label(s) for s in overall["step"]]
    bars = axes[0]
    bars.barh(steps, overall["reached"].to_numpy(dtype=float))
    bars.invert_yaxis()
    top = max(float(overall["reached"].max()), 1.0)
    wide = False  # a longer label: more room right of the bars
    for i, row in enumerate(overall.itertuples()):
        text = f" {row.reached:,}"
        if not pd.isna(row.conversion):
            text += f" ({row.conversion:.0%} of {'all ' if not i else ''}{row.eligible:,})"
        if row.in_progress:
            text += f"\n  {row.in_progress:,} in progress"
        if i and row.reached and getattr(row, "same_moment", 0) == row.reached:
            text += "\n  same moment as the step before"
            wide = True
        bars.text(row.reached, i, text, va="center", fontsize=11)
    bars.set(title=f"{plain(label(name))} funnel: customers reaching each step", xlabel="customers", ylabel="step",
             xlim=(0, top * (2.4 if wide else 1.9)))
    for ax, by in zip(axes[1:], groupings):
        rows = by_group[by_group["by"] == by]
        matrix = rows.pivot_table(index="group", columns="step", values="shrunk", aggfunc="first", dropna=False)
        order = rows.drop_duplicates("group").sort_values("customers", ascending=False)["group"]
        matrix = matrix.reindex(index=list(order), columns=list(overall["step"])).iloc[:, 1:].dropna(how="all")
        matrix.index = [plain(label(g)) for g in matrix.index]
        matrix.columns = [label(s) for s in matrix.columns]
        if matrix.empty:  # nobody in any group could reach a later step
            ax.set_axis_off()
            ax.set_title(f"Step conversion by {label(by).lower()}: nobody could reach a later step")
            continue
        heatmap(matrix, ax, f"Step conversion by {label(by).lower()}", "step", label(by), vmin=0, vmax=1)
        ax.tick_params(axis="x", rotation=30)
        ax.tick_params(axis="y", rotation=0)  # group names read across, however few rows
    fig.tight_layout()
    return fig


def revenue_bars(credits: pd.DataFrame, total: float):
    """Revenue credited to each channel under each model (each model's bars sum to the attributed revenue)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    from journeylib.labels import label

    credits = credits.loc[credits.mean(axis=1).sort_values(ascending=False).index]
    long = credits.rename_axis("channel").reset_index().melt(id_vars="channel", var_name="model", value_name="revenue")
    long["channel"], long["model"] = long["channel"].map(lambda c: plain(label(c))), long["model"].map(label)
    fig, ax = plt.subplots(figsize=(13, 5))
    sns.barplot(data=long, x="channel", y="revenue", hue="model", ax=ax)
    ax.set(title=f"Revenue of the attributed purchases ({total:,.0f}) credited to each channel, by model",
           xlabel="channel", ylabel="revenue credited")
    ax.yaxis.set_major_formatter(money_ticks(ax.get_ylim()[1]))
    ax.tick_params(axis="x", rotation=30)
    ax.legend(title="model")
    return fig


def revenue_per_lead(tables: dict):
    """Revenue per lead (every customer a group brought in) and per purchase, one row of panels per grouping."""
    import matplotlib.pyplot as plt

    from journeylib.labels import label

    tables = priced_tables(tables)
    fig, axes = plt.subplots(len(tables), 2, figsize=(13, 0.35 * sum(len(t) for t in tables.values()) + 2.5 * len(tables)),
                             squeeze=False)
    for (title, table), (left, right) in zip(tables.items(), axes):
        names = [plain(label(g)) for g in table["group"]]
        left.barh(names, table["per_lead"].to_numpy(dtype=float))
        right.barh(names, table["per_purchase"].fillna(0).to_numpy(dtype=float), color="#55a868")
        for ax, what in ((left, "per lead"), (right, "per purchase")):
            ax.invert_yaxis()
            ax.set(title=f"Revenue {what}, by {title}", xlabel=f"revenue {what}", ylabel=title)
            ax.xaxis.set_major_formatter(money_ticks(ax.get_xlim()[1]))
            ax.xaxis.set_major_locator(plt.MaxNLocator(4))  # money ticks are wide: a few, never overlapping
    fig.tight_layout()
    return fig


def money_ticks(top: float):
    """Tick labels for amounts up to `top`: whole numbers with thousands separators, and decimals when the
    amounts are small (per-lead revenue of a few units would read 0, 0, 1, 1)."""
    import matplotlib.pyplot as plt

    decimals = 2 if top < 10 else 1 if top < 100 else 0
    return plt.FuncFormatter(lambda value, _: f"{value:,.{decimals}f}")


def priced_tables(tables: dict) -> dict:
    """The revenue-by-group tables with some revenue: without a known price every bar is 0 (an empty chart)."""
    return {title: table for title, table in tables.items()
            if table is not None and len(table) and table["revenue"].sum() > 0}


def behaviour_differences(comparison, top: int = 15):
    """Diverging bars: the flagged behaviours' difference in share between the two groups, with 95% intervals."""
    import matplotlib.pyplot as plt

    from journeylib.journey_map.compare import behaviour_label

    shown = comparison.flagged_.head(top).iloc[::-1]
    a, b = comparison.names
    fig, ax = plt.subplots(figsize=(11, 0.42 * len(shown) + 1.8))
    names = [plain(behaviour_label(k, v)) for k, v in zip(shown["kind"], shown["behaviour"])]
    centre, errors = error_bars(shown, "difference")
    colors = np.where(centre > 0, "#4c72b0", "#dd8452")
    ax.barh(names, centre, color=colors, xerr=errors, capsize=3, ecolor="#444444")
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set(title=f"What {plain(a)} do more (right) or less (left) than {plain(b)}: flagged differences",
           xlabel=f"share of {plain(a)} minus share of {plain(b)} (95% CI)", ylabel="")
    percent_axis(ax, "x")
    fig.tight_layout()
    return fig


def markov_k_credits(credits: pd.DataFrame, order: int):
    """Purchases credited to each channel by the order-k Markov model, with resampling 95% intervals."""
    import matplotlib.pyplot as plt

    from journeylib.labels import label

    shown = credits.sort_values("markov", ascending=False)
    fig, ax = plt.subplots(figsize=(11, 0.4 * len(shown) + 1.8))
    centre, errors = error_bars(shown, "markov")
    ax.errorbar(centre, [plain(label(c)) for c in shown.index], xerr=errors, fmt="o", capsize=3)
    ax.invert_yaxis()
    ax.set(title=f"Purchases credited by the Markov model of order {order} (95% interval, customers resampled)",
           xlabel="purchases credited", ylabel="channel")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- a result's figures, None when nothing to draw

def show(fig, alt: str | None = None) -> None:
    """`figures.show` for a figure or each of a list of figures; nothing at all for None (a section with nothing
    to draw says so in its sentence)."""
    from journeylib.figures import show as show_figure

    for one in (fig if isinstance(fig, list) else [fig]):
        if one is not None:
            show_figure(one, alt)


def step_funnels(result) -> list:
    """Each configured funnel: its steps overall and by dealer and acquisition channel."""
    by_group = result.funnel_groups_
    return [step_funnel(name, steps, by_group[by_group["funnel"] == name])
            for name, steps in result.funnels_.groupby("funnel", sort=False)]


def segment_maps(result) -> list:
    """A journey map per largest segment."""
    return [draw_journey_map(seg.table, title=result.segment_map_title(seg)) for seg in result.segment_maps_]


def segments(result):
    """The funnel of the twelve largest segments."""
    return segment_funnel(result.segment_funnel_, list(result.segment_sizes_.index[:12]), result.params.segment_by)


def cohorts(result):
    return None if result.cohorts_.empty else cohort_lines(result.cohorts_, result.params.cohort_horizon_days)


def progression(result):
    return progression_curves(result.progression_curves_) if len(result.progression_curves_) else None


def differences(comparison):
    return behaviour_differences(comparison) if len(comparison.flagged_) else None


def attribution(result):
    if result.credits_ is None:
        return None
    return attribution_bars(result.shares_.rename(index=label, columns=label),
                            result.attribution_info_["purchases_attributed"])


def markov_k(result):
    found = result.markov_k_
    return None if found is None else markov_k_credits(found.credits_, found.order)


def revenue(result):
    info = result.attribution_info_
    if result.revenue_credits_ is None or not info["revenue"] > 0:
        return None
    return revenue_bars(result.revenue_credits_, info["revenue"])


def revenue_per_group(result):
    tables = {"acquisition channel": result.revenue_by_channel_, "campaign": result.revenue_by_campaign_}
    return revenue_per_lead(tables) if priced_tables(tables) else None
