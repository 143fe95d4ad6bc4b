"""Persons and what happens to them: first touch, test drive, purchase, survey,
service churn, service visits and referrals (the processes with TRUE effects).

Everything is vectorised over persons; referred persons are simulated in
generations (a referral made by a buyer of generation g may bring a person of
generation g+1) until no new person arrives before the as-of date.
"""

from __future__ import annotations

import numpy as np

from journeylib.sample import _spec as S
from journeylib.sample._calendar import local_to_utc, offsets


def categorical(rng: np.random.Generator, table: np.ndarray, group: np.ndarray | None = None,
                size: int | None = None) -> np.ndarray:
    """Draw a category per row from `table[group]` (a row of probabilities per group)."""
    table = np.atleast_2d(np.asarray(table, dtype=float))
    cum = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    n = size if group is None else len(group)
    u = rng.random(n)
    out = np.zeros(n, dtype=np.int64)
    for k in range(table.shape[1] - 1):
        out += u >= (cum[0, k] if group is None else cum[group, k])
    return out


def _persona_table(mapping: dict, names: list) -> np.ndarray:
    return np.vstack([S.probs(mapping[p], names) if isinstance(mapping[p], dict)
                      else np.asarray(mapping[p], float) / np.sum(mapping[p]) for p in S.PERSONAS])


def _per_persona(mapping: dict) -> np.ndarray:
    return np.array([mapping[p] for p in S.PERSONAS], dtype=float)


ACQ = S.ACQUISITION_CHANNELS
ACQ_TABLE = _persona_table(S.ACQUISITION_MIX, ACQ)
ACQ_TO_CHANNEL = np.array([S.CH[c] for c in ACQ], dtype=np.int16)
CHANNEL_HR = np.array([S.CHANNEL_HR[c] for c in ACQ])


class People:
    """Column arrays, one entry per person (index = person number)."""

    def __init__(self, **columns):
        self.__dict__.update(columns)

    def __len__(self):
        return len(self.persona)


def _new_persons(rng, n, first_touch, channel=None, dealer=None):
    persona = categorical(rng, S.PERSONA_SHARES, size=n)
    if channel is None:
        channel = categorical(rng, ACQ_TABLE, persona)
    if dealer is None:
        dealer = categorical(rng, S.DEALER_WEIGHTS, size=n)
    return persona, np.asarray(channel, np.int16), np.asarray(dealer, np.int16), np.asarray(first_touch, np.int64)


def _purchase(rng, persona, channel, first_touch):
    """Piecewise-exponential time to purchase with a time-varying test-drive effect."""
    n = len(persona)
    lam = S.BASE_HAZARD_PER_DAY * CHANNEL_HR[channel]
    has_td = rng.random(n) < _per_persona(S.TEST_DRIVE_PROBABILITY)[persona]
    td_delay = rng.exponential(_per_persona(S.TEST_DRIVE_DELAY_DAYS)[persona])
    td_delay = np.maximum(td_delay, 120 / S.DAY)
    e = rng.exponential(1.0, n)
    before = ~has_td | (lam * td_delay >= e)
    days = np.where(before, e / lam, td_delay + (e - lam * td_delay) / (lam * S.TEST_DRIVE_HR))
    purchase = first_touch + np.minimum(np.round(days * S.DAY), 50 * 365 * S.DAY).astype(np.int64)
    test_drive = first_touch + np.round(td_delay * S.DAY).astype(np.int64)
    purchase = np.maximum(purchase, first_touch + 240)
    td_recorded = has_td & (test_drive < purchase - 60) & (test_drive <= S.AS_OF)
    bought = purchase <= S.AS_OF - 60
    # the drawn purchase time of a lead still open at the as-of date: its future (truth.json `future`)
    later = np.where(bought, -1, purchase)
    return bought, np.where(bought, purchase, -1), np.where(td_recorded, test_drive, -1), later


def simulate(rng: np.random.Generator, customers: int) -> tuple[People, dict]:
    """All persons (generations of referrals included) and the referral rows."""
    first_touch = rng.integers(S.START + 12 * 3_600, S.AS_OF - S.DAY, customers, dtype=np.int64)
    batch = _new_persons(rng, customers, first_touch)
    referred_by = np.full(customers, -1, np.int64)
    columns = {k: [] for k in ("persona", "channel", "dealer", "first_touch", "referred_by", "generation",
                               "bought", "purchase", "test_drive", "later_purchase")}
    referrals = {k: [] for k in ("referrer", "at", "referred")}
    offset, generation = 0, 0
    sales_cols = None
    while len(batch[0]):
        persona, channel, dealer, ft = batch
        n = len(persona)
        bought, purchase, test_drive, later = _purchase(rng, persona, channel, ft)
        for key, value in zip(columns, (persona, channel, dealer, ft, referred_by, np.full(n, generation),
                                         bought, purchase, test_drive, later)):
            columns[key].append(value)
        sale = _sales(rng, persona, dealer, bought, purchase)
        sales_cols = sale if sales_cols is None else {k: np.concatenate([sales_cols[k], v]) for k, v in sale.items()}
        # referrals made by this generation's buyers
        buyers = np.flatnonzero(bought)
        band = sale["band"][buyers]
        exposure = (S.AS_OF - purchase[buyers]) / S.DAY / S.YEAR_DAYS
        mu = S.REFERRAL_BASE_RATE * np.array([S.REFERRAL_RR[b] for b in S.SATISFACTION])[band] * exposure
        alpha = S.REFERRAL_DISPERSION
        count = rng.poisson(rng.gamma(1 / alpha, alpha * mu)) if buyers.size else np.zeros(0, np.int64)
        referrer = np.repeat(buyers, count)
        start = purchase[referrer]
        at = start + (rng.random(referrer.size) * (S.AS_OF - 3_600 - start)).astype(np.int64) + 60
        converts = rng.random(referrer.size) < S.REFERRAL_CONVERSION
        new_ft = at + np.round(rng.exponential(8.0, referrer.size) * S.DAY).astype(np.int64) + 3_600
        converts &= new_ft <= S.AS_OF - S.DAY
        referred = np.full(referrer.size, -1, np.int64)
        referred[converts] = offset + n + np.arange(converts.sum())
        referrals["referrer"].append(referrer + offset)
        referrals["at"].append(at)
        referrals["referred"].append(referred)
        # the next generation: referred persons, acquired through the referral channel
        k = int(converts.sum())
        home = np.where(rng.random(k) < 0.8, sale["sale_dealer"][referrer[converts]],
                        categorical(rng, S.DEALER_WEIGHTS, size=k))
        batch = _new_persons(rng, k, new_ft[converts], np.full(k, ACQ.index("referral")), home)
        referred_by = referrer[converts] + offset
        offset += n
        generation += 1
    people = People(**{k: np.concatenate(v) for k, v in columns.items()}, **sales_cols)
    refs = {k: np.concatenate(v) for k, v in referrals.items()}
    order = np.argsort(refs["at"], kind="stable")
    refs = {k: v[order] for k, v in refs.items()}
    return people, refs


def _sales(rng, persona, dealer, bought, purchase):
    """Sale attributes and the sales survey, for every person (meaningful where bought)."""
    n = len(persona)
    condition = categorical(rng, _persona_table(S.CONDITION_MIX, S.CONDITIONS), persona)
    finance = categorical(rng, _persona_table(S.FINANCE_MIX, S.FINANCE_TYPES), persona)
    model = categorical(rng, np.array([m[2] for m in S.MODELS]), size=n)
    base = np.array([m[1] for m in S.MODELS], float)[model]
    factor = np.array([S.CONDITION_PRICE[c] for c in S.CONDITIONS])[condition]
    price = np.round(base * factor * rng.lognormal(0, 0.08, n) / 50) * 50
    trade_in = rng.random(n) < np.where(persona == S.PERSONAS.index("deal_hunter"), 0.6, 0.4)
    sale_dealer = np.where(rng.random(n) < 0.9, dealer, categorical(rng, S.DEALER_WEIGHTS, size=n))
    responds = bought & (rng.random(n) < S.SALES_SURVEY_RESPONSE)
    responded_at = purchase + (rng.uniform(1, 30, n) * S.DAY).astype(np.int64)
    responds &= responded_at <= S.AS_OF
    score = categorical(rng, S.SCORE_PROBS, size=n).astype(np.int16)
    band = np.where(score >= 9, 2, np.where(score >= 7, 1, 0))
    band = np.where(responds, band, 3).astype(np.int8)
    # churn for eligible buyers; a plain draw for everyone keeps the stream simple
    logit = (S.CHURN_INTERCEPT
             + np.log([S.CHURN_OR["finance_type"][f] for f in S.FINANCE_TYPES])[finance]
             + np.log([S.CHURN_OR["condition"][c] for c in S.CONDITIONS])[condition]
             + np.log([S.CHURN_OR["satisfaction"][s] for s in S.SATISFACTION])[band])
    churn_draw = rng.random(n) < 1 / (1 + np.exp(-logit))
    eligible = bought & (purchase <= S.CHURN_CUTOFF)
    return {"condition": condition.astype(np.int8), "finance": finance.astype(np.int8), "model": model.astype(np.int8),
            "price": price, "trade_in": trade_in, "sale_dealer": sale_dealer.astype(np.int16),
            "responds": responds, "responded_at": np.where(responds, responded_at, -1),
            "score": score, "band": band, "churn_eligible": eligible, "churned": eligible & churn_draw,
            "churn_draw": churn_draw}


def business_hours(rng, t: np.ndarray, tz: np.ndarray) -> np.ndarray:
    """Move instants to a random minute between 07:00 and 17:59 local on their local day."""
    wall = t + offsets(t, tz)
    day = wall - wall % S.DAY
    minute = rng.integers(7 * 60, 18 * 60, t.size)
    return local_to_utc(day + minute * 60, tz)


def service_visits(rng, people: People) -> dict:
    """Service visits consistent with each buyer's churn label."""
    buyers = np.flatnonzero(people.bought)
    purchase = people.purchase[buyers]
    churned = people.churned[buyers]
    eligible = people.churn_eligible[buyers]
    tz = S.DEALER_TZ[people.sale_dealer[buyers]]
    shape, mean = S.SERVICE_GAP_DAYS
    k = 14
    gaps = rng.gamma(shape, mean / shape, (buyers.size, k)) * S.DAY
    gaps[:, 0] = np.maximum(gaps[:, 0], 10 * S.DAY)
    times = purchase[:, None] + np.cumsum(gaps, axis=1).astype(np.int64)
    # churned buyers stop coming some time before the churn window
    stop = purchase + (rng.random(buyers.size) * np.maximum(S.CHURN_CUTOFF - 2 * S.DAY - purchase, 0)).astype(np.int64)
    end = np.where(churned, np.minimum(stop, S.CHURN_CUTOFF - 2 * S.DAY), S.AS_OF - 2 * S.DAY)
    keep = times < end[:, None]
    rows, cols = np.nonzero(keep)
    person = buyers[rows]
    t = business_hours(rng, times[rows, cols], tz[rows])
    # business hours may move a visit by a day: re-check the label's constraints
    ok = (t > people.purchase[person] + 2 * S.DAY) & (t <= S.AS_OF - S.DAY)
    ok &= ~people.churned[person] | (t <= S.CHURN_CUTOFF - S.DAY)
    person, t = person[ok], t[ok]
    # retained eligible buyers have at least one visit inside the last 365 days
    recent = np.zeros(len(people), bool)
    recent[person[t > S.CHURN_CUTOFF + S.DAY]] = True
    need = buyers[eligible & ~churned & ~recent[buyers]]
    extra = S.CHURN_CUTOFF + 2 * S.DAY + (rng.random(need.size) * (S.AS_OF - S.CHURN_CUTOFF - 5 * S.DAY)).astype(np.int64)
    extra = business_hours(rng, extra, S.DEALER_TZ[people.sale_dealer[need]])
    person = np.concatenate([person, need])
    t = np.concatenate([t, extra])
    order = np.lexsort((t, person))
    person, t = person[order], t[order]
    n = person.size
    dealer = np.where(rng.random(n) < 0.92, people.sale_dealer[person], categorical(rng, S.DEALER_WEIGHTS, size=n))
    # a visit is opened at a dealer: business hours at that dealer may differ by an hour or two; keep instants
    years = (t - people.purchase[person]) / S.DAY / S.YEAR_DAYS
    base_miles = np.where(people.condition[person] == 0, 10, np.where(people.condition[person] == 1, 38_000, 24_000))
    mileage = np.round(base_miles + years * rng.normal(12_500, 2_500, n).clip(3_000)).astype(np.int64)
    pay = categorical(rng, np.array([.70, .25, .05]), size=n)
    amount = np.round(rng.lognormal(5.4, 0.8, n), 2)
    amount = np.where(pay == 2, 0.0, amount)
    # the drawn visit times (and stop times) continue past the as-of date: truth.json `future`
    return {"person": person, "t": t, "dealer": dealer.astype(np.int16), "mileage": mileage, "pay": pay,
            "amount": amount, "drawn": {"buyers": buyers, "times": times, "stop": np.where(churned, end, -1)}}
