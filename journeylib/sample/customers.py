"""customers.csv: one row per customer record (duplicates and test customers included), with its mess."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa

from journeylib.sample import _spec as S
from journeylib.sample import _text as T
from journeylib.sample._calendar import DATE_ONLY, NAIVE, OFFSET, Z, format_times
from journeylib.sample._identity import Records
from journeylib.sample._rows import Rule, numbers
from journeylib.sample._tables import Writer, patch, pool, take, time_formats

# Every rule here is planted in the records themselves (no rows are added): the duplicate and test
# records come from _identity, the rest are drawn below in this order.
DATE_ONLY_RULE = Rule("timestamp_date_only", "created_at a date alone, on records without duplicates", "kept",
                      0.04, 1)
WITH_OFFSET = Rule("timestamp_with_offset", "created_at with a UTC offset", "kept", 0.12)
NAIVE_LOCAL = Rule("timestamp_naive_local", "created_at naive local", "kept", 0.28)
UTC_Z_SHARE = 0.6  # the rest (not counted in truth.json)
MISSING_SHARES = {"postal_code": 0.03, "birth_year": 0.05, "gender": 0.03, "income_band": 0.10}
DEALER_MISSING_SHARE = 0.02
MESS = (
    Rule("duplicate_customer_records", "extra records of a person (email/phone re-spelled)", "merged"),
    Rule("test_customer_records", "Test / TEST names or an internal email", "test_record"),
    WITH_OFFSET,
    NAIVE_LOCAL,
    DATE_ONLY_RULE,
    Rule("missing_value_tokens", "missing email, phone, postal code, birth year, gender, income, dealer spelled "
         "NULL/N/A", "kept"),
)


def _missing_tokens(rng, mask: np.ndarray, total: int) -> np.ndarray:
    """Per row: -1 (present) or the missing spelling (0 "", 1 NULL, 2 N/A) where `mask`."""
    tokens = np.where(rng.random(total) < 0.6, 0, rng.integers(1, 3, total))
    return np.where(mask, tokens, -1)


def _fill(array: pa.Array, missing: np.ndarray) -> pa.Array:
    rows = np.flatnonzero(missing >= 0)
    return patch(array, rows, [T.MISSING_TOKENS[i] for i in missing[rows]])


def build(rng, records: Records, writer: Writer) -> Counter:
    total = len(records.person)
    dealer = records.dealer.astype(np.int64)
    dealer_missing = (rng.random(total) < DEALER_MISSING_SHARE) & ~records.is_test
    tz = np.where(dealer_missing, S.DEFAULT_TZ_CODE, S.DEALER_TZ[dealer]).astype(np.int8)
    t = records.created
    fmt = time_formats(rng, t, tz, {Z: UTC_Z_SHARE, OFFSET: WITH_OFFSET.share, NAIVE: NAIVE_LOCAL.share})
    # date-only only on records of a person with one record (a merge keeps the first record by time)
    grouped = np.zeros(total, bool)
    grouped[records.dup_person] = True
    grouped[records.n:] = True
    fmt[DATE_ONLY_RULE.pick(rng, np.flatnonzero(~grouped))] = DATE_ONLY
    mess = Counter({"duplicate_customer_records": records.d, "test_customer_records": records.n_test})
    for code, name in ((OFFSET, "timestamp_with_offset"), (NAIVE, "timestamp_naive_local"),
                       (DATE_ONLY, "timestamp_date_only")):
        mess[name] += int(np.sum(fmt == code))
    missing = {"email": _missing_tokens(rng, records.email_missing, total),
               "phone": _missing_tokens(rng, records.phone_missing, total)}
    for column, share in MISSING_SHARES.items():
        missing[column] = _missing_tokens(rng, (rng.random(total) < share) & ~records.is_test, total)
    missing["dealer_id"] = _missing_tokens(rng, dealer_missing, total)
    mess["missing_value_tokens"] += int(sum(np.sum(m > 0) for m in missing.values()))

    order = np.argsort(t, kind="stable")
    ords = pa.array(order)
    writer.write("customers", {
        "customer_id": records.ids.take(ords),
        "created_at": format_times(t[order], tz[order], fmt[order]),
        "email": _fill(records.email, missing["email"]).take(ords),
        "phone": _fill(records.phone, missing["phone"]).take(ords),
        "first_name": records.first_name.take(ords),
        "last_name": records.last_name.take(ords),
        "postal_code": _fill(numbers(records.postal), missing["postal_code"]).take(ords),
        "birth_year": _fill(numbers(records.birth_year), missing["birth_year"]).take(ords),
        "gender": _fill(take(pool(["F", "M", "X"]), records.gender), missing["gender"]).take(ords),
        "income_band": _fill(take(pool(S.INCOME_BANDS), records.income), missing["income_band"]).take(ords),
        "dealer_id": _fill(take(pool(S.DEALER_IDS), dealer), missing["dealer_id"]).take(ords),
    })
    return mess
