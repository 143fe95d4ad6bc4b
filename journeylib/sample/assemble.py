"""Assemble the seven export tables, one module per table, and return their mess counts.

Each table module (touchpoints, sales, service_visits, surveys, referrals, customers,
dealers) builds its clean rows, applies its declared `MESS` rules in order and writes
its CSV. The order of the tables below fixes the order of the random draws: keep it.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeylib.sample import _spec as S
from journeylib.sample import customers, dealers, referrals, sales, service_visits, surveys, touchpoints
from journeylib.sample._events import Events
from journeylib.sample._identity import Records
from journeylib.sample._people import People
from journeylib.sample._tables import Writer, number_strings

TABLE_MODULES = {"customers": customers, "touchpoints": touchpoints, "sales": sales,
                 "service_visits": service_visits, "surveys": surveys, "referrals": referrals, "dealers": dealers}


def build_all(rng, people: People, ev: Events, visits: dict, refs: dict, records: Records, choose, writer: Writer):
    """Write the seven tables; returns the mess counts and the survey comment themes."""
    mess = Counter()
    tests = activity_of_test_customers(rng, records)
    vins = vins_of(people, tests)
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
def activity_of_test_customers(rng, records: Records) -> dict:
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


def vins_of(people: People, tests: dict) -> pa.Array:
    """One VIN per person (used when they buy), then one per test sale, then spares."""
    n = len(people) + tests["sale_rec"].size + 10_000
    idx = np.arange(n, dtype=np.int64)
    serial = (idx * 7_919 + 424_242) % 10 ** 11
    model = np.r_[people.model, np.zeros(n - len(people), np.int64)]
    year = np.array(list("PRSTV"))[np.r_[np.clip((people.purchase - S.START) // (365 * S.DAY), 0, 3),
                                         np.zeros(n - len(people), np.int64)]]
    letters = pa.array(list("ABCDEFGH")).take(pa.array(model))
    return pc.binary_join_element_wise("1JL", letters, pa.array(year), "X", number_strings("", serial, 11), "")
