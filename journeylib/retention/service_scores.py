"""Every buyer's service history at a date, and their scores for the next 12 months.

`history` turns service visits into recency, frequency and customer-pay spend per
buyer (a buyer's service life starts at the first purchase; several repair orders
on one day are one visit); `fit` learns the three models of `service_value` from
it; `score` gives each buyer p_return_12m, expected visits, expected customer-pay
revenue, value at risk and a plain reason. Definitions: docs/retention_churn.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from journeylib.errors import NotEstimable
from journeylib.retention.service_value import YEAR_DAYS, MBGNBD, GammaGamma, PayShare

HORIZON_DAYS = 365
CUSTOMER_PAY = "customer"  # service_visits.pay_type of work the buyer pays for
SCORE_COLUMNS = ["customer_id", "dealer_id", "p_return_12m", "expected_visits_12m", "expected_customer_pay_12m",
                 "value_at_risk_12m", "last_visit_at", "reason"]
DEFAULT_DUE_DAYS = 180  # first service "not yet due" before this, when no buyer has had a first visit yet


def visit_days(buyers: pd.DataFrame, visits: pd.DataFrame, as_of: pd.Timestamp):
    """The visit days of the buyers who had bought by `as_of`: visits after their purchase, up to `as_of`, one per
    buyer and calendar day (UTC). Returns (bought, first purchase in ns, then per visit day sorted by buyer and
    day: the buyer's position in `bought`, the day's last visit in ns, its customer-pay revenue)."""
    bought = buyers[buyers["first_purchase_at"] <= as_of]
    # integer keys (buyer position, day number): grouping strings and timestamps is slow at a million buyers
    position = pd.Series(np.arange(len(bought)), index=bought.index)
    who = visits["customer_id"].map(position)
    known = (who.notna() & (visits["opened_at"] <= as_of)).to_numpy()
    v, who = visits[known], who.to_numpy()[known].astype(np.int64)
    at = v["opened_at"].to_numpy("datetime64[ns]").astype(np.int64)
    first = bought["first_purchase_at"].to_numpy("datetime64[ns]").astype(np.int64)
    after = at > first[who]
    who, at = who[after], at[after]
    pay = v["amount"].where(v["pay_type"] == CUSTOMER_PAY).fillna(0.0).clip(lower=0).to_numpy(float)[after]
    day_ns = 86_400 * 10**9
    key = who * 1_000_000 + at // day_ns
    days, where = np.unique(key, return_inverse=True)
    day_at = np.full(len(days), np.iinfo(np.int64).min)
    np.maximum.at(day_at, where, at)
    return bought, first, days // 1_000_000, day_at, np.bincount(where, weights=pay, minlength=len(days))


def history(buyers: pd.DataFrame, visits: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per buyer who had bought by `as_of` (index customer_id): dealer_id, first_purchase_at,
    x (visit days after the purchase, up to as_of), t_x and T (years from the purchase to the last visit and
    to as_of), last_visit_at, paying (visits with customer-pay revenue), mean_pay (their mean revenue),
    visits_last_year."""
    bought, _, day_who, day_at, day_pay = visit_days(buyers, visits, as_of)
    out = pd.DataFrame(index=bought.index)
    out["dealer_id"] = bought["dealer_id"].astype("object")
    out["first_purchase_at"] = bought["first_purchase_at"]
    n = len(bought)
    x = np.bincount(day_who, minlength=n)
    last = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(last, day_who, day_at)
    paying = np.bincount(day_who, weights=day_pay > 0, minlength=n)
    total = np.bincount(day_who, weights=day_pay, minlength=n)
    cutoff = (as_of - pd.Timedelta(days=HORIZON_DAYS)).value
    out["x"] = x.astype(int)
    out["last_visit_at"] = pd.to_datetime(last, unit="ns", utc=True)  # int64 min is NaT: no visit
    out["paying"] = paying.astype(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["mean_pay"] = np.where(paying > 0, total / np.maximum(paying, 1), np.nan)
    out["visits_last_year"] = np.bincount(day_who, weights=day_at > cutoff, minlength=n).astype(int)
    years = lambda delta: delta.dt.total_seconds().to_numpy() / 86400 / YEAR_DAYS  # noqa: E731
    out["T"] = years(as_of - out["first_purchase_at"])
    out["t_x"] = np.where(out["x"] > 0, years(out["last_visit_at"] - out["first_purchase_at"]), 0.0)
    return out


@dataclass
class ServiceModel:
    """The fitted models: visits (MBG/NBD), the customer-pay share and spend (None with a reason when not estimable)."""

    visits: MBGNBD
    pay_share: PayShare | None
    spend: GammaGamma | None
    no_revenue: str | None
    due_days: float  # median days from purchase to the first visit: before it a first service is "not yet due"


def fit(hist: pd.DataFrame) -> ServiceModel:
    """Fit the models on a history; NotEstimable when no buyer has come back at all."""
    if hist.empty:
        raise NotEstimable("No customer had bought by this date, so there is no buyer to score for service.")
    visits = MBGNBD.fit(hist["x"], hist["t_x"], hist["T"])
    pay_share = spend = no_revenue = None
    try:
        if hist["paying"].sum() == 0:
            raise NotEstimable("No service visit after a purchase was paid by the customer (all warranty or "
                               "internal work, or no amounts), so there is no customer-pay revenue to predict.")
        pay_share = PayShare.fit(hist["paying"], hist["x"])
        spend = GammaGamma.fit(hist["paying"], hist["mean_pay"])
    except NotEstimable as error:
        pay_share, spend, no_revenue = None, None, error.reason
    return ServiceModel(visits, pay_share, spend, no_revenue, due_days(hist))


def due_days(hist: pd.DataFrame) -> float:
    """Median days from the purchase to the first visit (DEFAULT_DUE_DAYS when nobody has come yet)."""
    came = hist[hist["x"] > 0]
    # the first visit is when t_x = T of one visit: we only know the last; for x = 1 they coincide
    first = came.loc[came["x"] == 1, "t_x"] * YEAR_DAYS
    return float(first.median()) if len(first) else DEFAULT_DUE_DAYS


def score(hist: pd.DataFrame, model: ServiceModel, as_of: pd.Timestamp,
          horizon_days: int = HORIZON_DAYS) -> pd.DataFrame:
    """SCORE_COLUMNS for every buyer of `hist`, plus p_alive, expected_if_alive (visits if still a customer) and
    not_yet_due (`not_yet_due`)."""
    x, t_x, T = hist["x"].to_numpy(float), hist["t_x"].to_numpy(float), hist["T"].to_numpy(float)
    horizon = horizon_days / YEAR_DAYS
    alive = model.visits.p_alive(x, t_x, T)
    if_alive = model.visits.expected_if_alive(x, T, horizon)
    out = pd.DataFrame({"customer_id": hist.index.astype(str), "dealer_id": hist["dealer_id"].to_numpy()})
    out["p_return_12m"] = alive * model.visits.p_visit_if_alive(x, T, horizon)
    out["expected_visits_12m"] = alive * if_alive
    if model.spend is None:
        out["expected_customer_pay_12m"] = np.nan
        out["value_at_risk_12m"] = np.nan
    else:
        per_visit = (model.pay_share.expected_share(hist["paying"], x)
                     * model.spend.expected_spend(hist["paying"], hist["mean_pay"]))
        out["expected_customer_pay_12m"] = out["expected_visits_12m"] * per_visit
        out["value_at_risk_12m"] = (if_alive - out["expected_visits_12m"]) * per_visit
    out["last_visit_at"] = hist["last_visit_at"].array  # keeps the dtype (to_numpy makes Timestamp objects)
    out["reason"] = reasons(hist, as_of, model.due_days)
    out["not_yet_due"] = not_yet_due(hist, as_of, model.due_days)
    out["p_alive"] = alive
    out["expected_if_alive"] = if_alive
    return out


def _span_code(days: np.ndarray) -> np.ndarray:
    """Whole days as the unit a reader gets: 0 today, 1–30 days, 100 + months from a month on."""
    days = np.floor(np.asarray(days, dtype=float))
    return np.where(days < 1, 0, np.where(days < 30.44, days, 100 + np.round(days / 30.44))).astype(np.int64)


def _span(code: int) -> str:
    """'today', '5 days', '1 month', '14 months' (from _span_code)."""
    if code == 0:
        return "today"
    count, unit = (code, "day") if code < 100 else (code - 100, "month")
    return f"{count} {unit}{'s' if count != 1 else ''}"


def _ago(code: int) -> str:
    return "today" if code == 0 else _span(code) + " ago"


REASONS = (  # kind -> phrase from two span codes, or a visit count
    lambda a, b: f"bought {_ago(a)}, first service not yet due",
    lambda a, b: f"bought {_ago(a)}, no service visit since",
    lambda a, b: f"came {a} times in the last year",
    lambda a, b: f"no visit for {_span(a)}, usually every {_span(b)}",
    lambda a, b: f"last visit {_ago(a)}, usually every {_span(b)}",
    lambda a, b: f"no visit for {_span(a)}, came once ({_span(b)} after buying)",
    lambda a, b: f"came once, {_ago(a)} ({_span(b)} after buying)",
)


def not_yet_due(hist: pd.DataFrame, as_of: pd.Timestamp, due_days: float) -> np.ndarray:
    """Buyers with no visit yet who bought less than `due_days` ago: their first service is not due, they are not
    lost (they stay off the to-call list)."""
    since_purchase = (as_of - hist["first_purchase_at"]).dt.total_seconds().to_numpy() / 86400
    return (hist["x"].to_numpy() == 0) & (np.floor(since_purchase) < due_days)


def reasons(hist: pd.DataFrame, as_of: pd.Timestamp, due_days: float) -> np.ndarray:
    """A short plain phrase per buyer saying what the score rests on (docs/retention_churn.md lists them).

    Each phrase is one of REASONS with its spans filled in: the distinct (kind, span, span) are few,
    so each is formatted once. The usual interval is (last visit − purchase) / visits; with one visit it is not
    a rhythm, so the phrase says when that visit came instead.
    """
    x = hist["x"].to_numpy()
    since_purchase = np.floor((as_of - hist["first_purchase_at"]).dt.total_seconds().to_numpy() / 86400)
    since_visit = np.floor(np.nan_to_num((as_of - hist["last_visit_at"]).dt.total_seconds().to_numpy() / 86400))
    usual = np.floor(np.where(x > 0, hist["t_x"].to_numpy() * YEAR_DAYS / np.maximum(x, 1), 0.0))
    recent = hist["visits_last_year"].to_numpy()
    silent = since_visit > 1.5 * usual
    kind = np.select([not_yet_due(hist, as_of, due_days), x == 0, recent >= 2, (x == 1) & silent, x == 1, silent],
                     [0, 1, 2, 5, 6, 3], 4)
    first = np.select([kind <= 1, kind == 2], [_span_code(since_purchase), recent], _span_code(since_visit))
    second = np.where(kind >= 3, _span_code(usual), 0)
    scale = 1 << 20  # span codes and visit counts stay far below it
    keys = (kind * scale + np.clip(first, 0, scale - 1)) * scale + np.clip(second, 0, scale - 1)
    distinct, where = np.unique(keys, return_inverse=True)
    phrases = np.array([REASONS[k // scale // scale]((k // scale) % scale, k % scale) for k in distinct.tolist()],
                       dtype=object)
    return phrases[where.ravel()]
