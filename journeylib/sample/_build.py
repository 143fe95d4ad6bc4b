"""Assemble the seven export tables (with their mess) and the truth."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeylib.sample import _spec as S
from journeylib.sample import _text as T
from journeylib.sample._calendar import DATE_ONLY, NAIVE, OFFSET, US, Z, format_times, local_midnight
from journeylib.sample._events import CAMPAIGNS, Events
from journeylib.sample._identity import Records
from journeylib.sample._people import People, categorical
from journeylib.sample import customers, dealers, referrals, sales, service_visits, surveys, touchpoints
from journeylib.sample._tables import (
    CHUNK_ROWS, Writer, patch, pick, pool, row_tz, spell, spelling_pool, take, time_formats, number_strings,
)

TOKENS = 3  # every pool ends with "", "NULL", "N/A"


class NewIds:
    """Consecutive ids for rows the mess adds, handed out block by block."""

    def __init__(self, first: int):
        self.next = first

    def take(self, k: int) -> np.ndarray:
        out = self.next + np.arange(k)
        self.next += k
        return out


def _with_tokens(values: list) -> tuple[pa.Array, int]:
    """A pool of strings followed by the three missing-value spellings; returns (pool, index of "")."""
    return pool(list(values) + T.MISSING_TOKENS), len(values)


def _token(rng, base: int, size: int, share_tokens: float = 0.0) -> np.ndarray:
    """Missing-value indexes: "" mostly, "NULL"/"N/A" for `share_tokens` of them."""
    return base + np.where(rng.random(size) < share_tokens, rng.integers(1, 3, size), 0)


def _id_pool(records: Records) -> tuple[pa.Array, int]:
    """Record ids, then the spare (unknown) ids, then the missing spellings."""
    ids = pa.concat_arrays([records.ids, records.unknown_ids])
    return pa.concat_arrays([ids, pool(T.MISSING_TOKENS)]), len(ids)


class Rows:
    """Columns of a table under construction (integer codes), clean rows first, mess appended."""

    def __init__(self, **columns):
        self.c = {k: np.asarray(v) for k, v in columns.items()}
        self.mess = Counter()

    def __len__(self):
        return len(next(iter(self.c.values())))

    def copy_rows(self, rows: np.ndarray, kind: str, **changes) -> np.ndarray:
        """Append copies of `rows` with `changes` (arrays or scalars); returns the new rows' indexes."""
        rows = np.asarray(rows, np.int64)
        start = len(self)
        for key, values in self.c.items():
            new = values[rows]
            if key in changes:
                new = np.broadcast_to(np.asarray(changes[key]).astype(values.dtype), rows.shape)
            self.c[key] = np.concatenate([values, new])
        self.mess[kind] += rows.size
        return np.arange(start, start + rows.size)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    return number_strings(prefix, numbers, width)


def _width(n: int) -> int:
    return max(6, len(str(int(n) * 3 + 100_000)))


# ============================================================================================
def build_all(rng, people: People, ev: Events, visits: dict, refs: dict, records: Records, choose, writer: Writer):
    mess = Counter()
    tests = _test_activity(rng, records)
    vins = _vins(people, tests)
    mess.update(touchpoints.build(rng, people, ev, records, choose, tests, writer))
    mess.update(sales.build(rng, people, records, choose, tests, vins, writer))
    mess.update(service_visits.build(rng, people, visits, records, choose, tests, vins, writer))
    feedback, survey_mess = surveys.build(rng, people, visits, records, choose, tests, writer)
    mess.update(survey_mess)
    mess.update(referrals.build(rng, refs, records, choose, writer))
    mess.update(customers.build(rng, records, writer))
    dealers.build(writer)
    return mess, feedback


# --- test customers' own activity ---------------------------------------------------------
def _test_activity(rng, records: Records) -> dict:
    k = records.n_test
    rec = records.n + records.d + np.arange(k)
    n_events = 1 + rng.poisson(3, k)
    ev_rec = np.repeat(rec, n_events)
    ev_t = rng.integers(S.START + S.DAY, S.AS_OF - 2 * S.DAY, ev_rec.size)
    ev_type = np.array([S.EV[e] for e in ("site_visit", "vdp_view", "lead_form", "test_drive", "phone_call")])[
        rng.integers(0, 5, ev_rec.size)]
    buys = np.flatnonzero(rng.random(k) < 0.4)
    if buys.size == 0:
        buys = np.array([0])
    sale_t = np.minimum(records.created[rec[buys]] + rng.integers(S.DAY, 30 * S.DAY, buys.size), S.AS_OF - 2 * S.DAY)
    serviced = buys[: max(1, buys.size // 4)]
    service_t = np.minimum(sale_t[: serviced.size] + 60 * S.DAY, S.AS_OF - S.DAY)
    return {"ev_rec": ev_rec, "ev_t": ev_t, "ev_type": ev_type, "sale_rec": rec[buys], "sale_t": sale_t,
            "service_rec": rec[serviced], "service_t": service_t, "survey_rec": rec[buys[:1]],
            "survey_t": sale_t[:1] + 3 * S.DAY}


def _vins(people: People, tests: dict) -> pa.Array:
    """One VIN per person (used when they buy), then one per test sale, then spares."""
    n = len(people) + tests["sale_rec"].size + 10_000
    idx = np.arange(n, dtype=np.int64)
    serial = (idx * 7_919 + 424_242) % 10 ** 11
    model = np.r_[people.model, np.zeros(n - len(people), np.int64)]
    year = np.array(list("PRSTV"))[np.r_[np.clip((people.purchase - S.START) // (365 * S.DAY), 0, 3),
                                         np.zeros(n - len(people), np.int64)]]
    letters = pa.array(list("ABCDEFGH")).take(pa.array(model))
    return pc.binary_join_element_wise("1JL", letters, pa.array(year), "X", number_strings("", serial, 11), "")


# --- shared helpers for the smaller tables ------------------------------------------------
def _times(c: dict, rows: np.ndarray, specials: list) -> pa.Array:
    out = format_times(c["t"][rows], c["tz"][rows], c["fmt"][rows])
    sp = np.flatnonzero(c["special"][rows] >= 0)
    if sp.size:
        out = patch(out, sp, [specials[i] for i in c["special"][rows][sp]])
    return out


def _numbers(values: np.ndarray, missing: np.ndarray | None = None, cents: bool = False) -> pa.Array:
    """Integers (or cents as 123.45) as strings; `missing` rows hold a missing spelling (0 "", 1 NULL, 2 N/A)."""
    values = np.asarray(values, np.int64)
    if cents:
        whole = pc.cast(pa.array(np.abs(values) // 100), pa.string())
        frac = pc.utf8_lpad(pc.cast(pa.array(np.abs(values) % 100), pa.string()), 2, "0")
        sign = pa.array(np.where(values < 0, "-", ""))
        out = pc.binary_join_element_wise(sign, whole, ".", frac, "")
    else:
        out = pc.cast(pa.array(values), pa.string())
    if missing is not None:
        rows = np.flatnonzero(missing >= 0)
        out = patch(out, rows, [T.MISSING_TOKENS[i] for i in missing[rows]])
    return out


def _bad_times(rng, rows_: Rows, base: np.ndarray, specials: list, us: bool, n_unparseable=2, n_out=2,
               extra_changes=None):
    """Append copies of `base` rows with unparseable and out-of-range timestamps."""
    bad = T.UNPARSEABLE_US if us else T.UNPARSEABLE
    out = T.OUT_OF_RANGE_US if us else T.OUT_OF_RANGE
    for kind, values, k in (("unparseable_timestamp", bad, n_unparseable), ("out_of_range_timestamp", out, n_out)):
        sel = pick(rng, base, 0.0, k)
        changes = {key: fn(sel.size) for key, fn in (extra_changes or {}).items()}
        rows_.copy_rows(sel, kind, special=len(specials) + np.arange(sel.size), **changes)
        specials += [values[i % len(values)] for i in range(sel.size)]


def _share(n: int, share: float, minimum: int) -> int:
    return max(minimum, int(round(n * share)))


