"""Service retention after the sale: who stops coming back, and why.

Definitions (docs/retention_churn.md):

- A buyer is **churned** at the as-of date when they have no service visit in
  the window (as_of - N days, as_of], N = `churn_after_days`. A visit exactly
  N days before as-of is outside the window; a visit on the as-of date is in.
- A buyer is **eligible** when the first purchase is at or before as_of - N
  days, so that the whole window lies after the purchase.
- A buyer **lapses** at the first moment they would be churned: N days after
  the purchase or a visit, when no visit follows within those N days (a gap
  of more than N days). Buyers who never lapse by as-of are censored there.

The model sees only what is known at or just after the purchase (the shared
buyer table): no service counts, nothing observed later.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from journeylib.stats import levels
from journeylib.errors import NotEstimable
from journeylib.stats.levels import LevelPlan
from journeylib.stats.intervals import wilson_interval

DEFAULT_CHURN_AFTER_DAYS = 365
SENSITIVITY_DAYS = (270, 365, 545)
DAYS_PER_MONTH = 365.25 / 12

# Reference levels fixed by the issue (and the sample's truth); trade-in and price band are fixed for
# readability, the channel as in notebooks 02 and 04 (website). Dealer: the dealer with most buyers.
# A fixed reference that is absent or sparse falls back to the most common level (with a note).
FIXED_REFERENCES = {"finance_type": "finance", "condition": "new", "satisfaction": "passive",
                    "acquisition_channel": "website", "trade_in": "no", "price_band": "low"}
REPORTED_REFERENCES = ("finance_type", "condition", "satisfaction")
CATEGORICAL_FEATURES = ("finance_type", "condition", "satisfaction", "acquisition_channel", "price_band",
                        "trade_in", "dealer_id")
NUMERIC_FEATURE = "log2_days_to_purchase"  # odds ratio per doubling of (1 + days to purchase)
# Terms the metrics must always hold, estimable or not.
REQUIRED_TERMS = ("finance_type:lease", "finance_type:cash", "condition:used", "condition:cpo",
                  "satisfaction:detractor", "satisfaction:promoter", "satisfaction:no_response")
MAIN_TERMS = ("finance_type:lease", "finance_type:cash", "condition:used", "satisfaction:detractor")
UNKNOWN_LEVEL = "unknown"
NOT_ESTIMABLE_TERM = ("Odds ratios of levels absent from this export, or pooled for too few buyers or events, "
                      "are not estimable and recorded as null.")
# Fallback order when the model cannot be fitted: drop these features (least needed first), then skip.
DROPPABLE_FEATURES = ("dealer_id", "price_band", "trade_in", "acquisition_channel", NUMERIC_FEATURE)
LARGEST_STANDARD_ERROR = 8.0  # on the log-odds scale: beyond it the term is (quasi-)separated


# ---------------------------------------------------------------- labels


def churn_labels(buyers: pd.DataFrame, service_visits: pd.DataFrame, as_of: pd.Timestamp,
                 churn_after_days: int = DEFAULT_CHURN_AFTER_DAYS) -> pd.DataFrame:
    """Eligibility and churn at the as-of date, one row per buyer (index: customer_id).

    Columns: first_purchase_at, last_visit_at (latest visit at or before as-of),
    eligible, churned (only eligible buyers can be churned) and active (not churned).
    """
    window_start = as_of - pd.Timedelta(days=churn_after_days)
    visits = service_visits[service_visits["customer_id"].isin(buyers.index)
                            & (service_visits["opened_at"] <= as_of)]
    labels = pd.DataFrame(index=buyers.index)
    labels["first_purchase_at"] = buyers["first_purchase_at"]
    labels["last_visit_at"] = visits.groupby("customer_id")["opened_at"].max().reindex(buyers.index)
    labels["eligible"] = (labels["first_purchase_at"] <= window_start).fillna(False).astype(bool)
    visited = (labels["last_visit_at"] > window_start).fillna(False).astype(bool)
    labels["churned"] = labels["eligible"] & ~visited
    labels["active"] = ~labels["churned"]
    return labels


def lapse_times(buyers: pd.DataFrame, service_visits: pd.DataFrame, as_of: pd.Timestamp,
                churn_after_days: int = DEFAULT_CHURN_AFTER_DAYS) -> pd.DataFrame:
    """Days from first purchase to the first lapse, censored at as-of (index: customer_id).

    From the purchase and after each visit, the buyer lapses N days later unless
    a visit comes strictly within those N days; a lapse on the as-of date
    counts (the buyer is churned then). Columns: duration_days, lapsed.
    """
    gap = pd.Timedelta(days=churn_after_days)
    start = pd.DataFrame({"customer_id": buyers.index.to_numpy(), "at": buyers["first_purchase_at"].to_numpy()})
    visits = service_visits[service_visits["customer_id"].isin(buyers.index)][["customer_id", "opened_at"]]
    visits = visits.merge(start, on="customer_id")
    visits = visits[(visits["opened_at"] > visits["at"]) & (visits["opened_at"] <= as_of)]
    moments = pd.concat([start[["customer_id", "at"]], visits[["customer_id", "opened_at"]].rename(
        columns={"opened_at": "at"})], ignore_index=True).sort_values(["customer_id", "at"], kind="stable")
    moments["next_at"] = moments.groupby("customer_id")["at"].shift(-1)
    lapse_at = moments["at"] + gap
    lapses = np.where(moments["next_at"].notna(), lapse_at < moments["next_at"], lapse_at <= as_of)
    first_lapse = lapse_at[lapses].groupby(moments.loc[lapses, "customer_id"]).min()
    out = pd.DataFrame(index=buyers.index)
    out["lapsed"] = out.index.isin(first_lapse.index)
    end = first_lapse.reindex(out.index).fillna(as_of)
    out["duration_days"] = (end - buyers["first_purchase_at"]).dt.total_seconds() / 86400
    return out[["duration_days", "lapsed"]]


def retention_curve(buyers: pd.DataFrame, service_visits: pd.DataFrame, as_of: pd.Timestamp,
                    window_months: int = 6) -> pd.DataFrame:
    """Share of buyers with a service visit in each window since purchase, with Wilson intervals.

    Window k covers (purchase + k*W, purchase + (k+1)*W], W = `window_months`
    months of 365.25/12 days; a buyer counts for window k only when it has
    ended by the as-of date.
    """
    width = pd.Timedelta(days=window_months * DAYS_PER_MONTH)
    purchase = buyers["first_purchase_at"].dropna()
    observed_windows = ((as_of - purchase) // width).astype(int)  # complete windows per buyer
    visits = service_visits[service_visits["customer_id"].isin(purchase.index)
                            & (service_visits["opened_at"] <= as_of)]
    since = visits["opened_at"] - visits["customer_id"].map(purchase)
    after = since > pd.Timedelta(0)
    # ceil(since / W) - 1: a visit exactly at the end of a window belongs to that window
    window = (-(-since[after] // width) - 1).astype(int)
    hits = pd.DataFrame({"customer_id": visits.loc[after, "customer_id"], "window": window}).drop_duplicates()
    hits = hits[hits["window"] < observed_windows.reindex(hits["customer_id"]).to_numpy()]
    rows = []
    for k in range(int(observed_windows.max()) if len(observed_windows) else 0):
        buyers_k = int((observed_windows > k).sum())
        visited_k = int((hits["window"] == k).sum())
        low, high = wilson_interval(visited_k, buyers_k)
        rows.append({"window": f"{k * window_months}-{(k + 1) * window_months} months", "months_from": k * window_months,
                     "buyers": buyers_k, "with_visit": visited_k, "share": visited_k / buyers_k,
                     "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows, columns=["window", "months_from", "buyers", "with_visit", "share", "ci_low", "ci_high"])


# ---------------------------------------------------------------- rates


def churn_rates(frame: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Churn rate with a 95% Wilson interval, overall (by=None) or per level of `by`.

    `frame` holds eligible buyers with a boolean `churned` column.
    """
    groups = [("all", frame)] if by is None else list(frame.groupby(by, observed=True, dropna=False))
    rows = []
    for level, part in groups:
        n, churned = len(part), int(part["churned"].sum())
        low, high = wilson_interval(churned, n)
        rows.append({by or "group": level, "buyers": n, "churned": churned,
                     "churn_rate": churned / n if n else float("nan"), "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows).sort_values("buyers", ascending=False, kind="stable").reset_index(drop=True)


def churn_rates_pooled(frame: pd.DataFrame, by: str, min_count: int) -> tuple[pd.DataFrame, list]:
    """`churn_rates` per level of `by`, levels with fewer than `min_count` buyers pooled into `other`.

    Returns the table and the pooled levels (for the report's sentence and `levels_pooled`).
    """
    values, pooled = levels.pool_rare(frame[by].astype("object"), min_count)
    return churn_rates(frame.assign(**{by: values}), by), pooled


# ---------------------------------------------------------------- features


def feature_frame(buyers: pd.DataFrame) -> pd.DataFrame:
    """Model features from the shared buyer table: categories as strings, `unknown` for missing."""
    out = pd.DataFrame(index=buyers.index)
    for column in CATEGORICAL_FEATURES:
        if column == "trade_in":
            values = buyers[column].map({True: "yes", False: "no"})
        else:
            values = buyers[column].astype("object")
        out[column] = values.where(values.notna(), UNKNOWN_LEVEL).astype(str)
    days = pd.to_numeric(buyers["days_to_purchase"], errors="coerce").clip(lower=0)
    # a missing time to purchase is rare; the median keeps the buyer without moving the estimate
    out[NUMERIC_FEATURE] = np.log2(1 + days.fillna(days.median() if days.notna().any() else 0))
    out["first_purchase_at"] = buyers["first_purchase_at"]
    return out


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

    plan = levels.plan_levels(frame, CATEGORICAL_FEATURES, is_sparse, FIXED_REFERENCES)
    center = float(frame[NUMERIC_FEATURE].median()) if len(frame) else 0.0
    return ChurnPlan(plan.references, plan.levels, plan.mapping, plan.notes, numeric_center=center)


# ---------------------------------------------------------------- model


@dataclass
class ChurnModel:
    result: object  # statsmodels LogitResults
    plan: ChurnPlan
    formula: str
    terms: dict  # statsmodels parameter name -> "feature:level"
    notes: list
    uses_days: bool = True  # False when days to purchase had to be left out (fallback)

    def predict(self, frame: pd.DataFrame) -> pd.Series:
        return pd.Series(np.asarray(self.result.predict(self.plan.apply(frame))), index=frame.index)

    @property
    def fit_notes(self) -> list:
        """The notes beyond the level plan's (features dropped by the fallback, few clusters)."""
        return [note for note in self.notes if note not in self.plan.notes]


def _term_prefix(feature: str, reference: str) -> str:
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
        formula, terms = _churn_formula(plan, dropped)
        result = _try_logit(smf, formula, plan.apply(frame).assign(churned=frame["churned"].astype(int)), fit_kwargs)
        if result is not None:
            break
        remaining = [f for f in candidates if f not in dropped]
        if not remaining:
            raise NotEstimable("The churn model cannot be estimated on this export (a feature separates churned "
                               "from retained buyers, or the design is singular), even with only finance type, "
                               "condition and satisfaction; no odds ratios are reported.")
        dropped.append(remaining[0])
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
    return ChurnModel(result, plan, formula, terms, notes, uses_days=NUMERIC_FEATURE not in dropped)


def _churn_formula(plan: ChurnPlan, dropped=()) -> tuple[str, dict]:
    terms, parts = {}, []
    for feature in plan.levels:
        if feature in dropped:
            continue
        prefix = _term_prefix(feature, plan.references[feature])
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
    import warnings

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
    """Odds ratios with 95% CIs and p-values, one row per non-reference level.

    Required terms that could not be estimated (level absent or merged) get a
    row with missing values and a note, so the metrics keep their keys.
    """
    result = model.result
    ci = np.exp(result.conf_int())
    rows = []
    for name, term in model.terms.items():
        feature, level = term.split(":", 1)
        rows.append({"term": term, "feature": feature, "level": level,
                     "reference": model.plan.references.get(feature, "per doubling"),
                     "odds_ratio": float(np.exp(result.params[name])), "ci_low": float(ci.loc[name, 0]),
                     "ci_high": float(ci.loc[name, 1]), "p": float(result.pvalues[name]), "note": ""})
    present = {row["term"] for row in rows}
    for term in REQUIRED_TERMS:
        if term not in present:
            feature, level = term.split(":", 1)
            rows.append({"term": term, "feature": feature, "level": level,
                         "reference": model.plan.references.get(feature, FIXED_REFERENCES.get(feature)),
                         "odds_ratio": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan,
                         "note": "not estimable: level absent or merged (too few buyers)"})
    table = pd.DataFrame(rows)
    if frame is not None:
        applied = model.plan.apply(frame)
        table["buyers"] = [int((applied[f] == lvl).sum()) if f in applied and f in model.plan.levels else np.nan
                           for f, lvl in zip(table["feature"], table["level"])]
    return table


def reference_levels(model: ChurnModel) -> dict:
    """The reference level of every categorical feature (the metric `reference_levels`).

    finance_type, condition and satisfaction are always present (their fixed
    reference when the feature had to be left out of the model); the other
    features only when they are in the model.
    """
    out = {f: model.plan.references.get(f, FIXED_REFERENCES[f]) for f in REPORTED_REFERENCES}
    out.update({f: r for f, r in model.plan.references.items() if f not in out})
    return out


# ---------------------------------------------------------------- data set


def churn_dataset(buyers: pd.DataFrame, service_visits: pd.DataFrame, as_of: pd.Timestamp,
                  churn_after_days: int = DEFAULT_CHURN_AFTER_DAYS) -> pd.DataFrame:
    """Every buyer's model features plus the eligibility and churn label at as-of."""
    labels = churn_labels(buyers, service_visits, as_of, churn_after_days)
    frame = feature_frame(buyers)
    frame[["eligible", "churned", "active"]] = labels[["eligible", "churned", "active"]]
    return frame


def load_inputs(processed_dir=None, as_of: pd.Timestamp | None = None):
    """(buyers, service_visits, as_of) from the processed tables: the shared buyer table
    (journeylib.buyers) and each service visit's customer and time."""
    from journeylib import tables
    from journeylib.buyers import buyer_table

    as_of = tables.as_of(processed_dir) if as_of is None else as_of
    buyers = buyer_table(tables.load("journeys", processed_dir), tables.load("sales", processed_dir),
                         tables.load("surveys", processed_dir), as_of)
    visits = tables.load("service_visits", processed_dir, columns=["ro_id", "customer_id", "opened_at"])
    return buyers, visits, as_of


@dataclass
class ChurnAnalysis:
    """The main analysis at one churn window: labels, the model and its odds ratios."""

    churn_after_days: int
    dataset: pd.DataFrame  # every buyer: features, eligible, churned, active
    eligible: pd.DataFrame  # the eligible buyers (the model's rows)
    model: ChurnModel
    odds: pd.DataFrame  # odds_ratios(model, eligible)
    references: dict  # reference_levels(model)

    @property
    def churn_rate(self) -> float:
        return float(self.eligible["churned"].mean())


def retention_gap(dataset: pd.DataFrame, as_of: pd.Timestamp, churn_after_days: int) -> str | None:
    """Why there is no churn rate on this export (one sentence), or None when there is one."""
    if dataset.empty:
        return f"No customer had bought by the as-of date ({as_of.date()}), so there is no retention to measure."
    if not dataset["eligible"].any():
        return (f"No buyer's first purchase is at least {churn_after_days} days before the as-of date "
                f"({as_of.date()}), so nobody is eligible for churn yet.")
    return None


def analyse(buyers: pd.DataFrame, service_visits: pd.DataFrame, as_of: pd.Timestamp,
            churn_after_days: int = DEFAULT_CHURN_AFTER_DAYS, cluster_by_dealer: bool = False,
            min_count: int = 20, min_events: int = 5) -> ChurnAnalysis:
    """Label every buyer at as-of, fit the logistic model on the eligible ones, tabulate odds ratios."""
    dataset = churn_dataset(buyers, service_visits, as_of, churn_after_days)
    eligible = dataset[dataset["eligible"]]
    gap = retention_gap(dataset, as_of, churn_after_days)
    if gap:
        raise NotEstimable(gap)
    if eligible["churned"].nunique() < 2:
        raise NotEstimable(f"All {len(eligible)} eligible buyers are {'churned' if eligible['churned'].all() else 'retained'}: "
                           "nothing separates churned from retained buyers, so there is no churn model.")
    model = fit_churn_model(eligible, cluster_by_dealer, min_count=min_count, min_events=min_events)
    return ChurnAnalysis(churn_after_days, dataset, eligible, model, odds_ratios(model, eligible),
                         reference_levels(model))


def lapse_km(lapses: pd.DataFrame, label: str = "all buyers"):
    """Kaplan-Meier fit of days from first purchase to lapse (lapse_times' output)."""
    from lifelines import KaplanMeierFitter

    return KaplanMeierFitter(label=label).fit(lapses["duration_days"], lapses["lapsed"].astype(bool))


def still_active(km, days=(365, 545, 730, 1095)) -> pd.DataFrame:
    """Share of buyers not yet lapsed at each day since purchase (KM, 95% interval); empty past the follow-up."""
    survival = km.survival_function_.iloc[:, 0]
    bands = km.confidence_interval_survival_function_
    rows = []
    for day in days:
        if day > km.timeline.max():
            rows.append((day, np.nan, np.nan, np.nan))
            continue
        at = survival.index[survival.index <= day][-1]
        rows.append((day, float(survival[at]), float(bands.loc[at].iloc[0]), float(bands.loc[at].iloc[1])))
    return pd.DataFrame(rows, columns=["day", "estimate", "ci_low", "ci_high"]).set_index("day")


def sensitivity(buyers: pd.DataFrame, service_visits: pd.DataFrame, as_of: pd.Timestamp,
                days=SENSITIVITY_DAYS, cluster_by_dealer: bool = False, terms=MAIN_TERMS,
                min_count: int = 20, min_events: int = 5) -> pd.DataFrame:
    """Eligible buyers, churn rate and the main odds ratios for several churn windows."""
    rows = []
    for n_days in days:
        data = churn_dataset(buyers, service_visits, as_of, n_days)
        eligible = data[data["eligible"]]
        row = {"churn_after_days": n_days, "eligible": len(eligible),
               "churn_rate": eligible["churned"].mean() if len(eligible) else np.nan}
        try:
            if eligible.empty:
                raise NotEstimable("no eligible buyers")
            table = odds_ratios(fit_churn_model(eligible, cluster_by_dealer, min_count=min_count,
                                                min_events=min_events)).set_index("term")
        except NotEstimable as error:  # a window with too few buyers: say so in the table, not crash
            table = None
            row["note"] = f"model not estimable: {error.reason}"
        for term in terms:
            row[f"OR {term}"] = np.nan if table is None else table.loc[term, "odds_ratio"]
            row[f"CI {term}"] = "" if table is None or pd.isna(table.loc[term, "odds_ratio"]) else \
                f"{table.loc[term, 'ci_low']:.2f}-{table.loc[term, 'ci_high']:.2f}"
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- validation


def temporal_split(frame: pd.DataFrame, holdout_share: float = 0.25) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Earlier purchase-month cohorts for training, the latest ones (about `holdout_share` of buyers) for testing.

    Whole months go to one side, so no cohort is split; at least one month stays in training.
    """
    if not 0 < holdout_share < 1:
        raise ValueError(f"holdout_share must be between 0 and 1, got {holdout_share}")
    month = frame["first_purchase_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    per_month = month.value_counts().sort_index(ascending=False)
    share_from_latest = per_month.cumsum() / len(frame)
    closest = int(np.argmin(np.abs(share_from_latest.to_numpy() - holdout_share)))
    test_months = list(share_from_latest.index[:closest + 1])
    if len(test_months) == len(per_month):
        test_months = test_months[:-1]
    is_test = month.isin(test_months)
    return frame[~is_test], frame[is_test]


def calibration(y, p) -> dict:
    """Calibration slope (logit(y) on logit(p)) and intercept (calibration-in-the-large, slope fixed at 1)."""
    import statsmodels.api as sm

    y = np.asarray(y, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), 1e-9, 1 - 1e-9)
    logit = np.log(p / (1 - p))
    slope_fit = sm.GLM(y, sm.add_constant(logit), family=sm.families.Binomial()).fit()
    intercept_fit = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Binomial(), offset=logit).fit()
    return {"calibration_slope": float(slope_fit.params[1]), "calibration_intercept": float(intercept_fit.params[0])}


def calibration_table(y, p, bins: int | None = None) -> pd.DataFrame:
    """Observed churn (with a 95% Wilson interval) against mean predicted risk in quantile bins of the prediction.

    By default 10 bins, fewer for a small holdout (at least about 30 buyers per bin, at least 3 bins).
    """
    data = pd.DataFrame({"y": np.asarray(y, dtype=float), "p": np.asarray(p, dtype=float)})
    if bins is None:
        bins = max(3, min(10, len(data) // 30))
    data["bin"] = pd.qcut(data["p"].rank(method="first"), min(bins, len(data)), labels=False)
    table = data.groupby("bin").agg(buyers=("y", "size"), churned=("y", "sum"), predicted=("p", "mean"),
                                    observed=("y", "mean")).reset_index()
    intervals = [wilson_interval(int(c), int(n)) for c, n in zip(table["churned"], table["buyers"])]
    table["ci_low"], table["ci_high"] = [i[0] for i in intervals], [i[1] for i in intervals]
    return table


def lift_table(y, p, deciles: int = 10) -> pd.DataFrame:
    """Churn rate per decile of predicted risk (decile 1 = highest risk) and its lift over the overall rate."""
    data = pd.DataFrame({"y": np.asarray(y, dtype=float), "p": np.asarray(p, dtype=float)})
    # rank ties by order so every decile has (almost) the same size
    data["decile"] = pd.qcut((-data["p"]).rank(method="first"), min(deciles, len(data)), labels=False) + 1
    table = data.groupby("decile").agg(buyers=("y", "size"), churned=("y", "sum"), mean_risk=("p", "mean"),
                                       churn_rate=("y", "mean")).reset_index()
    table["lift"] = table["churn_rate"] / data["y"].mean()
    return table


def holdout_validation(frame: pd.DataFrame, holdout_share: float = 0.25, cluster_by_dealer: bool = False,
                       min_count: int = 20, min_events: int = 5) -> dict:
    """Fit on earlier cohorts, score the latest: AUC, Brier, calibration and lift against a no-model baseline.

    The baseline predicts the training churn rate for everyone (AUC 0.5).
    """
    from sklearn.metrics import brier_score_loss, roc_auc_score

    train, test = temporal_split(frame, holdout_share)
    if test.empty or train["churned"].nunique() < 2:
        raise NotEstimable("No temporal holdout is possible: the eligible buyers span a single purchase month, "
                           "or the earlier cohorts hold only churned or only retained buyers.")
    model = fit_churn_model(train, cluster_by_dealer, min_count=min_count, min_events=min_events)
    p = model.predict(test)
    y = test["churned"].astype(int)
    baseline = float(train["churned"].mean())
    both_classes = y.nunique() == 2
    metrics = {
        "train_buyers": len(train), "test_buyers": len(test),
        "train_until": train["first_purchase_at"].max(), "test_from": test["first_purchase_at"].min(),
        "train_churn_rate": baseline, "test_churn_rate": float(y.mean()),
        "auc": float(roc_auc_score(y, p)) if both_classes else float("nan"),
        "brier": float(brier_score_loss(y, p)),
        "baseline_auc": 0.5, "baseline_brier": float(brier_score_loss(y, np.full(len(y), baseline))),
    }
    metrics.update(calibration(y, p) if both_classes else {"calibration_slope": np.nan, "calibration_intercept": np.nan})
    return {"metrics": metrics, "model": model, "predictions": pd.DataFrame({"churned": y, "risk": p}),
            "calibration": calibration_table(y, p), "lift": lift_table(y, p)}


# ---------------------------------------------------------------- action list


def top_factors(model: ChurnModel, frame: pd.DataFrame, k: int = 2) -> pd.DataFrame:
    """Per buyer, the `k` features that raise the log-odds most relative to the reference levels.

    A categorical feature contributes its level's coefficient (0 at the reference);
    days to purchase contributes its coefficient times the distance from the median.
    Only positive contributions count; fewer than `k` leave blanks.
    """
    applied = model.plan.apply(frame)
    params = model.result.params
    contributions, labels = {}, {}
    for feature, reference in model.plan.references.items():
        by_level = {lvl: float(params.get(f"{_term_prefix(feature, reference)}[T.{lvl}]", 0.0))
                    for lvl in model.plan.levels[feature]}
        contributions[feature] = applied[feature].map(by_level).astype(float)
        labels[feature] = feature + ":" + applied[feature].astype(str)
    distance = applied[NUMERIC_FEATURE] - model.plan.numeric_center
    contributions["days_to_purchase"] = float(params.get(NUMERIC_FEATURE, 0.0)) * distance
    labels["days_to_purchase"] = np.where(distance > 0, "days_to_purchase:longer", "days_to_purchase:shorter")
    values = pd.DataFrame(contributions, index=frame.index)
    names = pd.DataFrame(labels, index=frame.index)
    order = np.argsort(-values.to_numpy(), axis=1, kind="stable")
    rows = np.arange(len(values))
    out = pd.DataFrame(index=frame.index)
    for i in range(k):
        if i >= values.shape[1]:
            out[f"factor_{i + 1}"] = ""
            continue
        picked_value = values.to_numpy()[rows, order[:, i]]
        picked_name = names.to_numpy()[rows, order[:, i]]
        out[f"factor_{i + 1}"] = np.where(picked_value > 1e-12, picked_name, "")
    return out


AT_RISK_COLUMNS = ["customer_id", "risk", "factor_1", "factor_2"]


def at_risk_buyers(model: ChurnModel, frame: pd.DataFrame, top: int = 50) -> pd.DataFrame:
    """Currently active buyers (not churned at as-of) with the highest predicted churn risk.

    Ids, risk and the two factors only: no personal data leaves the notebook.
    """
    active = frame[frame["active"].astype(bool)]
    table = top_factors(model, active)
    table.insert(0, "risk", model.predict(active).round(4))
    table.insert(0, "customer_id", active.index.astype(str))
    table = table.reset_index(drop=True)
    table = table.sort_values(["risk", "customer_id"], ascending=[False, True], kind="stable")
    return table.head(top).reset_index(drop=True)[AT_RISK_COLUMNS]


def write_at_risk(table: pd.DataFrame, run_dir, name: str = "at_risk_buyers.csv") -> Path | None:
    """Write the action list into the run folder (nothing outside a run)."""
    if run_dir in (None, ""):
        return None
    unexpected = set(table.columns) - set(AT_RISK_COLUMNS)
    if unexpected:
        raise ValueError(f"the at-risk list holds ids, risk and factors only, not {sorted(unexpected)}")
    from journeylib.privacy import EMAIL_PATTERN

    if table["customer_id"].astype(str).str.contains(EMAIL_PATTERN, regex=True).any():
        raise ValueError("customer ids look like email addresses: map the export's customer_id to a "
                         "non-personal id before sharing the at-risk list")
    path = Path(run_dir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False)
    return path


# ---------------------------------------------------------------- figure


def plot_forest(table: pd.DataFrame, ax=None, title: str = "Odds of churn by purchase-time feature"):
    """Odds ratios with 95% CIs on a log scale; a vertical line at 1 (no difference from the reference)."""
    import matplotlib.pyplot as plt

    shown = table.dropna(subset=["odds_ratio"]).iloc[::-1]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, max(3, 0.35 * len(shown) + 1)))
    y = np.arange(len(shown))
    for i, feature in enumerate(dict.fromkeys(shown["feature"][::-1])):  # one colour per feature
        part = (shown["feature"] == feature).to_numpy()
        estimate, low, high = (shown[c].to_numpy(dtype=float)[part] for c in ("odds_ratio", "ci_low", "ci_high"))
        ax.errorbar(estimate, y[part], xerr=[estimate - low, high - estimate], fmt="o", color=f"C{i % 10}", capsize=3)
    ax.axvline(1, color="grey", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20) if shown["ci_low"].min() / 1.5 <= t <= shown["ci_high"].max() * 1.5]
    ax.set_xticks(ticks or [1], [f"{t:g}" for t in ticks] or ["1"])
    ax.minorticks_off()
    ax.set_yticks(y)
    ax.set_yticklabels([f"{t} (vs {r})" if r != "per doubling" else f"{t.split(':')[0]} (per doubling of 1 + days)"
                        for t, r in zip(shown["term"], shown["reference"])])
    ax.set_xlabel("odds ratio of churn (log scale, 95% CI)")
    ax.set_ylabel("feature: level")
    ax.set_title(title)
    return ax
