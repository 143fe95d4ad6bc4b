"""Words a reviewer reads: one mapping from the package's codes to plain labels.

Every figure, table and sentence a reviewer sees passes its channel, event type,
stage and term codes through `label()` (`walk_in` -> "Walk-in"), and its
p-values through `p_value()` (`p < 0.001`, never `4.4e-49`). A code this module
does not know (an export's own label kept as it is) is shown with its
underscores as spaces and a capital first letter.
"""

from __future__ import annotations

import math
import re

LABELS = {
    # channels
    "website": "Website", "search": "Search", "social": "Social media", "display": "Display ads",
    "email": "Email", "sms": "Text message", "third_party": "Third-party sites", "phone": "Phone",
    "chat": "Chat", "walk_in": "Walk-in", "referral": "Referral", "other": "Other", "unknown": "Unknown",
    # stages
    "awareness": "Awareness", "consideration": "Consideration", "purchase": "Purchase",
    "retention": "Retention", "advocacy": "Advocacy",
    # event types
    "ad_click": "Ad click", "site_visit": "Site visit", "social_engagement": "Social engagement",
    "review_read": "Review read", "video_view": "Video view", "srp_view": "Search results view",
    "vdp_view": "Vehicle page view", "build_and_price": "Build and price", "compare_models": "Model comparison",
    "trade_in_estimate": "Trade-in estimate", "finance_calculator": "Finance calculator",
    "lead_form": "Lead form", "phone_call": "Phone call", "email_reply": "Email reply",
    "appointment_set": "Appointment set", "showroom_visit": "Showroom visit", "test_drive": "Test drive",
    "quote_sent": "Quote sent", "credit_application": "Credit application", "deposit": "Deposit",
    "service_reminder": "Service reminder", "service_appointment": "Service appointment",
    "service_visit": "Service visit", "loyalty_signup": "Loyalty sign-up", "review_posted": "Review posted",
    "social_share": "Social share", "referral_made": "Referral made",
    # terms and levels of the models
    "acquisition_channel": "Acquisition channel", "finance_type": "Finance type", "condition": "Condition",
    "satisfaction": "Satisfaction", "price_band": "Price band", "trade_in": "Trade-in", "dealer_id": "Dealer",
    "days_to_purchase": "Days to purchase", "test_drive_done": "Test drive done", "persona": "Persona",
    "cash": "Cash", "finance": "Finance", "lease": "Lease", "new": "New", "used": "Used", "cpo": "Certified pre-owned",
    "promoter": "Promoter", "passive": "Passive", "detractor": "Detractor",
    "low": "Low", "mid": "Mid", "high": "High", "yes": "Yes", "no": "No",
    "customer_pay": "Customer pay", "warranty": "Warranty", "internal": "Internal",
    "sales": "Sales", "service": "Service",
    # interval and count columns
    "ci_low": "95% interval, low", "ci_high": "95% interval, high", "customers": "Customers",
    "buyers": "Buyers", "leads": "Leads", "share": "Share", "rate": "Rate",
    "estimate": "Estimate", "p": "p-value", "q_value": "Adjusted p-value (q)", "n": "Count",
    "n_before": "Count, baseline", "n_after": "Count, latest", "dealer": "Dealer", "channel": "Channel",
    "stage": "Stage", "event_type": "Event type", "period": "Period", "group": "Group", "measure": "Measure",
    # missing or pooled levels
    "(none)": "Not recorded", "": "Not recorded",
}
MISSING = "—"  # a missing number in a reviewer table or sentence (never NaN)


def label(code) -> str:
    """The plain label of a code: a known one from LABELS, else underscores as spaces, first letter capital.

    A term of a model (`acquisition_channel:third_party`, `channel[T.walk_in]`) reads
    "Acquisition channel: Third-party sites". A missing value (None, NaN, the '(none)' level) reads "Not recorded".
    """
    if code is None or (isinstance(code, float) and math.isnan(code)):
        return LABELS["(none)"]
    text = str(code)
    if text in LABELS:
        return LABELS[text]
    for open_, close in (("[T.", "]"),):
        if open_ in text and text.endswith(close):
            name, level = text[:-len(close)].split(open_, 1)
            inner = re.search(r"\(([^,)]+)", name)  # patsy's C(channel, Treatment(...)) -> channel
            return f"{label((inner.group(1) if inner else name).strip())}: {label(level)}"
    for end, words in (("_ci_low", "95% interval, low"), ("_ci_high", "95% interval, high")):
        if text.endswith(end) and len(text) > len(end):  # rate_ci_low -> "Rate, 95% interval, low"
            return f"{label(text[:-len(end)])}, {words}"
    if ":" in text:
        name, level = text.split(":", 1)
        return f"{label(name)}: {label(level)}"
    plain = text.replace("_", " ").strip()
    return plain[:1].upper() + plain[1:] if plain else text


def labels(codes) -> list[str]:
    """`label` of each code, in order."""
    return [label(code) for code in codes]


def p_value(p) -> str:
    """A p-value as a reviewer reads it: `p < 0.001`, `p = 0.03`, `p = 0.41`; missing reads 'p not available'."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "p not available"
    p = float(p)
    if p < 0.001:
        return "p < 0.001"
    if p < 0.01:
        return f"p = {p:.3f}"
    return f"p = {p:.2f}"


def number_range(low, high, digits: int = 0) -> str:
    """An interval as `low to high` without a negative zero (`-0 to 21` reads `0 to 21`)."""
    def fmt(value):
        text = f"{float(value):.{digits}f}"
        return text[1:] if text.startswith("-") and float(text) == 0 else text
    return f"{fmt(low)} to {fmt(high)}"


def number(value, digits: int = 0, missing: str = MISSING) -> str:
    """A number with thousands separators, no negative zero; missing or not finite reads '—'."""
    if not _finite(value):
        return missing
    text = f"{float(value):,.{digits}f}"
    return text[1:] if text.startswith("-") and float(text.replace(",", "")) == 0 else text


def percent(share, digits: int = 1, missing: str = MISSING) -> str:
    """A share 0..1 as a percentage: `0.123` -> `12.3%`; missing reads '—'."""
    return missing if not _finite(share) else f"{number(100 * float(share), digits)}%"


def pct(value: float, digits: int = 1) -> str:
    """A share 0..1 as a plain percentage, `0.123` -> `12.3%` (no thousands separator, no missing value: the
    sentences that use it divide counts known to be there)."""
    return f"{100 * value:.{digits}f}%"


def points(difference, digits: int = 1, missing: str = MISSING) -> str:
    """A difference of two shares 0..1 in percentage points, signed: `-0.016` -> `-1.6 pts`."""
    if not _finite(difference):
        return missing
    text = number(100 * float(difference), digits)
    return f"{'' if text.startswith('-') or float(text.replace(',', '')) == 0 else '+'}{text} pts"


def days(value, digits: int = 0, missing: str = MISSING) -> str:
    """A duration in days (the one unit of every time measure a reviewer reads): `12 days`, `1 day`."""
    if not _finite(value):
        return missing
    text = number(value, digits)
    return f"{text} day" if text == "1" else f"{text} days"


def _instant(value):
    """A timestamp (ISO text, datetime or pandas Timestamp) as an aware datetime (naive means UTC); None if not one."""
    from datetime import date, datetime, timezone

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        try:
            value = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _in_zone(value, zone: str | None):
    from zoneinfo import ZoneInfo

    instant = _instant(value)
    if instant is None:
        return None
    try:
        return instant.astimezone(ZoneInfo(zone or "UTC"))
    except (KeyError, ValueError):  # an unknown zone name: the instant as stored (UTC)
        return instant


def date_text(value, zone: str | None = None, missing: str = MISSING) -> str:
    """A date as a reader writes it, on the calendar of `zone` (the configured time zone):
    `2026-10-31T23:59:59.999999+00:00` -> `31 October 2026`; missing or unreadable reads '—'."""
    local = _in_zone(value, zone)
    return missing if local is None else f"{local.day} {local:%B %Y}"


def time_text(value, zone: str | None = None, missing: str = MISSING) -> str:
    """A moment as a reader writes it, in `zone`: `7 December 2026, 08:24 CST`; missing reads '—'."""
    local = _in_zone(value, zone)
    return missing if local is None else f"{local.day} {local:%B %Y, %H:%M} {local.tzname() or ''}".rstrip()


def period_text(period) -> str:
    """A calendar period as a reader names it: `2026-03` -> `March 2026`, `2026Q1` -> `Q1 2026`; other text as is."""
    from datetime import date

    text = str(period)
    month = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if month and 1 <= int(month.group(2)) <= 12:
        return f"{date(int(month.group(1)), int(month.group(2)), 1):%B %Y}"
    quarter = re.fullmatch(r"(\d{4})-?Q([1-4])", text)
    return f"Q{quarter.group(2)} {quarter.group(1)}" if quarter else text


def _finite(value) -> bool:
    if value is None or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def column_digits(values) -> int:
    """One number of decimals for a whole column of floats, from its largest value: whole numbers none,
    10 and above 1, 1 to 10 2, below 1 3 (a column never mixes `202.9` with `7.503`)."""
    import pandas as pd  # labels stays light: pandas only when a column is formatted

    known = pd.Series(values, dtype="float64").dropna()
    known = known[known.map(lambda v: abs(v) != float("inf"))]
    if not len(known) or known.map(float.is_integer).all():
        return 0
    largest = known.abs().max()
    return 1 if largest >= 10 else 2 if largest >= 1 else 3
