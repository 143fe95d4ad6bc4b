"""Journey variants and first-order transitions, consecutive repeats collapsed, computed in the engine.

A variant is a customer's sequence of stages (or event types); identical
sequences are grouped in the engine, so only the distinct variants with their
customer and buyer counts come back.
"""

from __future__ import annotations

import pandas as pd

from journeylib.journey_map.engine import END, SEP, START, collapsed, journey_events, order, sequences, with_segments
from journeylib.vocabulary import OTHER_LEVEL

TOP_EVENT_TYPES = 10  # event-type transitions: states of their own (the rest pooled into 'other')


def variants(events, kind: str = "stage", top_n: int = 10) -> tuple[pd.DataFrame, dict]:
    """The most common journey variants: sequences of stages or event types, consecutive repeats collapsed.

    Over events that count for the journey. Returns (top, totals): the `top_n`
    variants with customers, share of journeys, buyers and conversion (share who
    bought), and totals {"journeys", "variants", "top_share"}.
    """
    import ibis

    if kind not in ("stage", "event_type"):
        raise ValueError(f"kind={kind!r}: expected 'stage' or 'event_type'")
    t = journey_events(events)
    bought = (events.filter(events.event_type == "purchase").select("customer_id").distinct()
                    .mutate(bought=1))
    steps = collapsed(t, kind)
    per_customer = sequences(steps, kind, "variant")
    per_customer = per_customer.left_join(bought, "customer_id").select("variant", "bought")
    grouped = per_customer.group_by("variant").aggregate(
        customers=per_customer.count(), buyers=per_customer.bought.fill_null(0).sum())
    everything = ibis.window()  # totals over all variants, in the same pass as the top ones
    grouped = grouped.mutate(_journeys=grouped.customers.sum().over(everything), _variants=grouped.count().over(everything))
    top = grouped.order_by([grouped.customers.desc(), grouped.variant]).limit(top_n).to_pandas()
    journeys = int(top["_journeys"].iloc[0]) if len(top) else 0
    n_variants = int(top["_variants"].iloc[0]) if len(top) else 0
    top = top.drop(columns=["_journeys", "_variants"])
    top["share"] = top["customers"] / max(journeys, 1)
    top["conversion"] = top["buyers"] / top["customers"]
    top["cumulative_share"] = top["share"].cumsum()
    top["steps"] = top["variant"].str.count(SEP) + 1
    totals = {"journeys": journeys, "variants": n_variants, "top_share": float(top["share"].sum())}
    return top, totals


def ordered_steps(events, kind: str = "event_type", top_n: int | None = None, segments: pd.DataFrame | None = None):
    """Each event with its state and the previous event's, in one window (one sort of the event log).

    Columns: customer_id, occurred_at, event_type, channel, segment (only with `segments`), `_state` (the `kind` value; with
    `top_n` the `top_n` most frequent values by events, the rest pooled into 'other'), `_from` and
    `_from_at` (the previous event's state and time; null on the first), `_is_last`. Stages and event
    types use events that count for the journey; channels use every event in the log. The event-type
    transitions and the group comparison (`compare.behaviour_counts`) can share one such table
    (`Table.cache()`): the window is the costly part of both.
    """
    import ibis

    if kind not in ("stage", "channel", "event_type"):
        raise ValueError(f"kind={kind!r}: expected 'stage', 'channel' or 'event_type'")
    t = events if kind == "channel" else journey_events(events)
    state = t[kind] if top_n is None else pooled(t, kind, top_event_types(t, kind, top_n))
    t = t.mutate(_state=state) if segments is None else with_segments(t.mutate(_state=state), segments)
    w = ibis.window(group_by=t.customer_id, order_by=order(t))
    # one window for all three (one sort); event_id is never null, so only the last event has no next one
    t = t.mutate(_from=t._state.lag().over(w), _from_at=t.occurred_at.lag().over(w),
                 _is_last=t.event_id.lead().over(w).isnull())
    return t.select("customer_id", "occurred_at", "event_type", "channel", *(["segment"] if segments is not None else []),
                    "_state", "_from", "_from_at", "_is_last")


def transitions(events, kind: str = "stage", segments: pd.DataFrame | None = None,
                top_n: int | None = None, ordered=None) -> pd.DataFrame:
    """First-order transitions between stages, channels or event types, consecutive repeats collapsed.

    Each customer's sequence runs (start) -> s1 -> s2 ... -> (end). Per
    (from, to): transitions, probability (share of the from-state's exits) and
    median hours between the last event of the from-step and the first of the
    to-step. Stages and event types use events that count for the journey; channels use every
    event in the log (`unknown` is kept as a state of its own). `top_n`: only the `top_n` most
    frequent values (by events) are states of their own, the rest pooled into 'other' before
    repeats are collapsed, so an export with thousands of labels still gives a readable matrix.
    `ordered`: the same `ordered_steps(events, kind, top_n, segments)`, already made (and cached).
    """
    import ibis

    t = ordered_steps(events, kind, top_n, segments) if ordered is None else ordered
    if "segment" not in t.columns:  # no segments: every event in segment 'all'
        t = t.mutate(segment=ibis.literal("all"))
    steps = t.filter(t._from.isnull() | (t._from != t._state))
    steps = steps.select("segment", from_state=steps._from.fill_null(START), to_state=steps._state,
                         hours=steps.occurred_at.delta(steps._from_at, unit="second") / 3600)
    ends = t.filter(t._is_last).select("segment", from_state=t._state, to_state=ibis.literal(END),
                                       hours=ibis.null().cast("float64"))
    both = steps.union(ends)
    out = both.group_by(["segment", "from_state", "to_state"]).aggregate(
        transitions=both.count(), median_hours=both.hours.median()).to_pandas()
    out["probability"] = out["transitions"] / out.groupby(["segment", "from_state"])["transitions"].transform("sum")
    # to_state breaks ties, so equal counts come out in one order whatever the engine's grouping order
    return out.sort_values(["segment", "from_state", "transitions", "to_state"], ascending=[True, True, False, True],
                           ignore_index=True)


def top_event_types(t, column: str = "event_type", top_n: int = 10) -> list:
    """The `top_n` most frequent values of `column` (by events; ties by name), computed in the engine."""
    counts = t.group_by(column).aggregate(_events=t.count())
    counts = counts.order_by([counts._events.desc(), counts[column]]).limit(top_n)
    return counts.to_pandas()[column].dropna().tolist()


def pooled(t, column: str, kept: list):
    """`column` with every value outside `kept` replaced by 'other'."""
    import ibis

    return t[column].isin(kept or [""]).ifelse(t[column], ibis.literal(OTHER_LEVEL))


def transition_matrix(trans: pd.DataFrame, value: str = "probability", states=None) -> pd.DataFrame:
    """from x to matrix of one segment's transitions (rows start with (start), columns end with (end))."""
    matrix = trans.pivot_table(index="from_state", columns="to_state", values=value, aggfunc="sum")
    states = list(states) if states is not None else sorted((set(matrix.index) | set(matrix.columns)) - {START, END})
    states = [s for s in states if s not in (START, END)]  # each appears once, in its fixed place
    rows = [START] + [s for s in states if s in matrix.index]
    cols = [s for s in states if s in matrix.columns] + ([END] if END in matrix.columns else [])
    return matrix.reindex(index=rows, columns=cols)


