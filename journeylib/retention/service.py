"""Notebook 03's service section in one call: the scores at the as-of date, the to-call list, the backtest."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from journeylib.errors import NotEstimable
from journeylib.labels import label
from journeylib.retention import service_landmark, service_scores
from journeylib.retention.service_backtest import MODELS, ServiceBacktest, backtest, choose, money, year_before
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
    backtest: ServiceBacktest | None  # the backtest of the model the lists use
    no_backtest: str | None
    chosen: str = "mbg_nbd"  # the model behind the scores (MODELS), chosen by the backtests
    choice: str | None = None  # why, in one sentence
    checks: dict | None = None  # {model: ServiceBacktest or the reason it has none}
    landmark: service_landmark.LandmarkModel | None = None  # the landmark fit at as_of, when chosen

    @property
    def no_revenue(self) -> str | None:
        if self.model is None:
            return self.no_scores
        return self.landmark.no_revenue if self.chosen == "landmark" else self.model.no_revenue

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
                                    "file", "to_call_file", "to_call_rows", "model"))
            values["backtest"] = values["model_backtest"] = None
            return values, dict.fromkeys(values, self.no_scores)
        s, revenue = self.scores_, self.no_revenue is None
        values = {"buyers": len(s), "expected_visits_12m": float(s["expected_visits_12m"].sum()),
                  "expected_customer_pay_12m": float(s["expected_customer_pay_12m"].sum()) if revenue else None,
                  "value_at_risk_12m": float(s["value_at_risk_12m"].sum()) if revenue else None,
                  "file": SCORES_FILE, "to_call_file": TO_CALL_FILE, "to_call_rows": len(self.to_call_),
                  "model": self.chosen, "model_backtest": {}}
        for name in MODELS:
            check = (self.checks or {}).get(name)
            if isinstance(check, ServiceBacktest):
                values["model_backtest"][name] = {"auc_return_12m": check.auc,
                                                  "spearman_customer_pay": check.spearman,
                                                  "customer_pay_ratio": check.customer_pay_ratio}
                reasons = {"auc_return_12m": check.no_auc, "spearman_customer_pay": check.no_spearman,
                           "customer_pay_ratio": check.no_spearman or "Nobody paid for customer-pay work in the "
                           "backtest's year, so the ratio of expected to observed revenue is not defined."}
                missing.update({f"model_backtest.{name}.{key}": reason for key, reason in reasons.items()
                                if values["model_backtest"][name][key] is None})
            else:
                values["model_backtest"][name] = None
                missing[f"model_backtest.{name}"] = check or self.no_backtest or "Not tried."
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
    """Score every buyer at `as_of`, list the top `top` per dealer, and backtest a year earlier: both service
    models are backtested and the lists use the one that did better (`service_backtest.choose`)."""
    scores = model = no_scores = listed = checked = no_backtest = landmark = None
    checks = {}
    try:
        before = year_before(buyers, visits, as_of)  # shared by both models' backtests
    except NotEstimable as error:
        before = error.reason
    for name in MODELS:
        if isinstance(before, str):
            checks[name] = before
            continue
        try:
            checks[name] = backtest(buyers, visits, as_of, top, model=name, before=before)
        except NotEstimable as error:
            checks[name] = error.reason
    chosen, choice = choose(checks)
    try:
        hist = service_scores.history(buyers, visits, as_of)
        model = service_scores.fit(hist)
        if chosen == "landmark":
            days = service_landmark.visit_days(buyers, visits, as_of)
            try:
                landmark = service_landmark.fit(days, as_of)
                scores = service_landmark.score(hist, days, landmark, as_of, model.due_days, service_scores.reasons)
            except NotEstimable as error:  # backtested a year earlier but not fittable now: keep a list
                chosen, choice = "mbg_nbd", f"The lists use the MBG/NBD visit model: {error.reason}"
        if chosen == "mbg_nbd":
            scores = service_scores.score(hist, model, as_of)
        listed = to_call(scores, top)
    except NotEstimable as error:
        no_scores = error.reason
    if isinstance(checks[chosen], ServiceBacktest):
        checked = checks[chosen]
        checked.choice = choice
    else:
        no_backtest = checks[chosen]
    return ServiceResult(as_of, scores, model, no_scores, listed, checked, no_backtest, chosen, choice, checks,
                         landmark)
