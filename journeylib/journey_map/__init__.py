"""The journey map (notebook 01): funnel, drop-off, time between stages, channels, paths, flows, attribution.

    result = analyse(ProcessedTables(folder), Params())
    result.funnel_, result.credits_, result.map_table_ ...   # tables the figures draw
    result.metrics()                                          # the `journey` section of metrics.json

Two inputs, two engines: the `journeys` table (one row per customer) is read into
pandas; the event log stays in the engine that prepared it (`engine.connect`) and
only small summaries (per variant, transition, stage and channel, distinct path)
come back. Modules by topic: `funnel` (the five stages), `funnels` (configured
funnels with windows), `groups`, `channels`, `variants`, `attribution`,
`revenue` (revenue credit), `markov_k` (Markov of order k), `compare` (what buyers
do that others don't), `surveys`, `poster`; figures are in `journeylib.figures.journey`.
Definitions: docs/journey_map.md.
"""

from __future__ import annotations

import pandas as pd

from journeylib.errors import NotEstimable
from journeylib.journey_map import (attribution, channels, compare, engine, funnel, funnels, groups, markov_k, poster,
                                    revenue, surveys,
                                    variants)
from journeylib.journey_map.params import Params
from journeylib.journey_map.result import NOTEBOOK, SECTION, JourneyMapResult, SegmentMap
from journeylib.vocabulary import STAGES

__all__ = ["Params", "analyse", "JourneyMapResult", "SECTION", "NOTEBOOK"]

SEGMENT_SHOWN = 12  # segments drawn in the per-segment funnel figure


def analyse(tables, params: Params = Params(), con=None) -> JourneyMapResult:
    """Everything notebook 01 shows, from the processed tables (`journeylib.tables.ProcessedTables`).

    `con`: an Ibis connection to group the event log on; by default one on the engine
    that prepared the data (`engine.connect`), closed again at the end.
    """
    from journeylib.prepare.connection import disconnect

    params.check()
    own = con is None
    con = engine.connect(tables) if own else con
    try:
        return _analyse(tables, params, con)
    finally:
        if own:
            disconnect(con)


def _analyse(tables, params: Params, con) -> JourneyMapResult:
    from journeylib.derived import feedback

    as_of = tables.as_of
    journeys = tables.load("journeys")
    survey_rows = tables.load("surveys")
    events = engine.open_events(tables, con)
    # The personas table is built by `journey run`; tables.load names that command when it is missing.
    personas = tables.load("personas") if params.segment_by == "persona" else None
    themes = list(feedback.load_taxonomy())
    scored = feedback.score_comments(survey_rows)
    notes = {"groups": [], "attribution": [], "segments": []}
    pooled = {}
    low = params.min_level_customers

    fun, conv = funnel.funnel(journeys), funnel.conversion(journeys)
    reached = conv[conv["reached"] > 0]
    weakest = funnel.largest_drop_off(conv) if len(reached) else None
    most_lost = conv.loc[conv["dropped"].idxmax()] if len(reached) else None

    share = {}
    for by in ("acquisition_channel", "dealer_id"):
        share[by], names = groups.purchase_share(journeys, by, low)
        if names:
            pooled[by] = names
            notes["groups"].append(groups.pooled_note(by, names, low))
    if share["dealer_id"]["segment"].nunique() < 2:
        notes["groups"].append("All customers belong to one dealer, so dealers cannot be compared."
                               if journeys["dealer_id"].nunique(dropna=False) < 2 else
                               "After pooling the small dealers a single group is left, so dealers cannot be compared.")
    cohorts = funnel.cohort_funnel(journeys, as_of, horizon_days=params.cohort_horizon_days)
    durations = funnel.stage_durations(journeys)
    progression, curves = funnel.progression(journeys, as_of, at_days=(30, 90, 180))

    counts_channel = channels.stage_counts(events, by="channel")
    counts_event = channels.stage_counts(events, by="event_type")
    mix = channels.channel_mix(counts_channel)
    mix = mix[mix.sum().sort_values(ascending=False).index]
    touched = journeys["touchpoints"] > 0
    touches = attribution.pre_purchase_touches(events, as_of)
    used = attribution.channels_used(touches)

    sales = tables.load("sales")
    values = revenue.purchase_values(events, sales)
    try:
        credits, info = attribution.attribute(events, half_life_days=params.half_life_days, as_of=as_of,
                                              values=values)
        reason, paths = None, info["channel_paths"]
        higher = markov_k.fit(paths, params.attribution_markov_order or None)
    except NotEstimable as error:
        credits, info, reason, higher = None, None, error.reason, None
        notes["attribution"].append(reason)
        paths = attribution.channel_paths(touches)
    buyer_paths = paths[paths["conversions"] > 0].sort_values(["conversions", "path"], ascending=[False, True])
    buyers_with_path = int(used["buyers"].sum())
    buyer_paths = buyer_paths.head(params.top_n).assign(share_of_buyers=lambda f: f["conversions"] / buyers_with_path)

    found = {kind: variants.variants(events, kind=kind, top_n=params.top_n) for kind in ("stage", "event_type")}
    stage_trans = variants.transitions(events, kind="stage")
    channel_trans = variants.transitions(events, kind="channel")
    event_trans = variants.transitions(events, kind="event_type", top_n=variants.TOP_EVENT_TYPES)
    channel_order = list(channel_trans.groupby("to_state")["transitions"].sum().drop(engine.END, errors="ignore")
                         .sort_values(ascending=False).index)
    stage_flows, channel_flows = _flows(journeys, stage_trans, low)
    bought = channel_flows[channel_flows["target"].isin(["purchase", "retention", "advocacy"])]
    bought = bought.groupby("source")["value"].sum()
    share_bought = (bought / channel_flows.groupby("source")["value"].sum()).dropna()
    share_bought = share_bought.reindex(channel_flows["source"].unique(), fill_value=0.0).sort_values()
    if not len(bought):
        share_bought = share_bought.iloc[:0]

    map_table = poster.journey_map_table(journeys, counts_channel, counts_event, survey_rows, scored, themes)
    pains = []
    for row in surveys.stage_pain_points(scored, themes, top=1).itertuples():
        survey_type = {v: k for k, v in surveys.SURVEY_STAGE.items()}[row.stage]
        quotes = feedback.example_quotes(scored[scored["survey_type"] == survey_type], row.theme, n=2)
        pains.append((row.stage, row.theme, int(row.negative_mentions), quotes))

    segment_of, segment_pooled = groups.pool_segments(
        groups.segment_labels(journeys, params.segment_by, personas), low)
    if segment_pooled:
        pooled[params.segment_by] = segment_pooled
        sentence = groups.pooled_note(params.segment_by, segment_pooled, low)
        if sentence not in notes["groups"]:  # said once, where it first applies
            notes["segments"].append(sentence)
    by_segment = groups.funnel_by_segment(journeys, segment_of)
    sizes = segment_of.value_counts()
    buy = by_segment[by_segment["stage"] == "purchase"]
    sale_prices = sales[["customer_id", "price"]] if "price" in sales else values.rename(columns={"value": "price"})
    by_channel = revenue.revenue_by(journeys, sale_prices, groups.pool_segments(
        groups.segment_labels(journeys, "acquisition_channel"), low)[0])
    campaigns = revenue.first_campaigns(events) if "campaign" in events.columns else pd.DataFrame()
    by_campaign = None
    if len(campaigns):
        campaign_of = journeys["customer_id"].astype(str).map(
            campaigns.set_index("customer_id")["campaign"]).fillna(revenue.NO_CAMPAIGN)
        by_campaign = revenue.revenue_by(journeys, sale_prices, campaign_of, top_n=revenue.TOP_CAMPAIGNS)
    else:
        notes["attribution"].append("The touchpoints name no campaign, so revenue cannot be shown by campaign.")
    buyers_compared = compare.buyers_against_others(events, journeys, params.compare_q)
    chosen = params.compared_groups()
    compared = buyers_compared
    if chosen is not None:
        from journeylib.labels import label

        grouping, a, b = chosen
        compared = compare.two_groups(events, journeys, groups.segment_labels(journeys, grouping, personas_for(
            tables, grouping, personas)), a, b, params.compare_q, names=(label(a), label(b)))
    defined = funnels.configured(tables)
    labels = {by: groups.pool_segments(groups.segment_labels(journeys, by), low)[0].to_numpy()
              for by in ("dealer_id", "acquisition_channel")}
    funnel_overall, funnel_groups = funnels.funnel_tables(events, journeys, defined, as_of, labels)
    maps = _segment_maps(journeys, segment_of, list(sizes.index[:params.segment_maps]), events, survey_rows,
                         scored, themes)

    return JourneyMapResult(
        params=params, as_of=as_of, customers=len(journeys), funnel_=fun, conversion_=conv,
        weakest_step_=weakest, most_lost_=most_lost, purchase_share_=share, pooled_=pooled,
        channel_extremes=groups.extremes(share["acquisition_channel"], "share_of_segment", "segment_customers"),
        cohorts_=cohorts,
        cohort_extremes=(groups.extremes(cohorts, "purchase", "eligible", min_n=20) if len(cohorts) else None),
        durations_=durations, progression_=progression, progression_curves_=curves,
        stage_counts_channel_=counts_channel, stage_counts_event_=counts_event, channel_mix_=mix,
        channels_per_journey_=journeys.loc[touched, "channels"].value_counts().sort_index(),
        median_channels=float(journeys.loc[touched, "channels"].median()), channels_used_=used,
        buyer_paths_=buyer_paths.reset_index(drop=True), variants_=found,
        stage_transitions_=stage_trans, channel_transitions_=channel_trans, channel_order=channel_order,
        stage_flows_=stage_flows, channel_flows_=channel_flows, share_bought_=share_bought,
        credits_=credits, attribution_info_=info, attribution_reason=reason,
        map_table_=map_table, pains_=pains,
        segment_funnel_=by_segment, segment_sizes_=sizes,
        segment_extremes=groups.extremes(buy, "share_of_segment", "segment_customers"),
        segment_maps_=maps, notes_=notes,
        funnels_=funnel_overall, funnel_groups_=funnel_groups, funnel_steps=defined,
        event_type_transitions_=event_trans, revenue_by_channel_=by_channel,
        buyers_compared_=buyers_compared, compared_=compared, markov_k_=higher, revenue_by_campaign_=by_campaign,
    )


def personas_for(tables, grouping: str, loaded):
    """The personas table when a comparison groups by persona (loaded once)."""
    if grouping != "persona":
        return None
    return loaded if loaded is not None else tables.load("personas")


def _flows(journeys: pd.DataFrame, stage_trans: pd.DataFrame, min_customers: int):
    """The two Sankeys' bands: stage to next step (steps), first-touch channel to furthest stage (customers)."""
    stage_flows = stage_trans[stage_trans["from_state"].isin(STAGES)].rename(
        columns={"from_state": "source", "to_state": "target", "transitions": "value"})
    stage_flows = stage_flows.assign(target=stage_flows["target"].replace({engine.END: "stopped"}))
    first_channel, _ = groups.pool_segments(groups.segment_labels(journeys, "acquisition_channel"), min_customers)
    acquisition = journeys.assign(acquisition_channel=first_channel).dropna(subset=["furthest_stage"]).groupby(
        ["acquisition_channel", "furthest_stage"]).size()
    channel_flows = acquisition.rename("value").reset_index().rename(
        columns={"acquisition_channel": "source", "furthest_stage": "target"})
    return stage_flows, channel_flows


def _segment_maps(journeys, segment_of, largest, events, survey_rows, scored, themes) -> list[SegmentMap]:
    """A journey map per segment in `largest` (stage counts grouped for those segments in one engine pass each)."""
    frame = pd.DataFrame({"customer_id": journeys["customer_id"], "segment": segment_of.to_numpy()})
    chosen = frame[frame["segment"].isin(largest)]
    seg_channel = channels.stage_counts(events, by="channel", segments=chosen)
    seg_event = channels.stage_counts(events, by="event_type", segments=chosen)
    maps = []
    for name in largest:
        members = journeys[segment_of.to_numpy() == name]
        conv = funnel.conversion(members)
        if not (conv["reached"] > 0).any():  # nobody in it reached a stage (customers without counted events)
            continue
        table = poster.journey_map_table(members, seg_channel, seg_event, survey_rows, scored, themes, segment=name)
        maps.append(SegmentMap(name, len(members), table, funnel.largest_drop_off(conv)))
    return maps
