"""What every table module shares: the mess `Rule`, rows under construction, new ids, pools."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeylib.sample import _text as T
from journeylib.sample._calendar import format_times
from journeylib.sample._identity import Records
from journeylib.sample._tables import patch, pick, pool


@dataclass(frozen=True)
class Rule:
    """One kind of mess a table gets: its `truth.json` mess key, how many rows, what prepare must do.

    `share` is of the rule's candidate rows, with at least `minimum` of them. A rule
    with `add` appends (or edits) rows after the clean rows; one without is planted
    while the clean rows are built (spellings, formats, tokens) and only counted.
    `reason` is prepare's reject reason, or "kept" for rows prepare keeps.
    """

    kind: str
    what: str
    reason: str
    share: float = 0.0
    minimum: int = 0
    add: Callable | None = None

    def pick(self, rng, rows: np.ndarray) -> np.ndarray:
        return pick(rng, rows, self.share, self.minimum)


def add_mess(rng, rows: "Rows", rules: tuple, context) -> None:
    """Apply the rules that add rows, in their declared order (the order fixes the random draws)."""
    for rule in rules:
        if rule.add is not None:
            rule.add(rng, rows, context, rule)


class NewIds:
    """Consecutive ids for rows the mess adds, handed out block by block."""

    def __init__(self, first: int):
        self.next = first

    def take(self, k: int) -> np.ndarray:
        out = self.next + np.arange(k)
        self.next += k
        return out


class Rows:
    """Columns of a table under construction (integer codes), clean rows first, mess appended.

    `specials` holds literal timestamp strings (unparseable, out of range, missing)
    that rows point to through their `special` column.
    """

    def __init__(self, **columns):
        self.c = {k: np.asarray(v) for k, v in columns.items()}
        self.mess = Counter()
        self.specials: list = []

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

    def add_specials(self, values: list) -> np.ndarray:
        """Store literal timestamp strings; returns the indexes rows use in their `special` column."""
        start = len(self.specials)
        self.specials += list(values)
        return start + np.arange(len(values))

    def times(self, rows: np.ndarray) -> pa.Array:
        """The timestamp strings of `rows`: formatted instants, or the row's special string."""
        c = self.c
        out = format_times(c["t"][rows], c["tz"][rows], c["fmt"][rows])
        sp = np.flatnonzero(c["special"][rows] >= 0)
        if sp.size:
            out = patch(out, sp, [self.specials[i] for i in c["special"][rows][sp]])
        return out


def cycle(values: list, k: int) -> list:
    """`k` values taken from `values` in turn."""
    return [values[i % len(values)] for i in range(k)]


def bad_timestamp(values: list, fresh_ids=None, among=None):
    """A rule's `add`: copies of picked rows (from `among(x)`, default every row) whose timestamp is one of
    `values` (kept as a literal string); `fresh_ids(rng, x, n)` gives the copies' new ids as columns."""
    def add(rng, rows: Rows, x, rule: Rule) -> None:
        sel = rule.pick(rng, np.arange(x.n) if among is None else among(x))
        ids = {} if fresh_ids is None else fresh_ids(rng, x, sel.size)
        rows.copy_rows(sel, rule.kind, special=len(rows.specials) + np.arange(sel.size), **ids)
        rows.add_specials(cycle(values, sel.size))
    return add


def timestamp_rules(column: str, minimum: int, fresh_ids, among=None, unparseable=None, out_of_range=None) -> tuple:
    """The two bad-timestamp rules every event table gets: a `column` that is not a date, and one far
    outside the data's years (copies of picked rows with fresh ids)."""
    unparseable = T.UNPARSEABLE if unparseable is None else unparseable
    out_of_range = T.OUT_OF_RANGE if out_of_range is None else out_of_range
    return (
        Rule("unparseable_timestamp", f"{column} that is not a date", "unparseable_timestamp", 0.0, minimum,
             bad_timestamp(unparseable, fresh_ids, among)),
        Rule("out_of_range_timestamp", f"{column} far outside the data's years", "out_of_range_timestamp", 0.0,
             minimum, bad_timestamp(out_of_range, fresh_ids, among)),
    )


def unknown_customer(fresh_ids):
    """A rule's `add`: copies of picked rows with fresh ids whose customer id is in no customer record."""
    def add(rng, rows: Rows, x, rule: Rule) -> None:
        sel = rule.pick(rng, np.arange(x.n))
        rows.copy_rows(sel, rule.kind, **fresh_ids(rng, x, sel.size), rec=unknown_ids(rng, x.records, sel.size))
    return add


def missing_tokens(lowest_token: int):
    """A rule's `add`: picked clean rows get a missing optional value, spelled by token `lowest_token`..2
    (0 empty, 1 NULL, 2 N/A); edits rows in place."""
    def add(rng, rows: Rows, x, rule: Rule) -> None:
        sel = rule.pick(rng, np.arange(x.n))
        rows.c["missing"][sel] = rng.integers(lowest_token, 3, sel.size)
        rows.mess[rule.kind] += sel.size
    return add


def with_tokens(values: list) -> tuple[pa.Array, int]:
    """A pool of strings followed by the three missing-value spellings; returns (pool, index of "")."""
    return pool(list(values) + T.MISSING_TOKENS), len(values)


def token(rng, base: int, size: int, share_tokens: float = 0.0) -> np.ndarray:
    """Missing-value indexes: "" mostly, "NULL"/"N/A" for `share_tokens` of them."""
    return base + np.where(rng.random(size) < share_tokens, rng.integers(1, 3, size), 0)


def id_pool(records: Records) -> tuple[pa.Array, int]:
    """Record ids, then the spare (unknown) ids, then the missing spellings."""
    ids = pa.concat_arrays([records.ids, records.unknown_ids])
    return pa.concat_arrays([ids, pool(T.MISSING_TOKENS)]), len(ids)


def unknown_ids(rng, records: Records, k: int) -> np.ndarray:
    """Indexes into `id_pool` of customer ids that are in no customer record."""
    return len(records.ids) + rng.integers(0, len(records.unknown_ids), k)


def numbers(values: np.ndarray, missing: np.ndarray | None = None, cents: bool = False) -> pa.Array:
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


# The data-contract rule (data-contract.md, "Rules the cleaning must apply") each mess kind exercises.
CONTRACT_RULES = {
    "messy_spellings": "Vocabulary",
    "unknown_event_type": "Vocabulary",
    "unknown_channel": "Vocabulary",
    "missing_value_tokens": "Empty values",
    "timestamp_utc_z": "Timestamps",
    "timestamp_with_offset": "Timestamps",
    "timestamp_naive_local": "Timestamps",
    "timestamp_date_only": "Timestamps",
    "anonymous_rows_linked_by_cookie": "Identity",
    "vin_only_service_rows": "Identity",
    "duplicate_customer_records": "Identity",
    "unlinked_anonymous_rows": "Identity; Nothing lost",
    "unresolved_vin_only_rows": "Identity; Nothing lost",
    "unknown_customer": "Nothing lost",
    "test_customer_records": "Test and internal records",
    "test_record_rows": "Test and internal records",
    "duplicate_touchpoint_rows": "Duplicates",
    "repeated_event_id": "Duplicates",
    "repeated_deal_id": "Duplicates",
    "repeated_ro_id": "Duplicates",
    "repeated_response_id": "Duplicates",
    "repeated_referral_id": "Duplicates",
    "unparseable_timestamp": "Timestamps; Nothing lost",
    "out_of_range_timestamp": "Timestamps; Nothing lost",
    "missing_required": "Nothing lost",
    "invalid_score": "Nothing lost (invalid_value)",
    "negative_price": "Nothing lost (invalid_value)",
    "comments_with_email": "Privacy",
    "comments_with_phone": "Privacy",
    "comments_with_markup": "Privacy",
}


def how_many(rule: Rule) -> str:
    """The rule's size in words, for docs/sample.md."""
    if rule.share > 0:
        share = f"{100 * rule.share:.4g}%"
        return f"{share} (at least {rule.minimum})" if rule.minimum else share
    if rule.minimum:
        return f"{rule.minimum} row{'s' if rule.minimum > 1 else ''}"
    return "all such rows" if rule.add is not None else "as the simulation makes them"
