"""service_visits.csv: one repair order per visit (US-format local times), then its mess."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeylib.sample import _spec as S
from journeylib.sample import _text as T
from journeylib.sample._calendar import US
from journeylib.sample._identity import Records
from journeylib.sample._people import People
from journeylib.sample._rows import (
    NewIds, Rows, Rule, add_mess, id_pool, missing_tokens, numbers, timestamp_rules, token, unknown_customer,
)
from journeylib.sample._tables import Writer, pick, pool, take

FIRST_RO = 5_000_001
VIN_ONLY = Rule("vin_only_service_rows", "no customer id (empty or NULL/N/A), only the VIN of the sale",
                "kept (linked by VIN)", 0.03, 2)


# --- the clean rows --------------------------------------------------------------------------
def clean_rows(rng, visits: dict, choose, x) -> Rows:
    person = visits["person"]
    n = person.size
    t = visits["t"]
    dealer = visits["dealer"]
    customer = choose(person)
    vin_only = pick(rng, np.arange(n), VIN_ONLY.share, VIN_ONLY.minimum) if n else np.zeros(0, np.int64)
    customer[vin_only] = token(rng, x.customer_missing, vin_only.size, 0.2)
    vin = np.where(rng.random(n) < 0.95, person, x.vin_missing)
    vin[vin_only] = person[vin_only]
    ro = np.empty(n, np.int64)
    ro[np.argsort(t, kind="stable")] = FIRST_RO + np.arange(n)
    rows = Rows(ro=ro, rec=customer, t=t, tz=S.DEALER_TZ[dealer], fmt=np.full(n, US, np.int8),
                special=np.full(n, -1), vin=vin, dealer=dealer, pay=visits["pay"],
                amount=np.round(visits["amount"] * 100).astype(np.int64), mileage=visits["mileage"],
                missing=np.full(n, -1))
    rows.mess[VIN_ONLY.kind] += vin_only.size
    return rows


# --- the mess rules --------------------------------------------------------------------------
def _duplicates(rng, rows: Rows, x, rule: Rule) -> None:
    rows.copy_rows(rule.pick(rng, np.arange(x.n)), rule.kind)


def _fresh_ids(rng, x, n: int) -> dict:
    return {"ro": x.ros.take(n)}


def _missing_required(rng, rows: Rows, x, rule: Rule) -> None:
    """An empty opened_at, then one spelled N/A."""
    sel = rule.pick(rng, np.arange(x.n))
    rows.copy_rows(sel, rule.kind, ro=x.ros.take(sel.size), special=len(rows.specials) + np.arange(sel.size))
    rows.add_specials(["", "N/A"][: sel.size])


def _unresolved_vin_only(rng, rows: Rows, x, rule: Rule) -> None:
    """No customer id and a VIN never sold."""
    sel = rule.pick(rng, np.arange(x.n))
    rows.copy_rows(sel, rule.kind, ro=x.ros.take(sel.size), rec=x.customer_missing,
                   vin=x.unsold_vin + np.arange(sel.size))


def _test_records(rng, rows: Rows, x, rule: Rule) -> None:
    tests = x.tests
    k = tests["service_rec"].size
    rows.copy_rows(np.zeros(k, np.int64), rule.kind, ro=x.ros.take(k), rec=tests["service_rec"],
                   t=tests["service_t"] // 60 * 60, tz=S.DEFAULT_TZ_CODE, special=-1,
                   vin=x.persons + np.arange(k), dealer=0, missing=-1)


MESS = (
    VIN_ONLY,
    Rule("repeated_ro_id", "exact copies", "duplicate", 0.01, 2, _duplicates),
    *timestamp_rules("an opened_at", 2, _fresh_ids, unparseable=T.UNPARSEABLE_US, out_of_range=T.OUT_OF_RANGE_US),
    Rule("missing_required", "an empty opened_at, one spelled N/A", "missing_required", 0.0, 2, _missing_required),
    Rule("unresolved_vin_only_rows", "no customer id and a VIN never sold", "unresolved_identity", 0.0, 2,
         _unresolved_vin_only),
    Rule("unknown_customer", "a customer id in no customer record", "unknown_customer", 0.0, 1,
         unknown_customer(_fresh_ids)),
    Rule("missing_value_tokens", "a missing amount spelled NULL/N/A", "kept", 0.01, 1, missing_tokens(1)),
    Rule("test_record_rows", "the test customers' own service visits", "test_record", add=_test_records),
)


# --- the writer ------------------------------------------------------------------------------
def write(rows: Rows, x, writer: Writer) -> None:
    c = rows.c
    order = np.argsort(c["t"], kind="stable")
    ro = numbers(c["ro"][order]) if x.n else pa.array([], pa.string())
    writer.write("service_visits", {
        "ro_id": pc.binary_join_element_wise("RO", ro, "") if x.n else ro,
        "customer_id": take(x.customers, c["rec"][order]),
        "opened_at": rows.times(order),
        "vin": take(x.vin_pool, c["vin"][order]),
        "dealer_id": take(pool(S.DEALER_IDS), c["dealer"][order]),
        "pay_type": take(pool(["customer", "warranty", "internal"]), c["pay"][order]),
        "amount": numbers(c["amount"][order], c["missing"][order], cents=True),
        "mileage": numbers(c["mileage"][order]),
    })


def build(rng, people: People, visits: dict, records: Records, choose, tests: dict, vins: pa.Array,
          writer: Writer) -> Counter:
    n = visits["person"].size
    customers, customer_missing = id_pool(records)
    x = SimpleNamespace(n=n, records=records, tests=tests, persons=len(people), customers=customers,
                        customer_missing=customer_missing, ros=NewIds(FIRST_RO + n),
                        vin_pool=pa.concat_arrays([vins, pool(T.MISSING_TOKENS)]), vin_missing=len(vins),
                        unsold_vin=len(people) + tests["sale_rec"].size + 9_000)
    rows = clean_rows(rng, visits, choose, x)
    if n:  # no visits, no mess
        add_mess(rng, rows, MESS, x)
    write(rows, x, writer)
    return rows.mess
