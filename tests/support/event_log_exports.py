"""Tiny exports nobody shaped for journeylib (issue 21): an event log alone, an event log with sales, purchases
alone. Each builder writes the files into a folder and returns what the test compares with (the rows as
written, as pandas frames)."""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

CHANNELS = ("Google Ads", "Facebook", "Newsletter", "Walk-in", "Autotrader")
STEPS = ("Site Visit", "VDP View", "Brochure Download", "Test Drive", "Order Placed", "Service Visit")
STAGE_ORDER = {"Site Visit": 1, "VDP View": 2, "Brochure Download": 2, "Test Drive": 2, "Order Placed": 3,
               "Service Visit": 4}  # the stage of each step under EVENT_LOG_CONFIG (awareness = 1)
# Column names, time zone and the two labels the default taxonomy lacks: 7 lines.
EVENT_LOG_CONFIG = """default_timezone: Europe/Berlin
columns:
  touchpoints: {customer_id: user, occurred_at: timestamp, event_type: event, channel: channel}
taxonomy:
  event_types: {"Order Placed": order_placed, "Brochure Download": brochure_download}
  stages: {order_placed: purchase, brochure_download: consideration}
"""
# The same with every label kept as it is and stages by pattern (issue 21 item 3, the `prep` branch).
KEEP_CONFIG = """default_timezone: Europe/Berlin
columns:
  touchpoints: {customer_id: user, occurred_at: timestamp, event_type: event, channel: channel}
taxonomy:
  event_types: {"*": keep}
  stages: {"order*": purchase, "service*": retention, "site*": awareness, "*": consideration}
"""


def _write(path: Path, header, rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def event_log(folder, users: int = 300, seed: int = 5, config: str = EVENT_LOG_CONFIG, steps=STEPS,
              price: bool = False) -> pd.DataFrame:
    """touchpoints.csv with four columns (`user, timestamp, event, channel`; a fifth, `value`, with `price`)
    and journey.yaml; each user walks the steps in order, stopping at a random one."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    rows = []
    for user in range(users):
        at = datetime(2024, 1, 1) + timedelta(days=rng.randrange(300), hours=rng.randrange(24))
        channel = rng.choice(CHANNELS)
        for step in steps[: rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6])]:
            value = str(rng.randrange(15_000, 60_000)) if step == "Order Placed" else ""
            rows.append((f"U{user:04d}", at.strftime("%Y-%m-%d %H:%M:%S"), step, channel) + ((value,) if price else ()))
            at += timedelta(days=rng.randrange(1, 20), hours=rng.randrange(24))
            channel = rng.choice(CHANNELS) if rng.random() < 0.3 else channel
    header = ["user", "timestamp", "event", "channel"] + (["value"] if price else [])
    _write(folder / "touchpoints.csv", header, rows)
    (folder / "journey.yaml").write_text(config, encoding="utf-8")
    return pd.DataFrame(rows, columns=header)


def event_log_with_sales(folder, users: int = 300, seed: int = 6) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The event log without its purchase events, and a sales.csv of them (deal_id, customer_id, sold_at)."""
    log = event_log(folder, users, seed)
    bought = log["event"] == "Order Placed"
    sales = log[bought].reset_index(drop=True)
    sales = pd.DataFrame({"deal_id": [f"D{i:05d}" for i in range(len(sales))], "customer_id": sales["user"],
                          "sold_at": sales["timestamp"]})
    log = log[~bought].reset_index(drop=True)
    _write(Path(folder) / "touchpoints.csv", list(log.columns), log.itertuples(index=False))
    _write(Path(folder) / "sales.csv", list(sales.columns), sales.itertuples(index=False))
    return log, sales


def purchases_only(folder, customers: int = 250, seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    """sales.csv (deal_id, customer_id, sold_at, price) and service_visits.csv (ro_id, customer_id, opened_at,
    amount) over three years, and nothing else."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    sales, visits = [], []
    end = datetime(2024, 12, 31)
    for customer in range(customers):
        at = datetime(2022, 1, 1) + timedelta(days=rng.randrange(900), hours=rng.randrange(8, 18))
        for _ in range(rng.choice([1, 1, 1, 2])):
            sales.append((f"D{len(sales):05d}", f"C{customer:04d}", at.strftime("%Y-%m-%d %H:%M"),
                          str(rng.randrange(15_000, 60_000))))
            visit = at
            for _ in range(rng.randrange(0, 4)):
                visit += timedelta(days=rng.randrange(60, 300))
                if visit < end:
                    visits.append((f"R{len(visits):05d}", f"C{customer:04d}", visit.strftime("%Y-%m-%d %H:%M"),
                                   str(rng.randrange(80, 900))))
            at += timedelta(days=rng.randrange(200, 700))
            if at > end:
                break
    sales = pd.DataFrame(sales, columns=["deal_id", "customer_id", "sold_at", "price"])
    visits = pd.DataFrame(visits, columns=["ro_id", "customer_id", "opened_at", "amount"])
    _write(folder / "sales.csv", list(sales.columns), sales.itertuples(index=False))
    _write(folder / "service_visits.csv", list(visits.columns), visits.itertuples(index=False))
    return sales, visits


def funnel_by_hand(log: pd.DataFrame) -> dict:
    """Customers reaching each stage, counted directly on the event log (a service visit counts only after
    the customer's first purchase, as journeys are defined)."""
    log = log.assign(at=pd.to_datetime(log["timestamp"]), order=log["event"].map(STAGE_ORDER))
    bought = log[log["order"] == 3].groupby("user")["at"].min()
    counts = (log["order"] <= 3) | (log["at"] >= log["user"].map(bought))
    furthest = log[counts].groupby("user")["order"].max()
    stages = ("awareness", "consideration", "purchase", "retention", "advocacy")
    return {stage: int((furthest >= i + 1).sum()) for i, stage in enumerate(stages)}
