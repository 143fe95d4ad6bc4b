"""Exports nobody shaped for journeylib (issue 21): an event log alone, an event log with sales, purchases alone.

The fast tests prepare each export (`prepare_data`) and compare the processed tables with a direct pandas
count on the files; the `slow` ones run `journey run` on them (every notebook `ok`, attribution non-null):
`pytest -m slow tests/test_event_log_exports.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.support.event_log_exports import KEEP_CONFIG, event_log, event_log_with_sales, funnel_by_hand, purchases_only
from journeylib.cli import main
from journeylib.data_quality import analyse as data_quality
from journeylib.journey_map.funnel import funnel
from journeylib.prepare.cache import prepare_data
from journeylib.run import folders
from journeylib.tables import ProcessedTables


def prepared(raw: Path, tmp_path: Path, **kwargs):
    out = tmp_path / "processed"
    summary = prepare_data(raw=raw, processed=out, log=lambda *_: None, force=True, **kwargs)
    return summary, ProcessedTables(out)


def test_a_four_column_event_log_alone_is_enough(tmp_path):
    log = event_log(tmp_path / "raw")
    summary, tables = prepared(tmp_path / "raw", tmp_path)
    assert summary["customers_from"] == "derived" and summary["purchases_from"] == "purchase_stage"
    assert summary["absent_files"] == ["customers", "sales", "service_visits", "surveys", "referrals", "dealers"]
    assert summary["tables"]["touchpoints"] == {"raw": len(log), "kept": len(log), "rejected": {}}
    # customers: the distinct users, created at their first row (Europe/Berlin, the configured zone)
    customers = tables.load("customers").set_index("customer_id")
    first = pd.to_datetime(log.groupby("user")["timestamp"].min()).dt.tz_localize("Europe/Berlin")
    assert sorted(customers.index) == sorted(log["user"].unique())
    assert (customers["created_at"] == first.reindex(customers.index).dt.tz_convert("UTC")).all()
    # purchases: the purchase-stage events, in the log once each (as a sale, with the event's channel)
    orders = log[log["event"] == "Order Placed"]
    sales = tables.load("sales")
    assert len(sales) == len(orders) and sorted(sales["customer_id"]) == sorted(orders["user"])
    events = tables.load("touchpoints")
    assert len(events) == len(log) and (events["source"] == "sales").sum() == len(orders)
    bought = events[events["source"] == "sales"]
    assert set(bought["channel_raw"]) <= set(orders["channel"]) and bought["channel"].ne("walk_in").any()
    # the funnel equals a direct count on the file
    counts = funnel(tables.load("journeys")).set_index("stage")["customers"].to_dict()
    assert counts == funnel_by_hand(log)
    # notebook 00 says which rule made the purchases
    quality = data_quality(tables)
    assert "purchase stage" in quality.sources_sentence() and "no customers export" in quality.sources_sentence()
    assert quality.metrics()["purchases_from"] == "purchase_stage"


def test_purchase_events_and_price_from_configuration(tmp_path):
    config = ("columns:\n  touchpoints: {customer_id: user, occurred_at: timestamp, event_type: event, channel: channel}\n"
              "taxonomy:\n  event_types: {\"Order Placed\": order_placed, \"Brochure Download\": brochure_download}\n"
              "  stages: {order_placed: purchase, brochure_download: consideration}\n"
              "purchase_events: [\"test*\"]\npurchase_price_column: value\n")
    log = event_log(tmp_path / "raw", config=config, price=True)
    log.loc[log["event"] == "Test Drive", "value"] = "31000"
    log.to_csv(tmp_path / "raw" / "touchpoints.csv", index=False)
    summary, tables = prepared(tmp_path / "raw", tmp_path)
    assert summary["purchases_from"] == "purchase_events"
    sales = tables.load("sales")
    assert len(sales) == (log["event"] == "Test Drive").sum() and (sales["price"] == 31000).all()
    assert "named by purchase_events" in data_quality(tables).sources_sentence()


def test_an_event_log_with_sales_only(tmp_path):
    log, sales = event_log_with_sales(tmp_path / "raw")
    summary, tables = prepared(tmp_path / "raw", tmp_path)
    assert summary["purchases_from"] == "sales" and summary["customers_from"] == "derived"
    assert summary["tables"]["sales"]["kept"] == len(sales)
    assert sorted(tables.load("customers")["customer_id"]) == sorted(log["user"].unique())
    assert tables.load("journeys")["purchased"].sum() == sales["customer_id"].nunique()


def test_purchases_only(tmp_path):
    sales, visits = purchases_only(tmp_path / "raw")
    summary, tables = prepared(tmp_path / "raw", tmp_path)
    assert summary["absent_files"] == ["customers", "touchpoints", "surveys", "referrals", "dealers"]
    assert summary["tables"]["sales"]["kept"] == len(sales)
    assert summary["tables"]["service_visits"]["kept"] == len(visits)
    journeys = tables.load("journeys").set_index("customer_id")
    first_sale = pd.to_datetime(sales.groupby("customer_id")["sold_at"].min()).dt.tz_localize("UTC")
    assert journeys["purchased"].all() and len(journeys) == sales["customer_id"].nunique()
    # without an event log a customer's first touch is their first row: here, their first purchase
    assert (journeys["first_touch_at"] == first_sale.reindex(journeys.index)).all()
    assert "There are no surveys or referrals" in " ".join(data_quality(tables).notes)


def test_an_export_needs_an_event_log_or_sales(tmp_path, capsys):
    purchases_only(tmp_path / "raw")
    (tmp_path / "raw" / "sales.csv").unlink()
    code = main(["prepare", "--raw", str(tmp_path / "raw"), "--out", str(tmp_path / "processed")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "required file not found" in err and "touchpoints.csv" in err and "sales.csv" in err
    assert "\n" not in err


# --- every notebook (slow: `journey run`, a minute or two each) --------------------------------------------

def run_all(raw: Path, tmp_path: Path):
    code = main(["run", "--raw", str(raw), "--processed", str(tmp_path / "processed"),
                 "--reports", str(tmp_path / "reports")])
    run_dir = folders.complete_runs(tmp_path / "reports")[-1]
    return code, json.loads((run_dir / "metrics.json").read_text()), run_dir


def notebooks_ok(metrics: dict) -> bool:
    statuses = {name: entry["status"] for name, entry in metrics["run"]["notebooks"].items()}
    return len(statuses) == 7 and set(statuses.values()) == {"ok"}


def attribution_non_null(metrics) -> bool:
    attribution = metrics["journey"]["attribution"]
    return all(value is not None for model in attribution.values() for value in model.values()) and attribution


@pytest.mark.slow
def test_every_notebook_runs_on_an_event_log_alone(tmp_path):
    log = event_log(tmp_path / "raw")
    code, metrics, run_dir = run_all(tmp_path / "raw", tmp_path)
    assert code == 0 and notebooks_ok(metrics)
    assert metrics["journey"]["funnel"] == funnel_by_hand(log)
    assert attribution_non_null(metrics)
    assert metrics["data_quality"]["purchases_from"] == "purchase_stage"


@pytest.mark.slow
def test_every_notebook_runs_on_an_event_log_with_sales(tmp_path):
    event_log_with_sales(tmp_path / "raw")
    code, metrics, run_dir = run_all(tmp_path / "raw", tmp_path)
    assert code == 0 and notebooks_ok(metrics)
    assert attribution_non_null(metrics)


@pytest.mark.slow
def test_every_notebook_runs_on_purchases_only(tmp_path):
    purchases_only(tmp_path / "raw")
    code, metrics, run_dir = run_all(tmp_path / "raw", tmp_path)
    assert code == 0 and notebooks_ok(metrics)


def test_an_event_log_with_labels_kept_as_they_are(tmp_path):
    log = event_log(tmp_path / "raw", config=KEEP_CONFIG)
    summary, tables = prepared(tmp_path / "raw", tmp_path)
    assert summary["unknown_values"]["event_type"] == {}
    assert funnel(tables.load("journeys")).set_index("stage")["customers"].to_dict() == funnel_by_hand(log)


@pytest.mark.slow
def test_every_notebook_runs_on_an_event_log_with_labels_kept(tmp_path):
    """Issue 21's recipe: four columns, a configuration of a few lines with `"*": keep` and stage patterns."""
    log = event_log(tmp_path / "raw", config=KEEP_CONFIG)
    assert len(KEEP_CONFIG.strip().splitlines()) <= 12
    code, metrics, run_dir = run_all(tmp_path / "raw", tmp_path)
    assert code == 0 and notebooks_ok(metrics)
    assert metrics["journey"]["funnel"] == funnel_by_hand(log)
    assert attribution_non_null(metrics)
