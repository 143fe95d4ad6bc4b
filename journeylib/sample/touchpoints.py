"""touchpoints.csv: one row per journey event, then its mess, then the writer."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeylib.sample import _spec as S
from journeylib.sample import _text as T
from journeylib.sample._calendar import DATE_ONLY, NAIVE, OFFSET, Z, format_times, local_midnight
from journeylib.sample._events import CAMPAIGNS, Events
from journeylib.sample._identity import Records
from journeylib.sample._people import People
from journeylib.sample._rows import (
    NewIds, Rows, Rule, add_mess, cycle, id_pool, token, unknown_ids, with_tokens, bad_timestamp,
)
from journeylib.sample._tables import CHUNK_ROWS, Writer, number_strings, patch, pool, row_tz, spell, \
    spelling_pool, take, time_formats

EVENT_ID_SHARE = 0.92  # the rest have an empty event_id (prepare gives them a content id)
# mess planted in the clean rows' timestamps (declared here, drawn in _instants, listed in MESS)
UTC_Z = Rule("timestamp_utc_z", "timestamps in UTC with Z", "kept", share=0.48)
WITH_OFFSET = Rule("timestamp_with_offset", "timestamps with a UTC offset", "kept", share=0.25)
NAIVE_LOCAL = Rule("timestamp_naive_local", "naive local timestamps", "kept", share=0.27)
DATE_ALONE = Rule("timestamp_date_only", "a date alone (local midnight), only where that cannot change a journey",
                  "kept", share=0.012, minimum=2)


# --- the clean rows --------------------------------------------------------------------------
def _pools(people: People, ev: Events, records: Records) -> SimpleNamespace:
    """The string pools the integer columns index into."""
    p = SimpleNamespace()
    ev_flat, p.ev_start, p.ev_count = spelling_pool(T.EVENT_SPELLINGS, S.EVENT_TYPES)
    ch_flat, p.ch_start, p.ch_count = spelling_pool(T.CHANNEL_SPELLINGS, list(S.CH))
    p.unknown_event = len(ev_flat)
    p.event, p.event_missing = with_tokens(ev_flat + T.UNKNOWN_EVENT_TYPES)
    p.unknown_channel = len(ch_flat)
    p.channel, p.channel_missing = with_tokens(ch_flat + T.UNKNOWN_CHANNELS)
    p.campaign, p.campaign_missing = with_tokens(CAMPAIGNS)
    p.dealer, p.dealer_missing = with_tokens(S.DEALER_IDS)
    p.model, p.model_missing = with_tokens([m[0] for m in S.MODELS])
    p.customer, p.customer_missing = id_pool(records)
    persons = len(people)
    p.n_unlinked = max(2, len(ev) // 700)  # cookies never linked to anyone
    cookie_numbers = (np.arange(persons + p.n_unlinked, dtype=np.int64) * 7_919 + 13) % 10 ** 10
    p.cookie = pa.concat_arrays([number_strings("ck.", cookie_numbers, 10), pool(T.MISSING_TOKENS)])
    p.cookie_missing = persons + p.n_unlinked
    return p


def _instants(rng, people: People, ev: Events) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Timestamps, zones and format codes; a few date-only values and one row at the as-of instant."""
    t = ev.t.copy()
    tz = row_tz(ev.dealer)
    first_touch = people.first_touch[ev.person]
    stage = S.STAGE_OF_EVENT[ev.etype]
    fmt = time_formats(rng, t, tz, {Z: UTC_Z.share, OFFSET: WITH_OFFSET.share, NAIVE: NAIVE_LOCAL.share})
    # a few date-only values (local midnight): only where that cannot change a journey
    candidates = np.flatnonzero((ev.source == 0) & (stage <= 2) & (t > first_touch))
    rows = DATE_ALONE.pick(rng, candidates)
    midnight = local_midnight(t[rows], tz[rows])
    keep = midnight > first_touch[rows]
    rows, midnight = rows[keep], midnight[keep]
    t[rows] = midnight
    fmt[rows] = DATE_ONLY
    # the latest valid timestamp of the whole sample sits exactly at the as-of instant
    candidates = np.flatnonzero((stage <= 3) & (ev.etype != S.EV["test_drive"]) & (t > first_touch)
                                & (fmt != DATE_ONLY))
    last = candidates[np.argmax(t[candidates])]
    t[last] = S.AS_OF
    fmt[last] = Z
    return t, tz, fmt


def _event_ids(rng, order: np.ndarray) -> np.ndarray:
    """Event id numbers in time order; 0 (an empty event_id) for the rest."""
    numbers = np.empty(order.size, np.int64)
    numbers[order] = np.arange(1, order.size + 1)
    return np.where(rng.random(order.size) < EVENT_ID_SHARE, numbers, 0)


def clean_rows(rng, people: People, ev: Events, records: Records, choose, p: SimpleNamespace) -> Rows:
    n = len(ev)
    t, tz, fmt = _instants(rng, people, ev)
    ev.t = t  # the truth (funnel) is computed from these instants
    customer = choose(ev.person)
    customer = np.where(ev.anonymous, token(rng, p.customer_missing, n, 0.05), customer)
    cookie = np.where(ev.cookie, ev.person, p.cookie_missing)
    dealer = np.where(ev.dealer >= 0, ev.dealer, token(rng, p.dealer_missing, n, 0.03))
    campaign = np.where(ev.campaign >= 0, ev.campaign, token(rng, p.campaign_missing, n, 0.01))
    model = np.where(ev.model >= 0, ev.model, token(rng, p.model_missing, n, 0.01))
    event_id = _event_ids(rng, np.lexsort((ev.person, t)))
    return Rows(rec=customer, cookie=cookie, t=t, tz=tz, fmt=fmt, special=np.full(n, -1), person=ev.person,
                ev=spell(rng, ev.etype, p.ev_start, p.ev_count), ch=spell(rng, ev.channel, p.ch_start, p.ch_count),
                camp=campaign, dealer=dealer, model=model, eid=event_id)


def _count_clean_mess(rows: Rows, ev: Events, p: SimpleNamespace) -> None:
    """Count the mess planted in the clean rows (spellings, tokens, formats, anonymous rows)."""
    c = rows.c
    rows.mess["messy_spellings"] = int(np.sum((c["ev"] != p.ev_start[ev.etype]) | (c["ch"] != p.ch_start[ev.channel])))
    tokens = lambda column, base: np.isin(c[column], [base + 1, base + 2])  # noqa: E731
    rows.mess["missing_value_tokens"] = int(np.sum(
        tokens("dealer", p.dealer_missing) | tokens("camp", p.campaign_missing)
        | tokens("model", p.model_missing) | tokens("rec", p.customer_missing)))
    for code, rule in ((OFFSET, WITH_OFFSET), (NAIVE, NAIVE_LOCAL), (DATE_ONLY, DATE_ALONE), (Z, UTC_Z)):
        rows.mess[rule.kind] = int(np.sum(c["fmt"] == code))
    rows.mess["anonymous_rows_linked_by_cookie"] = int(ev.anonymous.sum())


# --- the mess rules --------------------------------------------------------------------------
# Each adds copies of clean rows with one thing broken; `x` holds the pools, the new ids and
# the candidate rows. Rows that prepare must keep apart from a clean row get a fresh event id.
def _new_event_ids(rng, x, k: int) -> np.ndarray:
    return np.where(rng.random(k) < EVENT_ID_SHARE, x.ids.take(k), 0)


def _duplicates(rng, rows: Rows, x, rule: Rule) -> None:
    rows.copy_rows(rule.pick(rng, np.arange(x.n)), rule.kind)


def _repeated_event_id(rng, rows: Rows, x, rule: Rule) -> None:
    fmt = rows.c["fmt"]
    sel = rule.pick(rng, np.flatnonzero((rows.c["eid"][:x.n] > 0) & (fmt[:x.n] != DATE_ONLY)))
    e = x.ev.etype[sel]
    p = x.pools
    rows.copy_rows(sel, rule.kind, fmt=np.where(fmt[sel] == Z, OFFSET, Z),
                   ev=p.ev_start[e] + (rows.c["ev"][sel] - p.ev_start[e] + 1) % p.ev_count[e])


def _unknown_event_type(rng, rows: Rows, x, rule: Rule) -> None:
    sel = rule.pick(rng, x.known)
    k = sel.size
    rows.copy_rows(sel, rule.kind, ev=x.pools.unknown_event + rng.integers(0, len(T.UNKNOWN_EVENT_TYPES), k),
                   eid=_new_event_ids(rng, x, k), t=rows.c["t"][sel] + rng.integers(1, 600, k))


def _unknown_channel(rng, rows: Rows, x, rule: Rule) -> None:
    sel = rule.pick(rng, x.known)
    k = sel.size
    p = x.pools
    rows.copy_rows(sel, rule.kind, ch=p.unknown_channel + rng.integers(0, len(T.UNKNOWN_CHANNELS), k),
                   ev=np.full(k, p.ev_start[S.EV["site_visit"]]), eid=_new_event_ids(rng, x, k),
                   t=rows.c["t"][sel] + rng.integers(1, 600, k))


def _fresh_ids(rng, x, n: int) -> dict:
    return {"eid": _new_event_ids(rng, x, n)}


def _known(x):
    return x.known


def _missing_required(rng, rows: Rows, x, rule: Rule) -> None:
    """Event type, channel or timestamp in turn, empty or spelled NULL / N/A."""
    sel = rule.pick(rng, x.known)
    k = sel.size
    which = np.arange(k) % 3
    spelling = rng.integers(0, 3, k)
    new = rows.copy_rows(sel, rule.kind, eid=_new_event_ids(rng, x, k))
    rows.c["ev"][new[which == 0]] = x.pools.event_missing + spelling[which == 0]
    rows.c["ch"][new[which == 1]] = x.pools.channel_missing + spelling[which == 1]
    rows.c["special"][new[which == 2]] = rows.add_specials([T.MISSING_TOKENS[i] for i in spelling[which == 2]])


def _unknown_customer(rng, rows: Rows, x, rule: Rule) -> None:
    sel = rule.pick(rng, x.known)
    k = sel.size
    rows.copy_rows(sel, rule.kind, rec=unknown_ids(rng, x.records, k), cookie=x.pools.cookie_missing,
                   eid=_new_event_ids(rng, x, k))


def _unlinked_anonymous(rng, rows: Rows, x, rule: Rule) -> None:
    sel = rule.pick(rng, x.known)
    k = min(sel.size, x.pools.n_unlinked)
    sel = sel[:k]
    rows.copy_rows(sel, rule.kind, rec=x.pools.customer_missing, cookie=x.persons + np.arange(k),
                   eid=_new_event_ids(rng, x, k))


def _test_records(rng, rows: Rows, x, rule: Rule) -> None:
    tests, p = x.tests, x.pools
    k = tests["ev_rec"].size
    rows.copy_rows(np.zeros(k, np.int64), rule.kind, rec=tests["ev_rec"], cookie=p.cookie_missing, t=tests["ev_t"],
                   tz=S.DEFAULT_TZ_CODE, fmt=Z, special=-1, person=-1, eid=x.ids.take(k),
                   ev=p.ev_start[tests["ev_type"]], ch=p.ch_start[S.CH["website"]], camp=p.campaign_missing,
                   dealer=0, model=p.model_missing)


MESS = (
    Rule("messy_spellings", "event types and channels in another spelling", "kept", share=1 - T.CLEAN_SPELLING_SHARE),
    Rule("missing_value_tokens", "optional dealer, campaign, model and anonymous rows' customer id spelled NULL/N/A",
         "kept"),
    UTC_Z,
    WITH_OFFSET,
    NAIVE_LOCAL,
    DATE_ALONE,
    Rule("anonymous_rows_linked_by_cookie", "web events with a cookie and no customer id", "kept"),
    Rule("duplicate_touchpoint_rows", "exact copies", "duplicate", 0.015, 2, _duplicates),
    Rule("repeated_event_id", "same event id, timestamp and event type re-spelled", "duplicate", 0.004, 2,
         _repeated_event_id),
    Rule("unknown_event_type", "an event type outside the taxonomy", "kept as unknown", 0.003, 2,
         _unknown_event_type),
    Rule("unknown_channel", "a channel outside the taxonomy", "kept as unknown", 0.003, 2, _unknown_channel),
    Rule("unparseable_timestamp", "a timestamp that is not a date", "unparseable_timestamp", 0.002, 2,
         bad_timestamp(T.UNPARSEABLE, _fresh_ids, _known)),
    Rule("out_of_range_timestamp", "a timestamp far outside the data's years", "out_of_range_timestamp", 0.001, 2,
         bad_timestamp(T.OUT_OF_RANGE, _fresh_ids, _known)),
    Rule("missing_required", "event type, channel or timestamp missing", "missing_required", 0.002, 3,
         _missing_required),
    Rule("unknown_customer", "a customer id in no customer record", "unknown_customer", 0.0015, 2,
         _unknown_customer),
    Rule("unlinked_anonymous_rows", "a cookie never linked to anyone", "unresolved_identity", 0.0015, 2,
         _unlinked_anonymous),
    Rule("test_record_rows", "the test customers' own touchpoints", "test_record", add=_test_records),
)


# --- the writer ------------------------------------------------------------------------------
COLUMNS = ["event_id", "customer_id", "anonymous_id", "occurred_at", "event_type", "channel", "campaign",
           "dealer_id", "vehicle_model"]


def _id_width(largest: int) -> int:
    return max(6, len(str(int(largest) * 3 + 100_000)))


def write(rows: Rows, p: SimpleNamespace, writer: Writer) -> None:
    """Sorted by time, in chunks."""
    c = rows.c
    order = np.argsort(c["t"], kind="stable")
    specials = pool(rows.specials or ["x"])
    width = _id_width(int(c["eid"].max()))
    with writer.open("touchpoints", COLUMNS) as out:
        for start in range(0, order.size, CHUNK_ROWS):
            chunk = order[start:start + CHUNK_ROWS]
            eids = c["eid"][chunk]
            event_id = pc.if_else(pa.array(eids > 0), number_strings("EV", eids, width), pa.scalar(""))
            occurred = format_times(c["t"][chunk], c["tz"][chunk], c["fmt"][chunk])
            sp = np.flatnonzero(c["special"][chunk] >= 0)
            if sp.size:
                occurred = patch(occurred, sp, specials.take(pa.array(c["special"][chunk][sp])).to_pylist())
            table = pa.table({
                "event_id": event_id, "customer_id": take(p.customer, c["rec"][chunk]),
                "anonymous_id": take(p.cookie, c["cookie"][chunk]), "occurred_at": occurred,
                "event_type": take(p.event, c["ev"][chunk]), "channel": take(p.channel, c["ch"][chunk]),
                "campaign": take(p.campaign, c["camp"][chunk]), "dealer_id": take(p.dealer, c["dealer"][chunk]),
                "vehicle_model": take(p.model, c["model"][chunk]),
            })
            out.write_table(table)
            writer.rows["touchpoints"] += table.num_rows


def build(rng, people: People, ev: Events, records: Records, choose, tests: dict, writer: Writer) -> Counter:
    p = _pools(people, ev, records)
    rows = clean_rows(rng, people, ev, records, choose, p)
    _count_clean_mess(rows, ev, p)
    n = len(ev)
    t, first_touch = rows.c["t"], people.first_touch[ev.person]
    known = np.flatnonzero(~ev.anonymous & (t > first_touch) & (t < S.AS_OF - 3_600))
    x = SimpleNamespace(n=n, ev=ev, pools=p, known=known, ids=NewIds(n + 1), records=records, tests=tests,
                        persons=len(people))
    add_mess(rng, rows, MESS, x)
    write(rows, p, writer)
    return Counter(rows.mess)
