"""Which channels earn the purchases: five attribution models side by side.

Path: a customer's raw touchpoints (source `touchpoints`; derived sales,
service and referral rows are outcomes, not marketing touches) strictly before
their first purchase, or up to the as-of date for those who have not bought.
`unknown` channels stay in as a channel of their own, so the share of credit
that cannot be placed is visible instead of silently spread over the others.
Buyers whose first purchase has no touch before it are not attributed; every
model's credits sum to the number of buyers it does attribute.

- first touch / last touch: the whole purchase to the first / last touch's channel;
- linear: an equal share to every touch (a channel touched twice gets two shares);
- time decay: a touch `d` days before the purchase weighs 2^(-d / half_life), shares normalised per buyer;
- Markov: a first-order chain (start) -> channels -> (conversion) | (null) built from every customer's
  path with consecutive repeats collapsed; a channel's removal effect is the relative fall in the
  probability of reaching (conversion) when the channel leads to (null); effects are scaled to sum
  to the number of purchases.

Path building and the rule-based models run in DuckDB through Ibis; only
per-channel sums and the transition counts come back to pandas.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from journeylib.errors import NotEstimable
from journeylib.journey_map import SEP, START, _collapsed, _order

MODELS = ("first_touch", "last_touch", "linear", "time_decay", "markov")
CONVERSION, NULL = "(conversion)", "(null)"


def pre_purchase_touches(events, as_of=None):
    """Raw touchpoints before each customer's first purchase (all of them, up to `as_of`, for non-buyers)."""
    import ibis

    purchases = events.filter(events.event_type == "purchase")
    first = purchases.group_by("customer_id").aggregate(first_purchase_at=purchases.occurred_at.min())
    raw = events.filter(events.source == "touchpoints")
    if as_of is not None:
        raw = raw.filter(raw.occurred_at <= ibis.literal(pd.Timestamp(as_of).to_pydatetime()))
    t = raw.left_join(first, "customer_id")
    t = t.filter(t.first_purchase_at.isnull() | (t.occurred_at < t.first_purchase_at))
    return t.select("customer_id", "occurred_at", "event_id", "channel", "first_purchase_at",
                    bought=t.first_purchase_at.notnull())


def rule_based(touches, half_life_days: float = 7.0) -> pd.DataFrame:
    """Credits per channel from first touch, last touch, linear and time decay, over buyers' touches."""
    import ibis

    if not half_life_days > 0:
        raise ValueError(f"half_life_days must be positive, got {half_life_days}")
    b = touches.filter(touches.bought)
    forward = ibis.window(group_by=b.customer_id, order_by=_order(b))
    backward = ibis.window(group_by=b.customer_id, order_by=[b.occurred_at.desc(), b.event_id.desc()])
    per_buyer = ibis.window(group_by=b.customer_id)
    days_before = b.first_purchase_at.delta(b.occurred_at, unit="second") / 86400
    b = b.mutate(_pos=ibis.row_number().over(forward), _pos_back=ibis.row_number().over(backward),
                 _touches=b.event_id.count().over(per_buyer), _days=days_before)
    # Weights relative to the buyer's latest touch (weight 1), so old touches cannot underflow every weight to 0.
    b = b.mutate(_weight=((b._days.min().over(per_buyer) - b._days) * (math.log(2) / half_life_days)).exp())
    b = b.mutate(_decay=b._weight / b._weight.sum().over(per_buyer))
    out = b.group_by("channel").aggregate(
        first_touch=(b._pos == 0).cast("int64").sum(),
        last_touch=(b._pos_back == 0).cast("int64").sum(),
        linear=(1.0 / b._touches).sum(),
        time_decay=b._decay.sum(),
    ).to_pandas()
    return out.set_index("channel").astype("float64").sort_index()


def channel_paths(touches, top_n: int | None = None) -> pd.DataFrame:
    """Distinct channel paths (consecutive repeats collapsed) with conversions and nulls, most common first."""
    steps = _collapsed(touches, "channel")
    per_customer = steps.group_by(["customer_id", "bought"]).aggregate(
        path=steps.channel.group_concat(SEP, order_by=_order(steps)))
    grouped = per_customer.group_by("path").aggregate(
        customers=per_customer.count(),
        conversions=per_customer.bought.cast("int64").sum(),
    )
    grouped = grouped.mutate(nulls=grouped.customers - grouped.conversions)
    grouped = grouped.order_by([grouped.customers.desc(), grouped.path])
    if top_n is not None:
        grouped = grouped.limit(top_n)
    return grouped.to_pandas()


def channels_used(touches) -> pd.DataFrame:
    """How many distinct known channels (not `unknown`) each customer's path uses: customers and buyers per count."""
    known = touches.filter(touches.channel != "unknown")
    per_customer = known.group_by(["customer_id", "bought"]).aggregate(channels=known.channel.nunique())
    out = per_customer.group_by("channels").aggregate(
        customers=per_customer.count(), buyers=per_customer.bought.cast("int64").sum()).to_pandas()
    return out.sort_values("channels", ignore_index=True)


def markov_transitions(touches) -> pd.DataFrame:
    """Transition counts of the first-order chain: (start) -> channels -> (conversion) | (null)."""
    import ibis

    steps = _collapsed(touches, "channel")
    forward = ibis.window(group_by=steps.customer_id, order_by=_order(steps))
    backward = ibis.window(group_by=steps.customer_id, order_by=[steps.occurred_at.desc(), steps.event_id.desc()])
    steps = steps.mutate(_from=steps.channel.lag().over(forward).fill_null(START),
                         _is_last=ibis.row_number().over(backward) == 0)
    moves = steps.select(from_state=steps._from, to_state=steps.channel)
    ends = steps.filter(steps._is_last).select(
        from_state=steps.channel, to_state=ibis.ifelse(steps.bought, CONVERSION, NULL))
    both = moves.union(ends)
    return both.group_by(["from_state", "to_state"]).aggregate(count=both.count()).to_pandas()


def conversion_probability(transition_counts: pd.DataFrame, removed: str | None = None) -> float:
    """P(reaching (conversion) from (start)); a `removed` channel leads straight to (null)."""
    counts = transition_counts.groupby(["from_state", "to_state"])["count"].sum()
    channels = sorted(set(counts.index.get_level_values(0)) - {START})
    index = {c: i for i, c in enumerate(channels)}
    n = len(channels)
    q = np.zeros((n, n))
    to_conversion = np.zeros(n)
    start = np.zeros(n)
    exits = counts.groupby(level=0).sum()
    for (src, dst), count in counts.items():
        p = count / exits[src]
        if src == START:
            start[index[dst]] += p
        elif src == removed:
            continue  # every exit of a removed channel goes to (null)
        elif dst == CONVERSION:
            to_conversion[index[src]] += p
        elif dst in index:
            q[index[src], index[dst]] += p
    if n == 0:
        return 0.0
    # v = Q v + r: the probability of eventually converting from each channel.
    reach = np.linalg.solve(np.eye(n) - q, to_conversion)
    return float(start @ reach)


def markov_removal(transition_counts: pd.DataFrame) -> pd.DataFrame:
    """Per channel: removal effect and credit (effects scaled to sum to the chain's conversions)."""
    conversions = transition_counts.loc[transition_counts["to_state"] == CONVERSION, "count"].sum()
    channels = sorted(set(transition_counts["from_state"]) - {START})
    base = conversion_probability(transition_counts)
    effects = pd.Series({c: (base - conversion_probability(transition_counts, removed=c)) / base if base else 0.0
                         for c in channels}, dtype="float64")
    total = effects.sum()
    credits = effects / total * conversions if total > 0 else effects * 0.0
    return pd.DataFrame({"removal_effect": effects, "markov": credits}).rename_axis("channel")


def attribute(events, half_life_days: float = 7.0, as_of=None) -> tuple[pd.DataFrame, dict]:
    """Credits per channel (rows) for the five models (columns), and counts that explain them.

    NotEstimable when no purchase has a touch before it (no buyers, or none with a touch).

    info: purchases_attributed (buyers with at least one touch before the first purchase),
    buyers (customers with a purchase), paths (customers with at least one touch), conversion_probability.
    """
    touches = pre_purchase_touches(events, as_of)
    trans = markov_transitions(touches)
    buyers = int(events.filter(events.event_type == "purchase").customer_id.nunique().to_pandas())
    attributed = int(trans.loc[trans["to_state"] == CONVERSION, "count"].sum())
    if attributed == 0:
        raise NotEstimable("No customer has bought yet, so there is no purchase to credit to channels." if not buyers
                           else f"None of the {buyers:,} buyers had a marketing touch before buying, so no purchase "
                                "can be credited to a channel.")
    rules = rule_based(touches, half_life_days)
    markov = markov_removal(trans)
    credits = rules.join(markov[["markov"]], how="outer").fillna(0.0).reindex(columns=list(MODELS))
    info = {
        "buyers": buyers,
        "purchases_attributed": attributed,
        "paths": int(trans.loc[trans["from_state"] == START, "count"].sum()),
        "conversion_probability": conversion_probability(trans) if len(trans) else 0.0,
        "transitions": trans,
        "removal_effects": markov["removal_effect"],
    }
    return credits.sort_values("last_touch", ascending=False), info


def disagreement(credits: pd.DataFrame) -> pd.DataFrame:
    """Per channel: share of credit under each model, and the spread between its highest and lowest share."""
    shares = credits / credits.sum()
    out = shares.copy()
    out["highest_model"] = shares.idxmax(axis=1)
    out["lowest_model"] = shares.idxmin(axis=1)
    out["spread"] = shares.max(axis=1) - shares.min(axis=1)
    return out.sort_values("spread", ascending=False)


__all__ = ["MODELS", "CONVERSION", "NULL", "START", "pre_purchase_touches", "rule_based", "channel_paths", "channels_used",
           "markov_transitions", "conversion_probability", "markov_removal", "attribute", "disagreement"]
