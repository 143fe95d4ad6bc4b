"""The synthetic world: dealers, personas, channel and event mixes, and the TRUE effects.

Everything the generator draws from lives here, as plain data, so the page
`docs/sample.md` and `truth.json` can be checked against one place.
"""

from __future__ import annotations

import numpy as np

from journeylib.taxonomy import CHANNELS, EVENT_STAGES

# --- calendar (seconds since the Unix epoch, UTC) --------------------------------------
DAY = 86_400
YEAR_DAYS = 365.25
START = 1_672_531_200            # 2023-01-01T00:00:00Z: first touches of the first leads
AS_OF = 1_782_863_940            # 2026-06-30T23:59:00Z: the latest valid timestamp written
AS_OF_ISO = "2026-06-30T23:59:00Z"
CHURN_AFTER_DAYS = 365
CHURN_CUTOFF = AS_OF - CHURN_AFTER_DAYS * DAY   # a visit after this counts as "came back"
DEFAULT_TIMEZONE = "America/Chicago"
INTERNAL_DOMAIN = "autogroup-internal.com"

# --- dealers -----------------------------------------------------------------------------
DEALERS = [
    # dealer_id, name, region, timezone, area code, postal prefix, weight
    ("D01", "Lakeshore Motors", "Midwest", "America/Chicago", "312", "606", 0.24),
    ("D02", "Hudson Auto Group", "Northeast", "America/New_York", "212", "100", 0.19),
    ("D03", "Front Range Motors", "Mountain", "America/Denver", "303", "802", 0.12),
    ("D04", "Desert Sun Auto", "Southwest", "America/Phoenix", "602", "850", 0.13),
    ("D05", "Pacific Coast Motors", "West", "America/Los_Angeles", "213", "900", 0.19),
    ("D06", "Peachtree Auto Mall", "Southeast", "America/New_York", "404", "303", 0.13),
]
DEALER_IDS = [d[0] for d in DEALERS]
TIMEZONES = sorted({d[3] for d in DEALERS})
DEALER_TZ = np.array([TIMEZONES.index(d[3]) for d in DEALERS], dtype=np.int8)
DEFAULT_TZ_CODE = TIMEZONES.index(DEFAULT_TIMEZONE)
DEALER_WEIGHTS = np.array([d[6] for d in DEALERS])

# --- vocabularies ------------------------------------------------------------------------
CH = {name: i for i, name in enumerate(CHANNELS)}
EVENT_TYPES = [e for events in EVENT_STAGES.values() for e in events]
EV = {name: i for i, name in enumerate(EVENT_TYPES)}
STAGE_OF_EVENT = np.array(
    [i + 1 for i, events in enumerate(EVENT_STAGES.values()) for _ in events], dtype=np.int8
)  # 1 awareness .. 5 advocacy
AWARENESS = EVENT_STAGES["awareness"]
CONSIDERATION = [e for e in EVENT_STAGES["consideration"] if e != "test_drive"]  # test drives are simulated

# --- personas ----------------------------------------------------------------------------
PERSONAS = ["digital_researcher", "walk_in_decider", "deal_hunter", "social_browser"]
PERSONA_SHARES = np.array([0.35, 0.20, 0.25, 0.20])

ACQUISITION_CHANNELS = ["website", "search", "social", "display", "email", "third_party",
                        "phone", "chat", "walk_in", "referral"]
# first-touch channel mix per persona (referral is reserved for referred persons)
ACQUISITION_MIX = {
    "digital_researcher": {"website": .33, "search": .33, "display": .05, "social": .05, "email": .06,
                           "third_party": .10, "chat": .06, "phone": .02},
    "walk_in_decider": {"walk_in": .55, "phone": .28, "website": .10, "search": .05, "email": .02},
    "deal_hunter": {"third_party": .50, "search": .18, "website": .15, "phone": .08, "email": .05, "chat": .04},
    "social_browser": {"social": .58, "display": .25, "search": .10, "website": .05, "chat": .02},
}

# journey events before the purchase: 1 + Poisson(mean) per person, spread after the
# first touch as a truncated exponential with this mean (days); the first share of a
# person's events (in time order) are awareness events, the rest consideration
PRE_EVENTS_MEAN = {"digital_researcher": 13.0, "walk_in_decider": 2.5, "deal_hunter": 10.0, "social_browser": 8.0}
PRE_EVENTS_SPREAD_DAYS = {"digital_researcher": 40.0, "walk_in_decider": 6.0, "deal_hunter": 30.0, "social_browser": 60.0}
AWARENESS_SHARE = {"digital_researcher": 0.35, "walk_in_decider": 0.15, "deal_hunter": 0.30, "social_browser": 0.65}
# some leads never get past browsing: all their events (but an in-person first touch) are awareness events
AWARENESS_ONLY = {"digital_researcher": 0.12, "walk_in_decider": 0.03, "deal_hunter": 0.10, "social_browser": 0.45}

AWARENESS_MIX = {  # ad_click, site_visit, social_engagement, review_read, video_view
    "digital_researcher": [.25, .50, .05, .15, .05],
    "walk_in_decider": [.20, .50, .10, .15, .05],
    "deal_hunter": [.30, .40, .05, .20, .05],
    "social_browser": [.30, .15, .35, .05, .15],
}
CONSIDERATION_MIX = {  # srp, vdp, build&price, compare, trade-in, finance calc, lead form, chat,
    # phone call, email reply, appointment, showroom visit, quote sent
    "digital_researcher": [.15, .30, .12, .12, .03, .04, .05, .04, .03, .04, .03, .02, .03],
    "walk_in_decider": [.05, .10, .02, .02, .08, .05, .03, .02, .20, .05, .10, .20, .08],
    "deal_hunter": [.15, .20, .03, .04, .15, .15, .07, .04, .05, .04, .03, .02, .03],
    "social_browser": [.15, .30, .10, .05, .03, .04, .08, .08, .03, .03, .04, .03, .04],
}
# the first touch's event type, by acquisition channel
FIRST_TOUCH_EVENT = {
    "website": {"site_visit": .7, "vdp_view": .2, "srp_view": .1},
    "search": {"ad_click": .8, "site_visit": .2},
    "social": {"social_engagement": .5, "ad_click": .5},
    "display": {"ad_click": .6, "video_view": .4},
    "email": {"email_reply": 1.0},
    "third_party": {"srp_view": .4, "vdp_view": .4, "lead_form": .2},
    "phone": {"phone_call": 1.0},
    "chat": {"chat": 1.0},
    "walk_in": {"showroom_visit": 1.0},
    "referral": {"showroom_visit": .4, "phone_call": .3, "site_visit": .3},
}
# the channel of later events, by event type (ad clicks depend on the persona)
EVENT_CHANNEL = {
    "ad_click": {"search": .6, "social": .2, "display": .2},
    "site_visit": {"website": .75, "search": .15, "email": .10},
    "social_engagement": {"social": 1.0},
    "review_read": {"website": .4, "third_party": .6},
    "video_view": {"display": .6, "social": .4},
    "srp_view": {"website": .6, "third_party": .4},
    "vdp_view": {"website": .6, "third_party": .4},
    "build_and_price": {"website": 1.0},
    "compare_models": {"website": .7, "third_party": .3},
    "trade_in_estimate": {"website": .5, "third_party": .5},
    "finance_calculator": {"website": .7, "third_party": .3},
    "lead_form": {"website": .6, "third_party": .4},
    "chat": {"chat": 1.0},
    "phone_call": {"phone": 1.0},
    "email_reply": {"email": 1.0},
    "appointment_set": {"phone": .5, "website": .3, "email": .2},
    "showroom_visit": {"walk_in": 1.0},
    "test_drive": {"walk_in": 1.0},
    "quote_sent": {"email": .8, "sms": .2},
    "credit_application": {"website": .5, "walk_in": .5},
    "deposit": {"walk_in": 1.0},
    "purchase": {"walk_in": 1.0},
    "service_reminder": {"email": .6, "sms": .4},
    "service_appointment": {"phone": .5, "website": .5},
    "service_visit": {"walk_in": 1.0},
    "loyalty_signup": {"website": .5, "walk_in": .5},
    "review_posted": {"third_party": .5, "social": .3, "website": .2},
    "social_share": {"social": 1.0},
    "referral_made": {"referral": 1.0},
}
AD_CLICK_CHANNEL_SOCIAL = {"social": .6, "display": .3, "search": .1}

# demographics per persona
BIRTH_YEAR = {"digital_researcher": (1986, 9), "walk_in_decider": (1964, 11),
              "deal_hunter": (1980, 12), "social_browser": (1996, 6)}
INCOME_BANDS = ["<50k", "50-100k", "100-150k", "150k+"]
INCOME_MIX = {"digital_researcher": [.10, .40, .32, .18], "walk_in_decider": [.15, .40, .30, .15],
              "deal_hunter": [.35, .45, .15, .05], "social_browser": [.40, .42, .13, .05]}
TEST_DRIVE_PROBABILITY = {"digital_researcher": .55, "walk_in_decider": .80, "deal_hunter": .55, "social_browser": .30}
TEST_DRIVE_DELAY_DAYS = {"digital_researcher": 25.0, "walk_in_decider": 1.0, "deal_hunter": 20.0, "social_browser": 45.0}

# --- TRUE EFFECTS -------------------------------------------------------------------------
# time to purchase: hazard(t) = BASE_HAZARD * CHANNEL_HR[acquisition channel] * (TEST_DRIVE_HR if
# a test drive happened before t), constant baseline, nothing else.
BASE_HAZARD_PER_DAY = 0.0005
TEST_DRIVE_HR = 2.5
CHANNEL_HR = {"website": 1.0, "search": 1.3, "social": 0.6, "display": 0.7, "email": 1.0,
              "third_party": 1.5, "phone": 1.8, "chat": 1.2, "walk_in": 2.5, "referral": 2.0}
REFERENCE_CHANNEL = "website"

# sales
CONDITIONS = ["new", "used", "cpo"]
FINANCE_TYPES = ["cash", "finance", "lease"]
CONDITION_MIX = {"digital_researcher": [.60, .25, .15], "walk_in_decider": [.55, .30, .15],
                 "deal_hunter": [.30, .50, .20], "social_browser": [.50, .35, .15]}
FINANCE_MIX = {"digital_researcher": [.15, .50, .35], "walk_in_decider": [.35, .50, .15],
               "deal_hunter": [.25, .60, .15], "social_browser": [.10, .55, .35]}
MODELS = [  # model, new price, share
    ("Aurora Sedan", 29_500, .20), ("Summit SUV", 41_000, .22), ("Ridge Pickup", 48_500, .16),
    ("Breeze Hatchback", 23_500, .12), ("Vista Minivan", 39_000, .08), ("Volt-E Crossover", 44_500, .10),
    ("Coupe GT", 52_000, .05), ("Trail Compact SUV", 31_500, .07),
]
CONDITION_PRICE = {"new": 1.0, "used": 0.62, "cpo": 0.80}

# surveys: likelihood-to-recommend scores 0..10
SALES_SURVEY_RESPONSE = 0.60
SCORE_PROBS = np.array([.007, .008, .01, .02, .025, .05, .06, .14, .18, .22, .28])
SERVICE_SCORE_PROBS = np.array([.01, .01, .015, .02, .03, .05, .065, .14, .19, .21, .26])
SERVICE_SURVEY_RESPONSE = 0.22
SATISFACTION = ["detractor", "passive", "promoter", "no_response"]

# service churn: logit P(churned) = CHURN_INTERCEPT + sum log(odds ratio)
CHURN_INTERCEPT = float(np.log(0.22 / 0.78))
CHURN_OR = {
    "finance_type": {"cash": 1.8, "finance": 1.0, "lease": 0.5},
    "condition": {"new": 1.0, "used": 1.8, "cpo": 1.3},
    "satisfaction": {"detractor": 2.5, "passive": 1.0, "promoter": 0.7, "no_response": 1.2},
}
SERVICE_GAP_DAYS = (3.0, 165.0)   # gamma shape, mean gap between service visits

# referrals: NB2 counts, mean = rate * rate ratio * exposure years
REFERRAL_BASE_RATE = 0.15
REFERRAL_DISPERSION = 0.5
REFERRAL_RR = {"detractor": 0.4, "passive": 1.0, "promoter": 3.0, "no_response": 1.0}
REFERRAL_CONVERSION = 0.5


def probs(mapping: dict, names: list) -> np.ndarray:
    """A probability vector over `names` from a {name: weight} mapping."""
    vector = np.array([mapping.get(name, 0.0) for name in names], dtype=float)
    return vector / vector.sum()


def truth_effects() -> dict:
    return {
        "time_to_purchase": {
            "reference_channel": REFERENCE_CHANNEL,
            "baseline_hazard_per_day": BASE_HAZARD_PER_DAY,
            "hazard_ratios": {"test_drive": TEST_DRIVE_HR,
                              **{f"channel:{c}": hr for c, hr in CHANNEL_HR.items() if c != REFERENCE_CHANNEL}},
        },
        "retention": {
            "churn_after_days": CHURN_AFTER_DAYS,
            "reference_levels": {"finance_type": "finance", "condition": "new", "satisfaction": "passive"},
            "baseline_churn_probability": round(float(1 / (1 + np.exp(-CHURN_INTERCEPT))), 6),
            "odds_ratios": {f"{factor}:{level}": ratio for factor, levels in CHURN_OR.items()
                            for level, ratio in levels.items() if ratio != 1.0 or level == "no_response"
                            if level not in ("finance", "new", "passive")},
        },
        "advocacy": {
            "reference_satisfaction": "passive",
            "referral_rate_ratios": {f"satisfaction:{k}": v for k, v in REFERRAL_RR.items() if k != "passive"},
            "base_rate_per_year": REFERRAL_BASE_RATE,
            "dispersion": REFERRAL_DISPERSION,
            "conversion_share": REFERRAL_CONVERSION,
        },
    }

# --- a planted recent shift (notebook 06 must find it; `journey sample --no-shift` leaves it out) -----
# In the latest month whose leads have all had SHIFT_HORIZON_DAYS by the as-of date (March 2026), the
# online leads of SHIFT_DEALER get no follow-up: a lead whose first touch is an awareness event and who
# does not buy within the horizon has every consideration- and purchase-stage event of the horizon
# (test drive included) replaced by a plain site visit, so awareness -> consideration falls.
SHIFT_DEALER = "D01"
SHIFT_MEASURE = "awareness_to_consideration"
SHIFT_HORIZON_DAYS = 90
SHIFT_BASELINE_MONTHS = 6
