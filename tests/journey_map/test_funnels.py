"""Ordered funnels with windows (journeylib.journey_map.funnels): configuration, known counts, planted rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from journeylib.config import from_dict
from journeylib.errors import ConfigError
from journeylib.journey_map import engine, funnels

AS_OF = pd.Timestamp("2024-12-31", tz="UTC")
STEPS = [{"step": "received", "events": ["receiv*"], "within_days": None},
         {"step": "checked", "events": ["check"], "within_days": 30.0},
         {"step": "answered", "events": ["answer", "reply"], "within_days": 30.0}]


def event_log(rows):
    """rows: (customer, days before AS_OF, event_type) -> an Ibis table shaped like touchpoints."""
    frame = pd.DataFrame([{"event_id": f"e{i}", "customer_id": c, "occurred_at": AS_OF - pd.Timedelta(days=d),
                           "event_type": e} for i, (c, d, e) in enumerate(rows)])
    frame["occurred_at"] = frame["occurred_at"].astype("datetime64[us, UTC]")  # the processed tables' precision
    return engine.events_table(frame)


# ------------------------------------------------------------------ configuration

def test_configured_funnels_are_parsed_with_their_windows():
    config = from_dict({"funnels": {"permit": [
        {"step": "received", "events": ["receiv*"]},
        {"step": "checked", "events": "check", "within_days": 30},
        {"step": "answered", "events": ["answer", "reply"]}]}})
    assert config.funnels == {"permit": [
        {"step": "received", "events": ["receiv*"], "within_days": None},
        {"step": "checked", "events": ["check"], "within_days": 30.0},
        {"step": "answered", "events": ["answer", "reply"], "within_days": None}]}
    assert from_dict({}).funnels is None


@pytest.mark.parametrize("funnels_value, message", [
    ({"f": [{"step": "a", "events": ["x"], "within_days": 3}, {"step": "b", "events": ["y"]}]},
     "funnels.f[0].within_days: the first step has no window"),
    ({"f": [{"step": "a", "events": ["x"]}, {"step": "b", "events": ["y"], "within_days": 0}]},
     "funnels.f[1].within_days: expected a positive number of days"),
    ({"f": [{"step": "a", "events": ["x"]}, {"step": "b", "events": []}]}, "funnels.f[1].events"),
    ({"f": [{"step": "a", "events": ["x"]}, {"step": "a", "events": ["y"]}]}, "step 'a' is named twice"),
    ({"f": [{"step": "a", "events": ["x"]}]}, "at least two steps"),
    ({"f.g": [{"step": "a", "events": ["x"]}, {"step": "b", "events": ["y"]}]}, "funnel name"),
    ({"f": [{"step": "a", "events": ["x"]}, {"step": "b", "events": ["y"], "window": 3}]}, "unknown key 'window'"),
    ([], "expected a mapping"),
])
def test_bad_funnels_are_refused_with_the_key(funnels_value, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        from_dict({"funnels": funnels_value}, source="journey.yaml")


def test_the_default_funnel_is_used_without_configuration():
    class Tables:
        def __init__(self, summary):
            self._summary = summary

        def summary(self):
            return self._summary

    assert funnels.configured(Tables({})) == funnels.DEFAULT_FUNNELS
    assert funnels.configured(Tables({"funnels": {"permit": STEPS}})) == {"permit": STEPS}
    steps = [s["step"] for s in funnels.DEFAULT_FUNNELS["dealer"]]
    assert steps == ["lead", "appointment_set", "showroom_visit", "test_drive", "purchase"]
    # a sale means the customer reached every earlier step; a lead form only the first
    assert all("purchase" in s["events"] for s in funnels.DEFAULT_FUNNELS["dealer"])
    assert ["lead_form" in s["events"] for s in funnels.DEFAULT_FUNNELS["dealer"]] == [True] + [False] * 4


# ------------------------------------------------------------------ known counts

def test_steps_are_reached_in_order_within_their_windows_and_open_windows_are_in_progress():
    events = event_log([
        ("a", 100, "received"), ("a", 90, "check"), ("a", 80, "answer"),  # all three
        ("b", 100, "received"), ("b", 50, "check"),  # checked after 50 days: too late, lost
        ("c", 100, "check"), ("c", 90, "received"), ("c", 80, "check"), ("c", 10, "reply"),  # answer too late
        ("d", 10, "received_online"),  # window still open at the as-of date: in progress
        ("e", 60, "received"), ("e", 40, "check"), ("e", 5, "reply"),  # answered 35 days after checking: lost
        ("f", 25, "received"), ("f", 20, "check"),  # checked; its answer window is still open: in progress
        ("g", -5, "received"),  # after the as-of date: not counted
    ])
    journeys = pd.DataFrame({"customer_id": list("abcdefgh")})
    overall, by_group = funnels.funnel_tables(events, journeys, {"permit": STEPS}, AS_OF,
                                              {"team": np.array(["x", "x", "x", "x", "y", "y", "y", "y"])})
    table = overall.set_index("step")
    assert table["reached"].tolist() == [6, 4, 1]  # a b c d e f; a c e f; a
    assert table["in_progress"].tolist() == [0, 1, 1]  # d (received 10 days ago), f (checked 20 days ago)
    assert table["eligible"].tolist() == [8, 5, 3]
    assert table.loc["checked", "conversion"] == pytest.approx(4 / 5)
    assert table.loc["answered", "conversion"] == pytest.approx(1 / 3)
    assert table.loc["checked", "median_days"] == pytest.approx(10.0)  # a 10, c 10, e 20, f 5
    assert table.loc["answered", "median_days"] == pytest.approx(10.0)
    assert table.loc["received", "ci_low"] < 6 / 8 < table.loc["received", "ci_high"]
    team = by_group.set_index(["group", "step"])
    assert team.loc[("x", "received"), "reached"] == 4 and team.loc[("y", "received"), "reached"] == 2
    assert team.loc[("x", "checked"), "in_progress"] == 1 and team.loc[("y", "answered"), "in_progress"] == 1


def test_a_funnel_nobody_enters_gives_zero_counts_and_no_conversion():
    events = event_log([("a", 10, "other")])
    overall, _ = funnels.funnel_tables(events, pd.DataFrame({"customer_id": ["a"]}), {"permit": STEPS}, AS_OF)
    assert overall["reached"].tolist() == [0, 0, 0]
    assert overall["conversion"].iloc[0] == 0 and overall["conversion"].iloc[1:].isna().all()


def test_planted_step_conversions_are_recovered_with_customers_inside_their_windows():
    rng = np.random.default_rng(3)
    n = 4000
    # days before the as-of date; ~1.5% of customers still inside the 30-day window (the rule counts those who
    # already converted and leaves out those who have not, so many open windows would lean the rate high)
    start = rng.uniform(0, 2000, n)
    checks = rng.random(n) < 0.6
    check_delay = rng.uniform(0, 30, n)
    late_check = ~checks & (rng.random(n) < 0.5)  # a check after the window: not a conversion
    rows = [(f"c{i}", start[i], "received") for i in range(n)]
    for i in range(n):
        if checks[i] and start[i] - check_delay[i] >= 0:
            rows.append((f"c{i}", start[i] - check_delay[i], "check"))
        if late_check[i] and start[i] - 45 >= 0:
            rows.append((f"c{i}", start[i] - 45, "check"))
    steps = STEPS[:2]
    overall, _ = funnels.funnel_tables(event_log(rows), pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)]}),
                                       {"permit": steps}, AS_OF)
    checked = overall.set_index("step").loc["checked"]
    reached = checks & (start - check_delay >= 0)
    assert checked["reached"] == reached.sum()
    assert checked["in_progress"] == (~reached & (start < 30)).sum()
    assert checked["ci_low"] <= 0.6 <= checked["ci_high"]


def test_empirical_bayes_pulls_small_groups_toward_the_pooled_rate():
    rng = np.random.default_rng(1)
    sizes = np.array([2000, 1500, 1000, 20, 10, 5])
    rates = np.array([0.2, 0.3, 0.4, 0.9, 0.0, 1.0])
    k = rng.binomial(sizes, np.clip(rates, 0, 1))
    shrunk = funnels.shrink(k, sizes)
    raw = k / sizes
    assert np.all(np.abs(shrunk[:3] - raw[:3]) < 0.01)  # large groups keep their own rate
    pooled = k.sum() / sizes.sum()
    assert np.all(np.abs(shrunk[3:] - pooled) < np.abs(raw[3:] - pooled))  # small ones move toward the pool
    # no spread beyond chance: every group gets the pooled rate
    same = funnels.shrink(np.array([30, 31, 29]), np.array([100, 100, 100]))
    assert same == pytest.approx([0.3, 0.3, 0.3])
    assert np.isnan(funnels.shrink(np.array([0, 3]), np.array([0, 10]))[0])


def test_funnel_sentences_name_the_weakest_step_and_who_is_still_in_progress():
    from journeylib.journey_map.result import JourneyMapResult

    table = pd.DataFrame({"funnel": "permit", "step": ["received", "checked", "answered"], "reached": [8, 4, 1],
                          "in_progress": [0, 1, 1], "eligible": [8, 5, 3], "conversion": [1.0, 0.8, 1 / 3],
                          "ci_low": [0.6, 0.4, 0.06], "ci_high": [1.0, 0.96, 0.79], "median_days": [None, 10, 10],
                          "same_moment": [0, 0, 0]})  # as funnel_tables gives it
    result = JourneyMapResult.__new__(JourneyMapResult)
    result.funnels_ = table
    [sentence] = result.funnel_sentences()
    assert sentence.startswith("Permit funnel: the weakest step is Answered, reached by 33% of the 3 customers")
    assert "2 customers are still inside a step's window" in sentence
    result.funnels_ = table.assign(conversion=[1.0, None, None], reached=[8, 0, 0], eligible=[8, 0, 0])
    assert "nobody could reach a step past Received" in result.funnel_sentences()[0]


# ------------------------------------------------------------------ through prepare and analyse

def test_a_configured_funnel_goes_through_prepare_into_the_journey_section(tmp_path):
    import yaml

    from journeylib import journey_map as jm
    from journeylib.prepare import prepare
    from journeylib.sample import write_sample
    from journeylib.tables import ProcessedTables

    raw = write_sample(tmp_path / "raw", customers=300, seed=7)
    config = yaml.safe_load((raw / "journey.yaml").read_text(encoding="utf-8"))
    config["funnels"] = {"web": [{"step": "visit", "events": ["site_visit"]},
                                 {"step": "vehicle_page", "events": ["vdp_*"], "within_days": 14}]}
    (raw / "journey.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    prepare(raw=raw, out=tmp_path / "processed")
    tables = ProcessedTables(tmp_path / "processed")
    metrics = jm.analyse(tables, jm.Params()).metrics()
    assert list(metrics["funnels"]) == ["web"] and list(metrics["funnels"]["web"]) == ["visit", "vehicle_page"]
    events = pd.read_parquet(tmp_path / "processed" / "touchpoints.parquet")
    events = events[events["occurred_at"] <= tables.as_of]
    first = events[events["event_type"] == "site_visit"].groupby("customer_id")["occurred_at"].min()
    pages = events[events["event_type"] == "vdp_view"].merge(first.rename("visit_at"), on="customer_id")
    gap = pages["occurred_at"] - pages["visit_at"]
    reached = pages[(gap >= pd.Timedelta(0)) & (gap <= pd.Timedelta(days=14))]["customer_id"].nunique()
    waiting = (tables.as_of - first < pd.Timedelta(days=14)).sum()  # an upper bound: some of them did reach it
    assert metrics["funnels"]["web"]["visit"]["reached"] == len(first)
    assert metrics["funnels"]["web"]["vehicle_page"]["reached"] == reached
    assert metrics["funnels"]["web"]["vehicle_page"]["in_progress"] <= waiting
