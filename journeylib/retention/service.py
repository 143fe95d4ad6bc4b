"""Notebook 03's service section in one call: the scores at the as-of date, the to-call list, the backtest."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from journeylib.errors import NotEstimable
from journeylib.labels import label
from journeylib.retention import service_scores
from journeylib.retention.service_backtest import ServiceBacktest, backtest, money
from journeylib.retention.service_list import SCORES_FILE, TO_CALL_FILE, to_call
from journeylib.retention.service_scores import ServiceModel


@dataclass
class ServiceResult:
    """The service scores of every buyer (None with `no_scores` when not estimable), the list and the backtest."""

    as_of: pd.Timestamp
    scores_: pd.DataFrame | None  # service_scores.score's columns, one row per buyer
    model: ServiceModel | None
    no_scores: str | None
    to_call_: pd.DataFrame | None  # service_scores.SCORE_COLUMNS, the top per dealer
    backtest: ServiceBacktest | None
    no_backtest: str | None

    @property
    def no_revenue(self) -> str | None:
        return self.no_scores if self.model is None else self.model.no_revenue

    def sentence(self) -> str:
        """What the scores say in one sentence."""
        if self.scores_ is None:
            return self.no_scores
        s = self.scores_
        text = (f"Of the {len(s):,} buyers, we expect {s['p_return_12m'].sum():,.0f} to come back for service in the "
                f"next 12 months ({s['expected_visits_12m'].sum():,.0f} visits)")
        if self.no_revenue is None:
            text += (f", paying {money(s['expected_customer_pay_12m'].sum())} for customer-pay work; "
                     f"{money(s['value_at_risk_12m'].sum())} more would come in if every buyer who may have "
                     "stopped coming were still a service customer")
        return text + "."

    def to_call_view(self, rows: int = 15) -> pd.DataFrame:
        """The top of the to-call list as the reviewer reads it: plain column names, percentages, money, dates."""
        table = self.to_call_.sort_values("value_at_risk_12m" if self.no_revenue is None else "p_return_12m",
                                          ascending=self.no_revenue is not None, kind="stable").head(rows)
        view = pd.DataFrame({
            "Customer": table["customer_id"], "Dealer": table["dealer_id"].map(label),
            "Chance of a visit in 12 months": table["p_return_12m"].map("{:.0%}".format),
            "Expected visits": table["expected_visits_12m"].map("{:.1f}".format)})
        if self.no_revenue is None:
            view["Expected customer pay"] = table["expected_customer_pay_12m"].map(money)
            view["Value at risk"] = table["value_at_risk_12m"].map(money)
        view["Last visit"] = table["last_visit_at"].map(lambda t: "none yet" if pd.isna(t) else f"{t:%d %b %Y}")
        view["Why"] = table["reason"]
        return view.reset_index(drop=True)

    def metrics(self) -> tuple[dict, dict]:
        """(the `service_scores` object, {dotted key under it: reason} for its nulls)."""
        missing = {}
        if self.scores_ is None:
            values = dict.fromkeys(("buyers", "expected_visits_12m", "expected_customer_pay_12m", "value_at_risk_12m",
                                    "file", "to_call_file", "to_call_rows"))
            values["backtest"] = None
            return values, dict.fromkeys(values, self.no_scores)
        s, revenue = self.scores_, self.no_revenue is None
        values = {"buyers": len(s), "expected_visits_12m": float(s["expected_visits_12m"].sum()),
                  "expected_customer_pay_12m": float(s["expected_customer_pay_12m"].sum()) if revenue else None,
                  "value_at_risk_12m": float(s["value_at_risk_12m"].sum()) if revenue else None,
                  "file": SCORES_FILE, "to_call_file": TO_CALL_FILE, "to_call_rows": len(self.to_call_)}
        if not revenue:
            missing["expected_customer_pay_12m"] = missing["value_at_risk_12m"] = self.no_revenue
        if self.backtest is None:
            values["backtest"] = None
            missing["backtest"] = self.no_backtest
        else:
            values["backtest"] = self.backtest.metrics()
            missing.update({f"backtest.{key}": reason for key, reason in self.backtest.missing().items()})
        return values, missing


def analyse_service(buyers: pd.DataFrame, visits: pd.DataFrame, as_of: pd.Timestamp, top: int = 25) -> ServiceResult:
    """Score every buyer at `as_of`, list the top `top` per dealer, and backtest a year earlier."""
    scores = model = no_scores = listed = checked = no_backtest = None
    try:
        hist = service_scores.history(buyers, visits, as_of)
        model = service_scores.fit(hist)
        scores = service_scores.score(hist, model, as_of)
        listed = to_call(scores, top)
    except NotEstimable as error:
        no_scores = error.reason
    try:
        checked = backtest(buyers, visits, as_of, top)
    except NotEstimable as error:
        no_backtest = error.reason
    return ServiceResult(as_of, scores, model, no_scores, listed, checked, no_backtest)
