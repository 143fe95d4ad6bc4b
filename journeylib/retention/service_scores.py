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


def history(buyers: pd.DataFrame, visits: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per buyer who had bought by `as_of` (index customer_id): dealer_id, first_purchase_at,
    x (visit days after the purchase, up to as_of), t_x and T (years from the purchase to the last visit and
    to as_of), last_visit_at, paying (visits with customer-pay revenue), mean_pay (their mean revenue),
    visits_last_year."""
    bought = buyers[buyers["first_purchase_at"] <= as_of]
    out = pd.DataFrame(index=bought.index)
    out["dealer_id"] = bought["dealer_id"].astype("object")
    out["first_purchase_at"] = bought["first_purchase_at"]
    v = visits[visits["customer_id"].isin(bought.index) & (visits["opened_at"] <= as_of)]
    v = v.assign(first=v["customer_id"].map(bought["first_purchase_at"]))
    v = v[v["opened_at"] > v["first"]]
    pay = v["amount"].where(v["pay_type"] == CUSTOMER_PAY).fillna(0.0).clip(lower=0)
    v = v.assign(day=v["opened_at"].dt.floor("D"), pay=pay)
    days = v.groupby(["customer_id", "day"], sort=False).agg(at=("opened_at", "max"), pay=("pay", "sum"))
    days = days.reset_index()
    days["recent"] = days["at"] > as_of - pd.Timedelta(days=HORIZON_DAYS)
    days["paying"] = days["pay"] > 0
    per = days.groupby("customer_id").agg(x=("at", "size"), last_visit_at=("at", "max"), paying=("paying", "sum"),
                                          pay_total=("pay", "sum"), visits_last_year=("recent", "sum"))
    per = per.reindex(out.index)
    out["x"] = per["x"].fillna(0).astype(int)
    out["last_visit_at"] = per["last_visit_at"]
    out["paying"] = per["paying"].fillna(0).astype(int)
    out["mean_pay"] = (per["pay_total"] / per["paying"].where(per["paying"] > 0)).astype(float)
    out["visits_last_year"] = per["visits_last_year"].fillna(0).astype(int)
    years = lambda delta: delta.dt.total_seconds().to_numpy() / 86400 / YEAR_DAYS  # noqa: E731
    out["T"] = years(as_of - out["first_purchase_at"])
    out["t_x"] = np.where(out["x"] > 0, years(out["last_visit_at"] - out["first_purchase_at"]), 0.0)
    return out


@dataclass
class ServiceModel:
    """The fitted models: visits (BG/NBD), the customer-pay share and spend (None with a reason when not estimable)."""

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
    came = hist[hist["x"] > 0]
    # the first visit is when t_x = T of one visit: we only know the last; for x = 1 they coincide
    first = came.loc[came["x"] == 1, "t_x"] * YEAR_DAYS
    due = float(first.median()) if len(first) else DEFAULT_DUE_DAYS
    return ServiceModel(visits, pay_share, spend, no_revenue, due)


def score(hist: pd.DataFrame, model: ServiceModel, as_of: pd.Timestamp,
          horizon_days: int = HORIZON_DAYS) -> pd.DataFrame:
    """SCORE_COLUMNS for every buyer of `hist`, plus p_alive and expected_if_alive (visits if still a customer)."""
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
    out["last_visit_at"] = hist["last_visit_at"].to_numpy()
    out["reason"] = reasons(hist, as_of, model.due_days)
    out["p_alive"] = alive
    out["expected_if_alive"] = if_alive
    return out


def _span(days: np.ndarray) -> np.ndarray:
    """'today', '5 days', '1 month', '14 months' for whole days (few distinct values: formatted once each)."""
    def one(d: float) -> str:
        if d < 1:
            return "today"
        if d < 30.44:
            return f"{int(d)} day{'s' if int(d) != 1 else ''}"
        months = int(round(d / 30.44))
        return f"{months} month{'s' if months != 1 else ''}"

    whole = np.floor(np.asarray(days, dtype=float))
    distinct, where = np.unique(whole, return_inverse=True)
    return np.array([one(d) for d in distinct], dtype=object)[where.ravel()]


def reasons(hist: pd.DataFrame, as_of: pd.Timestamp, due_days: float) -> np.ndarray:
    """A short plain phrase per buyer saying what the score rests on (docs/retention_churn.md lists them)."""
    x = hist["x"].to_numpy()
    since_purchase = (as_of - hist["first_purchase_at"]).dt.total_seconds().to_numpy() / 86400
    since_visit = (as_of - hist["last_visit_at"]).dt.total_seconds().to_numpy() / 86400
    usual = np.where(x > 0, hist["t_x"].to_numpy() * YEAR_DAYS / np.maximum(x, 1), np.nan)
    ago = lambda days: np.where(_span(days) == "today", "today", _span(days) + " ago")  # noqa: E731
    bought = "bought " + ago(since_purchase)
    recent = hist["visits_last_year"].to_numpy()
    safe_since = np.nan_to_num(since_visit)
    safe_usual = np.nan_to_num(usual, nan=1.0)
    return np.select(
        [(x == 0) & (since_purchase < due_days), x == 0, recent >= 2, safe_since > 1.5 * safe_usual],
        [bought + ", first service not yet due",
         bought + ", no service visit since",
         "came " + recent.astype(str) + " times in the last year",
         "no visit for " + _span(safe_since) + ", usually every " + _span(safe_usual)],
        "last visit " + ago(safe_since) + ", usually every " + _span(safe_usual))
