"""The default channel and event-type taxonomy of the data contract.

Raw labels are normalised (trimmed, case-folded, every run of separators or
other non-alphanumeric characters turned into one underscore) and then looked
up. The same normalisation runs inside the engine in `journeylib.prepare`;
`normalise_label` is its plain-Python twin, used for the lookup keys and tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from journeylib.vocabulary import STAGES, UNKNOWN

NORMALISE_PATTERN = r"[^0-9a-z]+"

CHANNELS = (
    "website", "search", "social", "display", "email", "sms", "third_party",
    "phone", "chat", "walk_in", "referral", "other",
)

CHANNEL_SYNONYMS = {
    "website": ["website", "dealer website", "dealer-site", "dealer site", "oem site", "oem website", "www", "web"],
    "search": ["search", "google ads", "google", "bing", "paid search", "organic search", "sem", "seo", "ppc"],
    "social": ["social", "facebook", "fb", "instagram", "ig", "tiktok", "social media"],
    "display": ["display", "banner", "programmatic", "youtube"],
    "email": ["email", "e-mail", "newsletter"],
    "sms": ["sms", "text", "text message"],
    "third_party": ["third party", "autotrader", "cars.com", "cargurus", "truecar", "edmunds", "kbb"],
    "phone": ["phone", "call", "inbound call", "outbound call", "telephone"],
    "chat": ["chat", "live chat", "web chat"],
    "walk_in": ["walk-in", "walk in", "showroom"],
    "referral": ["referral", "friend", "referred", "word of mouth"],
    "other": ["other"],
}

EVENT_STAGES = {
    "awareness": ["ad_click", "site_visit", "social_engagement", "review_read", "video_view"],
    "consideration": [
        "srp_view", "vdp_view", "build_and_price", "compare_models", "trade_in_estimate",
        "finance_calculator", "lead_form", "chat", "phone_call", "email_reply",
        "appointment_set", "showroom_visit", "test_drive", "quote_sent",
    ],
    "purchase": ["credit_application", "deposit", "purchase"],
    "retention": ["service_reminder", "service_appointment", "service_visit", "loyalty_signup"],
    "advocacy": ["review_posted", "social_share", "referral_made"],
}

EVENT_SYNONYMS = {
    "ad_click": ["ad click", "ad clicked", "click", "paid click"],
    "site_visit": ["site visit", "page view", "pageview", "web visit", "visit", "session start"],
    "social_engagement": ["social engagement", "social like", "social comment", "like"],
    "review_read": ["review read", "read review", "reviews viewed"],
    "video_view": ["video view", "video watch", "video play"],
    "srp_view": ["srp view", "srp", "search results page", "search results", "inventory search"],
    "vdp_view": ["vdp view", "vdp", "vehicle detail page", "vehicle details page", "vehicle details"],
    "build_and_price": ["build and price", "build & price", "build price", "configurator"],
    "compare_models": ["compare models", "compare", "model comparison"],
    "trade_in_estimate": ["trade in estimate", "trade-in", "trade in value", "trade-in appraisal"],
    "finance_calculator": ["finance calculator", "payment calculator", "loan calculator"],
    "lead_form": ["lead form", "form submit", "lead", "contact form", "form submission"],
    "chat": ["chat", "chat started", "live chat"],
    "phone_call": ["phone call", "call", "inbound call", "outbound call"],
    "email_reply": ["email reply", "email response", "email replied"],
    "appointment_set": ["appointment set", "appointment", "appointment booked"],
    "showroom_visit": ["showroom visit", "dealer visit", "walk in", "walk-in"],
    "test_drive": ["test drive", "testdrive", "test drove"],
    "quote_sent": ["quote sent", "quote", "price quote"],
    "credit_application": ["credit application", "credit app", "finance application"],
    "deposit": ["deposit", "deposit paid"],
    "purchase": ["purchase", "sale", "sold"],
    "service_reminder": ["service reminder"],
    "service_appointment": ["service appointment", "service booking"],
    "service_visit": ["service visit", "repair order"],
    "loyalty_signup": ["loyalty signup", "loyalty sign up", "loyalty"],
    "review_posted": ["review posted", "posted review", "review"],
    "social_share": ["social share", "share"],
    "referral_made": ["referral made", "referral"],
}


def normalise_label(value: str | None) -> str | None:
    """Trim, case-fold and unify separators: ' Test-Drive ' -> 'test_drive'."""
    if value is None:
        return None
    return re.sub(NORMALISE_PATTERN, "_", str(value).strip().lower()).strip("_")


def _lookup(synonyms: dict[str, list[str]]) -> dict[str, str]:
    table: dict[str, str] = {}
    for canonical, raws in synonyms.items():
        table[normalise_label(canonical)] = canonical
        for raw in raws:
            table[normalise_label(raw)] = canonical
    return table


@dataclass
class Taxonomy:
    """Lookups from normalised raw labels to canonical values, and event -> stage."""

    channel_lookup: dict[str, str] = field(default_factory=lambda: _lookup(CHANNEL_SYNONYMS))
    event_lookup: dict[str, str] = field(default_factory=lambda: _lookup(EVENT_SYNONYMS))
    event_stage: dict[str, str] = field(
        default_factory=lambda: {e: s for s, events in EVENT_STAGES.items() for e in events}
    )

    def with_overrides(self, channels=None, event_types=None, stages=None) -> "Taxonomy":
        """A copy with configured synonyms ({raw: canonical}) and stages ({event_type: stage})."""
        channel_lookup = dict(self.channel_lookup)
        event_lookup = dict(self.event_lookup)
        event_stage = dict(self.event_stage)
        for kind, synonyms, lookup in (("channels", channels, channel_lookup),
                                       ("event_types", event_types, event_lookup)):
            given = {}  # normalised spelling -> the configured raw spelling
            for raw, canonical in (synonyms or {}).items():
                key = normalise_label(raw)
                if key in given and lookup[key] != canonical:  # 'Cars.com' and 'cars com' are one spelling
                    raise ValueError(f"taxonomy: {kind}: {given[key]!r} and {raw!r} are the same spelling once "
                                     f"normalised ({key!r}) but map to {lookup[key]!r} and {canonical!r}")
                given[key] = raw
                lookup[key] = canonical
                lookup.setdefault(normalise_label(canonical), canonical)
        for event_type, stage in (stages or {}).items():
            if stage not in STAGES:
                raise ValueError(f"taxonomy: stage {stage!r} for event type {event_type!r} is not one of {STAGES}")
            event_stage[event_type] = stage
        for canonical in set(event_lookup.values()):
            if canonical not in event_stage:
                raise ValueError(f"taxonomy: event type {canonical!r} has no stage; add it under taxonomy.stages")
        return Taxonomy(channel_lookup, event_lookup, event_stage)

    def channel(self, raw: str | None) -> str:
        return self.channel_lookup.get(normalise_label(raw), UNKNOWN)

    def event_type(self, raw: str | None) -> str:
        return self.event_lookup.get(normalise_label(raw), UNKNOWN)

    def stage(self, event_type: str) -> str | None:
        return self.event_stage.get(event_type)


def normalise_pattern(pattern: str) -> str:
    """A shell-style pattern normalised like a label, its wildcards kept: ' T07* ' -> 't07*', '*Advice*' -> '*advice*'."""
    parts = re.split(r"([*?])", str(pattern).strip().lower())
    out = "".join(part if part in ("*", "?") else re.sub(NORMALISE_PATTERN, "_", part) for part in parts)
    return out.strip("_")


def is_pattern(key: str) -> bool:
    """Whether a taxonomy key or configured event name is a shell-style pattern (holds * or ?)."""
    return any(ch in str(key) for ch in "*?")


def matches_any(label: str | None, patterns) -> bool:
    """Whether a canonical label matches any of the shell-style `patterns` (both normalised first)."""
    from fnmatch import fnmatchcase

    if label is None:
        return False
    value = normalise_label(label)
    return any(fnmatchcase(value, normalise_pattern(p)) for p in patterns)
