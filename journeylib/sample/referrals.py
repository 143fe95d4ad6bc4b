"""referrals.csv: one row per referral (referrer, and the referred customer when they became one), then its mess."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import numpy as np
import pyarrow.compute as pc

from journeylib.sample import _spec as S
from journeylib.sample import _text as T
from journeylib.sample._calendar import NAIVE, OFFSET, Z
from journeylib.sample._identity import Records
from journeylib.sample._rows import (
    NewIds, Rows, Rule, add_mess, id_pool, numbers, timestamp_rules, unknown_customer, with_tokens,
)
from journeylib.sample._tables import Writer, take, time_formats

CHANNELS, CHANNEL_MISSING = with_tokens(T.REFERRAL_CHANNEL_SPELLINGS)


# --- the clean rows --------------------------------------------------------------------------
def clean_rows(rng, refs: dict, choose, x) -> Rows:
    n = refs["at"].size
    t = refs["at"]
    tz = np.full(n, S.DEFAULT_TZ_CODE, np.int8)
    referred = refs["referred"]
    referred_customer = np.full(n, x.customer_missing, np.int64)
    linked = referred >= 0
    referred_customer[linked] = choose(referred[linked])
    channel = np.where(rng.random(n) < 0.8, rng.integers(0, len(T.REFERRAL_CHANNEL_SPELLINGS), n), CHANNEL_MISSING)
    return Rows(rid=1 + np.arange(n), rec=choose(refs["referrer"]), t=t, tz=tz,
                fmt=time_formats(rng, t, tz, {Z: 0.5, OFFSET: 0.2, NAIVE: 0.3}), special=np.full(n, -1),
                referred=referred_customer, channel=channel)


# --- the mess rules --------------------------------------------------------------------------
def _duplicates(rng, rows: Rows, x, rule: Rule) -> None:
    rows.copy_rows(rule.pick(rng, np.arange(x.n)), rule.kind)


def _fresh_ids(rng, x, n: int) -> dict:
    return {"rid": x.ids.take(n), "referred": x.customer_missing}


def _missing_required(rng, rows: Rows, x, rule: Rule) -> None:
    """No referrer."""
    sel = rule.pick(rng, np.arange(x.n))
    rows.copy_rows(sel, rule.kind, rid=x.ids.take(sel.size), rec=x.customer_missing, referred=x.customer_missing)


MESS = (
    Rule("repeated_referral_id", "exact copies", "duplicate", 0.01, 1, _duplicates),
    *timestamp_rules("a referred_at", 1, _fresh_ids),
    Rule("missing_required", "no referrer", "missing_required", 0.0, 1, _missing_required),
    Rule("unknown_customer", "a referrer id in no customer record", "unknown_customer", 0.0, 1,
         unknown_customer(_fresh_ids)),
)


# --- the writer ------------------------------------------------------------------------------
def write(rows: Rows, x, writer: Writer) -> None:
    c = rows.c
    order = np.argsort(c["t"], kind="stable")
    writer.write("referrals", {
        "referral_id": pc.binary_join_element_wise("RF", numbers(c["rid"][order] + 100_000), ""),
        "referrer_customer_id": take(x.customers, c["rec"][order]),
        "referred_at": rows.times(order),
        "referred_customer_id": take(x.customers, c["referred"][order]),
        "channel": take(CHANNELS, c["channel"][order]),
    })


def build(rng, refs: dict, records: Records, choose, writer: Writer) -> Counter:
    n = refs["at"].size
    customers, customer_missing = id_pool(records)
    x = SimpleNamespace(n=n, records=records, customers=customers, customer_missing=customer_missing,
                        ids=NewIds(n + 1))
    rows = clean_rows(rng, refs, choose, x)
    if n:  # no referrals, no mess
        add_mess(rng, rows, MESS, x)
    write(rows, x, writer)
    return rows.mess
