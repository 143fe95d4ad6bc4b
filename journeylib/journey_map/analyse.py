"""Notebook 01 headless: `analyse(tables, Params()) -> Result`, the topic functions in notebook order."""

from __future__ import annotations

import pandas as pd

from journeylib.errors import NotEstimable
from journeylib.journey_map import (attribution, channels, compare, engine, funnel, funnels, groups, markov_k, poster,
                                    revenue, surveys, variants)
from journeylib.journey_map.groups import PURCHASE_SHARE_BY
from journeylib.journey_map.inputs import load_inputs
from journeylib.journey_map.params import Params
from journeylib.journey_map.result import (NO_ATTRIBUTED_PRICE, NO_ATTRIBUTION, NO_CAMPAIGN_REVENUE,
                                           NO_DEALER_COMPARISON, NO_PRICE, NO_REVENUE_CREDIT, Result, SegmentMap)
from journeylib.vocabulary import STAGES

NO_CAMPAIGN = "The touchpoints name no campaign, so revenue cannot be shown by campaign."


def analyse(tables, params: Params | None = None, con=None) -> Result:
    """Everything notebook 01 shows, from the processed tables (`journeylib.tables.ProcessedTables`).

    `con`: an open engine (journeylib.engine.Engine) to group the event log on; by default one on the
    engine that prepared the data (`engine.connect`), closed again at the end.
    """
    from journeylib.engine.connection import disconnect

    params = Params() if params is None else params
    params.check()
    own = con is None
    con = engine.connect(tables) if own else con
    try:
        return _analyse(load_inputs(tables, params, con), params, con)
    finally:
        if own:
            disconnect(con)


def _analyse(data, params: Params, con) -> Result:
    missing: dict[str, str] = {}
    pooled: dict[str, list] = {}
    values = revenue.purchase_values(data.events, data.sales)  # each buyer's purchase value: credit and revenue
    parts = {**_funnel_part(data, params, pooled, missing), **_channel_part(data)}
    parts.update(**_attribution_part(data, params, values, missing))
    # one ordering of the event log for the event-type transitions and the comparisons (the costly window)
    from journeylib.engine import tables as engine_tables

    ordered = engine_tables.store(con, "ordered_steps", variants.ordered_steps(data.events, "event_type",
                                                                      variants.TOP_EVENT_TYPES))
    try:
        parts.update(**_path_part(data, params, ordered), **_comparison_part(data, params, ordered))
    finally:
        engine_tables.drop(con, ordered)
    parts.update(**_revenue_part(data, params, values, missing),
                 **_map_part(data, parts["stage_counts_channel_"], parts["stage_counts_event_"]),
                 **_segment_part(data, params, pooled))
    notes = [groups.pooled_note(by, pooled[by], params.min_level_customers) for by in PURCHASE_SHARE_BY if by in pooled]
    notes += [missing[key] for key in (NO_DEALER_COMPARISON, NO_ATTRIBUTION, NO_REVENUE_CREDIT, NO_CAMPAIGN_REVENUE)
              if key in missing]
    if params.segment_by not in PURCHASE_SHARE_BY and params.segment_by in pooled:  # said once, where it first applies
        notes.append(groups.pooled_note(params.segment_by, pooled[params.segment_by], params.min_level_customers))
    return Result(params=params, as_of=data.as_of, customers_=len(data.journeys), pooled_=pooled,
                  funnel_steps_=data.funnels, missing_=missing, notes_=notes, **parts)


def _funnel_part(data, params: Params, pooled: dict, missing: dict) -> dict:
    """1. The funnel, the configured funnels, purchase share per group, cohorts; 2. the time between stages."""
    journeys, low = data.journeys, params.min_level_customers
    conv = funnel.conversion(journeys)
    nobody = not (conv["reached"] > 0).any()
    share = {}
    for by in PURCHASE_SHARE_BY:
        share[by], names = groups.purchase_share(journeys, by, low)
        if names:
            pooled[by] = names
    if share["dealer_id"]["segment"].nunique() < 2:
        missing[NO_DEALER_COMPARISON] = (
            "All customers belong to one dealer, so dealers cannot be compared."
            if journeys["dealer_id"].nunique(dropna=False) < 2 else
            "After pooling the small dealers a single group is left, so dealers cannot be compared.")
    cohorts = funnel.cohort_funnel(journeys, data.as_of, horizon_days=params.cohort_horizon_days)
    progression, curves = funnel.progression(journeys, data.as_of, at_days=(30, 90, 180))
    labels = {by: groups.pool_segments(groups.segment_labels(journeys, by), low)[0].to_numpy()
              for by in ("dealer_id", "acquisition_channel")}
    funnel_overall, funnel_groups = funnels.funnel_tables(data.events, journeys, data.funnels, data.as_of, labels)
    return {"funnel_": funnel.funnel(journeys), "conversion_": conv,
            "weakest_step_": None if nobody else funnel.largest_drop_off(conv),
            "most_lost_": None if nobody else conv.loc[conv["dropped"].idxmax()],
            "funnels_": funnel_overall, "funnel_groups_": funnel_groups, "purchase_share_": share,
            "channel_extremes_": groups.extremes(share["acquisition_channel"], "share_of_segment", "segment_customers"),
            "cohorts_": cohorts,
            "cohort_extremes_": groups.extremes(cohorts, "purchase", "eligible", min_n=20) if len(cohorts) else None,
            "durations_": funnel.stage_durations(journeys), "progression_": progression,
            "progression_curves_": curves}


def _channel_part(data) -> dict:
    """3. Channels: which channels each stage's events come through, how many channels a journey uses."""
    journeys, events = data.journeys, data.events
    counts_channel = channels.stage_counts(events, by="channel")
    mix = channels.channel_mix(counts_channel)
    touched = journeys["touchpoints"] > 0
    return {"stage_counts_channel_": counts_channel,
            "stage_counts_event_": channels.stage_counts(events, by="event_type"),
            "channel_mix_": mix[mix.sum().sort_values(ascending=False).index],
            "channels_per_journey_": journeys.loc[touched, "channels"].value_counts().sort_index(),
            "median_channels_": float(journeys.loc[touched, "channels"].median())}


def _attribution_part(data, params: Params, values: pd.DataFrame, missing: dict) -> dict:
    """3. The channel sequences before a purchase; 6. attribution (five models, revenue credit, Markov of order k)."""
    events, as_of = data.events, data.as_of
    touches = attribution.pre_purchase_touches(events, as_of)
    used = attribution.channels_used(touches)
    try:
        credits, info = attribution.attribute(events, half_life_days=params.half_life_days, as_of=as_of, values=values)
        paths = info["channel_paths"]
        higher = markov_k.fit(paths, params.attribution_markov_order or None)
    except NotEstimable as error:
        credits, info, higher = None, None, None
        missing[NO_ATTRIBUTION] = error.reason
        paths = attribution.channel_paths(touches)
    if info is not None and info.get("unpriced", 0) >= info["purchases_attributed"]:
        priced = values["value"].notna().any() or (
            data.sales is not None and "price" in data.sales and data.sales["price"].notna().any())
        missing[NO_REVENUE_CREDIT] = NO_ATTRIBUTED_PRICE if priced else NO_PRICE
    buyer_paths = paths[paths["conversions"] > 0].sort_values(["conversions", "path"], ascending=[False, True])
    buyers_with_path = int(used["buyers"].sum())
    buyer_paths = buyer_paths.head(params.top_n).assign(share_of_buyers=lambda f: f["conversions"] / buyers_with_path)
    return {"channels_used_": used, "buyer_paths_": buyer_paths.reset_index(drop=True), "credits_": credits,
            "attribution_info_": info, "markov_k_": higher}


def _path_part(data, params: Params, ordered) -> dict:
    """4. Journey variants, transitions between stages, channels and event types, and the two flows."""
    events = data.events
    stage_trans = variants.transitions(events, kind="stage")
    channel_trans = variants.transitions(events, kind="channel")
    stage_flows, channel_flows = flows(data.journeys, stage_trans, params.min_level_customers)
    return {"variants_": {kind: variants.variants(events, kind=kind, top_n=params.top_n)
                          for kind in ("stage", "event_type")},
            "stage_transitions_": stage_trans, "channel_transitions_": channel_trans,
            "event_type_transitions_": variants.transitions(events, kind="event_type", top_n=variants.TOP_EVENT_TYPES,
                                                           ordered=ordered),
            "channel_order_": list(channel_trans.groupby("to_state")["transitions"].sum()
                                   .drop(engine.END, errors="ignore").sort_values(ascending=False).index),
            "stage_flows_": stage_flows, "channel_flows_": channel_flows, "share_bought_": share_bought(channel_flows)}


def _map_part(data, counts_channel: pd.DataFrame, counts_event: pd.DataFrame) -> dict:
    """7. The journey map poster and each stage's most frequent complaint with quotes."""
    from journeylib.derived import feedback

    scored, themes = data.scored, data.themes
    map_table = poster.journey_map_table(data.journeys, counts_channel, counts_event, data.surveys, scored, themes)
    survey_type_of = {stage: survey_type for survey_type, stage in surveys.SURVEY_STAGE.items()}
    pains = []
    for row in surveys.stage_pain_points(scored, themes, top=1).itertuples():
        quotes = feedback.example_quotes(scored[scored["survey_type"] == survey_type_of[row.stage]], row.theme, n=2)
        pains.append((row.stage, row.theme, int(row.negative_mentions), quotes))
    return {"map_table_": map_table, "pains_": pains}


def _segment_part(data, params: Params, pooled: dict) -> dict:
    """8. The funnel per segment and a journey map for the largest segments."""
    journeys = data.journeys
    segment_of, segment_pooled = groups.pool_segments(
        groups.segment_labels(journeys, params.segment_by, data.personas), params.min_level_customers)
    if segment_pooled:
        pooled[params.segment_by] = segment_pooled
    by_segment = groups.funnel_by_segment(journeys, segment_of)
    sizes = segment_of.value_counts()
    buy = by_segment[by_segment["stage"] == "purchase"]
    return {"segment_funnel_": by_segment, "segment_sizes_": sizes,
            "segment_extremes_": groups.extremes(buy, "share_of_segment", "segment_customers"),
            "segment_maps_": segment_maps(data, segment_of, list(sizes.index[:params.segment_maps]))}


def _revenue_part(data, params: Params, values: pd.DataFrame, missing: dict) -> dict:
    """6. Revenue per acquisition channel and per first-touch campaign."""
    journeys, events, sales, low = data.journeys, data.events, data.sales, params.min_level_customers
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
        missing[NO_CAMPAIGN_REVENUE] = NO_CAMPAIGN
    return {"revenue_by_channel_": by_channel, "revenue_by_campaign_": by_campaign}


def _comparison_part(data, params: Params, ordered) -> dict:
    """5. What buyers do that others don't (and the comparison the `compare` parameter asks for)."""
    events, journeys = data.events, data.journeys
    buyers_compared = compare.buyers_against_others(events, journeys, params.compare_q, ordered=ordered)
    compared = buyers_compared
    chosen = params.compared_groups()
    if chosen is not None:
        from journeylib.labels import label

        grouping, a, b = chosen
        compared = compare.two_groups(events, journeys, groups.segment_labels(journeys, grouping, data.personas), a, b,
                                      params.compare_q, names=(label(a), label(b)), ordered=ordered)
    return {"buyers_compared_": buyers_compared, "compared_": compared}


# ------------------------------------------------------------ small steps of the parts above


def flows(journeys: pd.DataFrame, stage_trans: pd.DataFrame, min_customers: int):
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


def share_bought(channel_flows: pd.DataFrame) -> pd.Series:
    """Per first-touch channel: the share of its customers who reached purchase or beyond (lowest first)."""
    bought = channel_flows[channel_flows["target"].isin(["purchase", "retention", "advocacy"])]
    bought = bought.groupby("source")["value"].sum()
    share = (bought / channel_flows.groupby("source")["value"].sum()).dropna()
    share = share.reindex(channel_flows["source"].unique(), fill_value=0.0).sort_values()
    return share if len(bought) else share.iloc[:0]


def segment_maps(data, segment_of: pd.Series, largest: list) -> list[SegmentMap]:
    """A journey map per segment in `largest` (stage counts grouped for those segments in one engine pass each)."""
    journeys = data.journeys
    frame = pd.DataFrame({"customer_id": journeys["customer_id"], "segment": segment_of.to_numpy()})
    chosen = frame[frame["segment"].isin(largest)]
    seg_channel = channels.stage_counts(data.events, by="channel", segments=chosen)
    seg_event = channels.stage_counts(data.events, by="event_type", segments=chosen)
    maps = []
    for name in largest:
        members = journeys[segment_of.to_numpy() == name]
        conv = funnel.conversion(members)
        if not (conv["reached"] > 0).any():  # nobody in it reached a stage (customers without counted events)
            continue
        table = poster.journey_map_table(members, seg_channel, seg_event, data.surveys, data.scored, data.themes,
                                         segment=name)
        maps.append(SegmentMap(name, len(members), table, funnel.largest_drop_off(conv)))
    return maps
