"""Attribution models on hand-made event logs with hand-computed credits."""

from __future__ import annotations

import math

import numpy as np

import pandas as pd
import pytest

from journeylib.journey_map import attribution
from journeylib.journey_map.engine import events_table
from tests.support.reference_attribution import per_journey_first_last, per_journey_transitions

BASE = pd.Timestamp("2024-03-01", tz="UTC")


def log(rows):
    """rows: (customer, days after BASE, event_type, channel, source) -> an Ibis touchpoints table."""
    frame = pd.DataFrame(rows, columns=["customer_id", "day", "event_type", "channel", "source"])
    frame["occurred_at"] = BASE + pd.to_timedelta(frame.pop("day"), unit="D")
    frame["event_id"] = [f"e{i:03d}" for i in range(len(frame))]
    return events_table(frame)


def markov_example():
    """Eight customers over channels A, B, C (purchases come from `sales`, as prepared data has them).

    1: A > B  buys      5: C      buys
    2: A      no        6: A > C  buys
    3: B      buys      7: C > B  buys
    4: C > B  no        8: A > C > B buys
    """
    paths = {"1": ("AB", True), "2": ("A", False), "3": ("B", True), "4": ("CB", False),
             "5": ("C", True), "6": ("AC", True), "7": ("CB", True), "8": ("ACB", True)}
    rows = []
    for customer, (path, bought) in paths.items():
        for day, channel in enumerate(path):
            rows.append((customer, day, "vdp_view", channel, "touchpoints"))
        if bought:
            rows.append((customer, len(path), "purchase", "walk_in", "sales"))
    return log(rows)


def test_markov_removal_matches_the_hand_computation():
    """Transition counts: start->A 4, start->B 1, start->C 3; A->B 1, A->C 2, A->null 1;
    B->conv 4, B->null 1; C->B 3, C->conv 2.
    Probabilities of converting from each state: v_B = 4/5, v_C = 3/5 * 4/5 + 2/5 = 22/25,
    v_A = 1/4 * 4/5 + 2/4 * 22/25 = 16/25; P = 4/8 * 16/25 + 1/8 * 4/5 + 3/8 * 22/25 = 3/4
    (the observed 6 of 8).
    Remove A (A -> null): P = 1/10 + 33/100 = 43/100, effect (75 - 43) / 75 = 32/75.
    Remove B: v_C = 2/5, v_A = 1/5, P = 1/10 + 3/20 = 1/4, effect 2/3 = 50/75.
    Remove C: v_B = 4/5, v_A = 1/5, P = 1/10 + 1/10 = 1/5, effect 11/15 = 55/75.
    Credits for 6 purchases: A 6*32/137, B 6*50/137, C 6*55/137.
    """
    touches = attribution.pre_purchase_touches(markov_example())
    trans = attribution.markov_transitions(attribution.channel_paths(touches))
    assert attribution.conversion_probability(trans) == pytest.approx(3 / 4)
    assert attribution.conversion_probability(trans, removed="A") == pytest.approx(43 / 100)
    result = attribution.markov_removal(trans)
    assert result["removal_effect"].to_dict() == pytest.approx({"A": 32 / 75, "B": 2 / 3, "C": 11 / 15})
    assert result["markov"].to_dict() == pytest.approx({"A": 192 / 137, "B": 300 / 137, "C": 330 / 137})
    assert result["markov"].sum() == pytest.approx(6)


def test_markov_agrees_with_the_independent_mta_package():
    from mta import MTA

    touches = attribution.pre_purchase_touches(markov_example())
    paths = attribution.channel_paths(touches)
    assert paths.set_index("path")[["conversions", "nulls"]].to_dict("index") == {
        "A > B": {"conversions": 1, "nulls": 0}, "A": {"conversions": 0, "nulls": 1},
        "B": {"conversions": 1, "nulls": 0}, "C > B": {"conversions": 1, "nulls": 1},
        "C": {"conversions": 1, "nulls": 0}, "A > C": {"conversions": 1, "nulls": 0},
        "A > C > B": {"conversions": 1, "nulls": 0}}
    data = paths.rename(columns={"conversions": "total_conversions", "nulls": "total_null"})
    reference = MTA(data=data[["path", "total_conversions", "total_null"]], add_timepoints=False, allow_loops=False)
    reference.markov(sim=False).first_touch().last_touch()
    ours = attribution.markov_removal(attribution.markov_transitions(attribution.channel_paths(touches)))["markov"]
    assert (ours / ours.sum()).to_dict() == pytest.approx(dict(reference.attribution["markov"]), abs=1e-5)
    rules = attribution.rule_based(touches)
    for model in ("first_touch", "last_touch"):
        shares = rules[model] / rules[model].sum()
        expected = dict(reference.attribution[model])
        assert shares[shares > 0].to_dict() == pytest.approx(expected, abs=1e-5)


def test_markov_collapses_repeats_and_solves_loops():
    """X > X > Y buys, Y > X no. Collapsed: X > Y (conv), Y > X (null).
    Transitions: start->X 1, start->Y 1; X->Y 1, X->null 1; Y->conv 1, Y->X 1.
    v_Y = 1/2 + 1/2 v_X, v_X = 1/2 v_Y -> v_Y = 2/3, v_X = 1/3; P = 1/2 (1/3 + 2/3) = 1/2.
    Remove X: v_Y = 1/2, P = 1/4, effect 1/2. Remove Y: P = 0, effect 1. Credits of 1 purchase: X 1/3, Y 2/3.
    """
    events = log([("1", 0, "site_visit", "X", "touchpoints"), ("1", 1, "vdp_view", "X", "touchpoints"),
                  ("1", 2, "vdp_view", "Y", "touchpoints"), ("1", 3, "purchase", "walk_in", "sales"),
                  ("2", 0, "site_visit", "Y", "touchpoints"), ("2", 1, "vdp_view", "X", "touchpoints")])
    trans = attribution.markov_transitions(attribution.channel_paths(attribution.pre_purchase_touches(events)))
    assert trans.set_index(["from_state", "to_state"])["count"].to_dict() == {
        ("(start)", "X"): 1, ("(start)", "Y"): 1, ("X", "Y"): 1, ("X", "(null)"): 1,
        ("Y", "(conversion)"): 1, ("Y", "X"): 1}
    result = attribution.markov_removal(trans)
    assert attribution.conversion_probability(trans) == pytest.approx(1 / 2)
    assert result["removal_effect"].to_dict() == pytest.approx({"X": 1 / 2, "Y": 1.0})
    assert result["markov"].to_dict() == pytest.approx({"X": 1 / 3, "Y": 2 / 3})


def rule_example():
    """Buyer 1: search 10 days and email 3 days before buying, search 1 day before; an email after.
    Buyer 2: social 2 days before. Customer 3 never buys (display). Customer 4 buys with no touch before.
    A service visit before buyer 1's purchase is a derived row, not a marketing touch."""
    return log([
        ("1", 0, "ad_click", "search", "touchpoints"), ("1", 7, "email_reply", "email", "touchpoints"),
        ("1", 8, "service_visit", "walk_in", "service_visits"),
        ("1", 9, "vdp_view", "search", "touchpoints"), ("1", 10, "purchase", "walk_in", "sales"),
        ("1", 11, "email_reply", "email", "touchpoints"),
        ("2", 3, "ad_click", "social", "touchpoints"), ("2", 5, "purchase", "walk_in", "sales"),
        ("3", 1, "ad_click", "display", "touchpoints"),
        ("4", 2, "purchase", "walk_in", "sales"),
    ])


def test_rule_based_models_on_a_hand_made_log():
    credits, info = attribution.attribute(rule_example(), half_life_days=7.0)
    assert info["buyers"] == 3 and info["purchases_attributed"] == 2 and info["paths"] == 3
    assert credits.loc["search", "first_touch"] == 1 and credits.loc["social", "first_touch"] == 1
    assert credits.loc["search", "last_touch"] == 1 and credits.loc["email", "last_touch"] == 0
    assert credits["linear"].to_dict() == pytest.approx(
        {"search": 2 / 3, "email": 1 / 3, "social": 1.0, "display": 0.0})
    # Weights 2^(-days/7) for touches 10, 3 and 1 days before the purchase.
    w10, w3, w1 = (2 ** (-d / 7) for d in (10, 3, 1))
    assert credits.loc["search", "time_decay"] == pytest.approx((w10 + w1) / (w10 + w3 + w1))
    assert credits.loc["email", "time_decay"] == pytest.approx(w3 / (w10 + w3 + w1))
    assert "walk_in" not in credits.index
    for model in attribution.MODELS:
        assert credits[model].sum() == pytest.approx(2), model


def test_time_decay_tends_to_linear_and_last_touch_at_the_extremes():
    long_memory = attribution.rule_based(attribution.pre_purchase_touches(rule_example()), half_life_days=1e6)
    short_memory = attribution.rule_based(attribution.pre_purchase_touches(rule_example()), half_life_days=0.01)
    assert long_memory["time_decay"].to_dict() == pytest.approx(long_memory["linear"].to_dict(), abs=1e-4)
    assert short_memory["time_decay"].to_dict() == pytest.approx(short_memory["last_touch"].to_dict(), abs=1e-9)


def test_very_old_touches_do_not_underflow_the_weights():
    events = log([("1", 0, "ad_click", "search", "touchpoints"), ("1", 3000, "ad_click", "email", "touchpoints"),
                  ("1", 3001, "purchase", "walk_in", "sales")])
    credits = attribution.rule_based(attribution.pre_purchase_touches(events), half_life_days=0.5)
    assert math.isfinite(credits["time_decay"].sum()) and credits["time_decay"].sum() == pytest.approx(1)
    assert credits.loc["email", "time_decay"] == pytest.approx(1)


def test_unknown_channels_keep_their_own_credit():
    events = log([("1", 0, "ad_click", "unknown", "touchpoints"), ("1", 1, "vdp_view", "search", "touchpoints"),
                  ("1", 2, "purchase", "walk_in", "sales")])
    credits, _ = attribution.attribute(events)
    assert credits.loc["unknown", "first_touch"] == 1 and credits.loc["search", "last_touch"] == 1


def test_touches_after_the_as_of_date_are_ignored():
    events = log([("1", 0, "ad_click", "search", "touchpoints"), ("1", 30, "ad_click", "email", "touchpoints")])
    touches = attribution.pre_purchase_touches(events, as_of=BASE + pd.Timedelta(days=10)).to_pandas()
    assert touches["channel"].tolist() == ["search"]


def test_bad_half_life_is_refused():
    with pytest.raises(ValueError, match="half_life_days"):
        attribution.rule_based(attribution.pre_purchase_touches(rule_example()), half_life_days=0)


def test_disagreement_reports_the_spread_of_shares():
    credits = pd.DataFrame({"first_touch": [3.0, 1.0], "last_touch": [1.0, 3.0]}, index=["search", "email"])
    out = attribution.disagreement(credits)
    assert out.loc["search", "spread"] == pytest.approx(0.5)
    assert out.loc["search", "highest_model"] == "first_touch" and out.loc["email", "highest_model"] == "last_touch"


def test_channels_used_counts_known_channels_per_path():
    events = log([("1", 0, "ad_click", "search", "touchpoints"), ("1", 1, "vdp_view", "search", "touchpoints"),
                  ("1", 2, "vdp_view", "email", "touchpoints"), ("1", 3, "chat", "unknown", "touchpoints"),
                  ("1", 4, "purchase", "walk_in", "sales"), ("2", 0, "ad_click", "social", "touchpoints")])
    out = attribution.channels_used(attribution.pre_purchase_touches(events)).set_index("channels")
    assert out.to_dict("index") == {1: {"customers": 1, "buyers": 0}, 2: {"customers": 1, "buyers": 1}}


def test_no_purchase_with_a_touch_before_it_is_a_named_condition():
    from journeylib.errors import NotEstimable

    nobody_bought = log([("1", 0, "vdp_view", "A", "touchpoints"), ("2", 1, "vdp_view", "B", "touchpoints")])
    with pytest.raises(NotEstimable, match="No customer has bought yet"):
        attribution.attribute(nobody_bought)
    no_touch_before = log([("1", 0, "purchase", "walk_in", "sales"), ("1", 2, "vdp_view", "A", "touchpoints")])
    with pytest.raises(NotEstimable, match="None of the 1 buyers"):
        attribution.attribute(no_touch_before)


def test_a_channel_with_a_single_touch_keeps_its_own_credit():
    rows = [("1", 0, "vdp_view", "A", "touchpoints"), ("1", 1, "purchase", "walk_in", "sales"),
            ("2", 0, "vdp_view", "A", "touchpoints"), ("2", 1, "vdp_view", "sms", "touchpoints"),
            ("2", 2, "purchase", "walk_in", "sales"), ("3", 0, "vdp_view", "B", "touchpoints")]
    credits, info = attribution.attribute(log(rows))
    assert info["purchases_attributed"] == 2
    assert credits.loc["sms", "last_touch"] == 1 and credits.loc["sms", "first_touch"] == 0
    for model in attribution.MODELS:
        assert credits[model].sum() == pytest.approx(2)


# ------------------------------------------------------------------ the aggregated form equals the per-journey one

def random_log(customers=300, seed=7):
    """Random journeys over five channels with repeats, same-time ties and loops; about half buy."""
    rng = np.random.default_rng(seed)
    rows = []
    for customer in range(customers):
        days = np.sort(rng.integers(0, 30, size=rng.integers(1, 8)))  # repeated days: ties broken by event id
        for day in days:
            rows.append((f"c{customer:03d}", int(day), "vdp_view", str(rng.choice(list("ABCDE"))), "touchpoints"))
        if rng.random() < 0.5:
            rows.append((f"c{customer:03d}", int(days[-1]) + int(rng.integers(0, 3)), "purchase", "walk_in", "sales"))
    return log(rows)


def test_aggregated_markov_equals_the_per_journey_chain():
    touches = attribution.pre_purchase_touches(random_log())
    paths = attribution.channel_paths(touches)
    assert paths["customers"].sum() > len(paths)  # identical journeys were collapsed
    key = ["from_state", "to_state"]
    aggregated = attribution.markov_transitions(paths).sort_values(key, ignore_index=True)
    reference = per_journey_transitions(touches).sort_values(key, ignore_index=True).astype({"count": "int64"})
    pd.testing.assert_frame_equal(aggregated, reference)
    pd.testing.assert_frame_equal(attribution.markov_removal(aggregated), attribution.markov_removal(reference))


def test_first_and_last_touch_from_paths_equal_the_per_touch_counts():
    touches = attribution.pre_purchase_touches(random_log(seed=11))
    ours = attribution.rule_based(touches)[["first_touch", "last_touch"]]
    reference = per_journey_first_last(touches).reindex(ours.index, fill_value=0.0)
    pd.testing.assert_frame_equal(ours, reference)


# ------------------------------------------------------------------ Markov of order k

def _second_order_paths(seed=0, n=3000):
    """Planted second-order dependence: email converts (60%) only right after search; everywhere else 5%."""
    rng = np.random.default_rng(seed)
    rows = {}
    for _ in range(n):
        steps = list(rng.choice(["search", "social", "display"], rng.integers(1, 3)))
        steps = [s for i, s in enumerate(steps) if i == 0 or steps[i - 1] != s]
        if rng.random() < 0.6:
            steps.append("email")
        rate = 0.6 if len(steps) > 1 and steps[-1] == "email" and steps[-2] == "search" else 0.05
        path = " > ".join(steps)
        customers, conversions = rows.get(path, (0, 0))
        rows[path] = (customers + 1, conversions + int(rng.random() < rate))
    frame = pd.DataFrame([(p, c, k) for p, (c, k) in rows.items()], columns=["path", "customers", "conversions"])
    return frame.assign(nulls=frame["customers"] - frame["conversions"])


def test_markov_order_one_reproduces_the_first_order_model():
    from journeylib.journey_map import markov_k

    paths = _second_order_paths(1, 800)
    expected = attribution.markov_removal(attribution.markov_transitions(paths))
    got = markov_k.fit(paths, order=1, resamples=0).credits_
    pd.testing.assert_series_equal(got["markov"].sort_index(), expected["markov"].sort_index(), check_names=False)


def test_a_planted_second_order_dependence_is_chosen_by_held_out_paths_with_credit_intervals():
    from journeylib.journey_map import markov_k

    found = markov_k.fit(_second_order_paths(), resamples=30)
    assert found.chosen and found.order == 2
    assert found.log_likelihood[2] > found.log_likelihood[1]
    credits = found.credits_
    assert credits["markov"].sum() == pytest.approx(_second_order_paths()["conversions"].sum())
    assert (credits["ci_low"] <= credits["markov"]).all() and (credits["markov"] <= credits["ci_high"]).all()
    # search and email share the conversions the planted rule makes; social and display bring little
    assert credits.loc["search", "markov"] > credits.loc["social", "markov"]
    assert credits.loc["email", "ci_low"] > credits.loc["display", "ci_high"]


def test_an_order_k_chain_solved_exactly_on_a_small_example():
    """Paths: 'a > b' (10 customers, 8 buy), 'b' (10, 2 buy). Order 2: P(conv) = .5 * .8 + .5 * .2 = .5;
    without a: start -> a goes to null, so .5 * .2 = .1 (effect .8); without b: 0 (effect 1)."""
    from journeylib.journey_map import markov_k

    paths = pd.DataFrame({"path": ["a > b", "b"], "customers": [10, 10], "conversions": [8, 2], "nulls": [2, 8]})
    chain = markov_k.Chain([["a", "b"], ["b"]], 2)
    counts = chain.counts([10, 10], [8, 2], [2, 8])
    assert chain.conversion_probability(counts) == pytest.approx(0.5)
    assert chain.conversion_probability(counts, removed="a") == pytest.approx(0.1)
    credits = markov_k.fit(paths, order=2, resamples=0).credits_
    assert credits["removal_effect"].to_dict() == pytest.approx({"a": 0.8, "b": 1.0})
    assert credits["markov"].to_dict() == pytest.approx({"a": 10 * 0.8 / 1.8, "b": 10 / 1.8})


def test_the_markov_order_parameter_is_one_to_three_or_zero_for_chosen():
    from journeylib.journey_map.params import Params

    Params(attribution_markov_order=2).check()
    for bad in (4, -1, 1.5, True):
        with pytest.raises(ValueError, match="parameter attribution_markov_order="):
            Params(attribution_markov_order=bad).check()
