"""Who is compared in which period: cohorts with a fixed horizon, and the measures on them.

Every unit (a lead, a test drive, a buyer, a survey response) belongs to the
calendar period (UTC) of the moment it started: first touch, test drive,
first purchase, response. A period is *complete* for a measure when its last
day plus the measure's horizon is on or before the as-of date, so every unit in
it has had the full horizon (the journey map's fixed-horizon cohorts,
`journey_map.cohort_funnel`, with whole periods instead of single customers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from journeylib.errors import NotEstimable, ParameterError

PERIOD_FREQ = {"month": "M", "week": "W-SUN"}  # weeks run Monday to Sunday
NONE_LEVEL = "(none)"
GROUP_BYS = (None, "dealer_id", "acquisition_channel")


@dataclass(frozen=True)
class Measure:
    """One quantity compared between the latest complete period and the baseline."""

    key: str
    label: str
    kind: str  # share | nps | count
    population: str
    success: str | None = None  # boolean column (share), None for nps (score) and count
    among: str | None = None  # boolean column restricting the denominator (share)
    group_bys: tuple = GROUP_BYS
    main: bool = False


@dataclass
class Population:
    """The units of one kind, one row each, with `period` and group columns."""

    name: str
    unit: str  # plural noun for sentences: "leads", "buyers", ...
    frame: pd.DataFrame
    latest: pd.Period
    horizon_days: int
    started: str  # what places a unit in a period, for the docs and the report
    notes: list = field(default_factory=list)

    @property
    def first(self):
        return self.frame["period"].min() if len(self.frame) else None


def check_period(period: str) -> str:
    if period not in PERIOD_FREQ:
        raise ParameterError("period", period, f"one of {tuple(PERIOD_FREQ)}")
    return period


def _utc(stamp) -> pd.Timestamp:
    stamp = pd.Timestamp(stamp)
    return stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")


def period_of(times: pd.Series, period: str) -> pd.Series:
    """The UTC calendar period of each timestamp."""
    naive = pd.to_datetime(times, utc=True).dt.tz_localize(None)
    return naive.dt.to_period(PERIOD_FREQ[check_period(period)])


def latest_complete(as_of, period: str, horizon_days: int = 0) -> pd.Period:
    """The latest period whose last day plus `horizon_days` is on or before the as-of date."""
    day = _utc(as_of).tz_localize(None).normalize() - pd.Timedelta(days=horizon_days)
    candidate = pd.Period(day, PERIOD_FREQ[check_period(period)])
    if candidate.end_time.normalize() > day:
        candidate -= 1
    return candidate


def period_days(periods) -> float:
    """Days covered by a list of periods (months differ in length)."""
    return float(sum((p.end_time.normalize() - p.start_time).days + 1 for p in periods))


def _groups(frame: pd.DataFrame, journeys: pd.DataFrame) -> pd.DataFrame:
    """dealer_id and acquisition_channel of each unit's customer; missing values become '(none)'."""
    info = journeys.set_index("customer_id")[["dealer_id", "acquisition_channel"]]
    out = frame.copy()
    for column in ("dealer_id", "acquisition_channel"):
        values = out[column] if column in out else out["customer_id"].map(info[column])
        out[column] = values.astype("object").where(values.notna(), NONE_LEVEL).astype(str)
    return out


def _within(start: pd.Series, end: pd.Series, days: int) -> pd.Series:
    """end is set, not before start, and at most `days` after it."""
    delta = end - start
    return (end.notna() & (delta >= pd.Timedelta(0)) & (delta <= pd.Timedelta(days=days))).astype(bool)


def leads(journeys: pd.DataFrame, as_of, period: str, horizon_days: int, funnel_steps: dict | None = None
          ) -> Population:
    """Leads by first-touch period; stages, test drive, purchase and each funnel step counted within the horizon.

    `funnel_steps`: {funnel: (steps, times)} with `times` from `journeylib.derived.funnel_steps.step_times`;
    each step becomes a column `funnel:<funnel>:<step>` (reached within the horizon of the first touch).
    """
    frame = journeys[journeys["first_touch_at"].notna()]
    if frame.empty:
        raise NotEstimable("No customer has a first touch, so there are no leads to compare.")
    first = frame["first_touch_at"]
    out = pd.DataFrame({
        "customer_id": frame["customer_id"].to_numpy(),
        "period": period_of(first, period).to_numpy(),
        "consideration": _within(first, frame["consideration_at"], horizon_days).to_numpy(),
        "purchase_stage": _within(first, frame["purchase_at"], horizon_days).to_numpy(),
        "bought": _within(first, frame["first_purchase_at"], horizon_days).to_numpy(),
        "test_drive": _within(first, frame["first_test_drive_at"], horizon_days).to_numpy(),
    })
    ids = frame["customer_id"].astype(str).to_numpy()
    for name, (steps, times) in (funnel_steps or {}).items():
        aligned = times.assign(customer_id=times["customer_id"].astype(str)).set_index("customer_id").reindex(ids)
        for step in steps:
            at = pd.to_datetime(aligned[step["step"]], utc=True).set_axis(first.index)
            out[funnel_column(name, step["step"])] = _within(first, at, horizon_days).to_numpy()
    out = _groups(out.assign(dealer_id=frame["dealer_id"].to_numpy(),
                             acquisition_channel=frame["acquisition_channel"].to_numpy()), journeys)
    return Population("leads", "leads", out, latest_complete(as_of, period, horizon_days), horizon_days,
                      "first touch")


def new_leads(journeys: pd.DataFrame, as_of, period: str) -> Population:
    """Leads by first-touch period with no horizon: volume and channel mix of the latest complete period."""
    frame = journeys[journeys["first_touch_at"].notna()]
    if frame.empty:
        raise NotEstimable("No customer has a first touch, so there are no leads to count.")
    out = pd.DataFrame({"customer_id": frame["customer_id"].to_numpy(),
                        "period": period_of(frame["first_touch_at"], period).to_numpy(),
                        "dealer_id": frame["dealer_id"].to_numpy(),
                        "acquisition_channel": frame["acquisition_channel"].to_numpy()})
    out = _groups(out, journeys)
    for channel in sorted(out["acquisition_channel"].unique()):
        out[f"channel:{channel}"] = out["acquisition_channel"] == channel
    return Population("new_leads", "leads", out, latest_complete(as_of, period, 0), 0,
                      "first touch (volume and channel mix)")


def test_drives(journeys: pd.DataFrame, as_of, period: str, horizon_days: int) -> Population:
    """First test drives by period; purchase within the horizon after the test drive.

    A customer who had bought before their first test drive is left out: that drive did not lead to the sale.
    """
    td, bought = journeys["first_test_drive_at"], journeys["first_purchase_at"]
    frame = journeys[td.notna() & ~(bought.notna() & (bought < td))]
    if frame.empty:
        raise NotEstimable("No test drive is recorded, so test-drive-to-purchase cannot be compared.")
    out = pd.DataFrame({
        "customer_id": frame["customer_id"].to_numpy(),
        "period": period_of(frame["first_test_drive_at"], period).to_numpy(),
        "bought": _within(frame["first_test_drive_at"], frame["first_purchase_at"], horizon_days).to_numpy(),
        "dealer_id": frame["dealer_id"].to_numpy(), "acquisition_channel": frame["acquisition_channel"].to_numpy(),
    })
    return Population("test_drives", "test drives", _groups(out, journeys),
                      latest_complete(as_of, period, horizon_days), horizon_days, "first test drive")


def buyers(journeys: pd.DataFrame, service_visits: pd.DataFrame, referrals: pd.DataFrame, as_of, period: str,
           window_days: int) -> Population:
    """Buyers by first-purchase period; a service visit and a referral within the window after the purchase."""
    frame = journeys[journeys["first_purchase_at"].notna()]
    if frame.empty:
        raise NotEstimable("Nobody has bought, so service return and referrals cannot be compared.")
    bought = frame.set_index("customer_id")["first_purchase_at"]

    def first_after(events: pd.DataFrame, customer: str, at: str) -> pd.Series:
        events = events[[customer, at]].dropna()
        events = events[events[customer].isin(bought.index)]
        events = events[events[at] > events[customer].map(bought)]
        return events.groupby(customer)[at].min().reindex(bought.index)

    service = first_after(service_visits, "customer_id", "opened_at")
    referral = first_after(referrals.assign(at=referrals["referred_at"]), "referrer_customer_id", "at")
    out = pd.DataFrame({
        "customer_id": bought.index.to_numpy(),
        "period": period_of(bought, period).to_numpy(),
        "service_return": _within(bought, service, window_days).to_numpy(),
        "referred": _within(bought, referral, window_days).to_numpy(),
        "dealer_id": frame["dealer_id"].to_numpy(), "acquisition_channel": frame["acquisition_channel"].to_numpy(),
    })
    return Population("buyers", "buyers", _groups(out, journeys), latest_complete(as_of, period, window_days),
                      window_days, "first purchase")


def responses(surveys: pd.DataFrame, survey_type: str, journeys: pd.DataFrame, as_of, period: str) -> Population:
    """Survey responses of one type by response period (the dealer they rate, as notebook 04)."""
    frame = surveys[surveys["survey_type"] == survey_type]
    if frame.empty:
        raise NotEstimable(f"There are no {survey_type} survey responses, so {survey_type} NPS cannot be compared.")
    out = pd.DataFrame({"customer_id": frame["customer_id"].to_numpy(),
                        "period": period_of(frame["responded_at"], period).to_numpy(),
                        "score": frame["score"].to_numpy(dtype="float64"),
                        "dealer_id": frame["dealer_id"].to_numpy()})
    return Population(f"{survey_type}_surveys", f"{survey_type} survey responses", _groups(out, journeys),
                      latest_complete(as_of, period, 0), 0, "response")


def populations(journeys: pd.DataFrame, service_visits: pd.DataFrame, referrals: pd.DataFrame,
                surveys: pd.DataFrame, as_of, period: str, horizon_days: int, window_days: int,
                funnel_steps: dict | None = None) -> tuple[dict, dict]:
    """({name: Population}, {name: why there is none}) for every kind of unit notebook 06 compares."""
    builders = {
        "leads": lambda: leads(journeys, as_of, period, horizon_days, funnel_steps),
        "new_leads": lambda: new_leads(journeys, as_of, period),
        "test_drives": lambda: test_drives(journeys, as_of, period, horizon_days),
        "buyers": lambda: buyers(journeys, service_visits, referrals, as_of, period, window_days),
        "sales_surveys": lambda: responses(surveys, "sales", journeys, as_of, period),
        "service_surveys": lambda: responses(surveys, "service", journeys, as_of, period),
    }
    found, reasons = {}, {}
    for name, build in builders.items():
        try:
            found[name] = build()
        except NotEstimable as error:
            reasons[name] = error.reason
    return found, reasons


def funnel_column(funnel: str, step: str) -> str:
    return f"funnel:{funnel}:{step}"


def funnel_measures(funnel_steps: dict, horizon_days: int) -> list[Measure]:
    """Each funnel step's conversion among the leads who reached the previous step (the first step: among all
    leads), both within `horizon_days` of the first touch: the cohort rule of the stage conversions. Overall
    and per dealer (a dealer's own funnel)."""
    from journeylib.labels import label

    out = []
    for name, (steps, _) in funnel_steps.items():
        previous = None
        for step in steps:
            text = f"{label(name).lower()} funnel: {label(step['step']).lower()} within {horizon_days} days"
            text += f" (of leads at {label(previous).lower()})" if previous else " (of all leads)"
            out.append(Measure(funnel_column(name, step["step"]), text, "share", "leads",
                               funnel_column(name, step["step"]),
                               among=funnel_column(name, previous) if previous else None,
                               group_bys=(None, "dealer_id")))
            previous = step["step"]
    return out


def measures(horizon_days: int, window_days: int, channels=(), funnel_steps: dict | None = None) -> list[Measure]:
    """Every measure compared; `main` ones get a smallest-detectable-change sentence and a trend."""
    h, w = horizon_days, window_days
    out = [
        Measure("awareness_to_consideration", f"awareness → consideration within {h} days", "share", "leads",
                "consideration", main=True),
        Measure("consideration_to_purchase", f"consideration → purchase within {h} days", "share", "leads",
                "purchase_stage", among="consideration", main=True),
        Measure("purchase_within_horizon", f"purchase within {h} days", "share", "leads", "bought", main=True),
        Measure("test_drive_rate", f"test drive within {h} days", "share", "leads", "test_drive"),
        Measure("test_drive_to_purchase", f"test drive → purchase within {h} days", "share", "test_drives",
                "bought", main=True),
        Measure("service_return", f"service visit within {w} days of buying", "share", "buyers", "service_return",
                main=True),
        Measure("referral_rate", f"referral within {w} days of buying", "share", "buyers", "referred", main=True),
        Measure("nps_sales", "NPS, sales", "nps", "sales_surveys", main=True),
        Measure("nps_service", "NPS, service", "nps", "service_surveys", main=True),
        Measure("lead_volume", "lead volume", "count", "new_leads", main=True),
    ]
    out += [Measure(f"channel_share:{c}", f"share of leads from {_channel(c)}", "share", "new_leads", f"channel:{c}",
                    group_bys=(None,)) for c in channels]
    return out + funnel_measures(funnel_steps or {}, h)


def _channel(code: str) -> str:
    from journeylib.labels import label

    text = label(code)
    return "no recorded channel" if text == "Not recorded" else text


def nps_counts(scores: pd.Series) -> tuple[int, int, int]:
    """(promoters 9-10, detractors 0-6, responses)."""
    s = np.asarray(scores, dtype=float)
    return int(np.sum(s >= 9)), int(np.sum(s <= 6)), int(s.size)
