"""What one retention analysis found: its tables (attributes ending in `_`) and the `retention` metrics.

Built by keyword in `analyse.py`. A named condition leaves its part None and its reason in `missing_`:
NO_RATE (no buyer, or nobody eligible yet), NO_MODEL, NO_VALIDATION; `notes_` holds the model's fit
notes. The takeaways and reviewer tables are the methods `Result` inherits from `retention.sentences`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from journeylib.analysis import Result as BaseResult
from journeylib.results import SectionMetrics
from journeylib.retention.at_risk import AT_RISK_FILE, factor_counts
from journeylib.retention.labels import CATEGORICAL_FEATURES
from journeylib.retention.model import MAIN_TERMS, NOT_ESTIMABLE_TERM, REQUIRED_TERMS, significant
from journeylib.retention.rates import rate_extremes
from journeylib.retention.sensitivity import stable_terms
from journeylib.retention.sentences import Sentences
from journeylib.retention.validation import HOLDOUT_KEYS, ONE_CLASS_AUC
from journeylib.stats import level_notes, levels
from journeylib.vocabulary import RETENTION_REFERENCES

SECTION = "retention"
NOTEBOOK = "03_retention_churn"
# Keys of `Result.missing_`: a part of the analysis and why this export has none of it.
NO_RATE = "churn_rate"        # no buyer, or nobody eligible: no rates, no model, no holdout
NO_MODEL = "model"            # the churn model could not be fitted
NO_VALIDATION = "holdout"     # no temporal holdout (no model, or too few buyers in one of its halves)


@dataclass(kw_only=True)
class Result(Sentences, BaseResult):
    """Every table of notebook 03. A named condition leaves a table None with the reason in `missing_`."""

    params: object                             # journeylib.retention.Params
    as_of: pd.Timestamp
    dataset_: pd.DataFrame                     # every buyer: features, eligible, churned, active (index customer_id)
    churn_rate_: pd.DataFrame | None           # one row: buyers, churned, churn_rate, ci_low, ci_high
    rates_: pd.DataFrame | None                # rates.RATE_COLUMNS: per level of rates.RATE_FEATURES
    rate_levels_pooled_: dict                  # feature -> levels pooled into `other` in rates_
    curve_: pd.DataFrame                       # rates.CURVE_COLUMNS, one row per complete window since purchase
    lapses_: pd.DataFrame | None               # per buyer: duration_days, lapsed, satisfaction, finance_type
    not_lapsed_: pd.DataFrame | None           # index day (N, 2N, 3N): estimate, ci_low, ci_high
    model_: object | None                      # model.ChurnModel
    odds_ratios_: pd.DataFrame | None          # model.ODDS_COLUMNS
    reference_levels_: dict | None             # feature -> reference level of the model
    sensitivity_: pd.DataFrame                 # sensitivity.sensitivity's columns, one row per window
    holdout_: object | None                    # validation.Holdout
    at_risk_: pd.DataFrame | None              # at_risk.AT_RISK_COLUMNS, ranked by risk = 1 − p_return_12m
    mean_risk_all_active_: float | None
    service_: object | None                    # service.ServiceResult: the service scores, their list and backtest
    missing_: dict                             # NO_RATE / NO_MODEL / NO_VALIDATION -> why this export has none
    notes_: list                               # the model's fit notes, as sentences
    written_: dict = field(default_factory=dict)  # name -> path of the lists `write_lists` wrote

    section = SECTION

    # ------------------------------------------------------------ older names (notebook 03, figures, tests)
    @property
    def no_rate(self) -> str | None:
        return self.missing_.get(NO_RATE)

    @property
    def no_model(self) -> str | None:
        return self.missing_.get(NO_MODEL)

    @property
    def no_validation(self) -> str | None:
        return self.missing_.get(NO_VALIDATION)

    @property
    def model(self):
        return self.model_

    @property
    def holdout(self):
        return self.holdout_

    @property
    def service(self):
        return self.service_

    @property
    def reference_levels(self) -> dict | None:
        return self.reference_levels_

    @property
    def rate_levels_pooled(self) -> dict:
        return self.rate_levels_pooled_

    @property
    def mean_risk_all_active(self) -> float | None:
        return self.mean_risk_all_active_

    # ------------------------------------------------------------ counts
    @property
    def eligible_(self) -> pd.DataFrame:
        return self.dataset_[self.dataset_["eligible"]]

    @property
    def buyers(self) -> int:
        return len(self.dataset_)

    @property
    def eligible(self) -> int:
        return int(self.dataset_["eligible"].sum())

    @property
    def churned(self) -> int:
        return int(self.eligible_["churned"].sum())

    @property
    def churn_rate(self) -> float | None:
        return None if self.churn_rate_ is None else float(self.churn_rate_.loc[0, "churn_rate"])

    @property
    def active_buyers(self) -> int:
        return int(self.dataset_["active"].sum())

    # ------------------------------------------------------------ what the takeaways pick
    def rate_extremes(self):
        """The highest and the lowest churn rate among groups of at least `min_level_customers` (rows of rates_)."""
        return None if self.rates_ is None else rate_extremes(self.rates_, self.params.min_level_customers)

    @property
    def rate_pooled_sentences(self) -> list[str]:
        return [levels.pooled_sentence(f, pooled, self.params.min_level_customers)
                for f, pooled in self.rate_levels_pooled_.items()]

    @property
    def plan_sentences(self) -> list[str]:
        """What the model's level plan changed (pooled levels, replaced references, features left out)."""
        if self.model_ is None:
            return []
        return level_notes.plan_sentences(self.model_.plan, CATEGORICAL_FEATURES, RETENTION_REFERENCES,
                                          self.params.min_level_customers)

    def significant_odds(self, alpha: float = 0.05):
        """(raising, lowering): the odds ratios with p < alpha, largest first; and how many were tested."""
        raising, lowering = significant(self.odds_ratios_, alpha)
        return raising, lowering, int(self.odds_ratios_["p"].notna().sum())

    @property
    def stable_terms(self) -> list:
        """The main odds ratios on the same side of 1 in every sensitivity window."""
        return stable_terms(self.sensitivity_)

    @property
    def factor_counts_(self) -> pd.Series:
        return factor_counts(self.at_risk_)

    # ------------------------------------------------------------ metrics.json
    def metrics(self) -> dict:
        m, p = SectionMetrics(), self.params
        m.record("churn_after_days", p.churn_after_days)
        m.record("buyers", self.buyers)
        m.record("eligible", self.eligible)
        m.record("churned", self.churned)
        if self.churn_rate_ is None:
            m.record_missing("churn_rate", self.missing_[NO_RATE])
        else:
            overall = self.churn_rate_.iloc[0]
            m.record("churn_rate", overall["churn_rate"])
            m.record("churn_rate_interval", {"ci_low": overall["ci_low"], "ci_high": overall["ci_high"]})
            for (feature, pooled), sentence in zip(self.rate_levels_pooled_.items(), self.rate_pooled_sentences):
                m.record(("rate_levels_pooled", feature), pooled)
                m.note(sentence)
            for row in self.rates_.itertuples():
                m.record_effect(("churn_rate_by", row.feature, str(row.level)), row.churn_rate, row.ci_low, row.ci_high)
        for row in self.curve_.itertuples():
            m.record_effect(("retention_curve", str(row.months_from)), row.share, row.ci_low, row.ci_high)
        if self.not_lapsed_ is not None:
            for day, row in self.not_lapsed_.iterrows():
                m.record_effect(("not_lapsed", str(day)), row["estimate"], row["ci_low"], row["ci_high"])
        self._record_model(m)
        for row in self.sensitivity_.to_dict("records"):
            key = ("sensitivity", str(row["churn_after_days"]))
            m.record(key + ("eligible",), row["eligible"])
            m.record(key + ("churn_rate",), row["churn_rate"])
            for term in MAIN_TERMS:
                m.record(key + ("odds_ratios", term), row[f"OR {term}"])
        self._record_holdout(m)
        if self.at_risk_ is None:
            m.record("at_risk", None)
        else:
            m.record("at_risk", {"buyers": len(self.at_risk_), "active_buyers": self.active_buyers,
                                 "mean_risk": self.at_risk_["risk"].mean(),
                                 "mean_risk_all_active": self.mean_risk_all_active_, "file": AT_RISK_FILE})
        if self.service_ is not None:
            values, missing = self.service_.metrics()
            m.record("service_scores", values)
            for key, reason in missing.items():
                m.record_missing(("service_scores",) + tuple(key.split(".")), reason)
        self.record_shown(m)
        return m.values

    def _record_model(self, m: SectionMetrics) -> None:
        if self.model_ is None:
            for term in REQUIRED_TERMS:
                m.record_missing(("odds_ratios", term), self.missing_[NO_MODEL])
            m.record_missing("reference_levels", self.missing_[NO_MODEL])
            return
        m.record("reference_levels", self.reference_levels_)
        m.record("cluster_by_dealer", self.params.cluster_by_dealer)
        m.record("model_notes", self.model_.notes)
        for row in self.odds_ratios_.itertuples():
            if pd.isna(row.odds_ratio):
                m.record_missing(("odds_ratios", row.term), NOT_ESTIMABLE_TERM)
            else:
                m.record_effect(("odds_ratios", row.term), row.odds_ratio, row.ci_low, row.ci_high, p=row.p)
        level_notes.record_plan(m, self.model_.plan, CATEGORICAL_FEATURES, RETENTION_REFERENCES,
                                self.params.min_level_customers)

    def _record_holdout(self, m: SectionMetrics) -> None:
        if self.holdout_ is None:
            m.record_missing("auc", self.missing_[NO_VALIDATION])
            m.record_missing("brier", self.missing_[NO_VALIDATION])
            return
        measures, missing = self.holdout_.metrics, self.holdout_.missing
        if pd.isna(measures["auc"]):
            m.record_missing("auc", missing.get("auc", ONE_CLASS_AUC))
        else:
            m.record("auc", measures["auc"])
        m.record("brier", measures["brier"])
        m.record("holdout", {key: measures[key] for key in HOLDOUT_KEYS})
        for key in HOLDOUT_KEYS:
            if key in missing:
                m.record_missing(("holdout", key), missing[key])
        m.record("lift_top_decile", self.holdout_.lift.loc[0, "lift"])


RetentionResult = Result  # the older name, kept for callers
