"""sales.csv: one row per purchase (columns DealNumber and SoldDate, renamed in journey.yaml), then its mess."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import numpy as np
import pyarrow as pa

from journeylib.sample import _spec as S
from journeylib.sample import _text as T
from journeylib.sample._calendar import NAIVE, OFFSET, Z
from journeylib.sample._identity import Records
from journeylib.sample._people import People
from journeylib.sample._rows import (
    NewIds, Rows, Rule, add_mess, id_pool, missing_tokens, numbers, timestamp_rules, unknown_customer, with_tokens,
)
from journeylib.sample._tables import Writer, pool, take, time_formats

FIRST_DEAL = 100_001


# --- the clean rows --------------------------------------------------------------------------
def clean_rows(rng, people: People, choose) -> tuple[Rows, np.ndarray]:
    """Buyers in order of purchase; returns the rows and the buyers."""
    buyers = np.flatnonzero(people.bought)
    buyers = buyers[np.argsort(people.purchase[buyers], kind="stable")]
    n = buyers.size
    t = people.purchase[buyers]
    dealer = people.sale_dealer[buyers]
    tz = S.DEALER_TZ[dealer]
    fmt = time_formats(rng, t, tz, {Z: 0.4, OFFSET: 0.3, NAIVE: 0.3})
    rows = Rows(deal=FIRST_DEAL + np.arange(n), rec=choose(buyers), t=t, tz=tz, fmt=fmt, special=np.full(n, -1),
                dealer=dealer, vin=buyers, model=people.model[buyers], cond=people.condition[buyers],
                fin=people.finance[buyers], price=people.price[buyers].astype(np.int64),
                trade=people.trade_in[buyers].astype(np.int64), missing=np.full(n, -1))
    return rows, buyers


# --- the mess rules --------------------------------------------------------------------------
# Rows a rule adds get a new deal number and a VIN of their own.
def _fresh(x, k: int) -> dict:
    return {"deal": x.deals.take(k), "vin": x.vins.take(k)}


def _duplicates(rng, rows: Rows, x, rule: Rule) -> None:
    rows.copy_rows(rule.pick(rng, np.arange(x.n)), rule.kind)


def _negative_price(rng, rows: Rows, x, rule: Rule) -> None:
    """A later copy with the price negated."""
    sel = rule.pick(rng, np.arange(x.n))
    fresh = _fresh(x, sel.size)
    later = np.minimum(rows.c["t"][sel] + rng.integers(S.DAY, 20 * S.DAY, sel.size), S.AS_OF - 60)
    rows.copy_rows(sel, rule.kind, **fresh, t=later, fmt=Z, price=-rows.c["price"][sel])


def _fresh_ids(rng, x, n: int) -> dict:
    return _fresh(x, n)


def _missing_required(rng, rows: Rows, x, rule: Rule) -> None:
    """The first copy has an empty SoldDate, the others customer_id NULL."""
    sel = rule.pick(rng, np.arange(x.n))
    new = rows.copy_rows(sel, rule.kind, **_fresh(x, sel.size))
    rows.c["special"][new[0]] = rows.add_specials([""])[0]
    rows.c["rec"][new[1:]] = x.customer_missing + 1


def _test_records(rng, rows: Rows, x, rule: Rule) -> None:
    tests = x.tests
    k = tests["sale_rec"].size
    deals = x.deals.take(k)
    rows.copy_rows(np.zeros(k, np.int64), rule.kind, deal=deals, rec=tests["sale_rec"], t=tests["sale_t"],
                   tz=S.DEFAULT_TZ_CODE, fmt=Z, special=-1, dealer=0, vin=x.persons + np.arange(k), model=0,
                   cond=0, fin=1, price=25_000, trade=0, missing=-1)


MESS = (
    Rule("repeated_deal_id", "exact copies", "duplicate", 0.01, 2, _duplicates),
    Rule("negative_price", "a later copy with a negative price", "invalid_value", 0.002, 2, _negative_price),
    *timestamp_rules("a SoldDate", 2, _fresh_ids),
    Rule("missing_required", "an empty SoldDate, a customer id NULL", "missing_required", 0.0, 2, _missing_required),
    Rule("unknown_customer", "a customer id in no customer record", "unknown_customer", 0.0, 1,
         unknown_customer(_fresh_ids)),
    Rule("missing_value_tokens", "a missing price, empty or NULL/N/A", "kept", 0.01, 1, missing_tokens(0)),
    Rule("test_record_rows", "the test customers' own purchases", "test_record", add=_test_records),
)


# --- the writer ------------------------------------------------------------------------------
def write(rows: Rows, x, vins: pa.Array, writer: Writer) -> None:
    c = rows.c
    order = np.argsort(c["t"], kind="stable")
    conditions, _ = with_tokens(S.CONDITIONS)
    finance, _ = with_tokens(S.FINANCE_TYPES)
    writer.write("sales", {
        "DealNumber": numbers(c["deal"][order]),
        "customer_id": take(x.customers, c["rec"][order]),
        "SoldDate": rows.times(order),
        "dealer_id": take(pool(S.DEALER_IDS), c["dealer"][order]),
        "vin": take(vins, c["vin"][order]),
        "vehicle_model": take(pool([m[0] for m in S.MODELS]), c["model"][order]),
        "condition": take(conditions, c["cond"][order]),
        "finance_type": take(finance, c["fin"][order]),
        "price": numbers(c["price"][order], c["missing"][order]),
        "trade_in": take(pool(["false", "true"]), c["trade"][order]),
    })


def build(rng, people: People, records: Records, choose, tests: dict, vins: pa.Array, writer: Writer) -> Counter:
    rows, buyers = clean_rows(rng, people, choose)
    n = buyers.size
    customers, customer_missing = id_pool(records)
    x = SimpleNamespace(n=n, records=records, tests=tests, persons=len(people), customers=customers,
                        customer_missing=customer_missing, deals=NewIds(FIRST_DEAL + n),
                        vins=NewIds(len(people) + tests["sale_rec"].size))
    if n:  # no sales, no mess
        add_mess(rng, rows, MESS, x)
    write(rows, x, vins, writer)
    return rows.mess
