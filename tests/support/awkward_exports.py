"""Awkward but valid exports (issue 11), derived from a `journey sample`.

Each builder takes a folder of raw exports written by `journey sample`, a
destination folder and a seed, and writes a derived export that stays inside
the data contract (docs: /issues/data-contract.md): header-only files keep
their header, labels the taxonomy does not know are plausible strings, rows
that are removed are removed with everything that refers to them. A builder
returns a dict of facts the test needs (`as_of`: the as-of date to pass to
`journey run`, when the case needs one; counts it planted).

`CASES` is the registry the tests parametrize over: name -> `Case` (the
builder plus what its report must say).
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import yaml

from journeylib.taxonomy import UNKNOWN, Taxonomy

MISSING = {"", "NULL", "N/A"}
TABLES = ("customers", "touchpoints", "sales", "service_visits", "surveys", "referrals", "dealers")
TAXONOMY = Taxonomy()

# Channel labels no default taxonomy knows (plausible ones a real export carries).
UNKNOWN_CHANNEL_LABELS = ("Waze", "Nextdoor ad", "Pandora radio", "Billboard I-94", "Podcast sponsor", "Yard sign")
# Rare acquisition channels of the rare-channels case: canonical channel -> (raw label, leads planted, where its
# existing touchpoints go so that the planted leads are the only ones acquired through it).
RARE_CHANNELS = {"display": ("Display", 5, "search"), "sms": ("Text message", 4, "email"), "chat": ("Live chat", 1, "phone")}
TINY_DEALERS = tuple(f"D{i:02d}" for i in range(11, 25))   # many-dealers case: a handful of customers each
MID_DEALERS = tuple(f"D{i:02d}" for i in range(7, 11))
ZONES = ("America/Chicago", "America/New_York", "America/Denver", "America/Phoenix", "America/Los_Angeles")


# --- reading and writing the exports ------------------------------------------------------------------

def read(folder: Path, table: str) -> pd.DataFrame | None:
    """The raw table as strings, exactly as written (NULL / N/A / '' kept); None when the file is absent."""
    path = Path(folder) / f"{table}.csv"
    if not path.exists():
        return None
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)


def write(frame: pd.DataFrame, folder: Path, table: str) -> None:
    frame.to_csv(Path(folder) / f"{table}.csv", index=False, quoting=csv.QUOTE_ALL)


def columns(folder: Path) -> dict:
    """contract column -> export column per table, from the export's journey.yaml."""
    path = Path(folder) / "journey.yaml"
    config = yaml.safe_load(path.read_text()) if path.exists() else {}
    return (config or {}).get("columns") or {}


def col(folder: Path, table: str, name: str) -> str:
    return columns(folder).get(table, {}).get(name, name)


def copy_export(src: Path, dst: Path) -> None:
    """Every table and the configuration; not truth.json (a derived export has another truth)."""
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    for table in TABLES:
        if (Path(src) / f"{table}.csv").exists():
            shutil.copyfile(Path(src) / f"{table}.csv", dst / f"{table}.csv")
    if (Path(src) / "journey.yaml").exists():
        shutil.copyfile(Path(src) / "journey.yaml", dst / "journey.yaml")


def is_missing(values: pd.Series) -> pd.Series:
    return values.str.strip().isin(MISSING)


def header_only(dst: Path, *tables: str) -> None:
    for table in tables:
        write(read(dst, table).iloc[0:0], dst, table)


def utc_times(values: pd.Series) -> pd.Series:
    """Rough UTC reading (naive as UTC, unparseable as NaT): enough to order rows by days."""
    stamps = pd.to_datetime(values.where(~is_missing(values)), format="ISO8601", utc=True, errors="coerce")
    return stamps.where((stamps >= pd.Timestamp("1990-01-01", tz="UTC")))


def persons(customers: pd.DataFrame) -> pd.Series:
    """customer_id -> one id per person (records sharing a normalised email or phone are one person)."""
    parent = {cid: cid for cid in customers["customer_id"]}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    emails = customers["email"].str.strip().str.lower()
    phones = customers["phone"].str.replace(r"\D", "", regex=True).str[-10:]
    for keys in (emails, phones):
        first = {}
        for cid, key in zip(customers["customer_id"], keys):
            if key in MISSING or key.upper() in MISSING:
                continue
            if key in first:
                parent[find(cid)] = find(first[key])
            else:
                first[key] = cid
    return pd.Series({cid: find(cid) for cid in parent})


def new_leads(dst: Path, rng, prefix: str, labels: list[str], dealer_id: str) -> int:
    """Append one new person per label (no email or phone, so nobody merges with them) whose first touch has
    that raw channel label, followed by one or two website events. Nobody of them buys."""
    customers, touchpoints = read(dst, "customers"), read(dst, "touchpoints")
    people, events = [], []
    for i, label in enumerate(labels):
        first = pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(days=int(rng.integers(0, 700)),
                                                                   seconds=int(rng.integers(0, 86400)))
        cid = f"{prefix}{i + 1:05d}"
        person = {c: "" for c in customers.columns}
        person.update(customer_id=cid, created_at=first.strftime("%Y-%m-%dT%H:%M:%SZ"), dealer_id=dealer_id)
        people.append(person)
        kinds = [("site_visit", label)] + [(kind, "Dealer Website") for kind in
                                           rng.choice(["vdp_view", "srp_view", "lead_form"], int(rng.integers(1, 3)))]
        for j, (kind, channel) in enumerate(kinds):
            at = first + pd.Timedelta(days=2 * j, minutes=int(rng.integers(0, 600)))
            event = {c: "" for c in touchpoints.columns}
            event.update(event_id=f"EV{prefix}{i + 1:05d}{j}", customer_id=cid,
                         occurred_at=at.strftime("%Y-%m-%dT%H:%M:%SZ"), event_type=kind, channel=channel,
                         dealer_id=dealer_id)
            events.append(event)
    write(pd.concat([customers, pd.DataFrame(people)], ignore_index=True), dst, "customers")
    write(pd.concat([touchpoints, pd.DataFrame(events)], ignore_index=True), dst, "touchpoints")
    return len(people)


def canonical_channels(touchpoints: pd.DataFrame) -> pd.Series:
    labels = touchpoints["channel"]
    lookup = {raw: TAXONOMY.channel(raw) for raw in labels.unique() if raw.strip() not in MISSING}
    return labels.map(lookup)


def subset_persons(src: Path, dst: Path, rng, size: int) -> dict:
    """Keep `size` random persons and every row that belongs to them (touchpoints by id or by their cookies,
    service visits by id or by the VIN of their sales); referrals to people outside lose the referred id."""
    copy_export(src, dst)
    customers = read(src, "customers")
    person_of = persons(customers)
    everyone = np.array(sorted(set(person_of)))
    chosen = set(rng.choice(everyone, size=min(size, len(everyone)), replace=False))
    ids = set(person_of[person_of.isin(chosen)].index)
    write(customers[customers["customer_id"].isin(ids)], dst, "customers")

    touchpoints = read(src, "touchpoints")
    own = touchpoints["customer_id"].isin(ids)
    cookies = set(touchpoints.loc[own & ~is_missing(touchpoints["anonymous_id"]), "anonymous_id"])
    anonymous = is_missing(touchpoints["customer_id"]) & touchpoints["anonymous_id"].isin(cookies)
    write(touchpoints[own | anonymous], dst, "touchpoints")

    sales = read(src, "sales")
    sales = sales[sales["customer_id"].isin(ids)]
    write(sales, dst, "sales")
    vins = set(sales["vin"]) - MISSING
    visits = read(src, "service_visits")
    write(visits[visits["customer_id"].isin(ids) | (is_missing(visits["customer_id"]) & visits["vin"].isin(vins))],
          dst, "service_visits")
    surveys = read(src, "surveys")
    write(surveys[surveys["customer_id"].isin(ids)], dst, "surveys")
    referrals = read(src, "referrals")
    referrals = referrals[referrals["referrer_customer_id"].isin(ids)].copy()
    referrals.loc[~referrals["referred_customer_id"].isin(ids), "referred_customer_id"] = ""
    write(referrals, dst, "referrals")
    return {"persons": len(chosen)}


# --- the cases ----------------------------------------------------------------------------------------

def rare_channels(src: Path, dst: Path, seed: int) -> dict:
    """display and sms acquire a handful of leads each and chat a single one, none of whom buys."""
    rng = np.random.default_rng(seed)
    copy_export(src, dst)
    touchpoints = read(dst, "touchpoints")
    canonical = canonical_channels(touchpoints)
    for channel, (_, _, elsewhere) in RARE_CHANNELS.items():
        touchpoints.loc[canonical == channel, "channel"] = elsewhere
    write(touchpoints, dst, "touchpoints")
    dealer = read(dst, "customers")["dealer_id"].iloc[0]
    labels = [label for label, count, _ in RARE_CHANNELS.values() for _ in range(count)]
    new_leads(dst, rng, "CR", labels, dealer)
    return {"rare_channels": {c: n for c, (_, n, _) in RARE_CHANNELS.items()}}


def one_dealer(src: Path, dst: Path, seed: int) -> dict:
    """A single dealer and no dealers file: every dealer id becomes D01 (missing ones stay missing)."""
    copy_export(src, dst)
    (Path(dst) / "dealers.csv").unlink(missing_ok=True)
    for table in ("customers", "touchpoints", "sales", "service_visits"):
        frame = read(dst, table)
        frame.loc[~is_missing(frame["dealer_id"]), "dealer_id"] = "D01"
        write(frame, dst, table)
    return {"dealer": "D01"}


def many_small_dealers(src: Path, dst: Path, seed: int) -> dict:
    """24 dealers: the six of the sample, four with about 5% of the persons each, fourteen with 2-6 persons."""
    rng = np.random.default_rng(seed)
    copy_export(src, dst)
    customers = read(dst, "customers")
    person_of = persons(customers)
    everyone = list(rng.permutation(sorted(set(person_of))))
    new_dealer = {}
    for dealer in TINY_DEALERS:
        for _ in range(int(rng.integers(2, 7))):
            new_dealer[everyone.pop()] = dealer
    for dealer in MID_DEALERS:
        for _ in range(len(person_of.unique()) // 20):
            new_dealer[everyone.pop()] = dealer
    by_customer = person_of.map(new_dealer).dropna()
    for table, key in (("customers", "customer_id"), ("touchpoints", "customer_id"), ("sales", "customer_id"),
                       ("service_visits", "customer_id")):
        frame = read(dst, table)
        moved = frame[key].map(by_customer)
        where = moved.notna() & ~is_missing(frame["dealer_id"])
        frame.loc[where, "dealer_id"] = moved[where]
        write(frame, dst, table)
    dealers = read(dst, "dealers")
    extra = [{"dealer_id": d, "name": f"Dealer {d}", "region": "Midwest", "timezone": ZONES[i % len(ZONES)]}
             for i, d in enumerate(MID_DEALERS + TINY_DEALERS)]
    write(pd.concat([dealers, pd.DataFrame(extra)[dealers.columns]], ignore_index=True), dst, "dealers")
    return {"tiny_dealers": list(TINY_DEALERS)}


def no_surveys_or_referrals(src: Path, dst: Path, seed: int) -> dict:
    copy_export(src, dst)
    header_only(dst, "surveys", "referrals")
    return {}


def no_test_drives(src: Path, dst: Path, seed: int) -> dict:
    """Every touchpoint whose event type means a test drive is removed."""
    copy_export(src, dst)
    touchpoints = read(dst, "touchpoints")
    kinds = {raw: TAXONOMY.event_type(raw) for raw in touchpoints["event_type"].unique()}
    drives = touchpoints["event_type"].map(kinds) == "test_drive"
    write(touchpoints[~drives], dst, "touchpoints")
    return {"test_drive_rows_removed": int(drives.sum())}


def leads_only(src: Path, dst: Path, seed: int) -> dict:
    copy_export(src, dst)
    header_only(dst, "sales", "service_visits", "surveys", "referrals")
    return {}


def few_dozen_customers(src: Path, dst: Path, seed: int) -> dict:
    return subset_persons(src, dst, np.random.default_rng(seed), 36)


def unknown_channel_labels(src: Path, dst: Path, seed: int) -> dict:
    """40% of the touchpoint rows carry a channel label the taxonomy does not know."""
    rng = np.random.default_rng(seed)
    copy_export(src, dst)
    touchpoints = read(dst, "touchpoints")
    assert all(TAXONOMY.channel(label) == UNKNOWN for label in UNKNOWN_CHANNEL_LABELS)
    chosen = (rng.random(len(touchpoints)) < 0.4) & ~is_missing(touchpoints["channel"])
    touchpoints.loc[chosen, "channel"] = rng.choice(UNKNOWN_CHANNEL_LABELS, int(chosen.sum()))
    write(touchpoints, dst, "touchpoints")
    return {"unknown_channel_rows": int(chosen.sum()), "unknown_channel_labels": len(UNKNOWN_CHANNEL_LABELS)}


def no_website(src: Path, dst: Path, seed: int) -> dict:
    """No website channel at all: its touchpoints carry search, third-party or email labels instead."""
    rng = np.random.default_rng(seed)
    copy_export(src, dst)
    touchpoints = read(dst, "touchpoints")
    website = canonical_channels(touchpoints) == "website"
    touchpoints.loc[website, "channel"] = rng.choice(["Google Ads", "Cars.com", "newsletter"], int(website.sum()))
    write(touchpoints, dst, "touchpoints")
    return {}


def allow_rejections(dst: Path) -> None:
    """The case sets most rows aside on purpose: turn prepare's rejection check off (max_rejected_share: 1)."""
    with open(Path(dst) / "journey.yaml", "a", encoding="utf-8") as handle:
        handle.write("\nmax_rejected_share: 1\n")


def keep_only(src: Path, dst: Path, *tables: str) -> None:
    """The export with only `tables` (and the configuration): every other file absent."""
    copy_export(src, dst)
    for table in set(TABLES) - set(tables):
        (Path(dst) / f"{table}.csv").unlink(missing_ok=True)


def no_customers_file(src: Path, dst: Path, seed: int) -> dict:
    """No customers.csv: the customers are the ids of the other exports (issue 21)."""
    keep_only(src, dst, *(t for t in TABLES if t != "customers"))
    return {}


def no_sales_file(src: Path, dst: Path, seed: int) -> dict:
    """No sales.csv: the purchases are the touchpoints of the purchase stage (issue 21)."""
    keep_only(src, dst, *(t for t in TABLES if t != "sales"))
    return {}


def event_log_only(src: Path, dst: Path, seed: int) -> dict:
    """touchpoints.csv alone (issue 21)."""
    keep_only(src, dst, "touchpoints")
    return {}


def purchases_only(src: Path, dst: Path, seed: int) -> dict:
    """sales.csv and service_visits.csv alone (issue 21)."""
    keep_only(src, dst, "sales", "service_visits")
    return {}


def nobody_churn_eligible(src: Path, dst: Path, seed: int, churn_after_days: int = 365) -> dict:
    """The export as it is, with an as-of date 200 days after the first sale: no buyer has had
    `churn_after_days` since buying. Everything after the as-of is rejected as out of range, as the contract says
    (most rows: the rejection check is turned off)."""
    copy_export(src, dst)
    allow_rejections(dst)
    sold = utc_times(read(dst, "sales")[col(dst, "sales", "sold_at")]).dropna()
    as_of = sold.min().normalize() + pd.Timedelta(days=min(200, churn_after_days - 30))
    return {"as_of": as_of.strftime("%Y-%m-%dT%H:%M:%SZ")}


def random_subset(src: Path, dst: Path, seed: int) -> dict:
    """A random subset of the persons (4,000 of a large sample; two thirds of a small one)."""
    count = persons(read(src, "customers")).nunique()
    return subset_persons(src, dst, np.random.default_rng(seed), min(4000, 2 * count // 3))


# --- the registry -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    build: Callable[[Path, Path, int], dict]
    # `section.levels_pooled.feature` -> levels that must be among those pooled
    pooled: dict = field(default_factory=dict)
    # `section.key` -> required to be null, with a reason under `section.missing`
    missing: tuple = ()
    # the test-drive hazard ratio's interval should still cover the sample's truth (given enough customers)
    test_drive_estimable: bool = True
    # reference channel that must not be the one used (it is absent)
    absent_reference_channel: str | None = None


CASES = {
    "rare_channels": Case(rare_channels,
                          pooled={"time_to_purchase.levels_pooled.acquisition_channel": tuple(RARE_CHANNELS)}),
    "one_dealer": Case(one_dealer),
    "many_small_dealers": Case(many_small_dealers),
    "no_surveys_or_referrals": Case(no_surveys_or_referrals, missing=(
        "advocacy.nps.sales", "advocacy.nps.service", "advocacy.referral_rate_ratios.satisfaction:promoter",
        "advocacy.referral_rate_ratios.satisfaction:detractor")),
    "no_test_drives": Case(no_test_drives, missing=("time_to_purchase.hazard_ratios.test_drive",),
                           test_drive_estimable=False),
    "leads_only": Case(leads_only, test_drive_estimable=False, missing=(
        "time_to_purchase.hazard_ratios.test_drive", "time_to_purchase.concordance", "retention.churn_rate",
        "retention.auc", "advocacy.nps.sales", "advocacy.nps.service",
        "advocacy.referral_rate_ratios.satisfaction:promoter")),
    "few_dozen_customers": Case(few_dozen_customers, test_drive_estimable=False),
    "unknown_channel_labels": Case(unknown_channel_labels),
    "no_website": Case(no_website, absent_reference_channel="website"),
    "nobody_churn_eligible": Case(nobody_churn_eligible, test_drive_estimable=False,
                                  missing=("retention.churn_rate", "retention.auc")),
    "random_subset": Case(random_subset),
    "no_customers_file": Case(no_customers_file, test_drive_estimable=False),
    "no_sales_file": Case(no_sales_file, test_drive_estimable=False),
    "event_log_only": Case(event_log_only, test_drive_estimable=False, missing=(
        "advocacy.nps.sales", "advocacy.nps.service")),
    "purchases_only": Case(purchases_only, test_drive_estimable=False, missing=(
        "time_to_purchase.hazard_ratios.test_drive", "advocacy.nps.sales", "advocacy.nps.service")),
}


def build(name: str, src: Path, dst: Path, seed: int = 0) -> dict:
    """Write case `name` derived from the sample in `src` into `dst`; returns its facts."""
    return CASES[name].build(Path(src), Path(dst), seed)
