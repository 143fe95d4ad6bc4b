"""`journey sample`: synthetic dealership exports with known true effects.

`write_sample(out, customers=N, seed=S)` writes the seven tables of the data
contract (customers, touchpoints, sales, service_visits, surveys, referrals,
dealers) as CSV, the `journey.yaml` configuration that describes them, and
`truth.json`: the effects the analyses should recover and the counts
`journey prepare` should reproduce. The same seed and size give the same bytes.
See docs/sample.md for the world it simulates and the mess it adds.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from journeylib import paths
from journeylib.errors import InputError

TABLES = ("customers", "touchpoints", "sales", "service_visits", "surveys", "referrals", "dealers")
CONFIG_NAME = "journey.yaml"
TRUTH_NAME = "truth.json"

CONFIG_TEXT = """\
# Configuration for the synthetic exports written by `journey sample`.
default_timezone: America/Chicago
internal_domains: [autogroup-internal.com]
columns:            # per table: contract column -> the export's column name
  sales: {deal_id: DealNumber, sold_at: SoldDate}
timestamp_formats:  # per table, a strptime format for naive values that are not ISO-8601
  service_visits: "%m/%d/%Y %H:%M"
taxonomy:
  channels: {}        # raw value -> canonical channel (additions/overrides)
  event_types: {}     # raw value -> canonical event type
  stages: {}          # event type -> stage
"""


def _existing(out: Path) -> list[str]:
    names = [f"{t}.{ext}" for t in TABLES for ext in ("csv", "parquet")] + [CONFIG_NAME, TRUTH_NAME]
    return [name for name in names if (out / name).exists()]


def write_sample(out=None, customers: int = 2000, seed: int = 7, shift: bool = True,
                 consistent_future: bool = False) -> Path:
    """Write the sample exports into `out` (default: the raw data folder) and return it.

    `shift=False` leaves out the planted recent shift (docs/sample.md), for a sample where nothing changed.
    `consistent_future=True` writes the open leads' journeys from their drawn purchase times, as the buyers'
    are, so the lead scores can be judged against the future (docs/sample.md, "The future"); other exports.

    Refuses (InputError) to write into a folder that already holds exports, so
    real data is never overwritten.
    """
    if int(customers) < 50:
        raise InputError(f"journey sample: --customers must be at least 50 (got {customers})")
    out = paths.raw_dir(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder")
    present = _existing(out) if out.exists() else []
    if present:
        raise InputError(f"{out}: already holds exports ({', '.join(present)}); choose an empty folder or remove them")
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".sample-", dir=out))
    try:
        truth = generate(staging, customers=int(customers), seed=int(seed), shift=bool(shift),
                         consistent_future=bool(consistent_future))
        (staging / TRUTH_NAME).write_text(json.dumps(truth, indent=2, sort_keys=False) + "\n", encoding="utf-8")
        (staging / CONFIG_NAME).write_text(CONFIG_TEXT, encoding="utf-8")
        for item in sorted(staging.iterdir()):
            item.replace(out / item.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def generate(folder: Path, customers: int, seed: int, shift: bool = True, consistent_future: bool = False) -> dict:
    """Write the seven CSV tables into `folder`; return the truth."""
    from journeylib.sample import _spec as S, _tail
    from journeylib.sample.assemble import build_all
    from journeylib.sample._events import journey_events
    from journeylib.sample._future import future
    from journeylib.sample._identity import build as build_records, record_chooser
    from journeylib.sample._people import ACQ, ACQ_TO_CHANNEL, service_visits, simulate
    from journeylib.sample._tables import Writer

    rng = np.random.default_rng(seed)
    people, refs = simulate(rng, customers)
    people.channel_code = ACQ_TO_CHANNEL[people.channel]
    people.interest_model = people.model
    visits = service_visits(rng, people)
    ev = journey_events(rng, people, visits, consistent=consistent_future)
    recent_shift = _planted_shift(people, ev, shift)
    records = build_records(rng, people, customers)
    choose = record_chooser(rng, records, len(people))
    writer = Writer(folder)
    mess, themes = build_all(rng, people, ev, visits, refs, records, choose, writer)
    truth = _truth(S, people, ev, visits, refs, records, mess, themes, writer, customers, seed, ACQ)
    truth["recent_shift"] = recent_shift
    truth = _tail.add_to_truth(truth, _tail.plant(folder, seed, writer))
    truth["future"] = future(seed, people, visits, records.ids[: len(people)])
    if consistent_future:  # the open leads' journeys were written from their purchase times (journey_events)
        truth["future"]["journeys_to_purchase"] = True
    return truth


def _planted_shift(people, ev, shift: bool) -> dict:
    """The planted recent shift (issue 16), or a record that there is none."""
    from journeylib.sample._shift import plant_shift

    return plant_shift(people, ev) if shift else {"planted": False}


def _truth(S, people, ev, visits, refs, records, mess, themes, writer, customers, seed, ACQ) -> dict:
    from journeylib.sample._events import funnel

    n = len(people)
    effects = S.truth_effects()
    # share of leads (first touch at least a year before the as-of date) who bought within a year
    old = people.first_touch <= S.AS_OF - 365 * S.DAY
    within = people.bought & (people.purchase - people.first_touch <= 365 * S.DAY)
    buyers = people.bought
    eligible = people.churn_eligible
    sales_scores = people.score[people.responds]
    nps = 100 * (np.mean(sales_scores >= 9) - np.mean(sales_scores <= 6)) if sales_scores.size else 0.0
    returned = np.zeros(n, bool)
    returned[visits["person"]] = True
    effects["time_to_purchase"]["purchase_share_365"] = round(float(within[old].mean()), 4)
    effects["time_to_purchase"]["acquisition_channel_counts"] = {
        c: int(np.sum(people.channel == i)) for i, c in enumerate(ACQ)}
    effects["time_to_purchase"]["buyers"] = int(buyers.sum())
    effects["time_to_purchase"]["test_drives_recorded"] = int(np.sum(people.test_drive >= 0))
    effects["retention"]["eligible_buyers"] = int(eligible.sum())
    effects["retention"]["churned"] = int(people.churned.sum())
    effects["retention"]["churn_rate"] = round(float(people.churned[eligible].mean()), 4) if eligible.any() else None
    effects["retention"]["buyers_with_service_visit"] = round(float(returned[buyers].mean()), 4) if buyers.any() else None
    effects["advocacy"]["referrals"] = int(refs["at"].size)
    effects["advocacy"]["referrals_with_customer"] = int(np.sum(refs["referred"] >= 0))
    return {
        "seed": seed,
        "customers_requested": customers,
        "as_of": S.AS_OF_ISO,
        "identity": {
            "raw_customer_records": int(len(records.person)),
            "persons": n,
            "test_customers": int(records.n_test),
            "customers_merged": int(records.d),
        },
        "funnel": funnel(people, ev, visits, refs),
        **effects,
        "satisfaction": {
            "sales_responses": int(sales_scores.size),
            "nps_sales": round(float(nps), 2),
            "bands_among_buyers": {b: int(np.sum(people.band[buyers] == i)) for i, b in enumerate(S.SATISFACTION)},
        },
        "personas": {
            "shares": {p: float(s) for p, s in zip(S.PERSONAS, S.PERSONA_SHARES)},
            "counts": {p: int(np.sum(people.persona == i)) for i, p in enumerate(S.PERSONAS)},
        },
        "feedback": {"themes": themes},
        "mess": {k: int(v) for k, v in sorted(mess.items())},
        "rows": {k: int(v) for k, v in writer.rows.items()},
    }
