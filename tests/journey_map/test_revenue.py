"""Revenue credit (journeylib.journey_map.revenue): every model against a direct computation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from journeylib.journey_map import attribution, engine, revenue

BASE = pd.Timestamp("2024-01-01", tz="UTC")
AS_OF = BASE + pd.Timedelta(days=400)


def simulated(seed=0, n=600):
    """Touch paths over four channels; about half the customers buy, at a price that depends on their
    last channel (planted revenue per channel); a few buyers' sales have no price."""
    rng = np.random.default_rng(seed)
    channels = np.array(["search", "social", "email", "walk_in"])
    planted = {"search": 30000.0, "social": 20000.0, "email": 25000.0, "walk_in": 40000.0}
    rows, sales = [], []
    for i in range(n):
        start = rng.uniform(0, 300)
        touches = rng.integers(1, 5)
        times = np.sort(start + rng.uniform(0, 40, touches))
        chosen = rng.choice(channels, touches)
        for j, (t, c) in enumerate(zip(times, chosen)):
            rows.append({"event_id": f"t{i}_{j}", "customer_id": f"c{i}", "occurred_at": BASE + pd.Timedelta(days=t),
                         "event_type": "site_visit", "channel": c, "source": "touchpoints"})
        if rng.random() < 0.5:
            sold = times[-1] + rng.uniform(0.1, 10)
            rows.append({"event_id": f"sale:d{i}", "customer_id": f"c{i}", "occurred_at": BASE + pd.Timedelta(days=sold),
                         "event_type": "purchase", "channel": "walk_in", "source": "sales"})
            price = planted[chosen[-1]] if rng.random() > 0.05 else np.nan
            sales.append({"deal_id": f"d{i}", "customer_id": f"c{i}", "price": price})
            # a later second purchase: not the one attribution credits
            rows.append({"event_id": f"sale:e{i}", "customer_id": f"c{i}",
                         "occurred_at": BASE + pd.Timedelta(days=sold + 30), "event_type": "purchase",
                         "channel": "walk_in", "source": "sales"})
            sales.append({"deal_id": f"e{i}", "customer_id": f"c{i}", "price": 1.0})
    frame = pd.DataFrame(rows)
    frame["occurred_at"] = frame["occurred_at"].astype("datetime64[us, UTC]")
    return frame, pd.DataFrame(sales), planted


@pytest.fixture(scope="module")
def credited():
    frame, sales, planted = simulated()
    events = engine.events_table(frame)
    values = revenue.purchase_values(events, sales)
    credits, info = attribution.attribute(events, half_life_days=7.0, as_of=AS_OF, values=values)
    return frame, sales, planted, values, credits, info


def direct_paths(frame):
    """Per customer, in pandas: the touches before the first purchase, and the first purchase's deal id."""
    purchases = frame[frame["event_type"] == "purchase"].sort_values(["occurred_at", "event_id"])
    first = purchases.groupby("customer_id").first()
    touches = frame[frame["source"] == "touchpoints"].join(first["occurred_at"].rename("bought_at"), on="customer_id")
    touches = touches[touches["bought_at"].notna() & (touches["occurred_at"] < touches["bought_at"])]
    return touches.sort_values(["customer_id", "occurred_at", "event_id"]), first


def test_first_purchase_values_come_from_the_sales_rows():
    frame, sales, _ = simulated(n=50)
    values = revenue.purchase_values(engine.events_table(frame), sales).set_index("customer_id")["value"]
    first = sales[sales["deal_id"].str.startswith("d")].set_index("customer_id")["price"]
    pd.testing.assert_series_equal(values.sort_index(), first.sort_index(), check_names=False)


def test_purchase_values_from_the_event_logs_own_price_column():
    frame = pd.DataFrame({"event_id": ["a", "b", "c"], "customer_id": ["x", "x", "y"],
                          "occurred_at": pd.to_datetime(["2024-01-02", "2024-01-01", "2024-01-01"], utc=True),
                          "event_type": ["purchase"] * 3, "price": [5.0, 7.0, None]})
    values = revenue.purchase_values(engine.events_table(frame), None).set_index("customer_id")["value"]
    assert values["x"] == 7.0 and np.isnan(values["y"])


def test_first_and_last_touch_revenue_equal_a_direct_pandas_computation(credited):
    frame, sales, planted, values, _, info = credited
    touches, first = direct_paths(frame)
    price = first["event_id"].str.removeprefix("sale:").map(sales.set_index("deal_id")["price"]).fillna(0.0)
    per_customer = touches.groupby("customer_id")["channel"]
    direct_first = price.groupby(per_customer.first()).sum()
    direct_last = price.groupby(per_customer.last()).sum()
    got = info["revenue_credits"]
    pd.testing.assert_series_equal(got["first_touch"].sort_index(), direct_first.sort_index().astype(float),
                                   check_names=False)
    pd.testing.assert_series_equal(got["last_touch"].sort_index(), direct_last.sort_index().astype(float),
                                   check_names=False)
    # the planted price per last channel: last-touch revenue is price x buyers whose last channel it is
    priced = price[price > 0]
    for channel, value in planted.items():
        assert got.loc[channel, "last_touch"] == pytest.approx(value * (per_customer.last()[priced.index] == channel).sum())


def test_linear_and_time_decay_revenue_equal_a_direct_computation(credited):
    frame, sales, _, _, _, info = credited
    touches, first = direct_paths(frame)
    price = first["event_id"].str.removeprefix("sale:").map(sales.set_index("deal_id")["price"]).fillna(0.0)
    touches = touches.assign(value=touches["customer_id"].map(price))
    linear = (touches["value"] / touches.groupby("customer_id")["event_id"].transform("count")).groupby(
        touches["channel"]).sum()
    days = (touches["bought_at"] - touches["occurred_at"]).dt.total_seconds() / 86400
    weight = np.exp(-days * math.log(2) / 7.0)
    decay = (touches["value"] * weight / weight.groupby(touches["customer_id"]).transform("sum")).groupby(
        touches["channel"]).sum()
    got = info["revenue_credits"]
    assert got["linear"].sort_index().to_numpy() == pytest.approx(linear.sort_index().to_numpy())
    assert got["time_decay"].sort_index().to_numpy() == pytest.approx(decay.sort_index().to_numpy())


def test_every_model_credits_exactly_the_attributed_revenue(credited):
    frame, sales, _, _, credits, info = credited
    _, first = direct_paths(frame)
    touched = direct_paths(frame)[0]["customer_id"].unique()
    price = first.loc[touched, "event_id"].str.removeprefix("sale:").map(sales.set_index("deal_id")["price"])
    assert info["revenue"] == pytest.approx(price.fillna(0).sum())
    assert info["unpriced"] == int(price.isna().sum()) > 0
    for model, column in info["revenue_credits"].items():
        assert column.sum() == pytest.approx(info["revenue"]), model
    assert set(info["revenue_credits"].index) == set(credits.index)


def test_markov_revenue_splits_each_paths_value_by_the_chains_removal_effects():
    """A small chain: three distinct paths; the effects solved exactly, then each path's value split by hand."""
    paths = pd.DataFrame({"path": ["a > b", "b", "a > c", "c"], "customers": [10, 10, 10, 10],
                          "conversions": [6, 3, 4, 0], "nulls": [4, 7, 6, 10],
                          "revenue": [600.0, 300.0, 440.0, 0.0]})
    trans = attribution.markov_transitions(paths)
    base = attribution.conversion_probability(trans)
    effect = {c: (base - attribution.conversion_probability(trans, removed=c)) / base for c in "abc"}
    # by hand: the chain start->a (20), start->b (10), start->c (10); a->b 10, a->c 10; b -> conv 9 / null 11;
    # c -> conv 4 / null 16. P(conv) = .5 (.5 .45 + .5 .2) + .25 .45 + .25 .2
    assert base == pytest.approx(0.5 * (0.5 * 0.45 + 0.5 * 0.2) + 0.25 * 0.45 + 0.25 * 0.2)
    got = revenue.path_revenue(paths, pd.Series(effect))["markov"]
    expected = {
        "a": 600 * effect["a"] / (effect["a"] + effect["b"]) + 440 * effect["a"] / (effect["a"] + effect["c"]),
        "b": 600 * effect["b"] / (effect["a"] + effect["b"]) + 300,
        "c": 440 * effect["c"] / (effect["a"] + effect["c"]),
    }
    assert got.to_dict() == pytest.approx(expected)
    assert got.sum() == pytest.approx(1340.0)


def test_markov_revenue_of_a_path_whose_channels_have_no_effect_is_split_equally():
    paths = pd.DataFrame({"path": ["a > b"], "customers": [1], "conversions": [1], "nulls": [0], "revenue": [10.0]})
    got = revenue.path_revenue(paths, pd.Series({"a": 0.0, "b": 0.0}))["markov"]
    assert got.to_dict() == {"a": 5.0, "b": 5.0}


def test_revenue_per_lead_and_per_purchase_by_group_with_the_rest_pooled():
    journeys = pd.DataFrame({"customer_id": list("abcdef")})
    labels = ["x", "x", "x", "y", "y", "z"]
    sales = pd.DataFrame({"customer_id": ["a", "a", "b", "d", "f"], "price": [10.0, 20.0, 30.0, np.nan, 5.0]})
    table = revenue.revenue_by(journeys, sales, labels).set_index("group")
    assert table.loc["x", ["customers", "buyers", "purchases", "revenue"]].tolist() == [3, 2, 3, 60.0]
    assert table.loc["x", "per_lead"] == 20.0 and table.loc["x", "per_purchase"] == 20.0
    assert table.loc["y", "purchases"] == 0 and np.isnan(table.loc["y", "per_purchase"])
    pooled = revenue.revenue_by(journeys, sales, labels, top_n=1).set_index("group")
    assert list(pooled.index) == ["x", "other"] and pooled.loc["other", "customers"] == 3
    assert pooled.loc["other", "revenue"] == 5.0
