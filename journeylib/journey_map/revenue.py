"""Revenue in every credit: what each buyer's first purchase brought in, credited to channels by each model,
and revenue per lead and per purchase by acquisition channel and by campaign.

A buyer's value is the price of their first purchase (the purchase attribution credits): the `sales` row
behind the log's purchase event (`sale:<deal_id>`), or the event's own `price` column where purchases come
from the event log. A purchase without a known price is worth 0 and counted (`unpriced`).

- First / last touch: a path's revenue to its first / last channel.
- Linear / time decay: each buyer's value split over their touches with the purchase model's weights.
- Markov: each converting path's value split over the channels on the path in proportion to their removal
  effects (the chain and its exact solution are the purchase model's). With every value 1 this is not the
  purchase credit, which spreads the effects over the whole chain instead of path by path.

Every model's revenue credits sum to the attributed buyers' revenue. Definitions: docs/journey_map.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeylib.vocabulary import OTHER_LEVEL

SALE_PREFIX = "sale:"
TOP_CAMPAIGNS = 10  # campaigns shown and recorded by name (the rest pooled into 'other')
NO_CAMPAIGN = "no_campaign"  # customers none of whose touches names a campaign


def purchase_values(events, sales: pd.DataFrame | None) -> pd.DataFrame:
    """customer_id, value: the price of each buyer's first purchase (NaN when unknown)."""
    import ibis

    p = events.filter(events.event_type == "purchase")
    own_price = "price" in p.columns
    w = ibis.window(group_by=p.customer_id, order_by=[p.occurred_at, p.event_id])
    p = p.mutate(_n=ibis.row_number().over(w))
    first = p.filter(p._n == 0).select("customer_id", "event_id", *(["price"] if own_price else [])).to_pandas()
    value = first["price"].astype("float64") if own_price else pd.Series(np.nan, index=first.index)
    if sales is not None and len(sales) and "price" in sales:
        deal = first["event_id"].astype(str).str.removeprefix(SALE_PREFIX)
        price = sales.drop_duplicates("deal_id").assign(deal_id=lambda f: f["deal_id"].astype(str)).set_index(
            "deal_id")["price"]
        value = value.fillna(deal.map(price).astype("float64"))
    return pd.DataFrame({"customer_id": first["customer_id"].astype(str), "value": value.to_numpy()})


def touch_revenue(touches, values: pd.DataFrame, half_life_days: float) -> pd.DataFrame:
    """Per channel: linear and time-decay revenue, each buyer's value over their touches (in the engine)."""
    from journeylib.journey_map.attribution import touch_based

    return _touch_revenue(touch_based(touches, half_life_days, values))


def _touch_revenue(per_touch: pd.DataFrame) -> pd.DataFrame:
    return per_touch[["linear_revenue", "time_decay_revenue"]].rename(
        columns={"linear_revenue": "linear", "time_decay_revenue": "time_decay"})


def path_revenue(paths: pd.DataFrame, effects: pd.Series) -> pd.DataFrame:
    """Per channel: first-touch, last-touch and Markov revenue from the distinct paths' `revenue`.

    Markov: each path's revenue split over its distinct channels in proportion to their removal effects
    (equally when none of them has an effect)."""
    from journeylib.journey_map.attribution import path_steps

    bought = paths[paths["revenue"] > 0].reset_index(drop=True)
    if bought.empty:
        return pd.DataFrame(columns=["first_touch", "last_touch", "markov"], dtype="float64").rename_axis("channel")
    row, steps = path_steps(bought["path"])
    revenue = bought["revenue"].to_numpy(dtype=float)
    first = np.r_[True, row[1:] != row[:-1]]
    last = np.r_[row[1:] != row[:-1], True]
    out = pd.DataFrame({"first_touch": pd.Series(revenue[row[first]]).groupby(steps[first]).sum(),
                        "last_touch": pd.Series(revenue[row[last]]).groupby(steps[last]).sum()})
    on_path = pd.DataFrame({"row": row, "channel": steps}).drop_duplicates()
    weight = on_path["channel"].map(effects).fillna(0.0).clip(lower=0).to_numpy()
    total = np.bincount(on_path["row"], weights=weight, minlength=len(bought))
    count = np.bincount(on_path["row"], minlength=len(bought))
    share = np.where(total[on_path["row"]] > 0, weight / np.where(total > 0, total, 1)[on_path["row"]],
                     1.0 / count[on_path["row"]])
    out["markov"] = pd.Series(share * revenue[on_path["row"]]).groupby(on_path["channel"].to_numpy()).sum()
    return out.fillna(0.0).rename_axis("channel")


def revenue_credits(touches, paths: pd.DataFrame, values: pd.DataFrame, effects: pd.Series,
                    half_life_days: float, per_touch: pd.DataFrame | None = None) -> pd.DataFrame:
    """Revenue credited to each channel (rows) by the five models (columns); each column sums to the revenue of
    the attributed buyers. `paths` must carry `revenue` (`attribution.channel_paths(..., values=...)`).
    `per_touch`: `attribution.touch_based(touches, half_life_days, values)` when already grouped."""
    from journeylib.journey_map.attribution import MODELS

    touch = touch_revenue(touches, values, half_life_days) if per_touch is None else _touch_revenue(per_touch)
    out = path_revenue(paths, effects).join(touch, how="outer")
    return out.fillna(0.0).reindex(columns=list(MODELS)).astype("float64").sort_index()


def revenue_by(journeys: pd.DataFrame, sales_values: pd.DataFrame, labels, top_n: int | None = None) -> pd.DataFrame:
    """Per group (`labels` aligned with `journeys`): customers (leads), buyers, purchases with a price, revenue,
    revenue per lead and per purchase. `sales_values`: customer_id, price (every purchase). With `top_n`, groups
    past the top_n by customers are pooled into 'other'."""
    group = pd.Series(np.asarray(labels, dtype=object), index=journeys.index).fillna("(none)").astype(str)
    if top_n is not None:
        top = group.value_counts().index[:top_n]
        group = group.where(group.isin(top), OTHER_LEVEL)
    # each sale's customer found once among the journeys (a million-row lookup, not one per count)
    where = pd.Index(journeys["customer_id"].astype(str)).get_indexer(sales_values["customer_id"].astype(str))
    sale_group = pd.Series(np.where(where >= 0, group.to_numpy()[where], None), index=sales_values.index)
    sales = sales_values.assign(group=sale_group).dropna(subset=["group"])
    priced = sales.dropna(subset=["price"])
    table = pd.DataFrame({"customers": group.value_counts()})
    table["buyers"] = sales.groupby("group")["customer_id"].nunique()
    table["purchases"] = priced.groupby("group").size()
    table["revenue"] = priced.groupby("group")["price"].sum()
    table = table.fillna(0).astype({"buyers": "int64", "purchases": "int64"})
    table["per_lead"] = table["revenue"] / table["customers"]
    table["per_purchase"] = table["revenue"] / table["purchases"].where(table["purchases"] > 0)
    return table.rename_axis("group").sort_values(["revenue", "customers"], ascending=False).reset_index()


def first_campaigns(events) -> pd.DataFrame:
    """customer_id, campaign: the campaign of each customer's first touch that names one (in the engine)."""
    import ibis

    t = events.filter((events.source == "touchpoints") & events.campaign.notnull())
    w = ibis.window(group_by=t.customer_id, order_by=[t.occurred_at, t.event_id])
    t = t.mutate(_n=ibis.row_number().over(w))
    return t.filter(t._n == 0).select("customer_id", "campaign").to_pandas()


__all__ = ["purchase_values", "touch_revenue", "path_revenue", "revenue_credits", "revenue_by", "first_campaigns"]
