"""The default channel and event-type taxonomy of the data contract.

Raw labels are normalised (trimmed, case-folded, every run of separators or
other non-alphanumeric characters turned into one underscore) and then looked
up. The same normalisation runs inside the engine in `journeylib.prepare`;
`normalise_label` is its plain-Python twin, used for the lookup keys and tests.

A configured key may be a shell-style pattern (`t07*`, `*advice*`), normalised
like a label with its wildcards kept. An exact key wins over a pattern, a longer
pattern over a shorter one (then the one configured first). The value `keep`
keeps the normalised raw label as the canonical one instead of `unknown`.
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
    "website": ["website", "dealer website", "dealer-site", "dealer site", "oem site", "oem website", "www", "web",
                "internet", "online", "web lead", "internet lead", "website lead", "manufacturer website",
                "oem lead", "manufacturer lead"],
    "search": ["search", "google ads", "google", "bing", "paid search", "organic search", "sem", "seo", "ppc"],
    "social": ["social", "facebook", "fb", "instagram", "ig", "tiktok", "social media"],
    "display": ["display", "banner", "programmatic", "youtube"],
    "email": ["email", "e-mail", "newsletter", "email campaign", "email blast"],
    "sms": ["sms", "text", "text message", "texting", "mms"],
    "third_party": ["third party", "autotrader", "cars.com", "cargurus", "truecar", "edmunds", "kbb"],
    "phone": ["phone", "call", "inbound call", "outbound call", "telephone", "phone call", "phone up",
              "phone call inbound", "phone call outbound", "inbound phone", "outbound phone", "call center", "bdc"],
    "chat": ["chat", "live chat", "web chat"],
    "walk_in": ["walk-in", "walk in", "showroom", "walk in traffic", "showroom traffic", "floor traffic", "drive by",
                "fresh up", "up"],
    "referral": ["referral", "friend", "referred", "word of mouth", "repeat customer", "previous customer"],
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
    "site_visit": ["site visit", "page view", "pageview", "web visit", "visit", "session start", "website visit",
                   "web site visit", "page visit", "website session", "web session"],
    "social_engagement": ["social engagement", "social like", "social comment", "like"],
    "review_read": ["review read", "read review", "reviews viewed"],
    "video_view": ["video view", "video watch", "video play"],
    "srp_view": ["srp view", "srp", "search results page", "search results", "inventory search"],
    "vdp_view": ["vdp view", "vdp", "vehicle detail page", "vehicle details page", "vehicle details",
                 "vehicle view", "inventory view"],
    "build_and_price": ["build and price", "build & price", "build price", "configurator"],
    "compare_models": ["compare models", "compare", "model comparison"],
    "trade_in_estimate": ["trade in estimate", "trade-in", "trade in value", "trade-in appraisal", "appraisal",
                          "trade appraisal", "value my trade"],
    "finance_calculator": ["finance calculator", "payment calculator", "loan calculator"],
    "lead_form": ["lead form", "form submit", "lead", "contact form", "form submission", "web lead", "internet lead",
                  "online lead", "website lead", "new lead", "lead received", "lead created", "web form",
                  "inquiry", "internet inquiry", "online inquiry", "request info", "request information",
                  "contact us", "third party lead", "oem lead"],
    "chat": ["chat", "chat started", "live chat", "chat session", "chat lead"],
    "phone_call": ["phone call", "call", "inbound call", "outbound call", "phone call inbound",
                   "phone call outbound", "inbound phone call", "outbound phone call", "call inbound",
                   "call outbound", "phone up", "phone", "call made", "call received", "follow up call"],
    "email_reply": ["email reply", "email response", "email replied", "email sent", "email received",
                    "email inbound", "email outbound", "outbound email", "inbound email", "email"],
    "appointment_set": ["appointment set", "appointment", "appointment booked", "appointment scheduled",
                        "sales appointment", "appt set", "appt"],
    "showroom_visit": ["showroom visit", "dealer visit", "walk in", "walk-in", "appointment shown",
                       "appointment show", "appt shown", "shown", "showroom", "store visit", "visit showroom",
                       "fresh up", "up"],
    "test_drive": ["test drive", "testdrive", "test drove", "demo drive", "demo"],
    "quote_sent": ["quote sent", "quote", "price quote", "proposal", "proposal sent", "quote given", "pencil"],
    "credit_application": ["credit application", "credit app", "finance application", "credit app submitted"],
    "deposit": ["deposit", "deposit paid"],
    "purchase": ["purchase", "sale", "sold", "delivered", "delivery", "vehicle sold", "deal closed", "closed won"],
    "service_reminder": ["service reminder"],
    "service_appointment": ["service appointment", "service booking", "service appt"],
    "service_visit": ["service visit", "repair order", "ro opened", "service"],
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


KEEP = "keep"  # the configured value that keeps a label's normalised spelling as its canonical one
SECTIONS = ("channels", "event_types", "stages")


def _best(value: str, patterns) -> str | None:
    """The value of the longest pattern (then the first configured) that `value` matches, else None."""
    from fnmatch import fnmatchcase

    found = [(len(p), -i, target) for i, (p, target) in enumerate(patterns) if fnmatchcase(value, p)]
    return max(found)[2] if found else None


def _resolve(key: str | None, lookup: dict, patterns) -> str | None:
    """A normalised label's canonical value: exact key, else the best pattern, else UNKNOWN (`keep`: itself)."""
    if key is None:
        return None
    target = lookup.get(key)
    if target is None and key:
        target = _best(key, patterns)
    if target is None:
        return UNKNOWN
    return (key or UNKNOWN) if target == KEEP else target


@dataclass
class Taxonomy:
    """Lookups from normalised raw labels to canonical values, and event -> stage; each exact, then by pattern."""

    channel_lookup: dict[str, str] = field(default_factory=lambda: _lookup(CHANNEL_SYNONYMS))
    event_lookup: dict[str, str] = field(default_factory=lambda: _lookup(EVENT_SYNONYMS))
    event_stage: dict[str, str] = field(
        default_factory=lambda: {e: s for s, events in EVENT_STAGES.items() for e in events}
    )
    # (normalised pattern, canonical value or KEEP / stage), in configured order
    channel_patterns: tuple = ()
    event_patterns: tuple = ()
    stage_patterns: tuple = ()

    def with_overrides(self, channels=None, event_types=None, stages=None) -> "Taxonomy":
        """A copy with configured synonyms ({raw or pattern: canonical or keep}) and stages ({event_type or
        pattern: stage})."""
        channel_lookup = dict(self.channel_lookup)
        event_lookup = dict(self.event_lookup)
        event_stage = dict(self.event_stage)
        patterns = {"channels": list(self.channel_patterns), "event_types": list(self.event_patterns),
                    "stages": list(self.stage_patterns)}
        for kind, synonyms, lookup in (("channels", channels, channel_lookup),
                                       ("event_types", event_types, event_lookup)):
            given, given_patterns = {}, {}  # normalised spelling -> the configured raw spelling
            for raw, canonical in (synonyms or {}).items():
                canonical = KEEP if canonical.strip().lower() == KEEP else canonical
                if is_pattern(raw):
                    key = normalise_pattern(raw)
                    if key in given_patterns and given_patterns[key][1] != canonical:
                        raise ValueError(f"taxonomy: {kind}: {given_patterns[key][0]!r} and {raw!r} are the same "
                                         f"pattern once normalised ({key!r}) but map to "
                                         f"{given_patterns[key][1]!r} and {canonical!r}")
                    given_patterns[key] = (raw, canonical)
                    patterns[kind].append((key, canonical))
                    continue
                key = normalise_label(raw)
                if key in given and lookup[key] != canonical:  # 'Cars.com' and 'cars com' are one spelling
                    raise ValueError(f"taxonomy: {kind}: {given[key]!r} and {raw!r} are the same spelling once "
                                     f"normalised ({key!r}) but map to {lookup[key]!r} and {canonical!r}")
                given[key] = raw
                lookup[key] = canonical
                if canonical != KEEP:
                    lookup.setdefault(normalise_label(canonical), canonical)
        for event_type, stage in (stages or {}).items():
            if stage not in STAGES:
                raise ValueError(f"taxonomy: stage {stage!r} for event type {event_type!r} is not one of {STAGES}")
            if is_pattern(event_type):
                patterns["stages"].append((normalise_pattern(event_type), stage))
            else:
                event_stage[event_type] = stage
        out = Taxonomy(channel_lookup, event_lookup, event_stage, tuple(patterns["channels"]),
                       tuple(patterns["event_types"]), tuple(patterns["stages"]))
        named = set(event_lookup.values()) | {target for _, target in out.event_patterns}
        for canonical in sorted(named - {KEEP}):
            if out.stage(canonical) is None:
                raise ValueError(f"taxonomy: event type {canonical!r} has no stage; add it under taxonomy.stages")
        return out

    def channel(self, raw: str | None) -> str:
        return _resolve(normalise_label(raw), self.channel_lookup, self.channel_patterns) or UNKNOWN

    def event_type(self, raw: str | None) -> str:
        return _resolve(normalise_label(raw), self.event_lookup, self.event_patterns) or UNKNOWN

    def stage(self, event_type: str) -> str | None:
        if event_type in self.event_stage:
            return self.event_stage[event_type]
        if event_type is None or event_type == UNKNOWN:
            return None
        return _best(normalise_label(event_type), self.stage_patterns)

    def needs_labels(self, kind: str) -> bool:
        """Whether `lookup(kind, ...)` needs the distinct labels of the data (patterns or `keep` configured)."""
        lookup, patterns = self._parts(kind)
        return bool(patterns) or KEEP in lookup.values()

    def lookup(self, kind: str, keys=()) -> dict[str, str]:
        """{normalised label: canonical} for `channels` or `event_types`: every exact key, plus each of `keys`
        (normalised labels found in the data) resolved by pattern; `keep` resolved to the label itself."""
        lookup, patterns = self._parts(kind)
        out = {key: (key if target == KEEP else target) for key, target in lookup.items()}
        for key in keys:
            if key is not None and key not in out:
                out[key] = _resolve(key, lookup, patterns)
        return out

    def stage_map(self, event_types=()) -> dict[str, str]:
        """{event type: stage} for every event type with a stage: the exact ones, and each of `event_types`
        and of the canonical values the lookups name, resolved by pattern."""
        out = dict(self.event_stage)
        names = set(event_types) | set(self.event_lookup.values()) | {t for _, t in self.event_patterns}
        for name in sorted(names - {KEEP, UNKNOWN} - set(out)):
            stage = self.stage(name)
            if stage is not None:
                out[name] = stage
        return out

    def _parts(self, kind: str):
        if kind == "channels":
            return self.channel_lookup, self.channel_patterns
        if kind == "event_types":
            return self.event_lookup, self.event_patterns
        raise ValueError(f"taxonomy: no lookup for {kind!r} (expected channels or event_types)")


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
