"""The planted recent shift (parameters in _spec.py, SHIFT_*), applied to the clean events at the end.

Deterministic (no random draws), so the rest of the sample is identical with and without it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

from journeylib.sample import _spec as S
from journeylib.sample._events import WEB_CHANNELS, Events
from journeylib.sample._people import People


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(int(seconds), tz=timezone.utc)


def shift_month(as_of: int = S.AS_OF, horizon_days: int = S.SHIFT_HORIZON_DAYS) -> tuple[int, int, str]:
    """(start, end, 'YYYY-MM') of the latest month whose last day + horizon is on or before the as-of date."""
    day = _utc(as_of).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=horizon_days)
    start = day.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    if following - timedelta(days=1) > day:  # the month holding `day` is not over: take the one before
        following, start = start, (start - timedelta(days=1)).replace(day=1)
    return int(start.timestamp()), int(following.timestamp()), f"{start:%Y-%m}"


def _months_before(start: int, months: int) -> int:
    moment = _utc(start)
    for _ in range(months):
        moment = (moment - timedelta(days=1)).replace(day=1)
    return int(moment.timestamp())


def _reached_consideration(people: People, ev: Events, persons: np.ndarray, horizon: int) -> np.ndarray:
    """Per person: a consideration- or purchase-stage event, or a purchase, within the horizon."""
    stage = S.STAGE_OF_EVENT[ev.etype]
    ft = people.first_touch
    rows = np.isin(ev.person, persons) & np.isin(stage, (2, 3)) & (ev.t - ft[ev.person] <= horizon)
    reached = np.zeros(len(people), bool)
    reached[ev.person[rows]] = True
    reached |= people.bought & (people.purchase - ft <= horizon)
    return reached[persons]


def plant_shift(people: People, ev: Events) -> dict:
    """Apply the shift in place; return its truth (the realised rates with and without it)."""
    horizon = S.SHIFT_HORIZON_DAYS * S.DAY
    start, end, month = shift_month()
    dealer = S.DEALER_IDS.index(S.SHIFT_DEALER)
    ft = people.first_touch
    at_dealer = people.dealer == dealer
    cohort = np.flatnonzero(at_dealer & (ft >= start) & (ft < end))
    stage = S.STAGE_OF_EVENT[ev.etype]
    first_rows = (ev.source == 0) & (ev.t == ft[ev.person])
    awareness_first = np.zeros(len(people), bool)
    awareness_first[ev.person[first_rows & (stage == 1)]] = True
    bought_in_time = people.bought & (people.purchase - ft <= horizon)
    planted = cohort[awareness_first[cohort] & ~bought_in_time[cohort]]
    without = _reached_consideration(people, ev, cohort, horizon)

    rows = np.flatnonzero(np.isin(ev.person, planted) & np.isin(stage, (2, 3)) & (ev.t - ft[ev.person] <= horizon))
    ev.etype[rows] = S.EV["site_visit"]
    off_web = rows[~np.isin(ev.channel[rows], WEB_CHANNELS)]
    ev.channel[off_web] = S.CH["website"]
    drove = planted[(people.test_drive[planted] >= 0) & (people.test_drive[planted] - ft[planted] <= horizon)]
    people.test_drive[drove] = -1
    with_shift = _reached_consideration(people, ev, cohort, horizon)

    base_start = _months_before(start, S.SHIFT_BASELINE_MONTHS)
    baseline = np.flatnonzero(at_dealer & (ft >= base_start) & (ft < start))
    base_rate = _reached_consideration(people, ev, baseline, horizon)
    rate = (lambda flags: round(float(flags.mean()), 4) if flags.size else None)
    return {
        "planted": True, "dealer_id": S.SHIFT_DEALER, "measure": S.SHIFT_MEASURE, "period": month,
        "horizon_days": S.SHIFT_HORIZON_DAYS, "leads": int(cohort.size), "leads_changed": int(planted.size),
        "events_changed": int(rows.size), "test_drives_removed": int(drove.size),
        "rate_without_shift": rate(without), "rate_with_shift": rate(with_shift),
        "effect": round(float(with_shift.mean() - without.mean()), 4) if cohort.size else None,
        "baseline_months": S.SHIFT_BASELINE_MONTHS, "baseline_leads": int(baseline.size),
        "baseline_rate": rate(base_rate),
    }
