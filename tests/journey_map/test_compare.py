"""What buyers do that others don't (journeylib.journey_map.compare): windows, planted differences, no difference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from journeylib.journey_map import compare, engine
from journeylib.journey_map.params import Params

BASE = pd.Timestamp("2024-01-01", tz="UTC")
TYPES = ["site_visit", "vdp_view", "test_drive", "chat"]


def event_frame(rows):
    """rows: (customer, days after BASE, event_type, channel)."""
    frame = pd.DataFrame([{"event_id": f"e{i:06d}", "customer_id": c, "occurred_at": BASE + pd.Timedelta(days=d),
                           "event_type": e, "channel": ch, "stage": "consideration", "counts_for_journey": True}
                          for i, (c, d, e, ch) in enumerate(rows)])
    frame["occurred_at"] = frame["occurred_at"].astype("datetime64[us, UTC]")
    return frame


def simulate(rng, n_per_group=400, test_drive=(0.5, 0.3)):
    """Two groups; each customer does each event type with some probability; test drives differ as planted."""
    rows, labels, ids = [], [], []
    for g, group in enumerate("ab"):
        for i in range(n_per_group):
            customer = f"{group}{i}"
            ids.append(customer)
            labels.append(group)
            rows.append((customer, 0.0, "site_visit", "website"))
            for day, (event, p) in enumerate([("vdp_view", 0.6), ("test_drive", test_drive[g]), ("chat", 0.2)], 1):
                if rng.random() < p:
                    rows.append((customer, day + rng.random(), event, "walk_in" if event == "test_drive" else "website"))
    return engine.events_table(event_frame(rows)), pd.DataFrame({"customer_id": ids}), np.array(labels)


def test_a_planted_difference_between_two_groups_is_found_and_its_interval_covers_the_truth():
    events, journeys, labels = simulate(np.random.default_rng(2))
    found = compare.two_groups(events, journeys, labels, "a", "b", q=0.1)
    assert found.sizes == (400, 400)
    table = found.table_.set_index(["kind", "behaviour"])
    row = table.loc[("event", "test_drive")]
    assert row["flagged"] and row["ci_low"] <= 0.2 <= row["ci_high"]
    assert table.loc[("event", "site_visit"), "difference"] == 0 and not table.loc[("event", "site_visit"), "flagged"]
    assert found.table_.iloc[0]["flagged"]  # flagged first, largest first
    assert ("step", "site_visit → test_drive") in table.index
    sentences = found.sentences()
    assert "beyond chance" in sentences[0]
    assert any(s.startswith("Test drive (event):") for s in sentences)


def test_with_nothing_flagged_the_smallest_detectable_difference_is_said():
    events, journeys, labels = simulate(np.random.default_rng(5), n_per_group=60, test_drive=(0.4, 0.4))
    found = compare.two_groups(events, journeys, labels, "a", "b", q=0.1)
    if found.flagged_.empty:
        assert 0 < found.detectable < 1
        assert "would probably have been seen" in found.sentences()[0]
    empty = compare.two_groups(events, journeys, labels, "a", "nobody", q=0.1)
    assert empty.sizes[1] == 0 and "no nobody to compare" in empty.sentences()[0].lower()


def test_buyers_are_compared_before_their_purchase_and_others_within_the_same_window():
    events = engine.events_table(event_frame([
        ("b1", 0, "site_visit", "website"), ("b1", 5, "chat", "chat"), ("b1", 10, "purchase", "walk_in"),
        ("b1", 12, "test_drive", "walk_in"),  # after the purchase: left out
        ("b2", 0, "site_visit", "website"), ("b2", 20, "purchase", "walk_in"),  # median days to purchase: 15
        ("o1", 0, "site_visit", "website"), ("o1", 14, "chat", "chat"),  # inside the 15-day window
        ("o2", 0, "site_visit", "website"), ("o2", 16, "test_drive", "walk_in"),  # outside it
    ]))
    journeys = pd.DataFrame({"customer_id": ["b1", "b2", "o1", "o2"],
                             "first_touch_at": [BASE] * 4,
                             "first_purchase_at": [BASE + pd.Timedelta(days=10), BASE + pd.Timedelta(days=20),
                                                   pd.NaT, pd.NaT]})
    found = compare.buyers_against_others(events, journeys)
    assert found.window_days == 15 and found.sizes == (2, 2) and found.names == ("buyers", "non-buyers")
    table = found.table_.set_index(["kind", "behaviour"])
    assert table.loc[("event", "chat"), ["share_a", "share_b"]].tolist() == [0.5, 0.5]
    assert ("event", "test_drive") not in table.index and ("event", "purchase") not in table.index


def test_the_compare_parameter_names_two_groups_of_a_grouping():
    assert Params().compared_groups() is None
    assert Params(compare="dealer_id:D01, D02").compared_groups() == ("dealer_id", "D01", "D02")
    for bad in ("dealer_id:D01", "region:a,b", "dealer_id:D01,D01", "buyer"):
        with pytest.raises(ValueError, match="parameter compare="):
            Params(compare=bad).check()
    with pytest.raises(ValueError, match="parameter compare_q="):
        Params(compare_q=1.5).check()


@pytest.mark.slow
def test_with_no_real_difference_false_flags_stay_within_q_over_many_seeds():
    """Under no difference every flag is false; Benjamini-Hochberg at q keeps P(any flag) at most q."""
    seeds, q = 60, 0.1
    any_flag = 0
    for seed in range(seeds):
        events, journeys, labels = simulate(np.random.default_rng(100 + seed), n_per_group=150, test_drive=(0.4, 0.4))
        any_flag += bool(compare.two_groups(events, journeys, labels, "a", "b", q=q).flagged_.shape[0])
    # binomial upper bound: 60 seeds at a true rate of 0.1 exceed 12 flags less than 5% of the time
    assert any_flag <= 12
