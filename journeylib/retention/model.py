"""The logistic churn model: its level plan, the fit with its fallbacks, the odds-ratio table.

The model sees only the purchase-time features of `labels.feature_frame`.
Reference levels are fixed (journeylib.vocabulary.RETENTION_REFERENCES); the
dealer's is the dealer with most buyers. A fixed reference that is absent or
sparse falls back to the most common level (with a note).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from journeylib.errors import NotEstimable
from journeylib.retention.labels import CATEGORICAL_FEATURES, NUMERIC_FEATURE
from journeylib.stats import levels
from journeylib.stats.levels import LevelPlan
from journeylib.stats.ratios import ratio_table
from journeylib.vocabulary import RETENTION_REFERENCES

# Features whose reference `reference_levels` always reports, in the model or not.
REPORTED_REFERENCES = ("finance_type", "condition", "satisfaction")
# Terms the metrics must always hold, estimable or not.
REQUIRED_TERMS = ("finance_type:lease", "finance_type:cash", "condition:used", "condition:cpo",
                  "satisfaction:detractor", "satisfaction:promoter", "satisfaction:no_response")
MAIN_TERMS = ("finance_type:lease", "finance_type:cash", "condition:used", "satisfaction:detractor")
NOT_ESTIMABLE_TERM = ("Odds ratios of levels absent from this export, or pooled for too few buyers or events, "
                      "are not estimable and recorded as null.")
NO_VARYING_FEATURE = ("No purchase-time feature varies among the eligible buyers (or every one had to be left out), "
                      "so the churn model would give everyone the same risk; no odds ratios are reported.")
# Fallback order when the model cannot be fitted: drop these features (least needed first), then skip.
DROPPABLE_FEATURES = ("dealer_id", "price_band", "trade_in", "acquisition_channel", NUMERIC_FEATURE)
LARGEST_STANDARD_ERROR = 8.0  # on the log-odds scale: beyond it the term is (quasi-)separated
ODDS_COLUMNS = ["term", "feature", "level", "reference", "odds_ratio", "ci_low", "ci_high", "p", "note", "buyers"]


@dataclass
class ChurnPlan(LevelPlan):
    """The level plan plus the centre of the numeric feature (days to purchase), for explaining risks."""

    numeric_center: float = 0.0


def plan_levels(frame: pd.DataFrame, min_count: int = 20, min_events: int = 5) -> ChurnPlan:
    """Merge sparse levels so every odds ratio is estimable (journeylib.stats.levels).

    A group of buyers is sparse with fewer than `min_count` buyers or fewer than
    `min_events` churned or retained buyers (the odds ratio would be unstable or
    infinite).
    """
    def is_sparse(rows: pd.DataFrame) -> bool:
        churned = int(rows["churned"].astype(bool).sum())
        return len(rows) < min_count or churned < min_events or len(rows) - churned < min_events

    plan = levels.plan_levels(frame, CATEGORICAL_FEATURES, is_sparse, RETENTION_REFERENCES)
    center = float(frame[NUMERIC_FEATURE].median()) if len(frame) else 0.0
    return ChurnPlan(plan.references, plan.levels, plan.mapping, plan.notes, numeric_center=center)


@dataclass
class ChurnModel:
    result: object  # statsmodels LogitResults
    plan: ChurnPlan
    formula: str
    terms: dict  # statsmodels parameter name -> "feature:level"
    notes: list
    uses_days: bool = True  # False when days to purchase had to be left out (fallback)
    categories: dict = field(default_factory=dict)  # feature -> the levels the model was fitted with

    def predict(self, frame: pd.DataFrame) -> pd.Series:
        data, _ = categorised(self.plan.apply(frame), self.plan.levels, self.categories)
        return pd.Series(np.asarray(self.result.predict(data)), index=frame.index)

    @property
    def fit_notes(self) -> list:
        """The notes beyond the level plan's (features dropped by the fallback, few clusters)."""
        return [note for note in self.notes if note not in self.plan.notes]


def categorised(data: pd.DataFrame, features, categories: dict | None = None) -> tuple[pd.DataFrame, dict]:
    """`data` with its categorical features as pandas Categoricals, and their levels.

    patsy reads a Categorical's codes, where plain strings cost it a Python call per value (most of
    the churn model's time at a million buyers). The levels are the values present (or `categories`,
    the fit's, when predicting), in patsy's own order, so the terms and their order are those the
    strings give. A value outside `categories` stays text, and patsy names it as it always did.
    """
    from patsy.util import SortAnythingKey

    data, found = data.copy(), {}
    for feature in features:
        if feature not in data:
            continue
        present = list(pd.unique(data[feature]))
        levels = (categories or {}).get(feature) or sorted(present, key=SortAnythingKey)
        if set(present) <= set(levels):
            data[feature] = pd.Categorical(data[feature], categories=levels)
            found[feature] = levels
    return data, found


def term_prefix(feature: str, reference: str) -> str:
    """The patsy name of a treatment-coded feature (its parameters are `<prefix>[T.<level>]`)."""
    return f"C({feature}, Treatment(reference={reference!r}))"


def fit_churn_model(frame: pd.DataFrame, cluster_by_dealer: bool = False, plan: ChurnPlan | None = None,
                    min_count: int = 20, min_events: int = 5) -> ChurnModel:
    """Logistic regression of churned on the purchase-time features (statsmodels formula API).

    With `cluster_by_dealer` the standard errors are cluster-robust by dealer
    (buyers of one dealer share its service department, so they are not independent).
    """
    import statsmodels.formula.api as smf

    churned = int(frame["churned"].astype(bool).sum()) if len(frame) else 0
    if churned < min_events or len(frame) - churned < min_events:
        raise NotEstimable(f"The churn model needs at least {min_events} churned and {min_events} retained "
                           f"eligible buyers; this export has {churned} churned and {len(frame) - churned} retained.")
    plan = plan or plan_levels(frame, min_count=min_count, min_events=min_events)
    notes = list(plan.notes)
    if cluster_by_dealer:
        groups = pd.factorize(frame["dealer_id"])[0]
        if len(set(groups)) < 10:
            notes.append(f"only {len(set(groups))} dealers: cluster-robust intervals are unreliable with so few clusters")
        fit_kwargs = {"cov_type": "cluster", "cov_kwds": {"groups": groups}}
    else:
        fit_kwargs = {}
    # Fallback order: the full model; then drop the least needed features one at a time
    # (DROPPABLE_FEATURES) while the fit fails or a term is separated; then give up (NotEstimable).
    dropped = []
    candidates = [f for f in DROPPABLE_FEATURES if f in plan.levels or f == NUMERIC_FEATURE]
    while True:
        formula, terms = _formula(plan, dropped)
        data, categories = categorised(plan.apply(frame).assign(churned=frame["churned"].astype(int)), plan.levels)
        result = _try_logit(smf, formula, data, fit_kwargs)
        if result is not None:
            break
        remaining = [f for f in candidates if f not in dropped]
        if not remaining:
            raise NotEstimable("The churn model cannot be estimated on this export (a feature separates churned "
                               "from retained buyers, or the design is singular), even with only finance type, "
                               "condition and satisfaction; no odds ratios are reported.")
        dropped.append(remaining[0])
    if not terms:  # an intercept only: every buyer gets the same risk, nothing is explained
        raise NotEstimable(NO_VARYING_FEATURE)
    for feature in dropped:
        label = "days to purchase" if feature == NUMERIC_FEATURE else feature.replace("_", " ")
        notes.append(f"{label} left out of the model: with it the model could not be estimated "
                     "(separation or a singular design)")
    if dropped:  # a copy: the caller's plan stays as it was made
        plan = ChurnPlan(dict(plan.references), dict(plan.levels), dict(plan.mapping), list(plan.notes),
                         numeric_center=plan.numeric_center)
    for feature in dropped:
        plan.references.pop(feature, None)
        plan.levels.pop(feature, None)
        plan.mapping.pop(feature, None)
    return ChurnModel(result, plan, formula, terms, notes, uses_days=NUMERIC_FEATURE not in dropped,
                      categories=categories)


def main_model(eligible: pd.DataFrame, cluster_by_dealer: bool = False, min_count: int = 20,
               min_events: int = 5) -> ChurnModel:
    """The model of the analysis, fitted on the eligible buyers; NotEstimable when they are all of one class."""
    if eligible["churned"].nunique() < 2:
        raise NotEstimable(f"All {len(eligible)} eligible buyers are {'churned' if eligible['churned'].all() else 'retained'}: "
                           "nothing separates churned from retained buyers, so there is no churn model.")
    return fit_churn_model(eligible, cluster_by_dealer, min_count=min_count, min_events=min_events)


def _formula(plan: ChurnPlan, dropped=()) -> tuple[str, dict]:
    terms, parts = {}, []
    for feature in plan.levels:
        if feature in dropped:
            continue
        prefix = term_prefix(feature, plan.references[feature])
        parts.append(prefix)
        terms.update({f"{prefix}[T.{lvl}]": f"{feature}:{lvl}" for lvl in plan.levels[feature]
                      if lvl != plan.references[feature]})
    if NUMERIC_FEATURE not in dropped:
        parts.append(NUMERIC_FEATURE)
        terms[NUMERIC_FEATURE] = "days_to_purchase:per_doubling"
    return "churned ~ " + (" + ".join(parts) if parts else "1"), terms


def _try_logit(smf, formula: str, data: pd.DataFrame, fit_kwargs: dict):
    """The fitted logit, or None when it cannot be estimated: singular design, separation, no convergence,
    or a standard error so large (LARGEST_STANDARD_ERROR) that the term is separated in all but name."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationError

    separation = (PerfectSeparationError,)
    try:
        from statsmodels.tools.sm_exceptions import PerfectSeparationWarning
    except ImportError:  # older statsmodels raise the error instead
        PerfectSeparationWarning = None
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        if PerfectSeparationWarning is not None:
            warnings.simplefilter("error", PerfectSeparationWarning)
            separation += (PerfectSeparationWarning,)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            result = smf.logit(formula, data).fit(disp=0, maxiter=200, **fit_kwargs)
        except (np.linalg.LinAlgError, ConvergenceWarning, *separation):
            return None
    bse = np.asarray(result.bse, dtype=float)
    if not np.all(np.isfinite(bse)) or np.any(bse > LARGEST_STANDARD_ERROR):
        return None
    return result


def odds_ratios(model: ChurnModel, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Odds ratios with 95% CIs and p-values, one row per non-reference level (ODDS_COLUMNS).

    Required terms that could not be estimated (level absent or merged) get a
    row with missing values and a note, so the metrics keep their keys. With
    `frame`, `buyers` counts the buyers at each level after the plan's merges.
    """
    table = ratio_table(model.result, model.terms, model.plan.references, required=REQUIRED_TERMS,
                        fallback_references=RETENTION_REFERENCES,
                        not_estimable="not estimable: level absent or merged (too few buyers)")
    table = table.rename(columns={"ratio": "odds_ratio"})
    if frame is None:
        table["buyers"] = np.nan
    else:
        applied = model.plan.apply(frame)
        table["buyers"] = [int((applied[f] == lvl).sum()) if f in applied and f in model.plan.levels else np.nan
                           for f, lvl in zip(table["feature"], table["level"])]
    return table[ODDS_COLUMNS]


def reference_levels(model: ChurnModel) -> dict:
    """The reference level of every categorical feature (the metric `reference_levels`).

    finance_type, condition and satisfaction are always present (their fixed
    reference when the feature had to be left out of the model); the other
    features only when they are in the model.
    """
    out = {f: model.plan.references.get(f, RETENTION_REFERENCES[f]) for f in REPORTED_REFERENCES}
    out.update({f: r for f, r in model.plan.references.items() if f not in out})
    return out


def significant(odds: pd.DataFrame, alpha: float = 0.05) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The odds ratios with p < alpha that raise and that lower the odds of churn, largest first."""
    shown = odds[odds["p"] < alpha].sort_values("odds_ratio", ascending=False)
    return shown[shown["odds_ratio"] > 1], shown[shown["odds_ratio"] < 1]
