"""Advocacy: NPS, who refers, and what referrals bring (notebook 04; definitions: docs/advocacy.md).

- NPS counts every (deduplicated) survey response: each response rates one
  sale or one service visit. Its 95% interval is the adjusted Wald interval of
  Rocks (2016); `latest_per_customer` gives the one-per-customer variant.
- Referral counts are per buyer (the shared buyer table) over the buyer's
  exposure: from the first purchase to the as-of date. Referrals made before
  the first purchase, after the as-of date or by non-buyers are left out.
- Who refers: Poisson GLM first, overdispersion tests, then NB2 (estimated
  dispersion, log exposure as offset); rate ratios against fixed references;
  a zero-inflated NB2 tests for buyers who never refer (`zero_inflation`).
- `load_inputs` and `analyse_referrals` are the notebook's pipeline, also run by
  the tests on `journey sample` output.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from journeylib.stats import levels
from journeylib.errors import NotEstimable
from journeylib.stats.levels import LevelPlan
from journeylib.stats.intervals import adjusted_wald_nps, poisson_rate_interval, wilson_interval  # noqa: F401
from journeylib.segments import satisfaction_band

Z95 = float(stats.norm.ppf(0.975))
NPS_CATEGORIES = ("promoter", "passive", "detractor")
SURVEY_TYPES = ("sales", "service")

MODEL_FEATURES = ("satisfaction", "finance_type", "condition", "acquisition_channel")
# satisfaction's reference is fixed by the issue and the sample's truth; the
# others are the usual "plain" purchase (website is notebook 02's reference channel).
FIXED_REFERENCES = {"satisfaction": "passive", "finance_type": "finance", "condition": "new",
                    "acquisition_channel": "website"}
# Terms the metrics keep even when they cannot be estimated (then with missing values).
REQUIRED_TERMS = ("satisfaction:promoter", "satisfaction:detractor", "satisfaction:no_response")
UNKNOWN_LEVEL = "unknown"
ADVOCACY_EVENTS = ("review_posted", "social_share")
NOT_ESTIMABLE_TERM = ("Rate ratios of levels absent from this export, or pooled for too few buyers or referrals, "
                      "are not estimable and recorded as null.")
# Fallback order when the count models cannot be fitted: drop these features (least needed first), then skip.
DROPPABLE_FEATURES = ("acquisition_channel", "condition", "finance_type")


# ---------------------------------------------------------------- intervals


def quasi_poisson_rate(counts, exposure) -> dict:
    """Pooled rate sum(counts) / sum(exposure) with a 95% interval widened for overdispersion.

    Counts per person cluster (a keen referrer refers several friends), so the
    exact Poisson interval is too narrow. The log-rate standard error is
    sqrt(phi / sum(counts)), phi = Pearson chi2 / (n - 1) of the constant-rate
    model (never below 1).
    """
    y = np.asarray(counts, dtype=float)
    t = np.asarray(exposure, dtype=float)
    if len(y) != len(t) or (t < 0).any():
        raise ValueError("quasi_poisson_rate: counts and exposure must have the same length, exposure >= 0")
    if (y[t == 0] > 0).any():
        raise ValueError("quasi_poisson_rate: events on zero exposure")
    total, time = y.sum(), t.sum()
    rate = total / time if time > 0 else float("nan")
    # Units with no exposure (bought on the as-of date) add nothing to the rate and have no
    # expected count: they are left out of the dispersion estimate.
    y, t = y[t > 0], t[t > 0]
    if total == 0 or len(y) < 2:
        _, low, high = poisson_rate_interval(int(total), time)
        return {"estimate": rate, "ci_low": low, "ci_high": high, "dispersion": float("nan"),
                "events": int(total), "exposure": float(time)}
    expected = rate * t
    phi = max(1.0, float(np.sum((y - expected) ** 2 / expected) / (len(y) - 1)))
    se = np.sqrt(phi / total)
    return {"estimate": rate, "ci_low": float(rate * np.exp(-Z95 * se)), "ci_high": float(rate * np.exp(Z95 * se)),
            "dispersion": phi, "events": int(total), "exposure": float(time)}


# ---------------------------------------------------------------- NPS


def latest_per_customer(surveys: pd.DataFrame) -> pd.DataFrame:
    """One response per customer and survey type: the latest (ties: the largest response_id)."""
    ordered = surveys.sort_values(["customer_id", "survey_type", "responded_at", "response_id"])
    return ordered.drop_duplicates(["customer_id", "survey_type"], keep="last")


def attach_dealer(surveys: pd.DataFrame, sales: pd.DataFrame, service_visits: pd.DataFrame,
                  journeys: pd.DataFrame) -> pd.DataFrame:
    """Surveys with the dealer they rate and the UTC quarter of the response.

    A sales survey rates the customer's latest sale at or before the response,
    a service survey the latest service visit; without one, the customer's dealer.
    """
    out = surveys.copy()
    out["dealer_id"] = pd.Series(pd.NA, index=out.index, dtype="object")
    sources = {"sales": (sales, "sold_at"), "service": (service_visits, "opened_at")}
    for survey_type, (events, at) in sources.items():
        part = out[out["survey_type"] == survey_type]
        found = _latest_event_dealer(part, events, at)
        out.loc[found.index, "dealer_id"] = found.to_numpy()
    home = journeys.set_index("customer_id")["dealer_id"]
    out["dealer_id"] = out["dealer_id"].fillna(out["customer_id"].map(home)).fillna(UNKNOWN_LEVEL)
    out["quarter"] = out["responded_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("Q").astype(str)
    return out


def _latest_event_dealer(part: pd.DataFrame, events: pd.DataFrame, at: str) -> pd.Series:
    """Per survey row, the dealer of the customer's latest event at or before the response (index kept)."""
    if part.empty or events.empty:
        return pd.Series(dtype="object")
    left = part[["customer_id", "responded_at"]].reset_index().sort_values("responded_at")
    right = events[["customer_id", at, "dealer_id"]].dropna(subset=[at]).sort_values(at)
    right = right.astype({"customer_id": left["customer_id"].dtype})
    right[at] = right[at].astype(left["responded_at"].dtype)
    merged = pd.merge_asof(left, right, left_on="responded_at", right_on=at, by="customer_id",
                           direction="backward")
    return merged.set_index("index")["dealer_id"].dropna()


def nps_table(surveys: pd.DataFrame, by=None) -> pd.DataFrame:
    """NPS with its adjusted Wald interval per group (by: None, a column or a list of columns).

    Columns: the group columns, responses, promoters, passives, detractors,
    nps, ci_low, ci_high.
    """
    frame = surveys.assign(category=satisfaction_band(surveys["score"]).to_numpy())
    keys = [] if by is None else [by] if isinstance(by, str) else list(by)
    groups = [((), frame)] if not keys else frame.groupby(keys, observed=True, dropna=False)
    rows = []
    for level, part in groups:
        level = level if isinstance(level, tuple) else (level,)
        counts = part["category"].value_counts()
        pro, pas, det = (int(counts.get(c, 0)) for c in NPS_CATEGORIES)
        nps, low, high = adjusted_wald_nps(pro, det, len(part))
        rows.append({**dict(zip(keys, level)), "responses": len(part), "promoters": pro, "passives": pas,
                     "detractors": det, "nps": nps, "ci_low": low, "ci_high": high})
    columns = keys + ["responses", "promoters", "passives", "detractors", "nps", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=columns)


def score_distribution(surveys: pd.DataFrame) -> pd.DataFrame:
    """Responses per survey type and score 0..10 (every score present, zeros included)."""
    counts = surveys.groupby(["survey_type", "score"]).size()
    index = pd.MultiIndex.from_product([sorted(surveys["survey_type"].unique()), range(11)],
                                       names=["survey_type", "score"])
    table = counts.reindex(index, fill_value=0).rename("responses").reset_index()
    table["category"] = satisfaction_band(table["score"]).astype(str).to_numpy()
    table["share"] = table["responses"] / table.groupby("survey_type")["responses"].transform("sum")
    return table


# ---------------------------------------------------------------- referral counts


def window_referrals(buyers: pd.DataFrame, referrals: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Referrals labelled by whether they count: made by a buyer, at or after the first purchase, by as-of.

    Adds `status`: counted, before_purchase, after_as_of or not_a_buyer.
    """
    out = referrals.copy()
    purchase = out["referrer_customer_id"].map(buyers["first_purchase_at"])
    status = np.select(
        [purchase.isna(), out["referred_at"] > as_of, out["referred_at"] < purchase],
        ["not_a_buyer", "after_as_of", "before_purchase"], "counted")
    out["status"] = status
    return out


def referral_counts(buyers: pd.DataFrame, referrals: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Counted referrals per buyer (zeros included), indexed like `buyers`."""
    labelled = window_referrals(buyers, referrals, as_of)
    counted = labelled[labelled["status"] == "counted"]
    return counted.groupby("referrer_customer_id").size().reindex(buyers.index, fill_value=0).rename("referrals")


def model_frame(buyers: pd.DataFrame, counts: pd.Series) -> pd.DataFrame:
    """The features, exposure and referral count per buyer; missing categories are `unknown`.

    Buyers without positive exposure (bought on the as-of date) are left out:
    they had no time to refer anyone and log(0) has no offset.
    """
    out = pd.DataFrame(index=buyers.index)
    for feature in MODEL_FEATURES:
        values = buyers[feature].astype("object")
        out[feature] = values.where(values.notna(), UNKNOWN_LEVEL).astype(str)
    out["exposure_years"] = buyers["exposure_years"].astype(float)
    out["referrals"] = counts.reindex(buyers.index, fill_value=0).astype(int)
    return out[out["exposure_years"] > 0]


# ---------------------------------------------------------------- levels


def plan_levels(frame: pd.DataFrame, min_level_size: int = 20, min_referrals: int = 3,
                features=MODEL_FEATURES) -> LevelPlan:
    """Merge sparse levels so every rate ratio is estimable (journeylib.stats.levels).

    A group of buyers is sparse with fewer than `min_level_size` buyers or fewer
    than `min_referrals` referrals (a level without referrals has a rate ratio
    of 0 and no interval).
    """
    def is_sparse(rows: pd.DataFrame) -> bool:
        return len(rows) < min_level_size or rows["referrals"].sum() < min_referrals

    return levels.plan_levels(frame, features, is_sparse, FIXED_REFERENCES)


# ---------------------------------------------------------------- models


@dataclass
class ReferralModels:
    poisson: object          # statsmodels GLMResults (Poisson, offset log exposure)
    nb2: object              # statsmodels NegativeBinomialResults (NB2, alpha estimated)
    plan: LevelPlan
    formula: str
    terms: dict              # statsmodels parameter name -> "feature:level"
    data: pd.DataFrame       # the recoded model frame

    @property
    def alpha(self) -> float:
        return float(self.nb2.params["alpha"])

    @property
    def fit_notes(self) -> list:
        """The notes about the fit itself (a feature dropped by the fallback, NB2 not converged), not the level merges."""
        return [note for note in self.plan.notes if "could not be estimated" in note or "did not converge" in note]


def _formula(plan: LevelPlan) -> tuple[str, dict]:
    parts, terms = [], {}
    for feature, reference in plan.references.items():
        prefix = f"C({feature}, Treatment(reference={reference!r}))"
        parts.append(prefix)
        terms.update({f"{prefix}[T.{lvl}]": f"{feature}:{lvl}" for lvl in plan.levels[feature] if lvl != reference})
    return "referrals ~ " + (" + ".join(parts) if parts else "1"), terms


def design_matrix(data: pd.DataFrame, plan: LevelPlan) -> pd.DataFrame:
    """The treatment-coded design of `_formula(plan)`: what patsy builds from the formula, column for column.

    Intercept, then per feature (in the formula's order) one 0/1 column per non-reference level, levels
    in sorted order, named like patsy's (`C(feature, Treatment(reference='x'))[T.level]`). `data` is
    recoded by the plan (`plan.apply`), so every value is one of the plan's levels.
    """
    columns = {"Intercept": np.ones(len(data))}
    for feature, reference in plan.references.items():
        prefix = f"C({feature}, Treatment(reference={reference!r}))"
        values = data[feature].to_numpy()
        for level in plan.levels[feature]:
            if level != reference:
                columns[f"{prefix}[T.{level}]"] = (values == level).astype(float)
    return pd.DataFrame(columns, index=data.index)


def fit_referral_models(frame: pd.DataFrame, plan: LevelPlan | None = None, min_level_size: int = 20,
                        min_referrals: int = 3) -> ReferralModels:
    """Poisson GLM and NB2 of referrals with log(exposure years) as offset, same design."""
    import statsmodels.api as sm

    plan = plan or plan_levels(frame, min_level_size, min_referrals)
    data = plan.apply(frame)
    offset = np.log(data["exposure_years"].to_numpy())
    endog = data["referrals"].astype(float)
    # Fallback order: the full design; then drop the least needed features one at a time
    # (DROPPABLE_FEATURES) while the Poisson fit fails; then give up (NotEstimable).
    while True:
        formula, terms = _formula(plan)
        # The design is built once (the matrix patsy builds from `formula`, same column names) and shared
        # by both models: patsy's categorical coding took seconds per model at a million customers.
        exog = design_matrix(data, plan)
        poisson = _try_poisson(sm, endog, exog, offset)
        if poisson is not None:
            break
        droppable = [f for f in DROPPABLE_FEATURES if f in plan.references]
        if not droppable:
            raise NotEstimable("The referral models cannot be estimated on this export (a singular design or "
                               "separation even with satisfaction alone); no rate ratios are reported.")
        plan = LevelPlan({f: r for f, r in plan.references.items() if f != droppable[0]},
                         {f: v for f, v in plan.levels.items() if f != droppable[0]},
                         {f: v for f, v in plan.mapping.items() if f != droppable[0]},
                         plan.notes + [f"{droppable[0].replace('_', ' ')} left out of the model: with it the "
                                       "model could not be estimated (separation or a singular design)"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; checked through mle_retvals below
        nb2 = sm.NegativeBinomial(endog, exog, loglike_method="nb2", offset=offset).fit(
            start_params=np.append(poisson.params.to_numpy(), 0.5), method="bfgs", maxiter=500, disp=0)
    if not nb2.mle_retvals.get("converged", True):
        plan.notes.append("NB2 fit did not converge; read its estimates with care")
    return ReferralModels(poisson, nb2, plan, formula, terms, data)


def _try_poisson(sm, endog, exog, offset):
    """The Poisson GLM fit, or None when it cannot be estimated (singular design, non-finite estimates)."""
    if np.linalg.matrix_rank(exog.to_numpy()) < exog.shape[1]:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = sm.GLM(endog, exog, family=sm.families.Poisson(), offset=offset).fit()
        except np.linalg.LinAlgError:
            return None
    if not (np.all(np.isfinite(fit.params)) and np.all(np.isfinite(fit.bse))):
        return None
    return fit


def overdispersion(models: ReferralModels) -> dict:
    """Is there more spread than Poisson allows?

    - Pearson chi2 / residual df of the Poisson fit (about 1 under Poisson).
    - Cameron & Trivedi (1990) auxiliary regression for NB2-type variance
      mu + alpha mu^2: regress ((y - mu)^2 - y) / mu on mu without a constant;
      alpha > 0 is overdispersion (one-sided t test).
    - Likelihood ratio test of NB2 against Poisson (alpha = 0 on the boundary:
      half the chi2(1) tail).
    """
    fit = models.poisson
    y = models.data["referrals"].to_numpy(float)
    mu = np.asarray(fit.fittedvalues, dtype=float)
    pearson_ratio = float(fit.pearson_chi2 / fit.df_resid)
    aux = ((y - mu) ** 2 - y) / mu
    slope = float(np.sum(aux * mu) / np.sum(mu * mu))
    resid = aux - slope * mu
    se = float(np.sqrt(np.sum(resid ** 2) / (len(y) - 1) / np.sum(mu * mu)))
    t_stat = slope / se
    lr = max(0.0, 2 * (float(models.nb2.llf) - float(fit.llf)))
    return {"pearson_chi2_df": pearson_ratio, "ct_alpha": slope, "ct_t": float(t_stat),
            "ct_p": float(stats.t.sf(t_stat, len(y) - 1)), "lr_stat": lr, "lr_p": float(0.5 * stats.chi2.sf(lr, 1)),
            "nb2_alpha": models.alpha}


def rate_ratios(models: ReferralModels, fit=None) -> pd.DataFrame:
    """Rate ratios with 95% Wald intervals and p-values (NB2 unless `fit` is given), one row per level.

    Required terms that could not be estimated keep a row with missing values.
    """
    fit = models.nb2 if fit is None else fit
    ci = np.exp(fit.conf_int())
    data = models.data
    rows = []
    for name, term in models.terms.items():
        feature, level = term.split(":", 1)
        part = data[data[feature] == level]
        rows.append({"term": term, "feature": feature, "level": level,
                     "reference": models.plan.references[feature], "buyers": len(part),
                     "referrals": int(part["referrals"].sum()), "rate_ratio": float(np.exp(fit.params[name])),
                     "ci_low": float(ci.loc[name, 0]), "ci_high": float(ci.loc[name, 1]),
                     "p": float(fit.pvalues[name]), "note": ""})
    present = {row["term"] for row in rows}
    for term in REQUIRED_TERMS:
        if term not in present:
            feature, level = term.split(":", 1)
            rows.append({"term": term, "feature": feature, "level": level,
                         "reference": models.plan.references.get(feature, FIXED_REFERENCES[feature]),
                         "buyers": int((data[feature] == level).sum()) if feature in data else 0,
                         "referrals": np.nan, "rate_ratio": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                         "p": np.nan, "note": "not estimable: level absent or merged (too few buyers or referrals)"})
    return pd.DataFrame(rows)


def _predicted_means(models: ReferralModels, fit) -> np.ndarray:
    exog = models.nb2.model.exog
    k = exog.shape[1]
    offset = np.log(models.data["exposure_years"].to_numpy())
    return np.exp(exog @ np.asarray(fit.params)[:k] + offset)


def count_fit_table(models: ReferralModels, top: int = 4) -> pd.DataFrame:
    """Buyers with 0, 1, ..., top+ referrals: observed against expected under Poisson and NB2."""
    y = models.data["referrals"].to_numpy()
    mu_p = np.asarray(models.poisson.fittedvalues, dtype=float)
    mu_nb = _predicted_means(models, models.nb2)
    alpha = models.alpha
    size, prob = 1 / alpha, 1 / (1 + alpha * mu_nb)
    rows = []
    for count in range(top + 1):
        if count < top:
            observed = int((y == count).sum())
            poisson_expected = stats.poisson.pmf(count, mu_p).sum()
            nb_expected = stats.nbinom.pmf(count, size, prob).sum()
        else:
            observed = int((y >= count).sum())
            poisson_expected = stats.poisson.sf(count - 1, mu_p).sum()
            nb_expected = stats.nbinom.sf(count - 1, size, prob).sum()
        rows.append({"referrals": f"{count}+" if count == top else str(count), "observed": observed,
                     "poisson_expected": float(poisson_expected), "nb2_expected": float(nb_expected)})
    return pd.DataFrame(rows)


def _nb2_logpmf(y: np.ndarray, mu: np.ndarray, alpha: float) -> np.ndarray:
    """log P(Y = y) under NB2 with mean mu and variance mu + alpha mu^2."""
    from scipy.special import gammaln

    size = 1.0 / alpha
    return (gammaln(y + size) - gammaln(size) - gammaln(y + 1)
            + size * np.log(size / (size + mu)) + y * np.log(mu / (size + mu)))


def fit_zinb(models: ReferralModels, starts=(-4.0, -1.5, 0.0)) -> dict:
    """Zero-inflated NB2 with a constant inflation probability pi and the NB2 design and offset.

    P(0) = pi + (1 - pi) NB2(0), P(y) = (1 - pi) NB2(y) for y > 0. Maximum likelihood over
    (logit pi, beta, log alpha): the log scales keep pi in (0, 1) and alpha > 0, which
    statsmodels' ZeroInflatedNegativeBinomialP does not (its alpha can run negative and the
    fit end in NaN when there is no inflation to find). Several starting values of pi; the best
    fit is kept. Returns llf, inflation (pi), alpha, params (beta, named like NB2's) and converged.

    BFGS gets the analytic gradient (`_zinb_negative_llf`): with finite differences every
    gradient costs k + 2 passes over all buyers, which took minutes at a million customers.
    """
    from scipy.optimize import minimize
    from scipy.special import expit

    y = np.asarray(models.nb2.model.endog, dtype=float)
    exog = np.asarray(models.nb2.model.exog, dtype=float)
    offset = np.log(models.data["exposure_years"].to_numpy(float))
    k = exog.shape[1]
    # Referral counts take a handful of values: the log-gamma terms are computed once per value.
    values, inverse = np.unique(y, return_inverse=True)
    data = (y, exog, offset, y == 0, values, inverse.ravel())

    beta0 = np.asarray(models.nb2.params)[:k]
    log_alpha0 = float(np.log(max(models.alpha, 0.05)))
    best = None
    for logit0 in starts:
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            fit = minimize(_zinb_negative_llf, np.concatenate([[logit0], beta0, [log_alpha0]]), args=data,
                           jac=True, method="BFGS", options={"maxiter": 2000, "gtol": 1e-5})
        if np.isfinite(fit.fun) and (best is None or fit.fun < best.fun):
            best = fit
    if best is None:
        return {"llf": float("nan"), "inflation": float("nan"), "alpha": float("nan"),
                "params": pd.Series(dtype=float), "converged": False}
    # BFGS may stop short of its gradient tolerance on the flat ridge where pi -> 0 (no inflation):
    # accept a fit whose objective no longer moves.
    converged = bool(best.success or np.max(np.abs(best.jac)) < 1e-2)
    return {"llf": -float(best.fun), "inflation": float(expit(best.x[0])), "alpha": float(np.exp(best.x[k + 1])),
            "params": pd.Series(best.x[1:k + 1], index=models.nb2.model.exog_names[:k]), "converged": converged}


def _zinb_negative_llf(theta, y, exog, offset, zero, values, inverse):
    """Negative log-likelihood of the zero-inflated NB2 of `fit_zinb` and its gradient.

    theta = (logit pi, beta, log alpha). With r = 1 / alpha and the NB2 log pmf c(y; mu, r):
    dc/d(x'beta) = (y - mu) / (1 + alpha mu) and
    dc/dr = digamma(y + r) - digamma(r) - log(1 + alpha mu) + (mu - y) / (r + mu).
    A zero has likelihood pi + (1 - pi) exp(c); w, the posterior share of its count part,
    weighs the count gradient (w = 1 for positive counts), and d llf / d logit pi = sum(1 - w) - n pi.
    The clipping of x'beta and log alpha (numerical guards) has zero gradient where it binds.
    """
    from scipy.special import digamma, gammaln, log_expit

    k = exog.shape[1]
    logit_pi, beta, log_alpha = theta[0], theta[1:k + 1], theta[k + 1]
    raw_eta = exog @ beta + offset
    eta = np.clip(raw_eta, -30, 30)
    mu = np.exp(eta)
    clipped_log_alpha = float(np.clip(log_alpha, -20, 10))
    alpha = float(np.exp(clipped_log_alpha))
    size = 1.0 / alpha
    log1p_amu = np.log1p(alpha * mu)
    # log NB2(y): lgamma(y + r) - lgamma(r) - lgamma(y + 1) + r log(r / (r + mu)) + y log(mu / (r + mu))
    lgamma_terms = gammaln(values + size) - gammaln(size) - gammaln(values + 1)
    count = lgamma_terms[inverse] - size * log1p_amu + y * (eta + clipped_log_alpha - log1p_amu)
    log_pi, log_not = log_expit(logit_pi), log_expit(-logit_pi)
    count_part = log_not + count
    ll_zero = np.logaddexp(log_pi, count_part[zero])
    llf = float(ll_zero.sum() + count_part[~zero].sum())

    weight = np.ones_like(y)
    weight[zero] = np.exp(count_part[zero] - ll_zero)
    d_logit = float(np.sum(1.0 - weight) - len(y) * np.exp(log_pi))
    d_eta = weight * (y - mu) / (1.0 + alpha * mu)
    d_eta[(raw_eta < -30) | (raw_eta > 30)] = 0.0
    d_beta = exog.T @ d_eta
    d_size = (digamma(values + size) - digamma(size))[inverse] - log1p_amu + (mu - y) / (size + mu)
    d_log_alpha = -size * float(np.sum(weight * d_size)) if -20 < log_alpha < 10 else 0.0
    gradient = np.concatenate([[d_logit], d_beta, [d_log_alpha]])
    return -llf, -gradient


def zero_inflation(models: ReferralModels, min_inflation: float = 0.05, level: float = 0.01) -> dict:
    """Are there buyers who never refer anyone, beyond what NB2's spread already allows?

    NB2 absorbs extra zeros through a larger dispersion, so comparing observed with
    NB2-expected zeros alone says little. A zero-inflated NB2 (constant share pi of
    "never-referrers", `fit_zinb`) is compared with NB2 by a likelihood ratio test; pi = 0 is
    on the boundary, so the p-value is half the chi2(1) tail. Zero inflation `matters` when
    the test rejects at `level` (default 0.01) and the estimated share of never-referrers is at
    least `min_inflation` (default 5%): then NB2's rate ratios mix "whether" and "how often"
    a buyer refers. `promoter_rr_zinb` is the promoter rate ratio among buyers who refer at all.
    """
    table = count_fit_table(models)
    observed, expected = int(table.loc[0, "observed"]), float(table.loc[0, "nb2_expected"])
    nb2 = models.nb2
    zinb = fit_zinb(models)
    lr = max(0.0, 2 * (zinb["llf"] - float(nb2.llf))) if np.isfinite(zinb["llf"]) else float("nan")
    lr_p = float(0.5 * stats.chi2.sf(lr, 1)) if np.isfinite(lr) else float("nan")
    zinb_aic = -2 * zinb["llf"] + 2 * (len(nb2.params) + 1)
    promoter = next((name for name, term in models.terms.items() if term == "satisfaction:promoter"), None)
    rr_zinb = float(np.exp(zinb["params"][promoter])) if promoter and promoter in zinb["params"] else float("nan")
    rr_nb2 = float(np.exp(nb2.params[promoter])) if promoter else float("nan")
    matters = bool(zinb["converged"] and lr_p < level and zinb["inflation"] >= min_inflation)
    return {"observed_zeros": observed, "nb2_expected_zeros": expected,
            "poisson_expected_zeros": float(table.loc[0, "poisson_expected"]),
            "excess_zero_share": (observed - expected) / max(expected, 1.0),
            "nb2_aic": float(nb2.aic), "zinb_aic": float(zinb_aic), "aic_gain": float(nb2.aic) - float(zinb_aic),
            "lr_stat": lr, "lr_p": lr_p, "zinb_inflation": zinb["inflation"], "zinb_alpha": zinb["alpha"],
            "zinb_converged": zinb["converged"], "promoter_rr_nb2": rr_nb2, "promoter_rr_zinb": rr_zinb,
            "matters": matters}


# ---------------------------------------------------------------- the pipeline (notebook 04, tests)


INPUT_TABLES = ("journeys", "sales", "service_visits", "surveys", "referrals")
# Columns read per table (None: every column). Service visits only place a survey at its dealer.
INPUT_COLUMNS = {"service_visits": ["customer_id", "opened_at", "dealer_id"]}
ADVOCACY_TOUCHPOINT_COLUMNS = ["customer_id", "event_type", "counts_for_journey", "occurred_at"]


def load_inputs(processed_dir=None, as_of: pd.Timestamp | None = None):
    """(tables, buyers, as_of): the processed tables notebook 04 reads and the shared buyer table.

    `tables["advocacy_touchpoints"]` holds only the review and social-share touchpoints
    (`load_advocacy_touchpoints`), not the whole touchpoints table.
    """
    from journeylib import tables as tables_
    from journeylib.buyers import buyer_table

    as_of = tables_.as_of(processed_dir) if as_of is None else as_of
    loaded = {name: tables_.load(name, processed_dir, columns=INPUT_COLUMNS.get(name)) for name in INPUT_TABLES}
    loaded["advocacy_touchpoints"] = load_advocacy_touchpoints(processed_dir)
    loaded["surveys"], _ = dedupe_surveys(loaded["surveys"])
    buyers = buyer_table(loaded["journeys"], loaded["sales"], loaded["surveys"], as_of)
    return loaded, buyers, as_of


def load_advocacy_touchpoints(processed_dir=None) -> pd.DataFrame:
    """The touchpoints `advocacy_events` reads: review_posted and social_share rows, four columns.

    The touchpoints table is by far the largest processed table (about 14 rows per customer);
    reading all of it took most of notebook 04's memory. The event-type filter is applied while
    reading the Parquet file, so the other rows are never turned into Python objects.
    """
    from journeylib import tables as tables_

    return tables_.load("touchpoints", processed_dir, columns=ADVOCACY_TOUCHPOINT_COLUMNS,
                        filters=[("event_type", "in", list(ADVOCACY_EVENTS))])


def dedupe_surveys(surveys: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """One row per response_id (the contract's rule; `journey prepare` has applied it, so this is a guard).

    Several responses from one customer are kept: each rates a different sale or service visit.
    Returns the rows kept and the number dropped.
    """
    kept = surveys.sort_values(["response_id", "responded_at"]).drop_duplicates("response_id", keep="first")
    return kept.sort_index(), len(surveys) - len(kept)


def referral_rate(counts: pd.Series) -> dict:
    """Share of buyers who made at least one counted referral, with its Wilson 95% interval."""
    referrers, n = int((counts > 0).sum()), len(counts)
    low, high = wilson_interval(referrers, n)
    return {"estimate": referrers / n if n else float("nan"), "ci_low": low, "ci_high": high,
            "referrers": referrers, "buyers": n}


@dataclass
class ReferralAnalysis:
    """Who refers: the buyers, their counted referrals and the Poisson / NB2 models."""

    buyers: pd.DataFrame        # journeylib.buyers.buyer_table
    labelled: pd.DataFrame      # window_referrals: every referral with its status
    counts: pd.Series           # counted referrals per buyer
    frame: pd.DataFrame         # model_frame (buyers with positive exposure)
    models: ReferralModels | None   # None when the models cannot be fitted (`no_model` says why)
    ratios: pd.DataFrame | None        # NB2 rate ratios
    poisson_ratios: pd.DataFrame | None
    dispersion: dict | None            # overdispersion()
    zeros: dict | None                 # zero_inflation()
    rate: dict                  # referral_rate()
    no_model: str | None = None  # the sentence saying why there are no models

    @property
    def reference_satisfaction(self) -> str | None:
        if self.models is None:
            return None
        return self.models.plan.references.get("satisfaction", FIXED_REFERENCES["satisfaction"])


def analyse_referrals(buyers: pd.DataFrame, referrals: pd.DataFrame, as_of: pd.Timestamp,
                      min_level_size: int = 20, min_referrals: int = 3) -> ReferralAnalysis:
    """Count each buyer's referrals over their exposure, fit Poisson then NB2, check dispersion and zeros.

    When the models cannot be fitted (no buyers with exposure, too few referrals, no estimable design),
    the counts and the referral rate are still returned, with `models` None and `no_model` the reason.
    """
    labelled = window_referrals(buyers, referrals, as_of)
    counts = referral_counts(buyers, referrals, as_of)
    frame = model_frame(buyers, counts)
    try:
        models = _referral_models(frame, min_level_size, min_referrals)
    except NotEstimable as error:
        return ReferralAnalysis(buyers, labelled, counts, frame, None, None, None, None, None,
                                referral_rate(counts), no_model=error.reason)
    return ReferralAnalysis(buyers, labelled, counts, frame, models, rate_ratios(models),
                            rate_ratios(models, fit=models.poisson), overdispersion(models), zero_inflation(models),
                            referral_rate(counts))


def _referral_models(frame: pd.DataFrame, min_level_size: int, min_referrals: int) -> ReferralModels:
    if frame.empty:
        raise NotEstimable("No buyer had any time to refer someone before the as-of date, so there is no "
                           "referral model.")
    if frame["referrals"].sum() < min_referrals:
        raise NotEstimable(f"{int(frame['referrals'].sum())} referrals were made by the {len(frame)} buyers after "
                           f"their purchase (the models need at least {min_referrals}), so who refers cannot be "
                           "estimated.")
    return fit_referral_models(frame, min_level_size=min_level_size, min_referrals=min_referrals)


# ---------------------------------------------------------------- what referrals bring


def referral_outcomes(referrals: pd.DataFrame, journeys: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Each referral made by as-of with its outcome.

    Adds: has_customer (referred_customer_id is a known customer) and
    became_buyer (that customer's first purchase is at or after the referral
    and by as-of: a referral cannot bring someone who had already bought).
    """
    out = referrals[referrals["referred_at"] <= as_of].copy()
    known = journeys.set_index("customer_id")
    out["has_customer"] = out["referred_customer_id"].isin(known.index)
    purchase = out["referred_customer_id"].map(known["first_purchase_at"])
    # map() gives an object column with NaN for unknown customers: `eq(True)` reads it without downcasting
    bought = out["referred_customer_id"].map(known["purchased"]).eq(True)
    out["became_buyer"] = out["has_customer"] & bought & (purchase >= out["referred_at"])
    return out


def referral_funnel(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Referrals -> referred customers -> referred buyers, each step's share of the one before (Wilson 95%)."""
    steps = [("referrals", len(outcomes), None),
             ("referred customers", int(outcomes["has_customer"].sum()), len(outcomes)),
             ("referred buyers", int(outcomes["became_buyer"].sum()), int(outcomes["has_customer"].sum()))]
    rows = []
    for name, count, base in steps:
        share = count / base if base else np.nan
        low, high = wilson_interval(count, base) if base else (np.nan, np.nan)
        rows.append({"step": name, "count": count, "share_of_previous": share, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)


def k_factor(buyers: pd.DataFrame, outcomes: pd.DataFrame, as_of: pd.Timestamp) -> dict:
    """Referred buyers per buyer per year of exposure (the referral coefficient k), quasi-Poisson 95% interval.

    Counts a referral when it counts for the referrer (window_referrals) and
    its referred customer became a buyer by as-of. Recent referrals have had
    little time to convert, so k is a lower bound of the eventual value.
    """
    labelled = window_referrals(buyers, outcomes, as_of)
    counted = labelled[(labelled["status"] == "counted") & labelled["became_buyer"]]
    per_buyer = counted.groupby("referrer_customer_id").size().reindex(buyers.index, fill_value=0)
    exposure = buyers["exposure_years"].clip(lower=0)
    return quasi_poisson_rate(per_buyer.to_numpy(), exposure.to_numpy())


def referred_lead_times(journeys: pd.DataFrame, referrals: pd.DataFrame) -> pd.DataFrame:
    """Notebook 02's lead table (`survival.customer_table`: days from first touch to purchase or
    as-of, purchased, journey day, ...) indexed by customer_id, plus `referred`.

    A lead is referred when a referral names them before their first purchase (any time, for
    leads who have not bought): like `referral_outcomes`, a referral logged after the purchase
    did not bring it. `referred_after_first_touch` flags referred leads whose referral was logged
    after their first touch (they count as referred from day 0; see docs/advocacy.md).
    """
    from journeylib import survival

    leads = survival.customer_table(journeys).set_index(survival.ID)
    known = journeys.set_index("customer_id")
    linked = referrals.dropna(subset=["referred_customer_id"])
    linked = linked[linked["referred_customer_id"].isin(leads.index)]
    earliest = linked.groupby("referred_customer_id")["referred_at"].min()
    purchase = known["first_purchase_at"].reindex(earliest.index)
    earliest = earliest[purchase.isna() | (earliest <= purchase)]
    leads["referred"] = leads.index.isin(earliest.index)
    first_touch = known["first_touch_at"].reindex(earliest.index)
    late = earliest.index[(earliest > first_touch).to_numpy()]
    leads["referred_after_first_touch"] = leads.index.isin(late)
    return leads


def referred_hazard_ratio(times: pd.DataFrame) -> dict:
    """Cox hazard ratio of purchase, referred leads against other leads (95% CI, p), and the log-rank p.

    Uses notebook 02's model time (`day`, whole journey days; Efron ties) through
    `survival.fit_cox`; the log-rank test uses the exact days.
    """
    from journeylib import survival

    data = pd.DataFrame({"day": survival.model_day(times["days"]) if "day" not in times else times["day"],
                         "days": times["days"], "purchased": times["purchased"].astype(bool),
                         "referred": times["referred"].astype(int)})
    if data["referred"].nunique() < 2 or not data["purchased"].any():
        return {"estimate": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "p": float("nan"),
                "logrank_p": float("nan")}
    # Whole journey days have many ties: lifelines' batch mode is the fast path for them (same fit).
    ratio = survival.hazard_ratios(survival.fit_cox(data, "day", "purchased", ["referred"],
                                                    batch_mode=True)).loc["referred"]
    _, _, logrank_p = survival.logrank(data, "referred")
    return {"estimate": float(ratio["hazard_ratio"]), "ci_low": float(ratio["ci_low"]),
            "ci_high": float(ratio["ci_high"]), "p": float(ratio["p"]), "logrank_p": logrank_p}


def chain_depth(referrals: pd.DataFrame, max_depth: int = 50) -> pd.Series:
    """Depth of every referred customer: 1 when referred by a customer who was not referred, 2 when the
    referrer was referred by a depth-1 customer, and so on (index: referred customer_id).

    A customer referred more than once takes their earliest referral. A cycle
    (A refers B refers A, a data error) stops at `max_depth`.
    """
    linked = referrals.dropna(subset=["referred_customer_id"]).sort_values(["referred_at", "referral_id"])
    first = linked.drop_duplicates("referred_customer_id")
    parent = dict(zip(first["referred_customer_id"], first["referrer_customer_id"]))
    depth = {}
    for child, referrer in parent.items():
        level = 1
        while referrer in parent and level < max_depth:
            referrer, level = parent[referrer], level + 1
        depth[child] = level
    depth = pd.Series(depth, dtype=int)
    return depth.rename("depth")


def depth_table(depth: pd.Series, customers: int) -> pd.DataFrame:
    """Customers per chain depth (0 = not referred), out of all `customers`."""
    counts = depth.value_counts().sort_index()
    rows = [{"depth": 0, "customers": int(customers - counts.sum())}]
    rows += [{"depth": int(d), "customers": int(n)} for d, n in counts.items()]
    table = pd.DataFrame(rows)
    table["share"] = table["customers"] / customers if customers else np.nan
    return table


# ---------------------------------------------------------------- reviews and shares


def advocacy_events(buyers: pd.DataFrame, touchpoints: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per buyer: reviews and shares after the first purchase (counts_for_journey) by as-of."""
    events = touchpoints[touchpoints["event_type"].isin(ADVOCACY_EVENTS)
                         & touchpoints["counts_for_journey"].fillna(False).astype(bool)
                         & (touchpoints["occurred_at"] <= as_of)
                         & touchpoints["customer_id"].isin(buyers.index)]
    counts = events.groupby(["customer_id", "event_type"]).size().unstack(fill_value=0)
    counts = counts.reindex(index=buyers.index, columns=list(ADVOCACY_EVENTS), fill_value=0).fillna(0).astype(int)
    counts["satisfaction"] = buyers["satisfaction"].astype(str)
    counts["exposure_years"] = buyers["exposure_years"]
    return counts


def advocacy_by_band(events: pd.DataFrame, bands=("promoter", "passive", "detractor", "no_response")) -> pd.DataFrame:
    """Share of buyers with at least one review / share (Wilson 95%) and events per buyer-year, per band."""
    rows = []
    for event in ADVOCACY_EVENTS:
        for band in [*bands, "all"]:
            part = events if band == "all" else events[events["satisfaction"] == band]
            n, doers = len(part), int((part[event] > 0).sum())
            low, high = wilson_interval(doers, n)
            rate, rate_low, rate_high = poisson_rate_interval(int(part[event].sum()), float(part["exposure_years"].sum()))
            rows.append({"event": event, "satisfaction": band, "buyers": n, "buyers_with_event": doers,
                         "share": doers / n if n else np.nan, "ci_low": low, "ci_high": high,
                         "per_buyer_year": rate, "rate_ci_low": rate_low, "rate_ci_high": rate_high})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- simulation (tests, docs)


SIMULATED_BAND_SHARES = {"promoter": 0.3, "passive": 0.2, "detractor": 0.1, "no_response": 0.4}
SIMULATED_RATE_RATIOS = {"promoter": 3.0, "passive": 1.0, "detractor": 0.4, "no_response": 1.0}


def simulate_buyers(n: int = 2000, seed: int = 0, base_rate: float = 0.15, alpha: float = 0.5,
                    rate_ratios: dict | None = None, max_years: float = 3.5) -> pd.DataFrame:
    """Buyers with NB2 referral counts of known truth: mean = base_rate * RR(satisfaction) * exposure.

    Finance type, condition and acquisition channel are drawn at random with
    no effect (their true rate ratios are 1). Counts are gamma-Poisson with
    variance mu + alpha mu^2.
    """
    rate_ratios = {**SIMULATED_RATE_RATIOS, **(rate_ratios or {})}
    rng = np.random.default_rng(seed)
    bands = list(SIMULATED_BAND_SHARES)
    frame = pd.DataFrame({
        "satisfaction": rng.choice(bands, n, p=list(SIMULATED_BAND_SHARES.values())),
        "finance_type": rng.choice(["finance", "cash", "lease"], n, p=[0.55, 0.25, 0.2]),
        "condition": rng.choice(["new", "used", "cpo"], n, p=[0.5, 0.35, 0.15]),
        "acquisition_channel": rng.choice(["website", "search", "walk_in", "email"], n, p=[0.4, 0.3, 0.27, 0.03]),
        "exposure_years": rng.uniform(0.05, max_years, n),
    }, index=pd.Index([f"B{i:05d}" for i in range(n)], name="customer_id"))
    mu = base_rate * frame["satisfaction"].map(rate_ratios).to_numpy() * frame["exposure_years"].to_numpy()
    frame["referrals"] = rng.poisson(rng.gamma(1 / alpha, alpha * mu)) if alpha > 0 else rng.poisson(mu)
    return frame
