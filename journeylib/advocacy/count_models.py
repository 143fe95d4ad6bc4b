"""Who refers: Poisson GLM, overdispersion checks, NB2 and its rate ratios, zero inflation.

Both models share one treatment-coded design (satisfaction band, finance type, condition,
acquisition channel; log exposure years as offset). Rate ratios compare with the fixed
references of `journeylib.vocabulary.ADVOCACY_REFERENCES`; sparse levels are merged first.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from journeylib.advocacy import zinb
from journeylib.advocacy.referrals import MODEL_FEATURES, NO_EXPOSURE
from journeylib.errors import NotEstimable
from journeylib.stats import levels
from journeylib.stats.levels import LevelPlan
from journeylib.stats.ratios import ratio_table
from journeylib.vocabulary import ADVOCACY_REFERENCES

# Terms the metrics keep even when they cannot be estimated (then with missing values).
REQUIRED_TERMS = ("satisfaction:promoter", "satisfaction:detractor", "satisfaction:no_response")
NOT_ESTIMABLE_TERM = ("Rate ratios of levels absent from this export, or pooled for too few buyers or referrals, "
                      "are not estimable and recorded as null.")
# Fallback order when the count models cannot be fitted: drop these features (least needed first), then skip.
DROPPABLE_FEATURES = ("acquisition_channel", "condition", "finance_type")
RATE_RATIO_COLUMNS = ["term", "feature", "level", "reference", "buyers", "referrals", "rate_ratio", "ci_low",
                      "ci_high", "p", "note"]


def plan_levels(frame: pd.DataFrame, min_level_size: int = 20, min_referrals: int = 3,
                features=MODEL_FEATURES) -> LevelPlan:
    """Merge sparse levels so every rate ratio is estimable (journeylib.stats.levels).

    A group of buyers is sparse with fewer than `min_level_size` buyers or fewer
    than `min_referrals` referrals (a level without referrals has a rate ratio
    of 0 and no interval).
    """
    def is_sparse(rows: pd.DataFrame) -> bool:
        return len(rows) < min_level_size or rows["referrals"].sum() < min_referrals

    return levels.plan_levels(frame, features, is_sparse, ADVOCACY_REFERENCES)


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


def formula(plan: LevelPlan) -> tuple[str, dict]:
    """The patsy formula of the plan's design and its terms (parameter name -> "feature:level")."""
    parts, terms = [], {}
    for feature, reference in plan.references.items():
        prefix = f"C({feature}, Treatment(reference={reference!r}))"
        parts.append(prefix)
        terms.update({f"{prefix}[T.{lvl}]": f"{feature}:{lvl}" for lvl in plan.levels[feature] if lvl != reference})
    return "referrals ~ " + (" + ".join(parts) if parts else "1"), terms


def design_matrix(data: pd.DataFrame, plan: LevelPlan) -> pd.DataFrame:
    """The treatment-coded design of `formula(plan)`: what patsy builds from the formula, column for column.

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


def referral_models(frame: pd.DataFrame, min_level_size: int = 20, min_referrals: int = 3) -> ReferralModels:
    """The fitted models, or NotEstimable saying why there are none (no exposure, too few referrals, no design)."""
    if frame.empty:
        raise NotEstimable(f"{NO_EXPOSURE}, so there is no referral model.")
    if frame["referrals"].sum() < min_referrals:
        raise NotEstimable(f"{int(frame['referrals'].sum())} referrals were made by the {len(frame)} buyers after "
                           f"their purchase (the models need at least {min_referrals}), so who refers cannot be "
                           "estimated.")
    return fit_referral_models(frame, min_level_size=min_level_size, min_referrals=min_referrals)


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
        model_formula, terms = formula(plan)
        # The design is built once (the matrix patsy builds from the formula, same column names) and shared
        # by both models: patsy's categorical coding took seconds per model at a million customers.
        exog = design_matrix(data, plan)
        poisson = _try_poisson(sm, endog, exog, offset)
        if poisson is not None:
            break
        droppable = [f for f in DROPPABLE_FEATURES if f in plan.references]
        if not droppable:
            raise NotEstimable("The referral models cannot be estimated on this export (a singular design or "
                               "separation even with satisfaction alone); no rate ratios are reported.")
        plan = _without(plan, droppable[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; checked through mle_retvals below
        nb2 = sm.NegativeBinomial(endog, exog, loglike_method="nb2", offset=offset).fit(
            start_params=np.append(poisson.params.to_numpy(), 0.5), method="bfgs", maxiter=500, disp=0)
    if not nb2.mle_retvals.get("converged", True):
        plan.notes.append("NB2 fit did not converge; read its estimates with care")
    return ReferralModels(poisson, nb2, plan, model_formula, terms, data)


def _without(plan: LevelPlan, feature: str) -> LevelPlan:
    """The plan with `feature` left out, and a note saying why."""
    return LevelPlan({f: r for f, r in plan.references.items() if f != feature},
                     {f: v for f, v in plan.levels.items() if f != feature},
                     {f: v for f, v in plan.mapping.items() if f != feature},
                     plan.notes + [f"{feature.replace('_', ' ')} left out of the model: with it the "
                                   "model could not be estimated (separation or a singular design)"])


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
    from scipy import stats

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


def dispersion_table(dispersion: dict) -> pd.DataFrame:
    """The overdispersion checks as the report shows them: check, value, p (indexed by check)."""
    return pd.DataFrame([
        ("Pearson chi-square / df (Poisson)", dispersion["pearson_chi2_df"], np.nan),
        ("Cameron-Trivedi: alpha", dispersion["ct_alpha"], dispersion["ct_p"]),
        ("Likelihood ratio NB2 vs Poisson", dispersion["lr_stat"], dispersion["lr_p"]),
        ("NB2 dispersion alpha (estimated)", dispersion["nb2_alpha"], np.nan),
    ], columns=["check", "value", "p"]).set_index("check")


def is_overdispersed(dispersion: dict, level: float = 0.05) -> bool:
    return bool(dispersion["ct_p"] < level or dispersion["lr_p"] < level)


def rate_ratios(models: ReferralModels, fit=None) -> pd.DataFrame:
    """Rate ratios with 95% Wald intervals and p-values (NB2 unless `fit` is given), one row per level.

    RATE_RATIO_COLUMNS; required terms that could not be estimated keep a row with missing values.
    """
    fit = models.nb2 if fit is None else fit
    table = ratio_table(fit, models.terms, models.plan.references, required=REQUIRED_TERMS,
                        fallback_references=ADVOCACY_REFERENCES,
                        not_estimable="not estimable: level absent or merged (too few buyers or referrals)")
    data = models.data
    estimated = table["note"] == ""
    table["buyers"] = [int((data[f] == lvl).sum()) if f in data else 0 for f, lvl in zip(table["feature"], table["level"])]
    table["referrals"] = [int(data.loc[data[f] == lvl, "referrals"].sum()) if ok else np.nan
                          for f, lvl, ok in zip(table["feature"], table["level"], estimated)]
    return table.rename(columns={"ratio": "rate_ratio"})[RATE_RATIO_COLUMNS]


def compare_fits(poisson_ratios: pd.DataFrame, nb2_ratios: pd.DataFrame, feature: str = "satisfaction") -> pd.DataFrame:
    """Rate ratios of one feature's levels, Poisson beside NB2 (indexed by term)."""
    columns = ["rate_ratio", "ci_low", "ci_high"]
    both = poisson_ratios.set_index("term")[columns].join(nb2_ratios.set_index("term")[columns],
                                                          lsuffix=" Poisson", rsuffix=" NB2")
    return both.loc[[t for t in both.index if t.startswith(f"{feature}:")]]


def other_significant_terms(ratios: pd.DataFrame, level: float = 0.05) -> tuple[list, int]:
    """The estimated non-satisfaction terms with p < `level`, and how many non-satisfaction terms were estimated."""
    estimated = ratios.dropna(subset=["rate_ratio"])
    others = estimated[~estimated["term"].str.startswith("satisfaction:")]
    return list(others.loc[others["p"] < level, "term"]), len(estimated) - len(REQUIRED_TERMS)


def _predicted_means(models: ReferralModels, fit) -> np.ndarray:
    exog = models.nb2.model.exog
    k = exog.shape[1]
    offset = np.log(models.data["exposure_years"].to_numpy())
    return np.exp(exog @ np.asarray(fit.params)[:k] + offset)


def count_fit_table(models: ReferralModels, top: int = 4) -> pd.DataFrame:
    """Buyers with 0, 1, ..., top+ referrals: observed against expected under Poisson and NB2."""
    from scipy import stats

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


def zero_inflation(models: ReferralModels, min_inflation: float = 0.05, level: float = 0.01) -> dict:
    """Are there buyers who never refer anyone, beyond what NB2's spread already allows?

    NB2 absorbs extra zeros through a larger dispersion, so comparing observed with
    NB2-expected zeros alone says little. A zero-inflated NB2 (constant share pi of
    "never-referrers", `zinb.fit_zinb`) is compared with NB2 by a likelihood ratio test; pi = 0 is
    on the boundary, so the p-value is half the chi2(1) tail. Zero inflation `matters` when
    the test rejects at `level` (default 0.01) and the estimated share of never-referrers is at
    least `min_inflation` (default 5%): then NB2's rate ratios mix "whether" and "how often"
    a buyer refers. `promoter_rr_zinb` is the promoter rate ratio among buyers who refer at all.
    """
    from scipy import stats

    table = count_fit_table(models)
    observed, expected = int(table.loc[0, "observed"]), float(table.loc[0, "nb2_expected"])
    nb2 = models.nb2
    fit = zinb.fit_zinb(nb2, np.log(models.data["exposure_years"].to_numpy(float)))
    lr = max(0.0, 2 * (fit["llf"] - float(nb2.llf))) if np.isfinite(fit["llf"]) else float("nan")
    lr_p = float(0.5 * stats.chi2.sf(lr, 1)) if np.isfinite(lr) else float("nan")
    zinb_aic = -2 * fit["llf"] + 2 * (len(nb2.params) + 1)
    promoter = next((name for name, term in models.terms.items() if term == "satisfaction:promoter"), None)
    rr_zinb = float(np.exp(fit["params"][promoter])) if promoter and promoter in fit["params"] else float("nan")
    rr_nb2 = float(np.exp(nb2.params[promoter])) if promoter else float("nan")
    matters = bool(fit["converged"] and lr_p < level and fit["inflation"] >= min_inflation)
    return {"observed_zeros": observed, "nb2_expected_zeros": expected,
            "poisson_expected_zeros": float(table.loc[0, "poisson_expected"]),
            "excess_zero_share": (observed - expected) / max(expected, 1.0),
            "nb2_aic": float(nb2.aic), "zinb_aic": float(zinb_aic), "aic_gain": float(nb2.aic) - float(zinb_aic),
            "lr_stat": lr, "lr_p": lr_p, "zinb_inflation": fit["inflation"], "zinb_alpha": fit["alpha"],
            "zinb_converged": fit["converged"], "promoter_rr_nb2": rr_nb2, "promoter_rr_zinb": rr_zinb,
            "matters": matters}
