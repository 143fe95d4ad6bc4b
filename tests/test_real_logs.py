"""Issue 25's "done when" on real data (tests/support/fixtures/real_logs/README.md says where each file comes from):

- the WABO receipt log (1,434 permit cases) with the three-step funnel of its journey.yaml: reached and
  in-progress counts equal a direct pandas count on the raw file;
- ChannelAttribution's example paths (10,000 distinct paths, 88,387 journeys) with value per conversion as
  the price: first- and last-touch revenue per channel equal a direct count on the paths, and every model's
  revenue credit sums to the total conversion value.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import yaml

from journeylib.journey_map import attribution, engine, funnels, revenue
from tests.support import FIXTURES

REAL = FIXTURES / "real_logs"
RECEIPT = REAL / "receipt"
PATHS = REAL / "channel_attribution" / "paths.csv.gz"


# ------------------------------------------------------------------ the receipt log's funnel

@pytest.fixture(scope="module")
def receipt(tmp_path_factory):
    """The receipt log prepared as `journey prepare` does (personas are not needed here), and its raw rows."""
    from journeylib.prepare import prepare
    from journeylib.tables import ProcessedTables

    out = tmp_path_factory.mktemp("receipt") / "processed"
    summary = prepare(raw=RECEIPT, out=out)
    raw = pd.read_csv(RECEIPT / "touchpoints.csv.gz", dtype=str)
    raw["at"] = pd.to_datetime(raw["timestamp"], utc=True, format="ISO8601")
    return summary, ProcessedTables(out), raw


def direct_funnel(raw: pd.DataFrame, as_of: pd.Timestamp) -> dict:
    """received -> checked (T02) within 30 days -> answered (T05) within 30 more, counted on the raw file:
    {step: (reached, in_progress)}. A step's time is the first matching event at or after the previous
    step's time and at most 30 days later; in progress: reached the previous step less than 30 days before
    the as-of moment and not this one."""
    raw = raw[raw["at"] <= as_of]
    received = raw[raw["activity"] == "Confirmation of receipt"].groupby("case")["at"].min()
    out = {"received": (len(received), 0)}
    previous = received
    for step, prefix in (("checked", "T02 "), ("answered", "T05 ")):
        hits = raw[raw["activity"].str.startswith(prefix)].join(previous.rename("previous"), on="case", how="inner")
        gap = hits["at"] - hits["previous"]
        reached = hits[(gap >= pd.Timedelta(0)) & (gap <= pd.Timedelta(days=30))].groupby("case")["at"].min()
        waiting = previous[(as_of - previous < pd.Timedelta(days=30)) & ~previous.index.isin(reached.index)]
        out[step] = (len(reached), len(waiting))
        previous = reached
    return out


def test_the_receipt_log_is_prepared_whole(receipt):
    summary, tables, raw = receipt
    assert summary["tables"]["touchpoints"] == {"raw": len(raw), "kept": len(raw), "rejected": {}}
    assert summary["tables"]["customers"]["kept"] == raw["case"].nunique() == 1434
    assert summary["purchases_from"] == "purchase_events"
    assert summary["tables"]["sales"]["kept"] == raw["activity"].str.startswith("T05 ").sum()
    # the as-of moment is the log's latest event
    assert pd.Timestamp(summary["as_of"]) == raw["at"].max()
    config = yaml.safe_load((RECEIPT / "journey.yaml").read_text(encoding="utf-8"))
    assert [s["step"] for s in summary["funnels"]["permit"]] == [s["step"] for s in config["funnels"]["permit"]]


def test_the_permit_funnel_equals_a_direct_count_on_the_raw_file(receipt):
    _, tables, raw = receipt
    con = engine.connect(tables)
    events = engine.open_events(tables, con)
    overall, _ = funnels.funnel_tables(events, tables.load("journeys"), funnels.configured(tables), tables.as_of)
    got = overall.set_index("step")
    expected = direct_funnel(raw, pd.Timestamp(tables.as_of))
    assert list(got.index) == list(expected)
    for step, (reached, in_progress) in expected.items():
        assert got.loc[step, "reached"] == reached, step
        # the issue asks for in progress within one; on this log it is exact
        assert got.loc[step, "in_progress"] == in_progress, step
    # the real log is not trivial: some cases drop out and some are still inside a window
    assert expected["checked"][0] < expected["received"][0] and expected["answered"][0] < expected["checked"][0]
    assert expected["checked"][1] > 0
    conversion = got.loc["answered", "reached"] / (got.loc["checked", "reached"] - got.loc["answered", "in_progress"])
    assert got.loc["answered", "conversion"] == pytest.approx(conversion)
    assert got.loc["answered", "ci_low"] < conversion < got.loc["answered", "ci_high"]


# ------------------------------------------------------------------ ChannelAttribution's paths

def channel_attribution_events(data: pd.DataFrame) -> pd.DataFrame:
    """Every path of the aggregated table expanded into its journeys: `total_conversions` buyers and
    `total_null` non-buyers per path; touches a day apart, a buyer's purchase a day after the last touch,
    priced at the path's value per conversion (total_conversion_value / total_conversions)."""
    steps = data["path"].str.split(" > ")
    customers = (data["total_conversions"] + data["total_null"]).to_numpy()
    row = np.repeat(np.arange(len(data)), customers)  # each journey's path
    within = np.arange(len(row)) - np.repeat(np.cumsum(customers) - customers, customers)
    bought = within < data["total_conversions"].to_numpy()[row]
    ids = np.array([f"j{i}" for i in range(len(row))], dtype=object)
    lengths = steps.str.len().to_numpy()
    touch_journey = np.repeat(np.arange(len(row)), lengths[row])
    flat = np.concatenate(steps.to_numpy())
    offsets = np.r_[0, np.cumsum(lengths)]
    # each touch's channel: the path's flat steps, taken once per journey of the path
    position = np.arange(len(touch_journey)) - np.repeat(np.cumsum(lengths[row]) - lengths[row], lengths[row])
    channel = flat[offsets[row][touch_journey] + position]
    base = pd.Timestamp("2024-01-01", tz="UTC")
    touches = pd.DataFrame({"event_id": [f"t{i}" for i in range(len(channel))], "customer_id": ids[touch_journey],
                            "occurred_at": base + pd.to_timedelta(position, unit="D"), "event_type": "site_visit",
                            "channel": channel, "source": "touchpoints", "price": np.nan})
    buyers = np.flatnonzero(bought)
    value = (data["total_conversion_value"] / data["total_conversions"].where(data["total_conversions"] > 0)).to_numpy()
    purchases = pd.DataFrame({"event_id": [f"sale{i}" for i in buyers], "customer_id": ids[buyers],
                              "occurred_at": base + pd.to_timedelta(lengths[row][buyers], unit="D"),
                              "event_type": "purchase", "channel": "website", "source": "sales",
                              "price": value[row][buyers]})
    frame = pd.concat([touches, purchases], ignore_index=True)
    frame["occurred_at"] = frame["occurred_at"].astype("datetime64[us, UTC]")
    return frame


@pytest.fixture(scope="module")
def channel_paths():
    data = pd.read_csv(PATHS, sep=";")
    frame = channel_attribution_events(data)
    events = engine.events_table(frame)
    values = revenue.purchase_values(events, None)
    credits, info = attribution.attribute(events, half_life_days=7.0, values=values)
    return data, frame, credits, info


def test_the_expanded_paths_are_the_published_table(channel_paths):
    data, frame, _, info = channel_paths
    assert len(data) == 10_000
    journeys = frame["customer_id"].nunique()
    assert journeys == (data["total_conversions"] + data["total_null"]).sum() == 88_387
    assert info["purchases_attributed"] == data["total_conversions"].sum() == 19_785
    assert info["unpriced"] == 0


def test_first_and_last_touch_revenue_equal_a_direct_count_on_the_paths(channel_paths):
    data, _, credits, info = channel_paths
    steps = data["path"].str.split(" > ")
    value = data["total_conversion_value"]
    got = info["revenue_credits"]
    for model, ends in (("first_touch", steps.str[0]), ("last_touch", steps.str[-1])):
        direct = value.groupby(ends).sum()
        pd.testing.assert_series_equal(got[model][got[model] != 0].sort_index(),
                                       direct[direct != 0].sort_index(), check_names=False, rtol=1e-9)
        # and the purchase credits: conversions per first / last channel
        count = data["total_conversions"].groupby(ends).sum().astype(float)
        pd.testing.assert_series_equal(credits[model][credits[model] != 0].sort_index(),
                                       count[count != 0].sort_index(), check_names=False)


def test_every_models_revenue_credit_sums_to_the_total_conversion_value(channel_paths):
    data, _, credits, info = channel_paths
    total = data["total_conversion_value"].sum()
    assert info["revenue"] == pytest.approx(total, rel=1e-9)
    for model in attribution.MODELS:
        assert info["revenue_credits"][model].sum() == pytest.approx(total, rel=1e-9), model
        assert credits[model].sum() == pytest.approx(data["total_conversions"].sum(), rel=1e-9), model
        assert (info["revenue_credits"][model] >= 0).all(), model


# ------------------------------------------------------------------ what the report draws for a log without prices

def test_revenue_per_lead_is_not_drawn_when_no_purchase_has_a_price():
    """The receipt log has no prices: revenue per lead and per purchase would be empty charts of zeros."""
    from types import SimpleNamespace

    from journeylib.figures import journey as draw

    unpriced = pd.DataFrame({"group": ["website", "desk"], "customers": [10, 5], "buyers": [8, 4],
                             "purchases": [0, 0], "revenue": [0.0, 0.0], "per_lead": [0.0, 0.0],
                             "per_purchase": [np.nan, np.nan]})
    assert draw.revenue_per_group(SimpleNamespace(revenue_by_channel_=unpriced, revenue_by_campaign_=None)) is None
    priced = unpriced.assign(purchases=[2, 0], revenue=[50.0, 0.0], per_lead=[5.0, 0.0], per_purchase=[25.0, np.nan])
    fig = draw.revenue_per_group(SimpleNamespace(revenue_by_channel_=priced, revenue_by_campaign_=unpriced))
    assert fig is not None and len(fig.axes) == 2  # the campaign row without revenue is left out
    plt.close(fig)


def test_the_default_funnel_on_paths_without_its_steps_says_each_step_came_at_the_same_moment(channel_paths):
    """ChannelAttribution's journeys have site visits and purchases only: the default dealer funnel counts every
    buyer's purchase for each step (a later step's event counts for an earlier one), so each step is reached at
    the moment of the one before; the figure says so and draws no dealer heatmap (nobody has a dealer)."""
    data, frame, _, _ = channel_paths
    events = engine.events_table(frame)
    journeys = pd.DataFrame({"customer_id": frame["customer_id"].unique()})
    labels = {"dealer_id": np.full(len(journeys), "(none)", dtype=object),
              "acquisition_channel": np.where(np.arange(len(journeys)) % 2, "alpha", "beta")}
    overall, by_group = funnels.funnel_tables(events, journeys, funnels.DEFAULT_FUNNELS, frame["occurred_at"].max(),
                                              labels)
    buyers = data["total_conversions"].sum()
    assert (overall["reached"] == buyers).all()
    assert overall["same_moment"].tolist() == [0] + [buyers] * (len(overall) - 1)
    from journeylib.figures import journey as draw

    fig = draw.step_funnel("dealer", overall.drop(columns="funnel"), by_group)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["Dealer funnel: customers reaching each step", "Step conversion by acquisition channel"]
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts[0].strip() == f"{buyers:,} ({buyers / len(journeys):.0%} of all {len(journeys):,})"
    assert all("same moment as the step before" in t for t in texts[1:])
    plt.close(fig)


def test_revenue_ticks_keep_small_amounts_apart():
    """ChannelAttribution's revenue per lead is a few units: whole-number ticks read 0, 0, 1, 1."""
    from journeylib.figures import journey as draw

    assert [draw.money_ticks(1.2)(v, None) for v in (0, 0.4, 0.8, 1.2)] == ["0.00", "0.40", "0.80", "1.20"]
    assert draw.money_ticks(40)(12.5, None) == "12.5"
    assert draw.money_ticks(30_000)(25_000, None) == "25,000"


def test_the_markov_k_sentence_on_a_log_where_every_order_predicts_alike():
    """The receipt log: every case keeps one channel, so orders 1-3 score the same on held-out paths."""
    from journeylib.journey_map.markov_k import MarkovK

    credits = pd.DataFrame({"markov": [1132.04, 97.0], "ci_low": [1097.2, 80.0], "ci_high": [1154.6, 110.0],
                            "removal_effect": [0.9, 0.1]}, index=["website", "desk"])
    tied = MarkovK(1, True, {1: -0.822276, 2: -0.822276, 3: -0.822276}, credits)
    assert tied.sentence() == ("The Markov model of order 1 (orders 1 to 3 predict held-out customers' paths equally "
                               "well, so the simplest) credits Website with most purchases: 1,132 (95% interval from "
                               "resampling customers 1,097 to 1,155).")
    chosen = MarkovK(3, True, {1: -6.02, 2: -5.68, 3: -5.57}, credits / 100)
    assert "(chosen among orders 1 to 3 as the one that best predicts held-out customers' paths)" in chosen.sentence()
    assert chosen.sentence().endswith("most purchases: 11.3 (95% interval from resampling customers 11.0 to 11.5).")


def test_two_acquisition_channels_are_not_compared_on_the_channels_that_define_them(receipt):
    """Receipt cases keep one channel: comparing Website with Desk, 'used Website' is 100% against 0% by
    definition; it is left out, and the process steps are compared."""
    from journeylib.journey_map import compare, groups

    _, tables, raw = receipt
    journeys = tables.load("journeys")
    events = engine.open_events(tables, engine.connect(tables))
    labels = groups.segment_labels(journeys, "acquisition_channel")
    found = compare.two_groups(events, journeys, labels, "website", "desk", 0.1)
    channels = set(found.table_.loc[found.table_["kind"] == "channel", "behaviour"])
    assert not channels & {"website", "desk"}
    assert "post" not in channels  # nobody in either group used it: nothing to compare
    first = raw.sort_values("at").groupby("case")["channel"].first()
    assert found.sizes == ((first == "Internet").sum(), (first == "Desk").sum())
    assert (found.table_["kind"] == "step").sum() > 10 and not found.flagged_.empty
    assert "Channel" not in found.sentences()[1]
