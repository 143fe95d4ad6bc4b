"""Customer records: one per person, duplicates of some persons, and test records."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeylib.sample import _spec as S
from journeylib.sample import _text as T
from journeylib.sample._calendar import in_row_order
from journeylib.sample._people import People, _per_persona, categorical
from journeylib.sample._tables import number_strings

TEST_KINDS = ["first_name_Test", "first_name_TEST", "last_name_test", "internal_email"]


class Records:
    def __init__(self, **columns):
        self.__dict__.update(columns)

    def __len__(self):
        return len(self.person)


def _phone_strings(digits10: np.ndarray, fmt: np.ndarray) -> pa.Array:
    """Spell ten-digit numbers in one of six export styles."""
    templates = ["(AAA) EEE-LLLL", "AAA-EEE-LLLL", "AAA.EEE.LLLL", "+1 AAA EEE LLLL", "AAAEEELLLL", "1-AAA-EEE-LLLL"]
    order = np.argsort(fmt, kind="stable")
    pieces = []
    for code, template in enumerate(templates):
        rows = order[fmt[order] == code]
        if not rows.size:
            continue
        matrix = np.empty((rows.size, len(template)), np.uint8)
        matrix[:] = np.frombuffer(template.encode(), np.uint8)
        value = digits10[rows]
        positions = [i for i, ch in enumerate(template) if ch in "AEL"]
        for j, pos in enumerate(reversed(positions)):
            matrix[:, pos] = 48 + (value // 10 ** j) % 10
        offs = pa.py_buffer((np.arange(rows.size + 1, dtype=np.int32) * len(template)).tobytes())
        pieces.append(pa.StringArray.from_buffers(rows.size, offs, pa.py_buffer(matrix.tobytes())))
    return in_row_order(pieces, order)


def build(rng, people: People, customers_requested: int) -> Records:
    n = len(people)
    # --- duplicates: 5% of persons with an email or phone get one more record, 1% two more
    gender = categorical(rng, np.array([0.49, 0.49, 0.02]), size=n)         # F, M, X
    has_email = rng.random(n) < 0.92
    has_phone = rng.random(n) < 0.88
    created = people.first_touch + (rng.random(n) * 2 * S.DAY).astype(np.int64)
    created = np.minimum(created, S.AS_OF - 120)
    reachable = (has_email | has_phone) & (created < S.AS_OF - 3 * S.DAY)
    u = rng.random(n)
    extra = np.where(reachable & (u < 0.01), 2, np.where(reachable & (u < 0.06), 1, 0))
    dup_person = np.repeat(np.arange(n), extra)
    dup_slot = np.arange(dup_person.size) - np.repeat(np.cumsum(extra) - extra, extra) + 1
    n_test = max(len(TEST_KINDS), int(round(customers_requested * 0.008)))
    test_kind = np.arange(n_test) % len(TEST_KINDS)
    d = dup_person.size
    total = n + d + n_test
    person = np.concatenate([np.arange(n), dup_person, np.full(n_test, -1)])
    is_test = np.r_[np.zeros(n + d, bool), np.ones(n_test, bool)]

    # --- ids: unique numbers, shuffled, plus spare ones for "unknown customer" rows
    width = max(7, len(str(total * 8)))
    spare = max(50, total // 50)
    numbers = rng.choice(10 ** width - 10 ** (width - 1), size=total + spare, replace=False) + 10 ** (width - 1)
    ids = number_strings("C", numbers[:total], width)
    unknown_ids = number_strings("C", numbers[total:], width)

    # --- person attributes, copied onto duplicate records
    first_f = rng.integers(0, len(T.FIRST_NAMES_F), n)
    first_m = rng.integers(0, len(T.FIRST_NAMES_M), n)
    first_name = np.where(gender == 0, first_f, np.where(gender == 1, len(T.FIRST_NAMES_F) + first_m,
                                                          np.where(rng.random(n) < .5, first_f, len(T.FIRST_NAMES_F) + first_m)))
    last_name = rng.integers(0, len(T.LAST_NAMES), n)
    mean, sd = (_per_persona({p: S.BIRTH_YEAR[p][i] for p in S.PERSONAS}) for i in (0, 1))
    birth_year = np.clip(np.round(rng.normal(mean[people.persona], sd[people.persona])), 1938, 2006).astype(np.int64)
    income = categorical(rng, np.vstack([S.INCOME_MIX[p] for p in S.PERSONAS]), people.persona)
    home = people.dealer
    area_codes = np.array([int(dl[4]) for dl in S.DEALERS])
    area = np.where(rng.random(n) < 0.85, area_codes[home], area_codes[rng.integers(0, len(S.DEALERS), n)])
    local7 = rng.choice(7_000_000, size=n + n_test, replace=False) + 2_000_000
    phone10 = area * 10_000_000 + local7[:n]
    postal = np.array([int(dl[5]) for dl in S.DEALERS])[home] * 100 + rng.integers(1, 99, n)
    domain = categorical(rng, np.array(T.EMAIL_DOMAIN_WEIGHTS), size=n)

    names_first = pa.array(T.FIRST_NAMES_F + T.FIRST_NAMES_M)
    names_last = pa.array(T.LAST_NAMES)
    fn = names_first.take(pa.array(first_name))
    ln = names_last.take(pa.array(last_name))
    local_part = pc.replace_substring(pc.utf8_lower(pc.binary_join_element_wise(fn, ".", ln, "")), "'", "")
    email = pc.binary_join_element_wise(local_part, pc.cast(pa.array(np.arange(n) + 11), pa.string()), "@",
                                        pa.array(T.EMAIL_DOMAINS).take(pa.array(domain)), "")

    rec = np.r_[np.arange(n), dup_person]   # person behind each non-test record
    # created_at: duplicates come later than the person's first record
    dup_created = created[dup_person] + (rng.uniform(1, 120, d) * S.DAY).astype(np.int64) + dup_slot * 3_600
    dup_created = np.minimum(dup_created, S.AS_OF - 60)
    test_created = rng.integers(S.START, S.AS_OF - 10 * S.DAY, n_test)
    created_all = np.r_[created, dup_created, test_created]

    # email/phone on duplicates: a respelling of the person's, or missing (never both missing)
    dup_email_style = categorical(rng, np.array([.15, .3, .2, .25, .1]), size=d)   # 0 missing, 1 upper, 2 title, 3 padded, 4 as is
    dup_phone_style = categorical(rng, np.array([.3, .7]), size=d)                    # 0 missing, 1 other format
    e_ok = has_email[dup_person]
    p_ok = has_phone[dup_person]
    dup_email_style = np.where(~p_ok | (dup_phone_style == 0), np.maximum(dup_email_style, 1), dup_email_style)
    dup_email_style = np.where(e_ok, dup_email_style, 0)
    dup_phone_style = np.where(p_ok & ((dup_email_style == 0) | ~e_ok), 1, dup_phone_style)
    dup_phone_style = np.where(p_ok, dup_phone_style, 0)

    primary_fmt = categorical(rng, np.array([.35, .25, .05, .05, .30, 0.0]), size=n)
    dup_fmt = (primary_fmt[dup_person] + rng.integers(1, 6, d)) % 6
    phone_fmt = np.r_[primary_fmt, dup_fmt]
    phone_digits = np.r_[phone10, phone10[dup_person]]
    phone_str = _phone_strings(phone_digits, phone_fmt)
    email_person = email.take(pa.array(dup_person))
    variants = [
        email_person,
        pc.utf8_upper(email_person),
        pc.utf8_title(email_person),
        pc.binary_join_element_wise("  ", email_person, " ", ""),
        email_person,
    ]
    style = np.maximum(dup_email_style, 0)
    dup_email = pa.concat_arrays(variants).take(pa.array(style * d + np.arange(d))) if d else pa.array([], pa.string())

    # --- test records
    test_first = np.array(["Test", "TEST", "Jordan", "QA"])[test_kind]
    test_last = np.array(["User", "Lead", "test", "Account"])[test_kind]
    test_last = np.where(test_kind == 2, np.where(np.arange(n_test) % 2 == 0, "test", "Test"), test_last)
    test_email = [f"qa.lead{i}@{S.INTERNAL_DOMAIN}" if k == 3 else f"test.lead{i}@mailinator.com"
                  for i, k in enumerate(test_kind)]
    test_phone10 = area_codes[0] * 10_000_000 + local7[n:]

    missing = {"email": np.r_[~has_email, dup_email_style == 0], "phone": np.r_[~has_phone, dup_phone_style == 0]}
    return Records(
        person=person, is_test=is_test, test_kind=test_kind, n=n, d=d, n_test=n_test, ids=ids,
        unknown_ids=unknown_ids, created=created_all, dup_person=dup_person, rec_person=rec,
        first_name=pa.concat_arrays([fn, fn.take(pa.array(dup_person)), pa.array(list(test_first))]),
        last_name=pa.concat_arrays([ln, ln.take(pa.array(dup_person)), pa.array(list(test_last))]),
        email=pa.concat_arrays([email, dup_email, pa.array(test_email)]),
        phone=pa.concat_arrays([phone_str, _phone_strings(test_phone10, np.zeros(n_test, np.int64))]),
        email_missing=np.r_[missing["email"], np.zeros(n_test, bool)],
        phone_missing=np.r_[missing["phone"], np.zeros(n_test, bool)],
        email_clean=email, phone_digits=phone10, has_email=has_email, has_phone=has_phone,
        postal=np.r_[postal, postal[dup_person], np.full(n_test, 60601)],
        birth_year=np.r_[birth_year, birth_year[dup_person], np.full(n_test, 1990)],
        gender=np.r_[gender, gender[dup_person], np.zeros(n_test, np.int64)],
        income=np.r_[income, income[dup_person], np.zeros(n_test, np.int64)],
        dealer=np.r_[home, home[dup_person], np.zeros(n_test, np.int64)],
        dup_email_style=dup_email_style, dup_phone_style=dup_phone_style,
    )


def record_chooser(rng, records: Records, n_persons: int):
    """A function person -> one of the person's record indexes (duplicates share the events)."""
    options = np.repeat(np.arange(n_persons)[:, None], 3, axis=1)
    count = np.ones(n_persons, np.int64)
    slot = np.arange(records.d) - np.repeat(np.cumsum(np.bincount(records.dup_person, minlength=n_persons))
                                            - np.bincount(records.dup_person, minlength=n_persons),
                                            np.bincount(records.dup_person, minlength=n_persons)) + 1
    options[records.dup_person, slot] = records.n + np.arange(records.d)
    np.add.at(count, records.dup_person, 1)

    def choose(person: np.ndarray) -> np.ndarray:
        person = np.asarray(person, np.int64)
        j = (rng.random(person.size) * count[person]).astype(np.int64)
        return options[person, j]

    return choose
