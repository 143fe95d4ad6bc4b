"""A slow, plain-Python reading of the data contract, used only to check the sample.

It applies the contract's rules row by row (no engine, no shortcuts) to the
files `journey sample` writes and returns what `journey prepare` should find:
persons, merges, the funnel, the share buying within a year, service churn,
NPS. Tests compare these with `truth.json`, so the truth is known to be
recoverable from the messy files, independently of `journeylib.prepare`.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from journeylib.taxonomy import EVENT_STAGES, Taxonomy

MISSING = {"", "NULL", "N/A"}
STAGE_ORDER = {stage: i + 1 for i, stage in enumerate(EVENT_STAGES)}
UTC = dt.timezone.utc
LOW = dt.datetime(1990, 1, 1, tzinfo=UTC)


def _rows(folder: Path, name: str) -> list[dict]:
    with open(folder / f"{name}.csv", newline="", encoding="utf-8") as handle:
        return [{k: (None if v.strip() in MISSING else v) for k, v in row.items()} for row in csv.DictReader(handle)]


def parse_time(value, zone: str, us: bool = False):
    """UTC datetime, or 'unparseable' / None (missing)."""
    if value is None:
        return None
    value = value.strip()
    try:
        if us:
            naive = dt.datetime.strptime(value, "%m/%d/%Y %H:%M")
            return naive.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = dt.date.fromisoformat(value)
            return dt.datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).astimezone(UTC)
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})?", value):
            return "unparseable"
        stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return "unparseable"
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=ZoneInfo(zone))
    return stamp.astimezone(UTC)



def survivors(records: dict) -> dict:
    """customer_id -> surviving id, by a plain union-find: records (id -> (email, phone, created_at)) sharing
    an email or a phone are one person; the earliest created_at (none: last), then the smallest id survives."""
    parent = {cid: cid for cid in records}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for key_index in (0, 1):
        first = {}
        for cid, rec in records.items():
            key = rec[key_index]
            if key is None:
                continue
            if key in first:
                a, b = find(first[key]), find(cid)
                if a != b:
                    parent[a] = b
            else:
                first[key] = cid
    groups = {}
    for cid in records:
        groups.setdefault(find(cid), []).append(cid)
    survivor = {}
    far = dt.datetime.max.replace(tzinfo=UTC)
    for members in groups.values():
        best = min(members, key=lambda c: (records[c][2] or far, c))
        for c in members:
            survivor[c] = best
    return survivor

def clean(folder: Path, as_of: dt.datetime, default_tz="America/Chicago", internal=("autogroup-internal.com",)) -> dict:
    folder = Path(folder)
    taxonomy = Taxonomy()
    dealers = {r["dealer_id"]: r["timezone"] for r in _rows(folder, "dealers")}

    def zone(dealer):
        return dealers.get(dealer, default_tz)

    def valid(stamp):
        return isinstance(stamp, dt.datetime) and LOW <= stamp <= as_of

    # --- customers: test records, identity by email / phone
    customers = _rows(folder, "customers")
    test, records = set(), {}
    for r in customers:
        email = (r["email"] or "").strip().lower() or None
        names = {(r["first_name"] or "").strip().lower(), (r["last_name"] or "").strip().lower()}
        if "test" in names or (email and email.split("@")[-1] in internal):
            test.add(r["customer_id"])
            continue
        digits = re.sub(r"\D", "", r["phone"] or "")[-10:] or None
        created = parse_time(r["created_at"], zone(r["dealer_id"]))
        records[r["customer_id"]] = (email, digits, created if isinstance(created, dt.datetime) else None)
    survivor = survivors(records)
    persons = set(survivor.values())

    # --- journey events from every table
    events = {}   # person -> list of (time, stage_order, kind)
    seen_ids, seen_rows = set(), set()
    rows = _rows(folder, "touchpoints")
    cookie_owner = {}
    for r in rows:
        if r["customer_id"] and r["anonymous_id"] and r["customer_id"] in survivor:
            cookie_owner.setdefault(r["anonymous_id"], survivor[r["customer_id"]])
    first_touch = {}
    for r in rows:
        stamp = parse_time(r["occurred_at"], zone(r["dealer_id"]))
        if r["event_type"] is None or r["channel"] is None or stamp is None or not valid(stamp):
            continue
        cid = r["customer_id"]
        if cid is None:
            person = cookie_owner.get(r["anonymous_id"])
        else:
            person = survivor.get(cid)
        if person is None:
            continue
        if r["event_id"]:
            if r["event_id"] in seen_ids:
                continue
            seen_ids.add(r["event_id"])
        key = (r["event_id"], cid, r["anonymous_id"], stamp, r["event_type"], r["channel"], r["campaign"], r["dealer_id"], r["vehicle_model"])
        if key in seen_rows:
            continue
        seen_rows.add(key)
        etype = taxonomy.event_type(r["event_type"])
        stage = taxonomy.stage(etype)
        events.setdefault(person, []).append((stamp, STAGE_ORDER.get(stage, 0)))
        if person not in first_touch or stamp < first_touch[person][0]:
            first_touch[person] = (stamp, taxonomy.channel(r["channel"]))

    purchases, vin_owner = {}, {}
    seen = set()
    for r in _rows(folder, "sales"):
        stamp = parse_time(r["SoldDate"], zone(r["dealer_id"]))
        person = survivor.get(r["customer_id"])
        if r["DealNumber"] is None or r["DealNumber"] in seen or person is None or not valid(stamp):
            continue
        if r["price"] is not None and float(r["price"]) < 0:
            continue
        seen.add(r["DealNumber"])
        purchases.setdefault(person, []).append(stamp)
        if r["vin"]:
            vin_owner[r["vin"].strip().upper()] = person
        events.setdefault(person, []).append((stamp, 3))
    first_purchase = {p: min(v) for p, v in purchases.items()}

    visits, seen = {}, set()
    for r in _rows(folder, "service_visits"):
        stamp = parse_time(r["opened_at"], zone(r["dealer_id"]), us=True)
        if r["customer_id"] is None:
            person = vin_owner.get((r["vin"] or "").strip().upper())
        else:
            person = survivor.get(r["customer_id"])
        if r["ro_id"] is None or r["ro_id"] in seen or person is None or not valid(stamp):
            continue
        seen.add(r["ro_id"])
        visits.setdefault(person, []).append(stamp)
        events.setdefault(person, []).append((stamp, 4))

    referrals, seen = 0, set()
    for r in _rows(folder, "referrals"):
        stamp = parse_time(r["referred_at"], default_tz)
        person = survivor.get(r["referrer_customer_id"])
        if r["referral_id"] is None or r["referral_id"] in seen or person is None or not valid(stamp):
            continue
        seen.add(r["referral_id"])
        referrals += 1
        events.setdefault(person, []).append((stamp, 5))

    scores, seen = [], set()
    for r in _rows(folder, "surveys"):
        stamp = parse_time(r["responded_at"], default_tz)
        if r["response_id"] is None or r["response_id"] in seen or survivor.get(r["customer_id"]) is None:
            continue
        if not valid(stamp) or r["score"] is None or not re.fullmatch(r"\d+", r["score"]) or int(r["score"]) > 10:
            continue
        seen.add(r["response_id"])
        if r["survey_type"] == "sales":
            scores.append(int(r["score"]))

    # --- journey semantics
    furthest = {}
    for person, items in events.items():
        fp = first_purchase.get(person)
        best = 0
        for stamp, stage in items:
            if stage >= 4 and (fp is None or stamp <= fp):
                continue
            best = max(best, stage)
        furthest[person] = best
    funnel = {stage: sum(1 for p in persons if furthest.get(p, 0) >= i + 1) for i, stage in enumerate(EVENT_STAGES)}
    year = dt.timedelta(days=365)
    old = [p for p in persons if p in first_touch and first_touch[p][0] <= as_of - year]
    within = sum(1 for p in old if p in first_purchase and first_purchase[p] - first_touch[p][0] <= year)
    eligible = [p for p in first_purchase if first_purchase[p] <= as_of - year]
    churned = sum(1 for p in eligible if not any(v > as_of - year for v in visits.get(p, [])))
    promoters = sum(s >= 9 for s in scores)
    detractors = sum(s <= 6 for s in scores)
    return {
        "persons": len(persons),
        "customers_merged": len(survivor) - len(persons),
        "test_customers": len(test),
        "funnel": funnel,
        "purchase_share_365": within / len(old) if old else None,
        "buyers": len(first_purchase),
        "eligible_buyers": len(eligible),
        "churned": churned,
        "nps_sales": 100 * (promoters - detractors) / len(scores) if scores else None,
        "sales_responses": len(scores),
        "referrals": referrals,
        "acquisition_channels": {ch: sum(1 for p in persons if p in first_touch and first_touch[p][1] == ch)
                                 for ch in {v[1] for v in first_touch.values()}},
    }
