"""ProcessedTables above max_customers: a fixed random set of whole customers in every table."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from journeylib import tables
from journeylib.prepare import prepare
from journeylib.sample import write_sample
from journeylib.tables import ProcessedTables

KEYS = {"customers": "customer_id", "identity_map": "customer_id", "touchpoints": "customer_id",
        "sales": "customer_id", "service_visits": "customer_id", "surveys": "customer_id",
        "referrals": "referrer_customer_id", "journeys": "customer_id"}


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sampled")
    prepare(raw=write_sample(folder / "raw", customers=400, seed=11), out=folder / "processed")
    return folder / "processed"


def test_below_the_limit_nothing_changes(processed, monkeypatch):
    monkeypatch.delenv(tables.MAX_CUSTOMERS_ENV, raising=False)
    everyone = len(tables.load("customers", processed))
    for limit in (None, everyone, everyone + 1):
        t = ProcessedTables(processed, max_customers=limit)
        assert t.sample_note is None and t.chosen is None
        for name in KEYS:
            pd.testing.assert_frame_equal(t.load(name), tables.load(name, processed))


def test_above_the_limit_every_table_holds_the_same_whole_customers(processed):
    t = ProcessedTables(processed, max_customers=60)
    everyone = tables.load("customers", processed)
    assert t.sample_note == (f"These figures use a random 60 of the {len(everyone):,} customers, "
                             "with every row of each chosen customer.")
    chosen = set(t.load("customers").customer_id)
    assert len(chosen) == 60 and chosen == set(t.chosen.to_pylist())
    first_by_id = set(everyone.customer_id.sort_values().head(60))
    assert chosen != first_by_id  # chosen by hash, not the first ids
    for name, key in KEYS.items():
        full = tables.load(name, processed)
        expected = full[full[key].isin(chosen)].reset_index(drop=True)
        got = t.load(name)
        pd.testing.assert_frame_equal(got, expected, obj=name)  # all rows of each chosen customer, no other
    assert len(t.load("touchpoints")) > 60  # the chosen customers have their events
    for name in ("dealers", "rejects"):  # tables without a customer come whole
        pd.testing.assert_frame_equal(t.load(name), tables.load(name, processed))


def test_columns_and_filters_still_apply(processed):
    t = ProcessedTables(processed, max_customers=80)
    got = t.load("touchpoints", columns=["event_type"], filters=[("event_type", "in", ["site_visit", "test_drive"])])
    full = tables.load("touchpoints", processed)
    expected = full[full.customer_id.isin(t.chosen.to_pylist()) & full.event_type.isin(["site_visit", "test_drive"])]
    assert list(got.columns) == ["event_type"] and len(got) == len(expected) > 0


def test_the_choice_is_fixed_and_follows_the_environment(processed, tmp_path, monkeypatch):
    a = ProcessedTables(processed, max_customers=50).chosen.to_pylist()
    copy = tmp_path / "copy"
    shutil.copytree(processed, copy, symlinks=True)
    assert ProcessedTables(copy, max_customers=50).chosen.to_pylist() == a  # same data, same customers
    monkeypatch.setenv(tables.MAX_CUSTOMERS_ENV, "50")
    assert ProcessedTables(processed).chosen.to_pylist() == a
    assert ProcessedTables(processed, max_customers=10**9).chosen is None  # the argument wins
    larger = set(ProcessedTables(processed, max_customers=120).chosen.to_pylist())
    assert set(a) < larger  # a higher limit keeps the customers already chosen


@pytest.mark.parametrize("value", ["abc", "0", "-3", "1.5"])
def test_a_bad_limit_is_a_plain_error(processed, monkeypatch, value):
    monkeypatch.setenv(tables.MAX_CUSTOMERS_ENV, value)
    with pytest.raises(ValueError, match=f"JOURNEY_MAX_CUSTOMERS={value}: expected a whole number of customers"):
        ProcessedTables(processed)


def test_the_report_states_the_sample_before_any_figure(processed, monkeypatch):
    from journeylib import report

    shown = []
    monkeypatch.setattr(report, "_markdown", shown.append)
    monkeypatch.setenv(tables.MAX_CUSTOMERS_ENV, "60")
    opened = report.open_tables(processed)
    assert opened.sample_note and shown == [f"**Sample:** {report.escape_text(opened.sample_note)}"]
    monkeypatch.delenv(tables.MAX_CUSTOMERS_ENV)
    shown.clear()
    assert report.open_tables(processed).sample_note is None and shown == []
