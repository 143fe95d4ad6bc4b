"""surveys.csv: sales and service survey responses with comments, then their mess."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeylib.sample import _spec as S
from journeylib.sample import _text as T
from journeylib.sample._calendar import DATE_ONLY, NAIVE, OFFSET, Z
from journeylib.sample._identity import Records
from journeylib.sample._people import People, categorical
from journeylib.sample._rows import (
    NewIds, Rows, Rule, add_mess, id_pool, numbers, timestamp_rules, unknown_customer, with_tokens,
)
from journeylib.sample._tables import Writer, patch, pool, take, time_formats

COMMENT_SHARE = 0.5
EMAIL = Rule("comments_with_email", "the respondent's own email in the comment", "kept (redacted)", 0.01, 1)
PHONE = Rule("comments_with_phone", "the respondent's own phone number in the comment", "kept (redacted)", 0.01, 1)
MARKUP = Rule("comments_with_markup", "HTML snippets in the comment", "kept as text", 0.01, 2)


# --- the clean rows --------------------------------------------------------------------------
def _comment_text(rng, survey_type: np.ndarray, score: np.ndarray) -> tuple[pa.Array, np.ndarray, dict]:
    """A comment per response (one or two themes, tone from the score); who wrote one; theme counts."""
    n = score.size
    has = rng.random(n) < COMMENT_SHARE
    weights = np.vstack([T.SALES_THEME_WEIGHTS, T.SERVICE_THEME_WEIGHTS])
    theme1 = categorical(rng, weights, survey_type)
    theme2 = categorical(rng, weights, survey_type)
    second = (rng.random(n) < 0.3) & (theme2 != theme1)
    tone = np.where(score >= 9, 2, np.where(score >= 7, 1, 0))
    flat = [s for theme in T.THEMES for tone_list in T.COMMENT_TEMPLATES[theme] for s in tone_list]
    templates = pool(flat)
    s1 = take(templates, (theme1 * 3 + tone) * 3 + rng.integers(0, 3, n))
    s2 = take(templates, (theme2 * 3 + tone) * 3 + rng.integers(0, 3, n))
    text = pc.if_else(pa.array(second), pc.binary_join_element_wise(s1, s2, " "), s1)
    themes = {theme: int(np.sum(has & ((theme1 == i) | (second & (theme2 == i))))) for i, theme in enumerate(T.THEMES)}
    return text, has, themes


def _comments(rng, survey_type: np.ndarray, score: np.ndarray, person: np.ndarray, records: Records, mess):
    """Comment text per response ("" where the respondent wrote nothing) and theme counts.

    A few comments carry the respondent's email, phone number, or markup (the EMAIL,
    PHONE and MARKUP rules); each comment gets at most one of them.
    """
    text, has, themes = _comment_text(rng, survey_type, score)
    commented = np.flatnonzero(has)
    edits: dict[int, str] = {}
    with_email = EMAIL.pick(rng, commented[records.has_email[person[commented]]])
    for row in with_email:
        edits[row] = f"{text[row].as_py()} You can reach me at {records.email_clean[person[row]].as_py()}."
    mess[EMAIL.kind] = with_email.size
    free = np.setdiff1d(commented[records.has_phone[person[commented]]], with_email)
    with_phone = PHONE.pick(rng, free)
    for row in with_phone:
        d = int(records.phone_digits[person[row]])
        edits[row] = f"{text[row].as_py()} Call me at ({d // 10**7}) {d // 10**4 % 1000:03d}-{d % 10**4:04d} anytime."
    mess[PHONE.kind] = with_phone.size
    free = np.setdiff1d(commented, np.r_[with_email, with_phone])
    with_markup = MARKUP.pick(rng, free)
    for i, row in enumerate(with_markup):
        snippet = T.MARKUP_SNIPPETS[i % len(T.MARKUP_SNIPPETS)]
        edits[row] = f"{snippet} {text[row].as_py()}" if i % 2 == 0 else f"{text[row].as_py()} {snippet}"
    mess[MARKUP.kind] = with_markup.size
    rows = np.array(sorted(edits), np.int64)
    text = patch(text, rows, [edits[r] for r in rows])
    return pc.if_else(pa.array(has), text, pa.scalar("")), themes


def clean_rows(rng, people: People, visits: dict, records: Records, choose) -> tuple[Rows, pa.Array, dict]:
    """Sales responses of the buyers who answered, service responses drawn per visit; in time order."""
    sales_people = np.flatnonzero(people.responds)
    visitor = visits["person"]
    answered = np.flatnonzero(rng.random(visitor.size) < S.SERVICE_SURVEY_RESPONSE)
    answered_at = visits["t"][answered] + (rng.uniform(1, 14, answered.size) * S.DAY).astype(np.int64)
    answered, answered_at = answered[answered_at <= S.AS_OF], answered_at[answered_at <= S.AS_OF]
    person = np.r_[sales_people, visitor[answered]]
    t = np.r_[people.responded_at[sales_people], answered_at]
    survey_type = np.r_[np.zeros(sales_people.size, np.int64), np.ones(answered.size, np.int64)]
    score = np.r_[people.score[sales_people],
                  categorical(rng, S.SERVICE_SCORE_PROBS, size=answered.size)].astype(np.int64)
    order = np.argsort(t, kind="stable")
    person, t, survey_type, score = person[order], t[order], survey_type[order], score[order]
    n = t.size
    comment_mess: dict = {}
    comment, themes = _comments(rng, survey_type, score, person, records, comment_mess)
    tz = np.full(n, S.DEFAULT_TZ_CODE, np.int8)
    fmt = time_formats(rng, t, tz, {Z: 0.5, OFFSET: 0.15, NAIVE: 0.3, DATE_ONLY: 0.05})
    rows = Rows(rid=1 + np.arange(n), rec=choose(person), t=t, tz=tz, fmt=fmt, special=np.full(n, -1),
                type=survey_type, score=score, comment=np.arange(n))
    rows.mess.update(comment_mess)
    comments = pa.concat_arrays([comment, pool([""])])  # the last one is the test survey's empty comment
    return rows, comments, themes


# --- the mess rules --------------------------------------------------------------------------
SCORES, SCORE_MISSING = with_tokens([str(i) for i in range(11)] + ["11", "-1", "ten"])
INVALID_SCORE = 11  # index of "11" in SCORES, then "-1", "ten"


def _duplicates(rng, rows: Rows, x, rule: Rule) -> None:
    rows.copy_rows(rule.pick(rng, np.arange(x.n)), rule.kind)


def _invalid_score(rng, rows: Rows, x, rule: Rule) -> None:
    """Sales responses copied with score 11, -1 or ten."""
    sales_rows = np.flatnonzero(rows.c["type"][:x.n] == 0)
    sel = rule.pick(rng, sales_rows if sales_rows.size else np.arange(x.n))
    rows.copy_rows(sel, rule.kind, rid=x.ids.take(sel.size), score=INVALID_SCORE + np.arange(sel.size) % 3)


def _missing_required(rng, rows: Rows, x, rule: Rule) -> None:
    """Score spelled NULL."""
    sel = rule.pick(rng, np.arange(x.n))
    rows.copy_rows(sel, rule.kind, rid=x.ids.take(sel.size), score=SCORE_MISSING + 1)


def _fresh_ids(rng, x, n: int) -> dict:
    return {"rid": x.ids.take(n)}


def _test_records(rng, rows: Rows, x, rule: Rule) -> None:
    """One sales survey of a test customer: score 10, no comment."""
    tests = x.tests
    k = tests["survey_rec"].size
    rows.copy_rows(np.zeros(k, np.int64), rule.kind, rid=x.ids.take(k), rec=tests["survey_rec"],
                   t=tests["survey_t"], fmt=Z, special=-1, type=0, score=10, comment=x.n)


MESS = (
    EMAIL,
    PHONE,
    MARKUP,
    Rule("repeated_response_id", "exact copies", "duplicate", 0.01, 2, _duplicates),
    Rule("invalid_score", "a sales response copied with score 11, -1 or ten", "invalid_value", 0.01, 3,
         _invalid_score),
    Rule("missing_required", "score NULL", "missing_required", 0.0, 1, _missing_required),
    *timestamp_rules("a responded_at", 1, _fresh_ids),
    Rule("unknown_customer", "a customer id in no customer record", "unknown_customer", 0.0, 1,
         unknown_customer(_fresh_ids)),
    Rule("test_record_rows", "the test customers' one survey", "test_record", add=_test_records),
)


# --- the writer ------------------------------------------------------------------------------
def write(rows: Rows, x, comments: pa.Array, writer: Writer) -> None:
    c = rows.c
    order = np.argsort(c["t"], kind="stable")
    writer.write("surveys", {
        "response_id": pc.binary_join_element_wise("R", numbers(c["rid"][order] + 1_000_000), ""),
        "customer_id": take(x.customers, c["rec"][order]),
        "survey_type": take(pool(["sales", "service"]), c["type"][order]),
        "responded_at": rows.times(order),
        "score": take(SCORES, c["score"][order]),
        "comment": take(comments, c["comment"][order]),
    })


def build(rng, people: People, visits: dict, records: Records, choose, tests: dict, writer: Writer):
    """Write surveys.csv; returns the comment theme counts and the mess counts."""
    rows, comments, themes = clean_rows(rng, people, visits, records, choose)
    n = len(rows)
    customers, _ = id_pool(records)
    x = SimpleNamespace(n=n, records=records, tests=tests, customers=customers, ids=NewIds(n + 1))
    if n:  # no responses, no mess
        add_mess(rng, rows, MESS, x)
    write(rows, x, comments, writer)
    return themes, rows.mess
