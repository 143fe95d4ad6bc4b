"""The journey map: funnel, drop-off, time between stages, channels, paths and flows.

Two inputs, two engines:
- the `journeys` table (one row per customer) is small enough for pandas;
- the event log (`touchpoints.parquet`, one row per event) is grouped in DuckDB
  through Ibis, the engine `journey prepare` uses, and only small summaries
  (counts per variant, per transition, per stage and channel) come back to pandas.

Definitions (docs/journey_map.md): a customer reached a stage iff `<stage>_at`
is set in `journeys`; conversion from a stage is the share of those who reached
it who also reached the next one; variants and transitions collapse consecutive
repeats (a, a, b -> a > b).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeylib import STAGES, paths, tables
from journeylib.stats import levels
from journeylib.stats.intervals import wilson_interval  # noqa: F401 - also jm.wilson_interval for notebooks

STAGE_PAIRS = tuple(zip(STAGES[:-1], STAGES[1:]))
SEGMENTS = ("acquisition_channel", "dealer_id", "persona")
NO_SEGMENT = "(none)"
MIN_SEGMENT_CUSTOMERS = 20  # per-group figures: smaller groups are pooled into 'other'
SEGMENT_WORDS = {"acquisition_channel": "acquisition channel", "dealer_id": "dealer", "persona": "persona"}
START, END = "(start)", "(end)"
SEP = " > "
# Survey types tell which stage a score speaks for; advocacy reads every response.
SURVEY_STAGE = {"sales": "purchase", "service": "retention"}


# ---------------------------------------------------------------- parameters

def check_parameters(segment_by, half_life_days, cohort_horizon_days, top_n, segment_maps,
                     min_level_customers=MIN_SEGMENT_CUSTOMERS) -> None:
    """The notebook's own parameters, refused with a clear message when out of range or of the wrong type."""
    if segment_by not in SEGMENTS:
        raise ValueError(f"parameter segment_by={segment_by!r}: expected one of {SEGMENTS}")
    if isinstance(half_life_days, bool) or not isinstance(half_life_days, (int, float)) or not half_life_days > 0:
        raise ValueError(f"parameter half_life_days={half_life_days!r}: expected a positive number of days")
    for name, value, low in (("cohort_horizon_days", cohort_horizon_days, 1), ("top_n", top_n, 1),
                             ("segment_maps", segment_maps, 0), ("min_level_customers", min_level_customers, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"parameter {name}={value!r}: expected a whole number >= {low}")


# ---------------------------------------------------------------- pandas: journeys

def reached(journeys: pd.DataFrame) -> pd.DataFrame:
    """customer x stage booleans: the stage's `<stage>_at` is set."""
    missing = [f"{s}_at" for s in STAGES if f"{s}_at" not in journeys]
    if missing:
        raise KeyError(f"journeys lacks the stage columns {missing}")
    return pd.DataFrame({s: journeys[f"{s}_at"].notna().to_numpy() for s in STAGES}, index=journeys.index)


def funnel(journeys: pd.DataFrame) -> pd.DataFrame:
    """Customers reaching each stage, and their share of all customers."""
    counts = reached(journeys).sum()
    return pd.DataFrame({
        "stage": list(STAGES),
        "customers": counts.to_numpy().astype("int64"),
        "share_of_customers": (counts / max(len(journeys), 1)).to_numpy(),
    })


def conversion(journeys: pd.DataFrame) -> pd.DataFrame:
    """Stage-to-stage conversion with Wilson 95% intervals and the drop-off in customers."""
    flags = reached(journeys)
    rows = []
    for a, b in STAGE_PAIRS:
        n = int(flags[a].sum())
        k = int((flags[a] & flags[b]).sum())
        rows.append({"from_stage": a, "to_stage": b, "reached": n, "converted": k, "dropped": n - k})
    out = pd.DataFrame(rows)
    out["rate"] = out["converted"] / out["reached"].where(out["reached"] > 0)
    out["ci_low"], out["ci_high"] = wilson_interval(out["converted"], out["reached"])
    out["key"] = out["from_stage"] + "_to_" + out["to_stage"]
    return out


def largest_drop_off(conv: pd.DataFrame) -> pd.Series:
    """The step that loses the largest share of the customers who reached it."""
    valid = conv.dropna(subset=["rate"])
    if valid.empty:
        raise ValueError("no stage was reached by anyone: there is no drop-off to report")
    return valid.loc[valid["rate"].idxmin()]


def segment_labels(journeys: pd.DataFrame, segment_by: str, personas: pd.DataFrame | None = None) -> pd.Series:
    """Each customer's segment (index aligned with `journeys`); missing values become '(none)'."""
    if segment_by not in SEGMENTS:
        raise ValueError(f"segment_by={segment_by!r}: expected one of {SEGMENTS}")
    if segment_by == "persona":
        if personas is None:
            raise ValueError("segment_by='persona' needs the personas table; run `journey run` to build it")
        label = journeys["customer_id"].map(personas.set_index("customer_id")["persona"])
    else:
        label = journeys[segment_by]
    return label.astype("object").where(label.notna(), NO_SEGMENT).astype(str).rename("segment")


def funnel_by_segment(journeys: pd.DataFrame, segments: pd.Series) -> pd.DataFrame:
    """Per segment and stage: customers reached, share of the segment's customers, conversion from the previous stage."""
    flags = reached(journeys)
    size = segments.value_counts()
    counts = flags.groupby(segments.to_numpy()).sum()
    long = counts.stack().rename("customers").reset_index()
    long.columns = ["segment", "stage", "customers"]
    long["segment_customers"] = long["segment"].map(size).astype("int64")
    long["share_of_segment"] = long["customers"] / long["segment_customers"]
    previous = long.groupby("segment")["customers"].shift(1)
    long["conversion_from_previous"] = long["customers"] / previous.where(previous > 0)
    long["stage"] = pd.Categorical(long["stage"], categories=STAGES, ordered=True)
    return long.sort_values(["segment_customers", "segment", "stage"], ascending=[False, True, True],
                            ignore_index=True)


def pool_segments(segments: pd.Series, min_customers: int = MIN_SEGMENT_CUSTOMERS) -> tuple[pd.Series, list]:
    """Per-group figures: segments with fewer than `min_customers` customers pooled into 'other'.

    The rule of journeylib.stats.levels.pool_rare (a lone small segment is pooled too, so no tiny group
    gets its own bar or map). Returns the labels and the sorted pooled segment names.
    """
    labels, pooled = levels.pool_rare(segments, min_customers)
    return labels, [name for name in pooled if name != levels.OTHER_LEVEL]  # a small 'other' is not news


def pooled_note(segment_by: str, pooled, min_customers: int) -> str:
    """The report's sentence for the segments pooled by `pool_segments`."""
    word = SEGMENT_WORDS.get(segment_by, segment_by)
    names = [f"(no {word} recorded)" if name == NO_SEGMENT else name for name in pooled]
    return levels.pooled_sentence(word, names, min_customers, events=None)


def purchase_share(journeys: pd.DataFrame, by: str, min_customers: int = MIN_SEGMENT_CUSTOMERS,
                   personas: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list]:
    """Share of each segment's customers who reached purchase, with Wilson 95% intervals (best first).

    Small segments are pooled first (`pool_segments`); returns the table and the pooled names.
    """
    labels, pooled = pool_segments(segment_labels(journeys, by, personas), min_customers)
    table = funnel_by_segment(journeys, labels)
    table = table[table["stage"] == "purchase"].copy()
    table["ci_low"], table["ci_high"] = wilson_interval(table["customers"], table["segment_customers"])
    return table.sort_values(["share_of_segment", "segment"], ascending=[False, True], ignore_index=True), pooled


def cohort_funnel(journeys: pd.DataFrame, as_of, horizon_days: int = 90) -> pd.DataFrame:
    """Monthly first-touch cohorts: share reaching each stage within `horizon_days` of the first touch.

    Only customers whose first touch is at least `horizon_days` before `as_of`
    count (`eligible`): every one of them had the full horizon to progress, so a
    recent cohort is not penalised for short follow-up. Cohorts with no
    eligible customer are left out.
    """
    if horizon_days <= 0:
        raise ValueError(f"horizon_days must be positive, got {horizon_days}")
    as_of = _utc(as_of)
    first = journeys["first_touch_at"]
    horizon = pd.Timedelta(days=horizon_days)
    eligible = first.notna() & (first + horizon <= as_of)
    frame = journeys.loc[eligible]
    if frame.empty:
        return pd.DataFrame(columns=["cohort", "eligible", *STAGES])
    cohort = frame["first_touch_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M").astype(str)
    within = pd.DataFrame({
        s: (frame[f"{s}_at"].notna() & (frame[f"{s}_at"] - frame["first_touch_at"] <= horizon)).to_numpy()
        for s in STAGES
    }, index=frame.index)
    grouped = within.groupby(cohort.to_numpy())
    out = grouped.mean()
    out.insert(0, "eligible", grouped.size())
    return out.rename_axis("cohort").reset_index()


def stage_durations(journeys: pd.DataFrame) -> pd.DataFrame:
    """Days from each stage to the next among those who reached both: median and quartiles."""
    rows = []
    for a, b in STAGE_PAIRS:
        days = ((journeys[f"{b}_at"] - journeys[f"{a}_at"]).dt.total_seconds() / 86400).dropna()
        rows.append({"from_stage": a, "to_stage": b, "progressed": len(days),
                     "median_days": days.median(), "q1_days": days.quantile(0.25), "q3_days": days.quantile(0.75)})
    return pd.DataFrame(rows)


def progression(journeys: pd.DataFrame, as_of, at_days=(30, 90, 180)):
    """Kaplan-Meier progression from each stage to the next, censoring at `as_of`.

    Returns (summary, curves): summary per step with the KM median and the
    probability of having progressed by each of `at_days`; curves with the
    cumulative progression (1 - survival) over days for plotting.
    """
    from lifelines import KaplanMeierFitter

    as_of = _utc(as_of)
    rows, curves = [], []
    for a, b in STAGE_PAIRS:
        start = journeys[f"{a}_at"]
        at_risk = start.notna()
        end = journeys.loc[at_risk, f"{b}_at"]
        observed = end.notna()
        stop = end.where(observed, as_of)
        days = ((stop - start[at_risk]).dt.total_seconds() / 86400).clip(lower=0)
        row = {"from_stage": a, "to_stage": b, "at_risk": int(at_risk.sum()), "progressed": int(observed.sum())}
        if row["at_risk"] == 0:
            rows.append({**row, "km_median_days": np.nan, **{f"by_{d}_days": np.nan for d in at_days}})
            continue
        fitter = KaplanMeierFitter().fit(days.to_numpy(), observed.to_numpy())
        row["km_median_days"] = float(fitter.median_survival_time_)
        for d in at_days:
            row[f"by_{d}_days"] = float(1 - fitter.predict(d))
        rows.append(row)
        curve = fitter.survival_function_.reset_index()
        curve.columns = ["days", "survival"]
        curves.append(curve.assign(step=f"{a} → {b}", progressed=1 - curve["survival"]))
    return pd.DataFrame(rows), (pd.concat(curves, ignore_index=True) if curves else pd.DataFrame())


def plain(text) -> str:
    """Data text for a matplotlib label: a '$' would otherwise start a mathtext formula."""
    return str(text).replace("$", r"\$")


def _utc(stamp) -> pd.Timestamp:
    stamp = pd.Timestamp(stamp)
    return stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")


# ---------------------------------------------------------------- engine: the event log

def open_events(processed_dir=None, con=None):
    """The processed `touchpoints` table as an Ibis table on DuckDB (nothing is loaded yet)."""
    import ibis

    path = paths.processed_dir(processed_dir) / "touchpoints.parquet"
    if not path.exists():
        raise tables.MissingProcessedData(f"{path}: table not found; run `journey prepare` or `journey run` first")
    con = con or ibis.duckdb.connect()
    source = "read_parquet('" + str(path).replace("'", "''") + "')"
    # Nanosecond timestamps (pandas' default when writing Parquet) are a type Ibis does not know:
    # read them as DuckDB's microsecond timestamps (the precision prepare writes; sub-microsecond parts dropped).
    casts = [f'CAST("{name}" AS {"TIMESTAMPTZ" if kind == "TIMESTAMPTZ_NS" else "TIMESTAMP"}) AS "{name}"'
             for name, kind, *_ in con.raw_sql(f"DESCRIBE SELECT * FROM {source}").fetchall()
             if kind in ("TIMESTAMP_NS", "TIMESTAMPTZ_NS")]
    if not casts:
        return con.read_parquet(str(path), table_name="touchpoints")
    con.raw_sql(f'CREATE OR REPLACE TEMP VIEW "touchpoints" AS SELECT * REPLACE ({", ".join(casts)}) FROM {source}')
    return con.table("touchpoints")


def events_table(frame: pd.DataFrame):
    """A small DataFrame shaped like `touchpoints` as an Ibis table (tests, segments)."""
    import ibis

    return ibis.memtable(frame)


def with_segments(events, segments: pd.DataFrame | None):
    """The events joined to a (customer_id, segment) frame; without one every event is in segment 'all'."""
    import ibis

    if segments is None:
        return events.mutate(segment=ibis.literal("all"))
    seg = ibis.memtable(segments[["customer_id", "segment"]].astype(str))
    return events.join(seg, "customer_id")


def _order(t):
    return [t.occurred_at, t.event_id]


def _journey_events(events):
    return events.filter(events.counts_for_journey & events.stage.notnull())


def stage_counts(events, by: str = "channel", segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """Events and customers per (segment, stage, channel or event type), over events that count for the journey."""
    if by not in ("channel", "event_type"):
        raise ValueError(f"by={by!r}: expected 'channel' or 'event_type'")
    t = with_segments(_journey_events(events), segments)
    out = (t.group_by(["segment", "stage", by])
            .aggregate(events=t.count(), customers=t.customer_id.nunique())
            .to_pandas())
    out["share_of_stage"] = out["events"] / out.groupby(["segment", "stage"])["events"].transform("sum")
    out["stage"] = pd.Categorical(out["stage"], categories=STAGES, ordered=True)
    return out.sort_values(["segment", "stage", "events", by], ascending=[True, True, False, True],
                           ignore_index=True)


def channel_mix(counts: pd.DataFrame) -> pd.DataFrame:
    """stage x channel share of events (rows sum to 1) from `stage_counts(by='channel')` of one segment."""
    return (counts.pivot_table(index="stage", columns="channel", values="share_of_stage", aggfunc="sum",
                               fill_value=0.0, observed=True)
                  .reindex([s for s in STAGES if s in set(counts["stage"].astype(str))]))


def top_values(counts: pd.DataFrame, by: str, n: int = 3) -> dict:
    """{(segment, stage): [the n most frequent values]} from `stage_counts`."""
    out = {}
    for (segment, stage), group in counts.groupby(["segment", "stage"], observed=True):
        out[(segment, str(stage))] = group.nlargest(n, "events")[by].tolist()
    return out


def _collapsed(t, column: str):
    """Rows where `column` differs from the previous row of the same customer (a, a, b -> a, b)."""
    import ibis

    w = ibis.window(group_by=t.customer_id, order_by=_order(t))
    t = t.mutate(_previous=t[column].lag().over(w))
    return t.filter(t._previous.isnull() | (t._previous != t[column])).drop("_previous")


def variants(events, kind: str = "stage", top_n: int = 10) -> tuple[pd.DataFrame, dict]:
    """The most common journey variants: sequences of stages or event types, consecutive repeats collapsed.

    Over events that count for the journey. Returns (top, totals): the `top_n`
    variants with customers, share of journeys, buyers and conversion (share who
    bought), and totals {"journeys", "variants", "top_share"}.
    """
    if kind not in ("stage", "event_type"):
        raise ValueError(f"kind={kind!r}: expected 'stage' or 'event_type'")
    t = _journey_events(events)
    bought = (events.filter(events.event_type == "purchase").select("customer_id").distinct()
                    .mutate(bought=1))
    steps = _collapsed(t, kind)
    per_customer = steps.group_by("customer_id").aggregate(
        variant=steps[kind].group_concat(SEP, order_by=_order(steps)))
    per_customer = per_customer.left_join(bought, "customer_id").select("variant", "bought")
    grouped = per_customer.group_by("variant").aggregate(
        customers=per_customer.count(), buyers=per_customer.bought.fill_null(0).sum())
    journeys = int(per_customer.count().to_pandas())
    n_variants = int(grouped.count().to_pandas())
    top = grouped.order_by([grouped.customers.desc(), grouped.variant]).limit(top_n).to_pandas()
    top["share"] = top["customers"] / max(journeys, 1)
    top["conversion"] = top["buyers"] / top["customers"]
    top["cumulative_share"] = top["share"].cumsum()
    top["steps"] = top["variant"].str.count(SEP) + 1
    totals = {"journeys": journeys, "variants": n_variants, "top_share": float(top["share"].sum())}
    return top, totals


def transitions(events, kind: str = "stage", segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """First-order transitions between stages or channels, consecutive repeats collapsed.

    Each customer's sequence runs (start) -> s1 -> s2 ... -> (end). Per
    (from, to): transitions, probability (share of the from-state's exits) and
    median hours between the last event of the from-step and the first of the
    to-step. Stages use events that count for the journey; channels use every
    event in the log (`unknown` is kept as a state of its own).
    """
    import ibis

    if kind not in ("stage", "channel"):
        raise ValueError(f"kind={kind!r}: expected 'stage' or 'channel'")
    t = _journey_events(events) if kind == "stage" else events
    t = with_segments(t, segments)
    w = ibis.window(group_by=t.customer_id, order_by=_order(t))
    backwards = ibis.window(group_by=t.customer_id, order_by=[t.occurred_at.desc(), t.event_id.desc()])
    t = t.mutate(_from=t[kind].lag().over(w), _from_at=t.occurred_at.lag().over(w),
                 _is_last=ibis.row_number().over(backwards) == 0)
    steps = t.filter(t._from.isnull() | (t._from != t[kind]))
    steps = steps.select("segment", from_state=steps._from.fill_null(START), to_state=steps[kind],
                         hours=steps.occurred_at.delta(steps._from_at, unit="second") / 3600)
    ends = t.filter(t._is_last).select("segment", from_state=t[kind], to_state=ibis.literal(END),
                                       hours=ibis.null().cast("float64"))
    both = steps.union(ends)
    out = both.group_by(["segment", "from_state", "to_state"]).aggregate(
        transitions=both.count(), median_hours=both.hours.median()).to_pandas()
    out["probability"] = out["transitions"] / out.groupby(["segment", "from_state"])["transitions"].transform("sum")
    # to_state breaks ties, so equal counts come out in one order whatever the engine's grouping order
    return out.sort_values(["segment", "from_state", "transitions", "to_state"], ascending=[True, True, False, True],
                           ignore_index=True)


def transition_matrix(trans: pd.DataFrame, value: str = "probability", order=None) -> pd.DataFrame:
    """from x to matrix of one segment's transitions (rows start with (start), columns end with (end))."""
    matrix = trans.pivot_table(index="from_state", columns="to_state", values=value, aggfunc="sum")
    states = list(order) if order is not None else sorted((set(matrix.index) | set(matrix.columns)) - {START, END})
    states = [s for s in states if s not in (START, END)]  # each appears once, in its fixed place
    rows = [START] + [s for s in states if s in matrix.index]
    cols = [s for s in states if s in matrix.columns] + ([END] if END in matrix.columns else [])
    return matrix.reindex(index=rows, columns=cols)


# ---------------------------------------------------------------- surveys

def satisfaction_by_stage(surveys: pd.DataFrame) -> pd.DataFrame:
    """Per stage with a survey (sales -> purchase, service -> retention, all -> advocacy): responses, mean score, NPS."""
    from journeylib.segments import satisfaction_band

    frames = [surveys.assign(stage=surveys["survey_type"].map(SURVEY_STAGE)).dropna(subset=["stage"]),
              surveys.assign(stage="advocacy")]
    both = pd.concat(frames, ignore_index=True)
    both["band"] = satisfaction_band(both["score"]).to_numpy()
    rows = []
    for stage in STAGES:
        group = both[(both["stage"] == stage) & both["score"].notna()]
        if group.empty:
            continue
        promoters = (group["band"] == "promoter").mean()
        detractors = (group["band"] == "detractor").mean()
        rows.append({"stage": stage, "responses": len(group), "mean_score": group["score"].astype(float).mean(),
                     "promoters": promoters, "detractors": detractors, "nps": 100 * (promoters - detractors)})
    return pd.DataFrame(rows, columns=["stage", "responses", "mean_score", "promoters", "detractors", "nps"])


def stage_pain_points(scored: pd.DataFrame, themes: list[str], top: int = 3) -> pd.DataFrame:
    """The top complaint themes per stage with a survey (sales -> purchase, service -> retention).

    `scored` and `themes` come from `journeylib.feedback` (score_comments, load_taxonomy): a
    complaint is a comment with negative sentiment or from a detractor; themes are ranked by
    complaints mentioning them.
    """
    from journeylib import feedback

    frames = []
    for survey_type, stage in SURVEY_STAGE.items():
        ranked = feedback.pain_points(scored[scored["survey_type"] == survey_type], themes, top=top)
        frames.append(ranked.reset_index().assign(stage=stage))
    columns = ["stage", "theme", "negative_mentions", "mentions"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


# ---------------------------------------------------------------- the journey map

def journey_map_table(journeys: pd.DataFrame, counts_channel: pd.DataFrame, counts_event: pd.DataFrame,
                      surveys: pd.DataFrame, scored: pd.DataFrame, themes: list[str], segment: str = "all",
                      top: int = 3) -> pd.DataFrame:
    """One row per stage: everything the printable map shows, for the customers in `journeys`.

    `counts_*` come from `stage_counts` (the rows of `segment` are used); `scored`
    and `themes` from `journeylib.feedback`; surveys and comments are restricted to
    the customers in `journeys`.
    """
    fun = funnel(journeys).set_index("stage")
    conv = conversion(journeys).set_index("from_stage")
    durations = stage_durations(journeys).set_index("from_stage")
    surveys = surveys[surveys["customer_id"].isin(journeys["customer_id"])]
    satisfaction = satisfaction_by_stage(surveys).set_index("stage")
    pains = stage_pain_points(scored[scored["customer_id"].isin(journeys["customer_id"])], themes, top)
    channels = top_values(counts_channel[counts_channel["segment"] == segment], "channel", top)
    events = top_values(counts_event[counts_event["segment"] == segment], "event_type", top)
    rows = []
    for stage in STAGES:
        row = {"stage": stage, "reach": int(fun.loc[stage, "customers"]),
               "reach_share": fun.loc[stage, "share_of_customers"]}
        if stage in conv.index:
            row.update(conversion=conv.loc[stage, "rate"], ci_low=conv.loc[stage, "ci_low"],
                       ci_high=conv.loc[stage, "ci_high"], median_days_to_next=durations.loc[stage, "median_days"])
        row["top_touchpoints"] = events.get((segment, stage), [])
        row["top_channels"] = channels.get((segment, stage), [])
        if stage in satisfaction.index:
            row.update(survey_responses=int(satisfaction.loc[stage, "responses"]),
                       mean_score=satisfaction.loc[stage, "mean_score"], nps=satisfaction.loc[stage, "nps"])
        stage_pains = pains[pains["stage"] == stage]
        row["pain_points"] = [str(t).replace("_", " ") for t in stage_pains["theme"].head(top)]
        rows.append(row)
    columns = ["stage", "reach", "reach_share", "conversion", "ci_low", "ci_high", "median_days_to_next",
               "top_touchpoints", "top_channels", "survey_responses", "mean_score", "nps", "pain_points"]
    return pd.DataFrame(rows).reindex(columns=columns)


def _stage_text(row) -> str:
    def fmt(value, pattern, missing="n/a"):
        return missing if pd.isna(value) else pattern.format(value)

    lines = [f"Reach: {row['reach']:,} ({fmt(row['reach_share'], '{:.0%}')})"]
    if not pd.isna(row["conversion"]):
        lines.append(f"On to next: {row['conversion']:.0%}\n  (95% CI {row['ci_low']:.0%}-{row['ci_high']:.0%})")
        lines.append(f"Median time to next:\n  {fmt(row['median_days_to_next'], '{:.0f} days')}")
    else:
        lines.append("Last stage")
    lines.append("Top touchpoints:")
    lines += [f"  {i}. {v.replace('_', ' ')}" for i, v in enumerate(row["top_touchpoints"], 1)] or ["  none"]
    lines.append("Top channels:")
    lines += [f"  {i}. {v.replace('_', ' ')}" for i, v in enumerate(row["top_channels"], 1)] or ["  none"]
    if not pd.isna(row["survey_responses"]):
        lines.append(f"Satisfaction: NPS {row['nps']:+.0f}\n  mean {row['mean_score']:.1f}/10, "
                     f"n={int(row['survey_responses']):,}")
    else:
        lines.append("Satisfaction: no survey")
    if row["pain_points"]:
        lines.append("Pain points:")
        lines += [f"  - {p}" for p in row["pain_points"]]
    elif row["stage"] in SURVEY_STAGE.values() and not pd.isna(row["survey_responses"]):
        lines.append("Pain points: none named")
    return "\n".join(lines)


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
    bars.set_xticks(positions, [s.capitalize() for s in table["stage"]], fontsize=12, fontweight="bold")
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
                label = plain(f"{str(name).replace('_', ' ')} ({sizes[name]:,.0f})")
                ax.text(x - 0.02 if ha == "right" else x + 0.02, tops[name] - h / 2, label, ha=ha, va="center",
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
