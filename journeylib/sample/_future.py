"""What happens after the as-of date (truth.json `future`): the check for forward-looking lists.

The generator already draws every lead's purchase time, also past the as-of date
(a lead "bought" only when that time is on or before it), and every buyer's
service-visit times as a renewal process that the exports cut at the as-of date.
The future continues those same draws; what still has to be drawn (business-hour
jitter, extra gaps, pay type and amount of the future visits, when a recent buyer
who is going to lapse stops coming) comes from its own stream
`np.random.default_rng([seed, STREAM])`, so the exports and every other truth key
keep their bytes. See docs/sample.md ("The future").
"""

from __future__ import annotations

import numpy as np

from journeylib.sample import _spec as S
from journeylib.sample._people import People, business_hours, categorical

STREAM = 24                 # the future's own random stream: np.random.default_rng([seed, STREAM])
PURCHASE_DAYS = (30, 90)    # purchase windows after the as-of date
SERVICE_DAYS = 365          # service window after the as-of date


def future(seed: int, people: People, visits: dict, ids) -> dict:
    """The `future` section: purchases of the open leads, service of the buyers, by raw customer id.

    `ids[i]` is person i's raw customer id (their first record: the id `journey prepare` keeps).
    """
    rng = np.random.default_rng([seed, STREAM])
    ids = np.asarray(ids.to_pylist() if hasattr(ids, "to_pylist") else ids, dtype=object)
    n = len(people)
    open_lead = ~people.bought
    later = people.later_purchase
    purchases, hazard = {}, {}
    leads = np.flatnonzero(open_lead)
    chances = chance(people, leads, np.array(PURCHASE_DAYS, float))
    for j, days in enumerate(PURCHASE_DAYS):
        within = open_lead & (later >= 0) & (later <= S.AS_OF + days * S.DAY)
        purchases[f"purchases_{days}d"] = sorted(ids[np.flatnonzero(within)].tolist())
        # the true hazard's own chance of it: what the facts other than the journey events are worth
        hazard[f"hazard_expected_{days}d"] = round(float(chances[:, j].sum()), 1)
        hazard[f"hazard_auc_{days}d"] = None if not leads.size else _auc(chances[:, j], within[leads])
    visits_n, pay = _service(rng, people, visits["drawn"])
    buyers = np.flatnonzero(people.bought)
    return {
        "stream": STREAM,
        "purchase_windows_days": list(PURCHASE_DAYS),
        "open_leads": int(open_lead[:n].sum()),
        **purchases,
        **hazard,
        "service_window_days": SERVICE_DAYS,
        "buyers": int(buyers.size),
        "service_visits_12m": int(visits_n.sum()),
        "customer_pay_12m": round(float(pay.sum()), 2),
        # per buyer (raw id): [visits, customer-pay amount] in the 12 months after the as-of date
        "service_12m": {ids[p]: [int(visits_n[p]), round(float(pay[p]), 2)] for p in buyers},
    }


def _service(rng, people: People, drawn: dict) -> tuple[np.ndarray, np.ndarray]:
    """Visits and customer-pay amount per person in the service window, continuing each buyer's renewal process.

    Churned buyers (no visit in the last year) stay away. A recent buyer (not yet labelled) whose churn draw
    says they lapse stops at a random moment within a year of their purchase. Everyone else keeps coming at the
    drawn gaps (more gaps are drawn where the drawn ones run out).
    """
    buyers, times = drawn["buyers"], drawn["times"].astype(np.float64)
    end = S.AS_OF + SERVICE_DAYS * S.DAY
    shape, mean = S.SERVICE_GAP_DAYS
    while buyers.size and times[:, -1].min() <= end:
        more = rng.gamma(shape, mean / shape, (buyers.size, 4)) * S.DAY
        times = np.hstack([times, times[:, -1:] + np.cumsum(more, axis=1)])
    purchase = people.purchase[buyers]
    stop = np.full(buyers.size, np.inf)
    stop[people.churned[buyers]] = -np.inf
    lapses = ~people.churn_eligible[buyers] & people.churn_draw[buyers]
    year_after = np.maximum(purchase + 365 * S.DAY - S.AS_OF, 0)
    stop[lapses] = S.AS_OF + rng.random(int(lapses.sum())) * year_after[lapses]
    keep = (times > S.AS_OF) & (times <= end + 2 * S.DAY) & (times < stop[:, None])
    rows, cols = np.nonzero(keep)
    person = buyers[rows]
    t = business_hours(rng, times[rows, cols].astype(np.int64), S.DEALER_TZ[people.sale_dealer[person]])
    ok = (t > S.AS_OF) & (t <= end)
    person = person[ok]
    pay_type = categorical(rng, np.array([.70, .25, .05]), size=person.size)
    amount = np.round(rng.lognormal(5.4, 0.8, person.size), 2)
    customer_pay = np.where(pay_type == 0, amount, 0.0)
    n = len(people)
    return np.bincount(person, minlength=n), np.bincount(person, weights=customer_pay, minlength=n)


def chance(people: People, who: np.ndarray, days: np.ndarray) -> np.ndarray:
    """P(purchase within `days` of the as-of date | open at it) under the true hazard (`_people._purchase`),
    given the persona, the channel, the test drive so far and the lead's age (rows: leads `who`; columns: days).

    The rate is the channel's, times TEST_DRIVE_HR after a test drive; a lead with none yet may still take one:
    with the persona's chance, discounted by its having not come in the lead's age, after an exponential delay
    (memoryless, so from the as-of date on as from the first touch).
    """
    from journeylib.sample._people import CHANNEL_HR, _per_persona

    t = np.asarray(days, float)[None, :]
    rate = (S.BASE_HAZARD_PER_DAY * CHANNEL_HR[people.channel[who]])[:, None]
    after = rate * S.TEST_DRIVE_HR
    drove = (people.test_drive[who] >= 0)[:, None]
    persona = people.persona[who]
    will = _per_persona(S.TEST_DRIVE_PROBABILITY)[persona]
    nu = 1 / _per_persona(S.TEST_DRIVE_DELAY_DAYS)[persona]
    age = (S.AS_OF - people.first_touch[who]) / S.DAY
    still = will * np.exp(-nu * age)
    w = (still / (still + 1 - will))[:, None]      # P(a test drive is still to come | none by now)
    nu = nu[:, None]
    k = nu + rate - after                           # > 0: nu >= 1/45 a day, rate * 1.5 <= 0.002
    later_drive = nu * np.exp(-after * t) * -np.expm1(-k * t) / k + np.exp(-(nu + rate) * t)
    survival = np.where(drove, np.exp(-after * t), w * later_drive + (1 - w) * np.exp(-rate * t))
    return 1 - survival


def _auc(score: np.ndarray, outcome: np.ndarray) -> float | None:
    """Area under the ROC curve (ties count half); None on one class."""
    outcome = np.asarray(outcome, bool)
    positives, negatives = int(outcome.sum()), int((~outcome).sum())
    if not positives or not negatives:
        return None
    order = np.argsort(score, kind="stable")
    _, first, counts = np.unique(np.asarray(score)[order], return_index=True, return_counts=True)
    ranks = np.empty(len(score))
    ranks[order] = np.repeat(first + (counts + 1) / 2, counts)
    return round(float((ranks[outcome].sum() - positives * (positives + 1) / 2) / (positives * negatives)), 4)
