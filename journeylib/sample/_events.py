"""The clean touchpoint log: journey events before the purchase, the test drive,
purchase-stage events, and retention/advocacy events after it (plus a few
retention/advocacy events before any purchase, which must not advance a journey).
"""

from __future__ import annotations

import numpy as np

from journeylib.sample import _spec as S
from journeylib.sample._people import People, _per_persona, categorical

N_EVENTS = len(S.EVENT_TYPES)
WEB_CHANNELS = np.array([S.CH[c] for c in ("website", "search", "social", "display", "third_party")])
CAMPAIGNS = ["spring_event_2023", "summer_clearance_2023", "year_end_2023", "spring_event_2024",
             "summer_clearance_2024", "year_end_2024", "ev_launch_2025", "spring_event_2025",
             "year_end_2025", "spring_event_2026", "loyalty_newsletter", "conquest_retargeting"]
CAMPAIGN_EVENTS = np.isin(np.arange(N_EVENTS), [S.EV[e] for e in ("ad_click", "video_view", "social_engagement",
                                                                    "email_reply", "service_reminder")])
MODEL_EVENTS = np.isin(np.arange(N_EVENTS), [S.EV[e] for e in ("vdp_view", "build_and_price", "compare_models",
                                                                 "test_drive", "quote_sent", "deposit")])


def _event_table(mapping_by_persona: dict, names: list) -> np.ndarray:
    codes = [S.EV[e] for e in names]
    table = np.zeros((len(S.PERSONAS), N_EVENTS))
    for i, persona in enumerate(S.PERSONAS):
        table[i, codes] = mapping_by_persona[persona]
    return table / table.sum(axis=1, keepdims=True)


AWARE_TABLE = _event_table(S.AWARENESS_MIX, S.AWARENESS)
CONSIDER_TABLE = _event_table(S.CONSIDERATION_MIX, S.CONSIDERATION)
FIRST_TABLE = np.vstack([S.probs({S.EV[e]: p for e, p in S.FIRST_TOUCH_EVENT.get(c, {"site_visit": 1}).items()},
                                 list(range(N_EVENTS))) for c in S.CH])
# channel by event type; one extra row: ad clicks of social browsers
CHANNEL_TABLE = np.vstack([S.probs(S.EVENT_CHANNEL[e], list(S.CH)) for e in S.EVENT_TYPES]
                          + [S.probs(S.AD_CLICK_CHANNEL_SOCIAL, list(S.CH))])


class Events:
    def __init__(self, **columns):
        self.__dict__.update(columns)

    def __len__(self):
        return len(self.t)


def _truncated_exponential(rng, mean_days, window):
    """Offsets (seconds) from a truncated exponential on (0, window)."""
    m = mean_days * S.DAY
    u = rng.random(len(window))
    return -m * np.log1p(-u * (1 - np.exp(-window / m)))


def journey_events(rng, people: People, visits: dict, consistent: bool = False) -> Events:
    """The journey events. `consistent`: an open lead's are written from its drawn purchase time as a buyer's
    are (spread up to it; a credit application or deposit shortly before it) and cut at the as-of date, so
    what the export shows at the as-of date is linked to the future as the past's events are to the past's
    purchases (docs/sample.md, "The future"). The default spreads them up to the as-of date instead."""
    n_people = len(people)
    persona = people.persona
    ft = people.first_touch
    target = np.where(people.bought, people.purchase, people.later_purchase if consistent else S.AS_OF)
    end = target - 60
    window = np.maximum(end - ft, 61).astype(float)

    # --- before the purchase: awareness then consideration, the first touch first
    count = 1 + rng.poisson(_per_persona(S.PRE_EVENTS_MEAN)[persona])
    person = np.repeat(np.arange(n_people), count)
    starts = np.cumsum(count) - count
    pos = np.arange(person.size) - np.repeat(starts, count)
    off = _truncated_exponential(rng, _per_persona(S.PRE_EVENTS_SPREAD_DAYS)[persona][person], window[person])
    off = np.clip(np.round(off), 60, window[person] - 1).astype(np.int64)
    off[pos == 0] = 0
    order = np.argsort((person.astype(np.int64) << 28) | off, kind="stable")
    off = off[order]
    t = ft[person] + off
    share = _per_persona(S.AWARENESS_SHARE)[persona][person]
    browse_only = rng.random(n_people) < _per_persona(S.AWARENESS_ONLY)[persona]
    awareness = (pos < np.ceil(share * count[person])) | browse_only[person]
    etype = np.where(awareness, categorical(rng, AWARE_TABLE, persona[person]),
                     categorical(rng, CONSIDER_TABLE, persona[person]))
    first = pos == 0
    chan_first = np.asarray(people.channel_code)[person]
    etype = np.where(first, categorical(rng, FIRST_TABLE, chan_first), etype).astype(np.int16)
    group = np.where((etype == S.EV["ad_click"]) & (persona[person] == S.PERSONAS.index("social_browser")),
                     N_EVENTS, etype)
    channel = np.where(first, chan_first, categorical(rng, CHANNEL_TABLE, group)).astype(np.int16)
    if consistent:  # what happens by the as-of date only (the first touch always does)
        seen = t <= S.AS_OF - 60
        person, t, etype, channel = person[seen], t[seen], etype[seen], channel[seen]

    # anonymous web browsing before the visitor identified themselves (linked by a cookie)
    cookie_person = rng.random(n_people) < np.where(persona == S.PERSONAS.index("walk_in_decider"), 0.05, 0.35)
    web = np.isin(channel, WEB_CHANNELS) & cookie_person[person]
    web_rows = np.flatnonzero(web)
    last_web = web_rows[np.r_[person[web_rows][1:] != person[web_rows][:-1], True]] if web_rows.size else web_rows
    link = np.zeros(person.size, bool)
    link[last_web] = True
    has_link = np.zeros(n_people, bool)
    has_link[person[last_web]] = True
    anonymous = web & ~link & (rng.random(person.size) < 0.7)
    carries_cookie = link | anonymous | (web & (rng.random(person.size) < 0.3))
    parts = [dict(person=person, t=t, etype=etype, channel=channel, anonymous=anonymous, cookie=carries_cookie,
                  source=np.zeros(person.size, np.int8))]

    def add(p, when, etypes, source):
        p = np.asarray(p, np.int64)
        etypes = np.broadcast_to(np.asarray(etypes, np.int16), p.shape).copy()
        group = np.where((etypes == S.EV["ad_click"]) & (persona[p] == S.PERSONAS.index("social_browser")),
                         N_EVENTS, etypes)
        parts.append(dict(person=p, t=np.asarray(when, np.int64), etype=etypes,
                          channel=categorical(rng, CHANNEL_TABLE, group).astype(np.int16),
                          anonymous=np.zeros(p.size, bool), cookie=np.zeros(p.size, bool),
                          source=np.full(p.size, source, np.int8)))

    # --- the test drive (simulated time) and purchase-stage events
    td = np.flatnonzero(people.test_drive >= 0)
    add(td, people.test_drive[td], S.EV["test_drive"], 1)
    buyers = np.flatnonzero(people.bought)
    # the steps just before a purchase: the buyers' (and, consistent, the future buyers' up to the as-of date)
    steps = np.arange(n_people) if consistent else buyers
    span = target[steps] - ft[steps]
    financed = people.finance[steps] != S.FINANCE_TYPES.index("cash")
    sel = financed & (rng.random(steps.size) < 0.6)
    when = ft[steps] + np.maximum((span * rng.uniform(0.85, 0.99, steps.size)).astype(np.int64), 30)
    sel &= when <= S.AS_OF - 60
    add(steps[sel], when[sel], S.EV["credit_application"], 2)
    sel = rng.random(steps.size) < 0.3
    when = ft[steps] + np.maximum((span * rng.uniform(0.90, 0.995, steps.size)).astype(np.int64), 30)
    sel &= when <= S.AS_OF - 60
    add(steps[sel], when[sel], S.EV["deposit"], 2)
    # a credit application with no sale after it: a lead who does not buy (consistent: not within a year)
    no_sale = ~people.bought
    if consistent:
        no_sale &= people.later_purchase > S.AS_OF + 365 * S.DAY
    never = np.flatnonzero(no_sale & (rng.random(n_people) < 0.03))
    when = ft[never] + np.maximum((window[never] * rng.uniform(0.3, 0.9, never.size)).astype(np.int64), 30)
    if consistent:
        never, when = never[when <= S.AS_OF - 60], when[when <= S.AS_OF - 60]
    add(never, when, S.EV["credit_application"], 2)

    # --- after the purchase: reminders and appointments around service visits, loyalty, reviews, shares
    vp, vt = visits["person"], visits["t"]
    sel = rng.random(vp.size) < 0.5
    when = vt - (rng.uniform(5, 14, vp.size) * S.DAY).astype(np.int64)
    sel &= when > people.purchase[vp] + S.DAY
    add(vp[sel], when[sel], S.EV["service_reminder"], 3)
    sel = rng.random(vp.size) < 0.3
    when = vt - (rng.uniform(1, 5, vp.size) * S.DAY).astype(np.int64)
    sel &= when > people.purchase[vp] + S.DAY
    add(vp[sel], when[sel], S.EV["service_appointment"], 3)
    p = people.purchase[buyers]
    band = people.band[buyers]
    for event, probability, days in (
        ("loyalty_signup", np.full(4, 0.25), (1, 60)),
        ("review_posted", np.array([0.25, 0.12, 0.35, 0.12]), (2, 90)),
        ("social_share", np.array([0.07, 0.07, 0.25, 0.07]), (1, 120)),
    ):
        when = p + (rng.uniform(*days, buyers.size) * S.DAY).astype(np.int64)
        sel = (rng.random(buyers.size) < probability[band]) & (when <= S.AS_OF - S.DAY)
        add(buyers[sel], when[sel], S.EV[event], 3)

    # --- a few retention/advocacy events before any purchase (they must not count)
    early = np.flatnonzero(rng.random(n_people) < 0.015)
    when = ft[early] + np.maximum((window[early] * rng.uniform(0.2, 0.9, early.size)).astype(np.int64), 30)
    kinds = np.array([S.EV[e] for e in ("service_reminder", "loyalty_signup", "review_posted", "social_share")])
    kinds = kinds[rng.integers(0, 4, early.size)]
    if consistent:
        seen = when <= S.AS_OF - 60
        early, when, kinds = early[seen], when[seen], kinds[seen]
    add(early, when, kinds, 4)

    columns = {k: np.concatenate([part[k] for part in parts]) for k in parts[0]}
    ev = Events(**columns)
    ev.has_cookie_link = has_link
    ev.dealer, ev.campaign, ev.model = _attributes(rng, people, ev)
    return ev


def _attributes(rng, people: People, ev: Events):
    n = len(ev)
    web = np.isin(ev.channel, WEB_CHANNELS)
    dealer = np.where(~web | (rng.random(n) < 0.75), people.dealer[ev.person], -1).astype(np.int16)
    campaign = np.where(CAMPAIGN_EVENTS[ev.etype] & (rng.random(n) < 0.8),
                        rng.integers(0, len(CAMPAIGNS), n), -1).astype(np.int16)
    model = np.where(MODEL_EVENTS[ev.etype], people.interest_model[ev.person], -1).astype(np.int16)
    return dealer, campaign, model


def funnel(people: People, ev: Events, visits: dict, referrals: dict) -> dict:
    """Persons reaching each stage under the contract's journey semantics (clean events only)."""
    n = len(people)
    first_purchase = np.where(people.bought, people.purchase, np.iinfo(np.int64).max)
    stage = S.STAGE_OF_EVENT[ev.etype]
    counts = (stage <= 3) | (ev.t > first_purchase[ev.person])
    furthest = np.zeros(n, np.int8)
    np.maximum.at(furthest, ev.person[counts], stage[counts])
    buyers = np.flatnonzero(people.bought)
    furthest[buyers] = np.maximum(furthest[buyers], 3)
    vp = visits["person"]
    ok = visits["t"] > first_purchase[vp]
    np.maximum.at(furthest, vp[ok], 4)
    rp = referrals["referrer"]
    ok = referrals["at"] > first_purchase[rp]
    np.maximum.at(furthest, rp[ok], 5)
    return {stage_name: int((furthest >= i + 1).sum()) for i, stage_name in enumerate(S.EVENT_STAGES)}
