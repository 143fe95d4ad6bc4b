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

Identical journeys are collapsed first, in the engine that prepared the data
(ChannelAttribution's aggregated form): distinct paths with their customers,
conversions and nulls come back, and first touch, last touch and the Markov
chain are built from those. Linear and time decay weigh every single touch (its
count and age), so they are one per-touch grouping in the engine; only
per-channel sums come back.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from journeylib.errors import NotEstimable
from journeylib.vocabulary import UNKNOWN
from journeylib.journey_map.engine import SEP, START, collapsed, sequences

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


def channel_paths(touches, top_n: int | None = None, values: pd.DataFrame | None = None) -> pd.DataFrame:
    """Identical journeys collapsed in the engine: distinct channel paths (consecutive repeats collapsed)
    with customers, conversions and nulls, most common first. Every path-based model runs on this form.
    `values` (customer_id, value: `revenue.purchase_values`): also the buyers' `revenue` per path, and
    `unpriced`, its buyers whose purchase has no known price."""
    import ibis

    steps = collapsed(touches, "channel")
    per_customer = sequences(steps, "channel", by=["customer_id", "bought"])
    sums = {}
    if values is not None:
        # unknown prices as 0 here: Spark keeps a pandas NaN as NaN (not null), which fill_null would not catch
        known = values[["customer_id", "value"]].assign(_priced=values["value"].notna()).fillna({"value": 0.0})
        per_customer = per_customer.left_join(ibis.memtable(known), "customer_id")
        sums["revenue"] = per_customer.bought.ifelse(per_customer.value.fill_null(0.0), 0.0).sum()
        # buyers whose purchase has no known price (or no value row at all)
        sums["unpriced"] = (per_customer.bought & ~per_customer._priced.fill_null(False)).cast("int64").sum()
    grouped = per_customer.group_by("path").aggregate(
        customers=per_customer.count(),
        conversions=per_customer.bought.cast("int64").sum(),
        **sums,
    )
    grouped = grouped.mutate(nulls=grouped.customers - grouped.conversions)
    grouped = grouped.order_by([grouped.customers.desc(), grouped.path])
    if top_n is not None:
        grouped = grouped.limit(top_n)
    return grouped.to_pandas()


def rule_based(touches, half_life_days: float = 7.0, paths: pd.DataFrame | None = None,
               per_touch: pd.DataFrame | None = None) -> pd.DataFrame:
    """Credits per channel from first touch, last touch, linear and time decay, over buyers' touches.

    First and last touch come from the distinct paths (`channel_paths`, computed when not given):
    collapsing repeats keeps a path's first and last channel. Linear and time decay weigh every touch
    (`touch_based`, computed when `per_touch` is not given).
    """
    if not half_life_days > 0:
        raise ValueError(f"half_life_days must be positive, got {half_life_days}")
    paths = channel_paths(touches) if paths is None else paths
    out = touch_based(touches, half_life_days) if per_touch is None else per_touch
    out = out[["linear", "time_decay"]].join(path_ends(paths), how="outer").fillna(0.0)
    return out[["first_touch", "last_touch", "linear", "time_decay"]].astype("float64").sort_index()


def touch_based(touches, half_life_days: float = 7.0, values: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per channel: linear and time-decay credit over buyers' touches, in one grouping in the engine.

    A channel touched twice gets two shares; each touch's age counts, with per-buyer windows that need
    no ordering. With `values` (customer_id, value: `revenue.purchase_values`) the same shares of each
    buyer's value too: `linear_revenue`, `time_decay_revenue` (an unknown value counts 0).
    """
    import ibis

    if not half_life_days > 0:
        raise ValueError(f"half_life_days must be positive, got {half_life_days}")
    b = touches.filter(touches.bought)
    if values is not None:
        known = ibis.memtable(values[["customer_id", "value"]].fillna({"value": 0.0}))
        b = b.left_join(known, b.customer_id == known.customer_id).drop("customer_id_right")
    per_buyer = ibis.window(group_by=b.customer_id)
    days_before = b.first_purchase_at.delta(b.occurred_at, unit="second") / 86400
    b = b.mutate(_touches=b.event_id.count().over(per_buyer), _days=days_before)
    # Weights relative to the buyer's latest touch (weight 1), so old touches cannot underflow every weight to 0.
    b = b.mutate(_weight=((b._days.min().over(per_buyer) - b._days) * (math.log(2) / half_life_days)).exp())
    b = b.mutate(_decay=b._weight / b._weight.sum().over(per_buyer))
    sums = {"linear": (1.0 / b._touches).sum(), "time_decay": b._decay.sum()}
    if values is not None:
        value = b.value.fill_null(0.0)
        sums.update(linear_revenue=(value / b._touches).sum(), time_decay_revenue=(value * b._decay).sum())
    return b.group_by("channel").aggregate(**sums).to_pandas().set_index("channel")


def path_steps(paths: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(each step's path position, each step's channel) of SEP-joined paths, split by Arrow's compute
    kernels (at a million customers Python's str.split over the distinct paths took seconds)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    lists = pc.split_pattern(pa.array(paths.to_numpy(dtype=object), pa.string()), SEP)
    return (pc.list_parent_indices(lists).to_numpy(zero_copy_only=False),
            lists.flatten().to_numpy(zero_copy_only=False))


def path_ends(paths: pd.DataFrame) -> pd.DataFrame:
    """Per channel: conversions whose path starts (first_touch) and ends (last_touch) there."""
    bought = paths[paths["conversions"] > 0]
    row, steps = path_steps(bought["path"])
    first = np.r_[True, row[1:] != row[:-1]]
    last = np.r_[row[1:] != row[:-1], True]
    conversions = bought["conversions"].to_numpy()
    first = pd.Series(conversions, dtype=bought["conversions"].dtype).groupby(steps[first]).sum()
    last = pd.Series(conversions, dtype=bought["conversions"].dtype).groupby(steps[last]).sum()
    return pd.DataFrame({"first_touch": first, "last_touch": last}).fillna(0).rename_axis("channel")


def channels_used(touches) -> pd.DataFrame:
    """How many distinct known channels (not `unknown`) each customer's path uses: customers and buyers per count."""
    known = touches.filter(touches.channel != UNKNOWN)
    per_customer = known.group_by(["customer_id", "bought"]).aggregate(channels=known.channel.nunique())
    out = per_customer.group_by("channels").aggregate(
        customers=per_customer.count(), buyers=per_customer.bought.cast("int64").sum()).to_pandas()
    return out.sort_values("channels", ignore_index=True)


def markov_transitions(paths: pd.DataFrame) -> pd.DataFrame:
    """Transition counts of the first-order chain (start) -> channels -> (conversion) | (null), from distinct paths.

    Each distinct path adds its customers to every step along it, and its conversions and
    nulls to its last channel's exits: the chain built journey by journey, in one pass over paths.
    """
    paths = paths[paths["customers"] > 0].reset_index(drop=True)
    if paths.empty:
        return pd.DataFrame({"from_state": pd.Series(dtype=object), "to_state": pd.Series(dtype=object),
                             "count": pd.Series(dtype="int64")})
    row, steps = path_steps(paths["path"])  # each step's path, and its channel
    state, channels = pd.factorize(steps)
    names = np.array([*channels, START, CONVERSION, NULL], dtype=object)
    start, conversion, null = len(channels), len(channels) + 1, len(channels) + 2
    first = np.r_[True, row[1:] != row[:-1]]
    last = np.r_[row[1:] != row[:-1], True]
    ends = state[last]
    source = np.concatenate([np.where(first, start, np.r_[0, state[:-1]]), ends, ends])
    target = np.concatenate([state, np.full(len(ends), conversion), np.full(len(ends), null)])
    weight = np.concatenate([paths["customers"].to_numpy()[row], paths["conversions"].to_numpy(),
                             paths["nulls"].to_numpy()]).astype("int64")
    pair = source * len(names) + target
    totals = np.bincount(pair, weights=weight, minlength=len(names) ** 2).astype("int64")
    seen = np.flatnonzero(totals)
    out = pd.DataFrame({"from_state": names[seen // len(names)], "to_state": names[seen % len(names)],
                        "count": totals[seen]})
    return out.sort_values(["from_state", "to_state"], ignore_index=True)


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


def attribute(events, half_life_days: float = 7.0, as_of=None, values: pd.DataFrame | None = None
              ) -> tuple[pd.DataFrame, dict]:
    """Credits per channel (rows) for the five models (columns), and counts that explain them.

    NotEstimable when no purchase has a touch before it (no buyers, or none with a touch).

    info: purchases_attributed (buyers with at least one touch before the first purchase),
    buyers (customers with a purchase), paths (customers with at least one touch), conversion_probability,
    transitions, removal_effects, and channel_paths (the distinct paths every model ran on). With `values`
    (`revenue.purchase_values`): revenue_credits (channels x models, `revenue.revenue_credits`), revenue
    (the attributed buyers' total) and unpriced (attributed buyers whose purchase has no price).
    """
    touches = pre_purchase_touches(events, as_of)
    paths = channel_paths(touches, values=values)
    trans = markov_transitions(paths)
    buyers = int(events.filter(events.event_type == "purchase").customer_id.nunique().to_pandas())
    attributed = int(trans.loc[trans["to_state"] == CONVERSION, "count"].sum())
    if attributed == 0:
        raise NotEstimable("No customer has bought yet, so there is no purchase to credit to channels." if not buyers
                           else f"None of the {buyers:,} buyers had a marketing touch before buying, so no purchase "
                                "can be credited to a channel.")
    per_touch = touch_based(touches, half_life_days, values)
    rules = rule_based(touches, half_life_days, paths, per_touch)
    markov = markov_removal(trans)
    credits = rules.join(markov[["markov"]], how="outer").fillna(0.0).reindex(columns=list(MODELS))
    info = {
        "buyers": buyers,
        "purchases_attributed": attributed,
        "paths": int(trans.loc[trans["from_state"] == START, "count"].sum()),
        "conversion_probability": conversion_probability(trans) if len(trans) else 0.0,
        "transitions": trans,
        "removal_effects": markov["removal_effect"],
        "channel_paths": paths,
    }
    if values is not None:
        from journeylib.journey_map import revenue

        info["revenue_credits"] = revenue.revenue_credits(touches, paths, values, markov["removal_effect"],
                                                          half_life_days, per_touch)
        info["revenue"] = float(paths["revenue"].sum())
        info["unpriced"] = int(paths["unpriced"].sum())
    return credits.sort_values("last_touch", ascending=False), info


def disagreement(credits: pd.DataFrame) -> pd.DataFrame:
    """Per channel: share of credit under each model, and the spread between its highest and lowest share."""
    shares = credits / credits.sum()
    out = shares.copy()
    out["highest_model"] = shares.idxmax(axis=1)
    out["lowest_model"] = shares.idxmin(axis=1)
    out["spread"] = shares.max(axis=1) - shares.min(axis=1)
    return out.sort_values("spread", ascending=False)


__all__ = ["MODELS", "CONVERSION", "NULL", "START", "pre_purchase_touches", "rule_based", "touch_based", "channel_paths", "channels_used",
           "path_steps", "path_ends", "markov_transitions", "conversion_probability", "markov_removal", "attribute", "disagreement"]
