"""Journey-map computations on small hand-made journeys and event logs with known answers."""

from __future__ import annotations

import json
import shutil

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from journeylib import STAGES, journey_map as jm
from journeylib.figures import journey as draw
from journeylib.journey_map import channels, engine, funnel, groups, poster, surveys, variants
from journeylib.tables import MissingProcessedData, ProcessedTables
from journeylib.taxonomy import EVENT_STAGES

BASE = pd.Timestamp("2024-01-01", tz="UTC")
STAGE_OF = {e: s for s, events in EVENT_STAGES.items() for e in events}


def journeys_frame(rows):
    """rows: customer -> {stage: day reached}; first touch = awareness day (or earliest)."""
    records = []
    for customer, (stages, extra) in rows.items():
        record = {"customer_id": customer, **extra}
        for stage in STAGES:
            day = stages.get(stage)
            record[f"{stage}_at"] = BASE + pd.Timedelta(days=day) if day is not None else pd.NaT
        record["first_touch_at"] = BASE + pd.Timedelta(days=min(stages.values())) if stages else pd.NaT
        records.append(record)
    frame = pd.DataFrame(records)
    for column in [c for c in frame if c.endswith("_at")]:
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def six_journeys():
    """Funnel 5 / 4 / 2 / 1 / 0 (customer f has no events)."""
    return journeys_frame({
        "a": ({"awareness": 0, "consideration": 2, "purchase": 12, "retention": 40}, {"acquisition_channel": "search"}),
        "b": ({"awareness": 0, "consideration": 4, "purchase": 24}, {"acquisition_channel": "search"}),
        "c": ({"awareness": 1, "consideration": 1}, {"acquisition_channel": "social"}),
        "d": ({"awareness": 5, "consideration": 11}, {"acquisition_channel": None}),
        "e": ({"awareness": 60}, {"acquisition_channel": "social"}),
        "f": ({}, {"acquisition_channel": None}),
    })


def log(rows):
    """rows: (customer, hours after BASE, event_type, channel[, counts_for_journey]) -> Ibis touchpoints table."""
    records = []
    for i, row in enumerate(rows):
        customer, hours, event_type, channel = row[:4]
        stage = STAGE_OF.get(event_type)
        counts = row[4] if len(row) > 4 else stage is not None
        records.append({"event_id": f"e{i:03d}", "customer_id": customer,
                        "occurred_at": BASE + pd.Timedelta(hours=hours), "event_type": event_type,
                        "channel": channel, "stage": stage,
                        "stage_order": STAGES.index(stage) + 1 if stage else None,
                        "counts_for_journey": counts, "source": "sales" if event_type == "purchase" else "touchpoints"})
    return engine.events_table(pd.DataFrame(records))


def three_logs():
    """x: site visit, two VDP views, purchase, service visit; y: two site visits, a VDP view; z: site visit.
    A service visit of y before any purchase does not count for the journey."""
    return log([
        ("x", 0, "site_visit", "website"), ("x", 2, "vdp_view", "website"), ("x", 5, "vdp_view", "search"),
        ("x", 30, "purchase", "walk_in"), ("x", 100, "service_visit", "walk_in"),
        ("y", 0, "site_visit", "social"), ("y", 1, "site_visit", "social"), ("y", 10, "vdp_view", "website"),
        ("y", 11, "service_visit", "walk_in", False),
        ("z", 3, "site_visit", "website"),
    ])


# ------------------------------------------------------------------ parameters

GOOD = dict(segment_by="dealer_id", half_life_days=7.0, cohort_horizon_days=90, top_n=10, segment_maps=3)


def test_good_parameters_pass_and_bad_ones_are_named():
    jm.Params(**GOOD)
    jm.Params(**{**GOOD, "half_life_days": 3})
    for name, bad in (("segment_by", "region"), ("half_life_days", 0), ("half_life_days", "7"),
                      ("cohort_horizon_days", 90.5), ("top_n", 0), ("segment_maps", -1), ("top_n", True),
                      ("min_level_customers", 0), ("min_level_customers", 2.5)):
        with pytest.raises(ValueError, match=f"parameter {name}="):
            jm.Params(**{**GOOD, name: bad})


# ------------------------------------------------------------------ funnel and conversion

def test_funnel_counts_customers_whose_stage_timestamp_is_set():
    out = funnel.funnel(six_journeys())
    assert out["customers"].tolist() == [5, 4, 2, 1, 0]
    assert out["share_of_customers"].iloc[0] == pytest.approx(5 / 6)


def test_conversion_rates_intervals_and_largest_drop_off():
    conv = funnel.conversion(six_journeys())
    assert conv["key"].tolist() == ["awareness_to_consideration", "consideration_to_purchase",
                                    "purchase_to_retention", "retention_to_advocacy"]
    assert conv["converted"].tolist() == [4, 2, 1, 0] and conv["dropped"].tolist() == [1, 2, 1, 1]
    assert conv["rate"].tolist() == pytest.approx([0.8, 0.5, 0.5, 0.0])
    assert (conv["ci_low"] <= conv["rate"]).all() and (conv["rate"] <= conv["ci_high"]).all()
    assert funnel.largest_drop_off(conv)["key"] == "retention_to_advocacy"


def test_largest_drop_off_needs_someone_in_the_funnel():
    empty = funnel.conversion(journeys_frame({"f": ({}, {})}))
    with pytest.raises(ValueError, match="no stage"):
        funnel.largest_drop_off(empty)


def test_funnel_refuses_a_table_without_stage_columns():
    with pytest.raises(KeyError, match="advocacy_at"):
        funnel.funnel(six_journeys().drop(columns="advocacy_at"))


# ------------------------------------------------------------------ segments and cohorts

def test_segments_label_missing_values_and_count_per_segment():
    journeys = six_journeys()
    labels = groups.segment_labels(journeys, "acquisition_channel")
    assert labels.tolist() == ["search", "search", "social", "(none)", "social", "(none)"]
    out = groups.funnel_by_segment(journeys, labels).set_index(["segment", "stage"])
    assert out.loc[("search", "purchase"), "customers"] == 2
    assert out.loc[("social", "consideration"), "share_of_segment"] == pytest.approx(0.5)
    assert out.loc[("(none)", "consideration"), "conversion_from_previous"] == pytest.approx(1.0)


def _many_journeys(groups):
    """groups: (label, customers, buyers) -> journeys with that acquisition channel and dealer D1."""
    rows, n = {}, 0
    for label, customers, buyers in groups:
        for i in range(customers):
            stages = {"awareness": 0, "consideration": 1, **({"purchase": 5} if i < buyers else {})}
            rows[f"c{n:04d}"] = (stages, {"acquisition_channel": label, "dealer_id": "D1"})
            n += 1
    return journeys_frame(rows)


def test_purchase_share_pools_small_groups_and_says_which():
    journeys = _many_journeys([("website", 40, 10), ("search", 30, 30), ("sms", 3, 0), ("display", 2, 2)])
    table, pooled = groups.purchase_share(journeys, "acquisition_channel", min_customers=20)
    assert pooled == ["display", "sms"]
    assert table["segment"].tolist() == ["search", "other", "website"]
    other = table.set_index("segment").loc["other"]
    assert other["segment_customers"] == 5 and other["customers"] == 2
    sentence = groups.pooled_note("acquisition_channel", pooled, 20)
    assert sentence == ("Acquisition channel: Display ads, Text message had fewer than 20 customers and are pooled "
                        "into 'Other'.")


def test_purchase_share_error_bars_are_never_negative_at_zero_and_hundred_percent():
    # search: 100% bought, other (sms): 0% bought; a single dealer gives one group.
    journeys = _many_journeys([("search", 30, 30), ("sms", 25, 0), ("website", 7, 3)])
    for by in ("acquisition_channel", "dealer_id"):
        table, _ = groups.purchase_share(journeys, by, min_customers=20)
        assert (table["share_of_segment"] - table["ci_low"] >= 0).all()
        assert (table["ci_high"] - table["share_of_segment"] >= 0).all()
    table, _ = groups.purchase_share(journeys, "dealer_id", min_customers=20)
    assert table["segment"].tolist() == ["D1"]
    conv = funnel.conversion(journeys).dropna(subset=["rate"])  # 100%, 33 of 62, 0 of 33; nobody at retention
    assert len(conv) == 3
    assert (conv["rate"] - conv["ci_low"] >= 0).all() and (conv["ci_high"] - conv["rate"] >= 0).all()


def test_pooled_segments_name_missing_values_plainly():
    values = pd.Series(["D1"] * 25 + [groups.NO_SEGMENT] * 2)
    pooled_labels, pooled = groups.pool_segments(values, 20)
    assert pooled == [groups.NO_SEGMENT] and (pooled_labels == "other").sum() == 2
    assert "(no dealer recorded)" in groups.pooled_note("dealer_id", pooled, 20)


def test_persona_segments_need_the_personas_table():
    journeys = six_journeys()
    with pytest.raises(ValueError, match="journey run"):
        groups.segment_labels(journeys, "persona", personas=None)
    personas = pd.DataFrame({"customer_id": ["a", "b"], "persona": ["Researcher", "Impulse"]})
    assert groups.segment_labels(journeys, "persona", personas).tolist()[:3] == ["Researcher", "Impulse", "(none)"]
    with pytest.raises(ValueError, match="segment_by"):
        groups.segment_labels(journeys, "region")


def test_cohort_funnel_uses_a_fixed_horizon():
    """January cohort: a buys on day 12, b on day 24 (both within 20 days? only a), c considers.
    e's first touch (day 60, March) is less than 20 days before as_of (day 70): not eligible."""
    as_of = BASE + pd.Timedelta(days=70)
    out = funnel.cohort_funnel(six_journeys(), as_of, horizon_days=20).set_index("cohort")
    assert out.index.tolist() == ["2024-01"]
    assert out.loc["2024-01", "eligible"] == 4
    assert out.loc["2024-01", "purchase"] == pytest.approx(1 / 4)
    assert out.loc["2024-01", "consideration"] == pytest.approx(4 / 4)
    longer = funnel.cohort_funnel(six_journeys(), BASE + pd.Timedelta(days=200), horizon_days=30).set_index("cohort")
    assert longer.loc["2024-01", "purchase"] == pytest.approx(2 / 4) and longer.loc["2024-03", "eligible"] == 1
    with pytest.raises(ValueError, match="horizon_days"):
        funnel.cohort_funnel(six_journeys(), as_of, horizon_days=0)


# ------------------------------------------------------------------ sentences

class Picks(jm.JourneyMapResult):
    """The sentence methods on hand-made tables (a result holds many more)."""

    def __init__(self, **tables):
        self.__dict__.update(tables)


def conversion_of(rates):
    rows = [{"from_stage": a, "to_stage": b, "reached": 100, "converted": round(100 * r), "dropped": 100 - round(100 * r),
             "rate": r, "ci_low": r - 0.05, "ci_high": r + 0.05} for (a, b), r in zip(funnel.STAGE_PAIRS, rates)]
    return pd.DataFrame(rows)


def test_the_steepest_step_names_every_step_of_a_tie():
    tie = conversion_of([0.8, 0.492, 0.9, 0.488])  # both read 49%
    picks = Picks(conversion_=tie, most_lost_=tie.iloc[1])
    assert list(picks.steepest_steps_["from_stage"]) == ["consideration", "retention"]
    assert picks.funnel_sentence() == ("The steepest steps tie at 49% going on: Consideration to purchase and "
                                       "Retention to advocacy; in head count, most customers are lost between "
                                       "consideration and purchase (51).")
    one = conversion_of([0.8, 0.3, 0.9, 0.5])
    assert Picks(conversion_=one, most_lost_=one.iloc[1]).funnel_sentence().startswith(
        "The steepest step is Consideration to purchase: only 30% (95% CI 25% to 35%) go on;")
    poster = pd.DataFrame({"stage": list(STAGES), "reach": [10, 8, 4, 3, 1], "conversion": [0.8, 0.334, 0.75, 0.33, None]})
    assert Picks().segment_map_sentence(jm.SegmentMap("walk_in", 10, poster, None)) == (
        "Walk-in: 10 aware, 4 bought; weakest link Consideration to purchase and Retention to advocacy (33%).")
    nobody = one.assign(rate=np.nan)
    assert Picks(conversion_=nobody, most_lost_=None).funnel_sentence().startswith("No customer reached")


def test_sentences_read_labels_and_whole_paths():
    paths = pd.DataFrame({"path": ["third_party > walk_in > website"], "conversions": [3], "share_of_buyers": [0.25],
                          "customers": [7]})
    picks = Picks(buyer_paths_=paths)
    assert picks.buyer_paths_sentence() == ("The most common sequence, Third-party sites → Walk-in → Website, "
                                            "covers 25% of buyers.")
    assert list(picks.buyer_paths_table_.iloc[0]) == ["Third-party sites → Walk-in → Website", 3, 0.25, 7]
    switch = pd.DataFrame({"from_state": ["third_party", "walk_in"], "to_state": ["walk_in", "(end)"],
                           "transitions": [12, 40], "median_hours": [36.0, np.nan], "probability": [0.5, 0.5]})
    assert Picks(channel_transitions_=switch, channel_order_=["third_party", "walk_in"]).switch_sentence() == (
        "The most frequent channel switch is Third-party sites → Walk-in (12 times, median 1.5 days apart).")


def test_named_conditions_are_said_by_topic_from_missing_and_the_pooled_groups():
    """`missing_` (part -> reason) and `pooled_` give each report section its sentences, groups named by label."""
    picks = Picks(params=jm.Params(segment_by="persona"), pooled_={"acquisition_channel": ["sms"], "persona": ["(none)"]},
                  missing_={"dealer_comparison": "All customers belong to one dealer, so dealers cannot be compared.",
                            "attribution": "No customer has bought yet, so there is no purchase to credit to channels."})
    assert picks.notes_for("groups") == [
        "Acquisition channel: Text message had fewer than 20 customers and is pooled into 'Other'.",
        "All customers belong to one dealer, so dealers cannot be compared."]
    assert picks.notes_for("attribution") == ["No customer has bought yet, so there is no purchase to credit to channels."]
    assert picks.notes_for("segments") == [
        "Persona: (no persona recorded) had fewer than 20 customers and is pooled into 'Other'."]
    # segments by a grouping of part 1 were said there, once
    by_channel = Picks(params=jm.Params(), pooled_={"acquisition_channel": ["sms"]}, missing_={})
    assert by_channel.notes_for("segments") == [] and len(by_channel.notes_for("groups")) == 1


def stage_counts_of(stages):
    """A `stage_counts_channel_` whose export holds events of these stages only."""
    return pd.DataFrame({"segment": "all", "stage": list(stages), "channel": "website", "events": 10, "customers": 5,
                         "share_of_stage": 1.0})


def test_a_stage_the_export_records_no_event_of_is_no_steepest_step():
    """A log without service events (the receipt log): nobody can reach retention, so purchase -> retention at 0%
    is no step of the funnel's to compare, nor the head count lost; the sentence says the export has none."""
    conv = conversion_of([0.9, 0.6, 0.0, 0.0]).assign(reached=[100, 90, 54, 0])
    conv.loc[3, ["rate", "ci_low", "ci_high"]] = np.nan  # nobody reached retention
    conv["converted"] = (conv["reached"] * conv["rate"].fillna(0)).round().astype(int)
    conv["dropped"] = conv["reached"] - conv["converted"]
    picks = Picks(conversion_=conv, most_lost_=conv.iloc[2],
                  stage_counts_channel_=stage_counts_of(["awareness", "consideration", "purchase"]))
    assert picks.unrecorded_stages_ == ["retention", "advocacy"]
    assert picks.funnel_sentence() == (
        "The steepest step is Consideration to purchase: only 60% (95% CI 55% to 65%) go on; in head count, most "
        "customers are lost between consideration and purchase (36). The export records no retention or advocacy "
        "events, so nobody can reach those stages: the steps into them are not counted as losses.")
    # the journey maps' weakest link is not that step either
    poster = pd.DataFrame({"stage": list(STAGES), "reach": [10, 9, 6, 0, 0], "conversion": [0.9, 0.667, 0.0, None, None]})
    assert picks.segment_map_sentence(jm.SegmentMap("walk_in", 10, poster, None)) == (
        "Walk-in: 10 aware, 6 bought; weakest link Consideration to purchase (67%).")
    # with service events, the same 0% is a real step
    recorded = Picks(conversion_=conv, stage_counts_channel_=stage_counts_of(STAGES))
    assert recorded.funnel_sentence().startswith("The steepest step is Purchase to retention: only 0%")
    assert "records no" not in recorded.funnel_sentence()


def funnel_table(steps, reached, eligible, same_moment, in_progress=None):
    table = pd.DataFrame({"funnel": "dealer", "step": steps, "reached": reached, "eligible": eligible,
                          "same_moment": same_moment, "in_progress": in_progress or [0] * len(steps)})
    table["conversion"] = table["reached"] / table["eligible"]
    table["ci_low"], table["ci_high"] = table["conversion"] - 0.02, (table["conversion"] + 0.02).clip(upper=1)
    return table.assign(conversion=lambda f: f["conversion"].where(f.index > 0))


def test_a_funnel_step_reached_only_at_the_same_moment_as_the_one_before_is_not_ranked():
    """ChannelAttribution's paths under the default dealer funnel: every step after the lead is reached at the
    moment of the one before (one purchase event counts for all of them)."""
    steps = ["lead", "appointment_set", "showroom_visit", "purchase"]
    implied = Picks(funnels_=funnel_table(steps, [500, 500, 500, 500], [1000, 500, 500, 500], [0, 500, 500, 500]))
    assert implied.funnel_sentences() == [
        "Dealer funnel: the export records no separate event for Appointment set, Showroom visit and Purchase: "
        "customers reach each at the same moment as the step before (one event counts for both steps), so no step "
        "can be called the weakest or the strongest."]
    # a step with events of its own is still ranked; one reached partly at the same moment counts as its own
    mixed = Picks(funnels_=funnel_table(steps, [500, 500, 300, 120], [1000, 500, 499, 300], [0, 500, 20, 0],
                                        in_progress=[0, 0, 1, 0]))
    assert mixed.funnel_sentences() == [
        "Dealer funnel: the weakest step is Purchase, reached by 40% of the 300 customers who could reach it "
        "(95% CI 38% to 42%). The export records no separate event for Appointment set: customers reach it at the "
        "same moment as the step before (one event counts for both steps), so it is not ranked. 1 customer is "
        "still inside a step's window at the as-of date; they count neither as converted nor as lost."]
    one = Picks(funnels_=funnel_table(steps[:2], [10, 9], [10, 10], [0, 0]))
    assert one.funnel_sentences() == ["Dealer funnel: Appointment set is reached by 90% of the 10 customers who "
                                      "could reach it (95% CI 88% to 92%)."]


def credits_of(rows, models=("first_touch", "last_touch", "linear", "time_decay", "markov")):
    return pd.DataFrame(rows, index=list(models)).T


def test_models_that_agree_within_a_point_are_said_to_agree_and_name_no_opener():
    """Every journey keeps one channel (the receipt log): every model gives the same credit, and the smallest
    channel is no 'opener' at 0% vs 0%."""
    info = {"purchases_attributed": 1300, "buyers": 1300}
    same = credits_of({"website": [1132] * 5, "desk": [97] * 5, "intern": [1.0, 0.0, 0.5, 0.6, 0.7],
                       "post": [70.0, 71.0, 70.5, 70.4, 70.3]})
    picks = Picks(credits_=same, attribution_info_=info, missing_={}, pooled_={}, params=jm.Params())
    assert picks.models_agree and picks.opener_closer == (None, None)
    assert picks.attribution_sentences() == [
        "All 1,300 buyers had a marketing touch before buying and are attributed.",
        "The five models agree: each gives every channel the same share of the credit, within 1 percentage point, "
        "so no channel stands out as an opener or a closer.",
        "All five models rank Website first."]
    # models that disagree, but with first and last touch alike: no opener, no closer
    apart = credits_of({"website": [50, 50, 40, 45, 30], "desk": [50, 50, 60, 55, 70]})
    sentence = Picks(credits_=apart, attribution_info_={"purchases_attributed": 100, "buyers": 120}, missing_={},
                     pooled_={}, params=jm.Params()).attribution_sentences()
    assert sentence[0] == ("100 of 120 buyers had a marketing touch before buying and are attributed; 20 bought "
                           "with no recorded touch before.")
    assert sentence[1] == ("The models disagree most on Website: 50% of the credit under first touch but 30% under "
                           "Markov. First and last touch credit every channel alike, within 1 percentage point: no "
                           "channel is mostly an opener or a closer.")
    roles = credits_of({"search": [60, 20, 40, 35, 45], "walk_in": [40, 80, 60, 65, 55]})
    assert Picks(credits_=roles, attribution_info_={"purchases_attributed": 100, "buyers": 100}, missing_={},
                 pooled_={}, params=jm.Params()).attribution_sentences()[1].endswith(
        "Search is mostly an opener (first touch 60% vs last touch 20%), Walk-in mostly a closer (last touch 80% vs "
        "first 40%).")


def test_the_campaign_and_price_notes_are_said_under_revenue_not_attribution():
    from journeylib.journey_map.result import NO_PRICE

    campaign = "The touchpoints name no campaign, so revenue cannot be shown by campaign."
    picks = Picks(params=jm.Params(), pooled_={}, missing_={"revenue_by_campaign": campaign,
                                                           "attribution_revenue": NO_PRICE},
                  credits_=None, attribution_info_={"revenue_credits": credits_of({"website": [0.0] * 5}),
                                                    "revenue": 0.0})
    assert picks.notes_for("attribution") == [] and picks.attribution_sentences() == []
    assert picks.notes_for("revenue") == [NO_PRICE, campaign]
    assert picks.revenue_sentences() == [NO_PRICE, campaign]


def test_counts_in_sentences_follow_the_plural_rules():
    paths = pd.DataFrame({"path": ["walk_in"], "conversions": [1], "share_of_buyers": [1.0], "customers": [1]})
    used = pd.DataFrame({"channels": [1], "buyers": [1]})
    picks = Picks(channels_used_=used, median_channels_=1.0, buyer_paths_=paths,
                  variants_={"stage": (pd.DataFrame({"variant": ["awareness"]}),
                                       {"variants": 1, "journeys": 1, "top_share": 1.0})})
    assert picks.channels_used_sentence().endswith("a journey uses 1 channel at the median.")
    assert Picks(channels_used_=used, median_channels_=1.5).channels_used_sentence().endswith(
        "a journey uses 1.5 channels at the median.")
    assert picks.buyer_paths_sentence() == "The most common sequence, Walk-in, covers 100% of buyers."
    assert picks.variant_title("stage") == "Top 1 journey variant as stages (1 distinct)"
    assert picks.variant_sentence("stage") == ("As stages, the top variant covers 100% of 1 journey; there is 1 "
                                               "distinct variant.")
    switch = pd.DataFrame({"from_state": ["search", "walk_in", "search"], "to_state": ["walk_in", "(end)", "(end)"],
                           "transitions": [1, 1, 1], "median_hours": [30.0, np.nan, np.nan],
                           "probability": [0.5, 1.0, 0.5]})
    assert Picks(channel_transitions_=switch, channel_order_=["search", "walk_in"]).switch_sentence() == (
        "The most frequent channel switch is Search → Walk-in (once, median 1.2 days apart).")
    stops = pd.DataFrame({"from_state": ["purchase", "consideration", "purchase"],
                          "to_state": ["(end)", "purchase", "consideration"], "transitions": [1, 1, 1]})
    assert Picks(stage_transitions_=stops).stop_sentence() == (
        "Most journeys that stop, stop at purchase (1 customer); 1 step goes back to an earlier stage (e.g. shopping "
        "again after buying).")
    assert Picks(pains_=[("purchase", "price", 1, [])]).pain_headings() == [("Purchase: price (1 complaint)", [])]


def test_a_median_under_a_day_is_not_0_days():
    """The receipt log moves from stage to stage within hours: the median reads 'under a day', not '0 days'."""
    journeys = journeys_frame({c: ({"awareness": 0, "consideration": 0.1, "purchase": 0.3}, {}) for c in "abc"})
    picks = Picks(durations_=funnel.stage_durations(journeys),
                  progression_=funnel.progression(journeys, BASE + pd.Timedelta(days=10))[0])
    assert picks.timing_sentence().startswith(
        "The slowest step is Consideration to purchase (median under a day among those who moved on later).")
    switch = pd.DataFrame({"from_state": ["search"], "to_state": ["walk_in"], "transitions": [3],
                           "median_hours": [0.5], "probability": [1.0]})
    assert Picks(channel_transitions_=switch, channel_order_=["search", "walk_in"]).switch_sentence().endswith(
        "(3 times, median under a day apart).")
    # and the table of days between stages reads the same
    from journeylib import report
    from journeylib.labels import MISSING

    shown = report.reviewer_frame(picks.step_times_, formats=picks.formats)
    assert list(shown["Median days"][:2]) == ["under a day", "under a day"]
    assert shown["Days, 75th percentile"].iloc[2] == MISSING


def test_the_time_between_stages_says_who_reached_two_stages_at_once():
    journeys = six_journeys()
    picks = Picks(durations_=funnel.stage_durations(journeys), progression_=funnel.progression(
        journeys, BASE + pd.Timedelta(days=100))[0])
    sentence = picks.timing_sentence()
    assert sentence.startswith("The slowest step is Purchase to retention (median 28 days among those who moved on")
    assert "1 for Awareness to consideration" in sentence and "_" not in sentence
    assert list(picks.step_times_["Moved on later"]) == [3, 2, 1, 0]


# ------------------------------------------------------------------ time between stages

def test_stage_durations_among_those_who_progressed_later():
    out = funnel.stage_durations(six_journeys()).set_index("from_stage")
    # awareness -> consideration: 2, 4, 0, 6 days; c reached both at once (day 1), which is no 0-day step
    assert out.loc["awareness", "progressed"] == 4
    assert (out.loc["awareness", "later"], out.loc["awareness", "same_moment"]) == (3, 1)
    assert out.loc["awareness", "median_days"] == pytest.approx(4.0)
    assert out.loc["awareness", "q1_days"] == pytest.approx(3.0)
    assert out.loc["consideration", "median_days"] == pytest.approx(15.0)  # 10 and 20 days


def test_kaplan_meier_progression_censors_at_as_of():
    """consideration -> purchase: a 10 days (event), b 20 (event), c censored at 99, d censored at 89.
    KM: S(10) = 3/4, S(20) = 3/4 * 2/3 = 1/2; no later events, so the median is 20 days."""
    as_of = BASE + pd.Timedelta(days=100)
    summary, curves = funnel.progression(six_journeys(), as_of, at_days=(15, 30))
    row = summary.set_index("from_stage").loc["consideration"]
    assert row["at_risk"] == 4 and row["progressed"] == 2
    assert row["by_15_days"] == pytest.approx(1 / 4) and row["by_30_days"] == pytest.approx(1 / 2)
    assert row["km_median_days"] == pytest.approx(20)
    assert set(curves["step"]) >= {"consideration → purchase"}
    retention = summary.set_index("from_stage").loc["retention"]
    assert retention["at_risk"] == 1 and retention["by_15_days"] == 0  # a never reached advocacy
    nobody, _ = funnel.progression(six_journeys().query("customer_id != 'a'"), as_of)
    assert nobody.set_index("from_stage").loc["retention", "at_risk"] == 0
    assert np.isnan(nobody.set_index("from_stage").loc["retention", "by_30_days"])


# ------------------------------------------------------------------ engine: event logs

def test_stage_counts_and_channel_mix():
    counts = channels.stage_counts(three_logs(), by="channel")
    awareness = counts[counts["stage"] == "awareness"].set_index("channel")
    assert awareness["events"].to_dict() == {"social": 2, "website": 2}
    assert awareness.loc["social", "customers"] == 1
    mix = channels.channel_mix(counts)
    assert mix.loc["consideration", "website"] == pytest.approx(2 / 3)
    assert mix.sum(axis=1).tolist() == pytest.approx([1.0] * len(mix))
    assert "walk_in" not in mix.columns or mix.loc["retention", "walk_in"] == pytest.approx(1)
    assert channels.stage_counts(three_logs(), by="channel").query("stage == 'retention'")["events"].sum() == 1
    assert channels.top_values(channels.stage_counts(three_logs(), by="event_type"), "event_type", 1)[("all", "consideration")] \
        == ["vdp_view"]
    with pytest.raises(ValueError, match="by="):
        channels.stage_counts(three_logs(), by="campaign")


def test_stage_counts_per_segment():
    segments = pd.DataFrame({"customer_id": ["x", "y", "z"], "segment": ["north", "south", "north"]})
    counts = channels.stage_counts(three_logs(), by="channel", segments=segments)
    north = counts[(counts["segment"] == "north") & (counts["stage"] == "awareness")]
    assert north.set_index("channel")["customers"].to_dict() == {"website": 2}


def test_stage_and_event_variants_collapse_repeats():
    top, totals = variants.variants(three_logs(), kind="stage")
    assert totals == {"journeys": 3, "variants": 3, "top_share": pytest.approx(1.0)}
    by_variant = top.set_index("variant")
    assert by_variant.loc["awareness > consideration > purchase > retention", "conversion"] == 1
    assert by_variant.loc["awareness > consideration", "buyers"] == 0
    assert by_variant.loc["awareness", "steps"] == 1
    events, _ = variants.variants(three_logs(), kind="event_type", top_n=2)
    assert len(events) == 2
    assert set(events["variant"]) <= {"site_visit > vdp_view > purchase > service_visit", "site_visit > vdp_view",
                                      "site_visit"}
    with pytest.raises(ValueError, match="kind="):
        variants.variants(three_logs(), kind="channel")


def test_variant_shares_and_coverage():
    rows = [(c, 0, "site_visit", "website") for c in "abcd"] + [("a", 1, "vdp_view", "website"),
                                                                 ("e", 0, "vdp_view", "search")]
    top, totals = variants.variants(log(rows), kind="stage", top_n=1)
    assert top["variant"].tolist() == ["awareness"] and top["share"].tolist() == pytest.approx([3 / 5])
    assert totals["variants"] == 3 and totals["top_share"] == pytest.approx(3 / 5)


def test_stage_transitions_probabilities_and_median_hours():
    trans = variants.transitions(three_logs(), kind="stage").set_index(["from_state", "to_state"])
    assert trans.loc[("(start)", "awareness"), "transitions"] == 3
    # x: awareness (h0) -> consideration (h2); y: awareness (last at h1) -> consideration (h10)
    assert trans.loc[("awareness", "consideration"), "transitions"] == 2
    assert trans.loc[("awareness", "consideration"), "median_hours"] == pytest.approx((2 + 9) / 2)
    assert trans.loc[("awareness", "consideration"), "probability"] == pytest.approx(2 / 3)
    assert trans.loc[("awareness", "(end)"), "probability"] == pytest.approx(1 / 3)
    assert trans.loc[("consideration", "purchase"), "median_hours"] == pytest.approx(25)
    matrix = variants.transition_matrix(trans.reset_index(), states=STAGES)
    assert matrix.index[0] == "(start)" and matrix.columns[-1] == "(end)"
    assert matrix.sum(axis=1).tolist() == pytest.approx([1.0] * len(matrix))


def test_event_type_transitions_pool_all_but_the_most_frequent_types():
    trans = variants.transitions(three_logs(), kind="event_type", top_n=1)
    counts = {(r.from_state, r.to_state): r.transitions for r in trans.itertuples()}
    # site visits (4 events) stay; the VDP views and the purchase become 'other', repeats collapsed
    assert counts == {("(start)", "site_visit"): 3, ("site_visit", "other"): 2, ("site_visit", "(end)"): 1,
                      ("other", "(end)"): 2}
    full = variants.transitions(three_logs(), kind="event_type")
    assert ("vdp_view", "purchase") in set(zip(full["from_state"], full["to_state"]))
    with pytest.raises(ValueError, match="expected 'stage', 'channel' or 'event_type'"):
        variants.transitions(three_logs(), kind="dealer")


def test_channel_transitions_use_every_event():
    trans = variants.transitions(three_logs(), kind="channel").set_index(["from_state", "to_state"])
    assert trans.loc[("website", "search"), "transitions"] == 1
    assert trans.loc[("search", "walk_in"), "median_hours"] == pytest.approx(25)
    assert trans.loc[("website", "walk_in"), "transitions"] == 1  # y's pre-purchase service visit
    assert trans.loc[("walk_in", "(end)"), "transitions"] == 2


def test_open_events_reads_parquet_and_names_a_missing_table(tmp_path):
    with pytest.raises(MissingProcessedData, match="touchpoints.parquet"):
        engine.open_events(tmp_path)
    frame = three_logs().to_pandas()
    frame["occurred_at"] = frame["occurred_at"].astype("datetime64[us, UTC]")
    frame.to_parquet(tmp_path / "touchpoints.parquet")
    top, totals = variants.variants(engine.open_events(tmp_path), kind="stage")
    assert totals["journeys"] == 3


def test_open_events_reads_nanosecond_utc_timestamps(tmp_path):
    # pandas writes datetime64[ns, UTC] by default; DuckDB reads it as TIMESTAMPTZ_NS, which Ibis does not know.
    frame = three_logs().to_pandas()
    frame["occurred_at"] = frame["occurred_at"].astype("datetime64[ns, UTC]")
    frame.to_parquet(tmp_path / "touchpoints.parquet")
    events = engine.open_events(tmp_path)
    assert events.schema()["occurred_at"].is_timestamp()
    trans = variants.transitions(events, kind="stage")
    expected = variants.transitions(three_logs(), kind="stage")
    pd.testing.assert_frame_equal(trans, expected)
    assert variants.variants(events, kind="stage")[1]["journeys"] == 3


def test_transition_matrix_lists_start_and_end_once_without_an_order():
    trans = variants.transitions(three_logs(), kind="stage")
    matrix = variants.transition_matrix(trans)
    assert list(matrix.index).count(engine.START) == 1 and list(matrix.index)[0] == engine.START
    assert list(matrix.columns).count(engine.END) == 1 and list(matrix.columns)[-1] == engine.END
    assert engine.START not in matrix.columns and engine.END not in matrix.index
    assert matrix.loc[engine.START, "awareness"] == 1.0
    # An order that names (start) or (end) does not duplicate them either.
    ordered = variants.transition_matrix(trans, states=[engine.START, *STAGES, engine.END])
    assert list(ordered.index).count(engine.START) == 1 and list(ordered.columns).count(engine.END) == 1


# ------------------------------------------------------------------ surveys and the map

def surveys_frame():
    return pd.DataFrame({
        "response_id": ["r1", "r2", "r3", "r4", "r5"],
        "customer_id": ["a", "b", "c", "a", "zz"],
        "survey_type": ["sales", "sales", "sales", "service", "service"],
        "score": pd.array([10, 3, 8, 5, 9], dtype="Int8"),
        "comment": ["Great", "Too much PRESSURE and the price was high", "<b>ok</b>",
                    "Waited 3 hours, car still broken", None],
    })


def test_satisfaction_by_stage():
    out = surveys.satisfaction_by_stage(surveys_frame()).set_index("stage")
    assert out.index.tolist() == ["purchase", "retention", "advocacy"]
    assert out.loc["purchase", "nps"] == pytest.approx(100 * (1 / 3 - 1 / 3))
    assert out.loc["retention", "mean_score"] == pytest.approx(7.0)
    assert out.loc["advocacy", "responses"] == 5


THEMES = {"price": ["price"], "pressure": ["pressure", "pushy"], "waiting": ["wait*", "hours"],
          "repair": ["broken", "not fixed"]}


def scored_surveys():
    from journeylib.personas import feedback

    return feedback.score_comments(surveys_frame(), THEMES)


def test_stage_pain_points_rank_complaint_themes_per_stage():
    out = surveys.stage_pain_points(scored_surveys(), list(THEMES), top=3)
    purchase = out[out["stage"] == "purchase"].set_index("theme")
    # Only b's sales comment (score 3) complains: price and pressure, once each; "Great" mentions nothing.
    assert purchase["negative_mentions"].to_dict() == {"pressure": 1, "price": 1}
    retention = out[out["stage"] == "retention"]
    assert set(retention["theme"]) == {"waiting", "repair"}
    assert surveys.stage_pain_points(scored_surveys(), list(THEMES), top=1).groupby("stage").size().max() == 1


def test_journey_map_table_and_figure():
    journeys = six_journeys()
    events = three_logs()
    table = poster.journey_map_table(journeys, channels.stage_counts(events, "channel"), channels.stage_counts(events, "event_type"),
                                 surveys_frame(), scored_surveys(), list(THEMES))
    assert table["stage"].tolist() == list(STAGES)
    assert table["reach"].tolist() == [5, 4, 2, 1, 0]
    purchase = table.set_index("stage").loc["purchase"]
    assert purchase["conversion"] == pytest.approx(0.5) and purchase["survey_responses"] == 3  # zz is not in journeys
    assert purchase["top_touchpoints"] == ["purchase"] and purchase["pain_points"] == ["pressure", "price"]
    assert np.isnan(table.set_index("stage").loc["advocacy", "conversion"])
    fig = draw.draw_journey_map(table, title="Test map")
    texts = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert "Reach: 5" in texts and "NPS" in texts and fig._suptitle.get_text() == "Test map"
    matplotlib.pyplot.close(fig)


def test_sankey_draws_one_band_per_flow_and_refuses_empty_flows():
    import matplotlib.pyplot as plt

    flows = pd.DataFrame({"source": ["a", "a", "b"], "target": ["x", "y", "x"], "value": [5, 3, 2]})
    fig, ax = plt.subplots()
    draw.draw_sankey(ax, flows, title="Flows")
    bands = [p for p in ax.patches if type(p).__name__ == "PathPatch"]
    assert len(bands) == 3 and ax.get_title() == "Flows"
    labels = {t.get_text() for t in ax.texts}
    assert {"A (8)", "B (2)", "X (7)", "Y (3)"} <= labels  # names as labels (journeylib.labels)
    fig.canvas.draw()  # a '$' in a data label must render as text, not start a formula
    draw.draw_sankey(ax, flows.assign(source=["$5-$9 deal", "$5-$9 deal", "b"]))
    assert r"\$5-\$9 deal (8)" in {t.get_text() for t in ax.texts}
    fig.canvas.draw()
    with pytest.raises(ValueError, match="no positive flows"):
        draw.draw_sankey(ax, flows.assign(value=0))
    plt.close(fig)


# ------------------------------------------------------------------ the groupings on the engine that prepared the data

def test_the_engine_comes_from_summary_json(tmp_path):
    (tmp_path / "summary.json").write_text('{"as_of": "2025-01-01T00:00:00+00:00"}', encoding="utf-8")
    tables = ProcessedTables(tmp_path)
    assert engine.engine_of(tables) == "duckdb"  # folders prepared before the engine was recorded
    assert engine.connect(tables).name == "duckdb"
    (tmp_path / "summary.json").write_text('{"as_of": "2025-01-01T00:00:00+00:00", "engine": "spark"}',
                                           encoding="utf-8")
    assert engine.engine_of(tables) == "spark"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A small sample prepared on DuckDB."""
    from journeylib.prepare import prepare
    from journeylib.sample import write_sample

    work = tmp_path_factory.mktemp("prepared")
    prepare(raw=write_sample(work / "raw", customers=400, seed=5), out=work / "duckdb")
    return work / "duckdb"


def test_analyse_records_the_section_from_its_own_tables(prepared):
    result = jm.analyse(ProcessedTables(prepared), jm.Params())
    metrics = result.metrics()
    assert (jm.SECTION, jm.NOTEBOOK) == ("journey", "01_journey_map")
    journeys = ProcessedTables(prepared).load("journeys")
    assert metrics["funnel"]["awareness"] == int(journeys["awareness_at"].notna().sum())
    step = metrics["conversion"]["consideration_to_purchase"]
    assert step["ci_low"] <= step["estimate"] <= step["ci_high"]
    attributed = result.attribution_info_["purchases_attributed"]
    assert 0 < attributed <= result.attribution_info_["buyers"]
    for model, credits in metrics["attribution"].items():
        assert sum(credits.values()) == pytest.approx(attributed, abs=1e-4), model
    assert set(metrics["levels_pooled"]) <= {"acquisition_channel", "dealer_id"}
    # every number a sentence shows is recorded: the head count lost, the timing, the map's reach and NPS
    lost = result.most_lost_
    assert metrics["steps"][f"{lost['from_stage']}_to_{lost['to_stage']}"]["dropped"] == int(lost["dropped"])
    assert f"({int(lost['dropped']):,})." in result.funnel_sentence()
    slowest = result.slowest_step
    assert metrics["steps"][f"{slowest['from_stage']}_to_{slowest['to_stage']}"]["median_days"] == pytest.approx(
        slowest["median_days"])
    assert metrics["journey_map"]["awareness"]["reach"] == metrics["funnel"]["awareness"]
    sentences = [result.funnel_sentence(), result.groups_sentence("channel"), result.groups_sentence("segment"),
                 result.cohort_sentence(), result.timing_sentence(), result.channel_mix_sentence(),
                 result.channels_used_sentence(), result.buyer_paths_sentence(), result.stop_sentence(),
                 result.switch_sentence(), result.event_step_sentence(), result.share_bought_sentence(),
                 result.map_sentence(), *result.attribution_sentences(), *result.funnel_sentences(),
                 *(result.segment_map_sentence(seg) for seg in result.segment_maps_)]
    sentences += result.notes_for("groups") + result.notes_for("segments")
    for sentence in sentences:
        assert "_" not in sentence and "nan" not in sentence.lower() and "(none)" not in sentence, sentence
    assert metrics == jm.analyse(ProcessedTables(prepared), jm.Params(top_n=3, segment_maps=1)).metrics()


def test_analyse_with_nobody_bought_records_nulls_with_the_reason(prepared, tmp_path):
    shutil.copytree(prepared, tmp_path / "p")
    events = pd.read_parquet(tmp_path / "p" / "touchpoints.parquet")
    events[events["event_type"] != "purchase"].to_parquet(tmp_path / "p" / "touchpoints.parquet", index=False)
    result = jm.analyse(ProcessedTables(tmp_path / "p"), jm.Params())
    metrics = result.metrics()
    assert result.credits_ is None and metrics["attribution"] == {m: None for m in metrics["attribution"]}
    assert metrics["missing"]["attribution.markov"] == result.attribution_reason
    assert result.attribution_reason in metrics["notes"] and result.notes_for("attribution")[0] == result.attribution_reason
    assert result.missing_["attribution"] == result.attribution_reason


def test_an_export_without_prices_or_service_events_records_nulls_with_reasons(prepared, tmp_path):
    """Like the receipt log: no purchase has a price and no service or advocacy event is recorded. The revenue
    credits and the revenue per group are null with the reason (every key kept), purchase -> retention is no 0%."""
    from journeylib.journey_map.result import NO_PRICE

    shutil.copytree(prepared, tmp_path / "p")
    sales = pd.read_parquet(tmp_path / "p" / "sales.parquet")
    sales.assign(price=np.nan).to_parquet(tmp_path / "p" / "sales.parquet", index=False)
    events = pd.read_parquet(tmp_path / "p" / "touchpoints.parquet")
    events[~events["stage"].isin(["retention", "advocacy"])].to_parquet(tmp_path / "p" / "touchpoints.parquet",
                                                                      index=False)
    journeys = pd.read_parquet(tmp_path / "p" / "journeys.parquet")
    for stage in ("retention", "advocacy"):
        journeys[f"{stage}_at"] = journeys[f"{stage}_at"].where(journeys[f"{stage}_at"].isna())  # NaT, its type kept
    journeys["furthest_stage"] = journeys["furthest_stage"].replace({"retention": "purchase", "advocacy": "purchase"})
    journeys.to_parquet(tmp_path / "p" / "journeys.parquet", index=False)
    result = jm.analyse(ProcessedTables(tmp_path / "p"), jm.Params())
    metrics = result.metrics()
    channels_credited = set(result.revenue_credits_.index)
    for model, credits in metrics["attribution_revenue"].items():
        assert set(credits) == channels_credited and all(v is None for v in credits.values()), model
        assert all(metrics["missing"][f"attribution_revenue.{model}.{c}"] == NO_PRICE for c in credits)
    for group, row in metrics["revenue"]["by_acquisition_channel"].items():
        assert (row["revenue"], row["per_lead"], row["per_purchase"]) == (None, None, None), group
        assert row["customers"] > 0
    assert NO_PRICE in metrics["notes"] and result.revenue_sentences()[0] == NO_PRICE
    # purchase -> retention: no step at 0%, but a step the export cannot show
    assert result.unrecorded_stages_ == ["retention", "advocacy"]
    assert metrics["conversion"]["purchase_to_retention"] is None
    assert metrics["missing"]["conversion.purchase_to_retention"].startswith("The export records no retention events")
    assert "Purchase to retention" not in result.funnel_sentence()
    assert "The export records no retention or advocacy events" in result.funnel_sentence()
    assert "Purchase to retention" not in result.map_sentence()
    # the days-between-stages table: no Kaplan-Meier share into a stage nobody can reach (never a fake 0.0%)
    from journeylib import report
    from journeylib.labels import MISSING

    shown = report.reviewer_frame(result.step_times_, formats=result.formats).set_index("Step")
    km = ["Moved on within 30 days (KM)", "Within 90 days (KM)", "Within 180 days (KM)"]
    assert shown.loc["Purchase → retention", km].tolist() == [MISSING] * 3
    assert shown.loc["Retention → advocacy", km].tolist() == [MISSING] * 3
    assert all(value.endswith("%") for value in shown.loc["Consideration → purchase", km])
    reason = metrics["missing"]["conversion.purchase_to_retention"]
    for name in ("km_median_days", "km_by_30_days", "km_by_90_days", "km_by_180_days"):
        assert metrics["steps"]["purchase_to_retention"][name] is None
        assert metrics["missing"][f"steps.purchase_to_retention.{name}"] == reason
    assert metrics["steps"]["consideration_to_purchase"]["km_by_90_days"] > 0


@pytest.fixture(scope="module")
def both_engines(prepared, spark_session, tmp_path_factory):
    """The small processed sample, as DuckDB's and as Spark's (tests/conftest.py's Spark session)."""
    work = tmp_path_factory.mktemp("engines")
    # The same processed tables, recorded as Spark's: both engines prepare identical tables
    # (tests/engine/test_spark.py), and preparing on Spark here would only double its share of the suite.
    shutil.copytree(prepared, work / "spark")
    summary = json.loads((work / "spark" / "summary.json").read_text(encoding="utf-8"))
    (work / "spark" / "summary.json").write_text(json.dumps({**summary, "engine": "spark"}), encoding="utf-8")
    return ProcessedTables(prepared), ProcessedTables(work / "spark"), spark_session


def groupings(tables, con) -> dict:
    """Every event-log grouping notebook 01 runs, as pandas tables."""
    from journeylib.journey_map import attribution

    events = engine.open_events(tables, con)
    journeys = tables.load("journeys", columns=["customer_id", "acquisition_channel"])
    segments = journeys.rename(columns={"acquisition_channel": "segment"}).fillna("(none)")
    touches = attribution.pre_purchase_touches(events, tables.as_of)
    credits, info = attribution.attribute(events, as_of=tables.as_of)
    from journeylib.journey_map import compare, funnels, revenue

    values = revenue.purchase_values(events, tables.load("sales"))
    steps = funnels.DEFAULT_FUNNELS["dealer"]
    windows, _ = compare.buyers_windows(tables.load("journeys"))
    return {
        "funnel step times": funnels.step_times(events, steps, tables.as_of).sort_values("customer_id"),
        "event-type transitions": variants.transitions(events, "event_type", top_n=10),
        "purchase values": values.sort_values("customer_id"),
        "channel paths with revenue": attribution.channel_paths(touches, values=values),
        "behaviour counts": compare.behaviour_counts(events, windows).sort_values(["group", "kind", "behaviour"]),
        "first campaigns": revenue.first_campaigns(events).sort_values("customer_id"),
        "stage x channel": channels.stage_counts(events, "channel"),
        "stage x event type by segment": channels.stage_counts(events, "event_type", segments),
        "stage variants": variants.variants(events, "stage", top_n=50)[0],
        "event-type variants": variants.variants(events, "event_type", top_n=50)[0],
        "stage transitions": variants.transitions(events, "stage"),
        "channel transitions": variants.transitions(events, "channel"),
        "channels used": attribution.channels_used(touches),
        "channel paths": attribution.channel_paths(touches),
        "attribution": credits.sort_index(),
        "markov transitions": info["transitions"],
    }


def test_the_groupings_on_spark_equal_duckdbs(both_engines):
    duck_tables, spark_tables, session = both_engines
    assert (engine.engine_of(duck_tables), engine.engine_of(spark_tables)) == ("duckdb", "spark")
    con = engine.connect(spark_tables, session=session)
    work_dir = con.temporary_dir
    try:
        assert con.name == "spark" and con.con.name == "pyspark" and work_dir.is_dir()
        on_spark = groupings(spark_tables, con)
    finally:
        from journeylib.engine.connection import disconnect

        disconnect(con)
    assert not work_dir.exists()  # the connection's own work folder goes with it
    on_duckdb = groupings(duck_tables, engine.connect(duck_tables))
    assert on_duckdb["stage variants"]["customers"].sum() > 300
    for name, expected in on_duckdb.items():
        got = on_spark[name]
        pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False,
                                      check_categorical=False, obj=name)


def test_the_engines_funnel_step_times_equal_the_pandas_ones_what_changed_uses(prepared):
    """Notebook 01 matches funnel steps in the engine; notebook 06 in pandas (derived.funnel_steps): the same times."""
    from journeylib.derived import funnel_steps
    from journeylib.journey_map import funnels

    tables = ProcessedTables(prepared)
    steps = funnels.DEFAULT_FUNNELS["dealer"]
    con = engine.connect(tables)
    in_engine = funnels.step_times(engine.open_events(tables, con), steps, tables.as_of)
    events = tables.load("touchpoints", columns=["customer_id", "occurred_at", "event_type"])
    in_pandas = funnel_steps.step_times(events, steps, tables.as_of)
    in_engine, in_pandas = (t.assign(customer_id=t["customer_id"].astype(str)).set_index("customer_id").sort_index()
                            for t in (in_engine, in_pandas))
    assert len(in_engine) > 100 and in_engine[steps[-1]["step"]].notna().sum() > 10
    pd.testing.assert_frame_equal(in_engine, in_pandas, check_dtype=False)
