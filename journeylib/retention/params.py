"""Notebook 03's parameters, checked with the messages the notebook gives."""

from __future__ import annotations

from dataclasses import dataclass

from journeylib import analysis
from journeylib.retention.labels import DEFAULT_CHURN_AFTER_DAYS
from journeylib.retention.sensitivity import SENSITIVITY_DAYS


@dataclass(frozen=True)
class Params(analysis.Params):
    churn_after_days: int = DEFAULT_CHURN_AFTER_DAYS  # churned: no service visit in this many days before as-of
    sensitivity_days: tuple = SENSITIVITY_DAYS  # other churn windows for the sensitivity table
    window_months: int = 6  # width of the retention-curve windows since purchase
    cluster_by_dealer: bool = False  # cluster-robust (by dealer) standard errors for the model
    min_level_customers: int = 20  # a level with fewer buyers is pooled into "other" (or the reference)
    min_level_events: int = 5  # ... or with fewer churned or retained buyers than this
    holdout_share: float = 0.25  # share of eligible buyers (latest purchase months) held out for validation
    at_risk_top: int = 100  # active buyers in the at-risk list for the service team
    service_to_call_top: int = 25  # buyers per dealer in the service to-call list (by value at risk)

    def check(self) -> None:
        for name in ("churn_after_days", "window_months", "min_level_customers", "min_level_events", "at_risk_top",
                     "service_to_call_top"):
            analysis.positive_int(name, getattr(self, name))
        object.__setattr__(self, "sensitivity_days",
                           tuple(analysis.positive_ints("sensitivity_days", self.sensitivity_days)))
        analysis.share("holdout_share", self.holdout_share)
        analysis.flag("cluster_by_dealer", self.cluster_by_dealer)
