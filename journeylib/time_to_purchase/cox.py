"""The Cox models: the time-varying fit (Efron ties, journeylib.time_to_purchase.efron), the notebook's model with its fallbacks, the naive coding."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from journeylib.errors import NotEstimable
from journeylib.stats.intervals import wald_interval
from journeylib.stats.survival import exp_coef_table, fit_cox, hazard_ratios  # noqa: F401 - shared with notebook 04
from journeylib.time_to_purchase.coding import Design, LevelChoice, dummy_code
from journeylib.time_to_purchase.efron import EfronCox, NotConverging
from journeylib.time_to_purchase.fallbacks import NotConverged, fit_without_a_group, term_groups
from journeylib.time_to_purchase.leads import EVENT, ID, START, STOP, TEST_DRIVE, long_format, naive_table
from journeylib.time_to_purchase.risksets import time_varying_concordance
from journeylib.vocabulary import REFERENCE_CHANNEL


MAX_LOG_HAZARD_RATIO = 15.0  # |log HR| beyond this (HR > 3 million) is a separated term, not an effect


class ConstantTerm(NotEstimable):
    """Terms that do not vary in the data (e.g. nobody took a test drive): no effect can be estimated."""

    def __init__(self, terms):
        self.terms = list(terms)
        super().__init__(f"the terms {self.terms} do not vary in the data")


@dataclass
class TimeVaryingCox:
    """A Cox fit on start/stop rows, shaped like lifelines' fitters (params_, variance_matrix_, summary)."""

    params_: pd.Series
    variance_matrix_: pd.DataFrame
    log_likelihood_: float
    rows: int
    events: int

    @property
    def standard_errors_(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.variance_matrix_)), index=self.params_.index, name="se(coef)")

    @property
    def summary(self) -> pd.DataFrame:
        coef, se = self.params_, self.standard_errors_
        z = coef / se
        low, high = wald_interval(coef, se)
        from scipy import stats

        return pd.DataFrame({
            "coef": coef, "exp(coef)": np.exp(coef), "se(coef)": se,
            "exp(coef) lower 95%": np.exp(low), "exp(coef) upper 95%": np.exp(high),
            "z": z, "p": 2 * stats.norm.sf(np.abs(z)),
        }).rename_axis("covariate")


def fit_time_varying_cox(long: pd.DataFrame, covariates, id_col=ID, start_col=START, stop_col=STOP,
                         event_col=EVENT, strata=None, start=None) -> TimeVaryingCox:
    """Cox model on start/stop rows with Efron ties: at risk at event times t with start < t <= stop.

    The same estimates as statsmodels' PHReg, lifelines' CoxTimeVaryingFitter and R's coxph (tests
    check all three), computed with whole-array risk-set sums (journeylib.time_to_purchase.efron):
    seconds rather than minutes at a million customers. `strata`: columns whose level combinations
    each get their own baseline hazard. Rows are independent given the covariates, so `id_col` only
    documents the layout (as in coxph without a cluster term). `start`: initial coefficients (a
    Series by covariate; default zero), for a refit close to an earlier model.
    """
    covariates = list(covariates)
    event = long[event_col].to_numpy(dtype=bool)
    if not event.any():
        raise NotEstimable("No purchases in the data, so the model has nothing to learn from.")
    constant = [c for c in covariates if long[c].nunique() < 2]
    if constant:
        raise ConstantTerm(constant)
    groups = long.groupby(list(strata), sort=True, observed=True).ngroup().to_numpy() if strata else None
    model = EfronCox(long[start_col].to_numpy(), long[stop_col].to_numpy(), event,
                     long[covariates].to_numpy(dtype="float64"), strata=groups)
    initial = None if start is None else start.reindex(covariates).to_numpy(dtype=float)
    failed = False
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            params, cov, llf, score = model.fit(initial)
            # a further Newton step (-H^-1 score, and -H^-1 is the covariance) must be negligible
            step = cov @ score
        except NotConverging:
            failed = True
        except np.linalg.LinAlgError as error:  # collinear terms: the information matrix is singular
            raise NotConverged(f"the Cox model could not be fitted ({error}): two terms carry the same "
                               "information") from error
    # A separating term can also stop where the likelihood is flat: a huge coefficient, a variance that is not positive.
    if failed or not np.all(np.isfinite(params)) or np.abs(step).max(initial=0.0) > 1e-6 \
            or not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0) \
            or np.abs(params).max(initial=0.0) > MAX_LOG_HAZARD_RATIO:
        raise NotConverged("the Cox model did not converge (a covariate may separate buyers from non-buyers)")
    variance = pd.DataFrame(cov, index=covariates, columns=covariates)
    return TimeVaryingCox(pd.Series(params, index=covariates, name="coef"), variance, llf, len(long),
                          int(event.sum()))


@dataclass
class CoxResult:
    fitter: object
    long: pd.DataFrame
    design: Design
    hazard_ratios: pd.DataFrame
    concordance: float
    fit_seconds: float
    missing: dict = field(default_factory=dict)  # term -> the sentence saying why it has no estimate
    notes: list = field(default_factory=list)    # the fallbacks taken, one plain sentence each
    penalised: bool = False


def time_varying_model(customers: pd.DataFrame, reference_channel: str = REFERENCE_CHANNEL,
                       reference_dealer_id=None, use_dealer: bool = True, concordance_rows=None,
                       seed: int = 0) -> CoxResult:
    """The notebook's Cox model: test drive (time-varying) + acquisition channel + dealer."""
    design = dummy_code(customers, reference_channel, reference_dealer_id, use_dealer)
    covariates = design.covariates
    long = long_format(design.frame, covariates=covariates)
    started = time.perf_counter()
    fitter = fit_time_varying_cox(long, [TEST_DRIVE, *covariates])
    seconds = time.perf_counter() - started
    concordance = time_varying_concordance(long, fitter.params_, max_rows=concordance_rows, seed=seed)
    return CoxResult(fitter, long, design, hazard_ratios(fitter), concordance, seconds)


def purchase_model(choice: LevelChoice, concordance_rows=None, seed: int = 0, penalizer: float = 0.1) -> CoxResult:
    """The notebook's Cox model on the pooled levels, with the fallbacks of docs/time_to_purchase.md.

    Terms that do not vary (no test drives) are left out first. If the model still does not
    converge: (1) leave out the first factor whose removal lets it converge (dealer, then channel,
    then test drive); (2) a ridge-penalised fit of every term; (3) NotEstimable, and the notebook
    skips the section. Each step taken is a sentence in `notes`; terms without an estimate are in
    `missing` with their reason.
    """
    customers = choice.customers
    if not customers["purchased"].any():
        raise NotEstimable("No lead has bought yet, so the model of what speeds a purchase up cannot be fitted.")
    design = dummy_code(customers, choice.reference_channel or REFERENCE_CHANNEL, choice.reference_dealer,
                        use_dealer=choice.in_model["dealer_id"], use_channel=choice.in_model["acquisition_channel"])
    long = long_format(design.frame, covariates=design.covariates)
    terms, missing, notes = [TEST_DRIVE, *design.covariates], {}, []
    if long[TEST_DRIVE].nunique() < 2:
        everyone = bool(long[TEST_DRIVE].iloc[0])
        missing[TEST_DRIVE] = ("Every lead test-drove before buying or the as-of date, so there is no one to compare "
                               "test drivers with." if everyone else
                               "No lead took a test drive before buying or the as-of date, so the test drive's "
                               "effect cannot be estimated.")
        terms.remove(TEST_DRIVE)
    if not terms:
        raise NotEstimable("There is nothing left to compare: no test drives, and a single channel and dealer "
                           "after pooling.")
    started = time.perf_counter()
    penalised = False
    try:
        fitter = fit_time_varying_cox(long, terms)
    except NotConverged:
        fitter = None
        refit = fit_without_a_group(lambda rest: fit_time_varying_cox(long, rest), terms, term_groups(terms))
        if refit is not None:
            fitter, name, rest = refit
            reason = (f"The model could not be fitted with {name}, which almost separates buyers from non-buyers "
                      f"here, so {name} is left out of the model.")
            notes.append(reason)
            missing.update({t: reason for t in terms if t not in rest})
            terms = rest
        else:
            fitter = _penalised_cox(long, terms, penalizer)
            penalised = True
            notes.append(f"The model only converged with a small penalty (ridge, {penalizer:g}), which pulls every "
                         "hazard ratio slightly towards 1.")
    seconds = time.perf_counter() - started
    concordance = time_varying_concordance(long, fitter.params_, max_rows=concordance_rows, seed=seed)
    return CoxResult(fitter, long, design, hazard_ratios(fitter), concordance, seconds, missing, notes, penalised)


def _penalised_cox(long: pd.DataFrame, terms, penalizer: float):
    """lifelines' CoxTimeVaryingFitter with a ridge penalty; NotConverged when even that fails."""
    from lifelines import CoxTimeVaryingFitter
    from lifelines.exceptions import ConvergenceError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitter = CoxTimeVaryingFitter(penalizer=penalizer).fit(
                long[[ID, START, STOP, EVENT, *terms]], id_col=ID, event_col=EVENT, start_col=START,
                stop_col=STOP)
    except (ConvergenceError, np.linalg.LinAlgError) as error:
        raise NotConverged("The model of what speeds a purchase up could not be fitted on this export, even with "
                           "a penalty, so this section is skipped.") from error
    if not np.all(np.isfinite(fitter.params_)) or not np.all(np.isfinite(fitter.variance_matrix_)):
        raise NotConverged("The model of what speeds a purchase up could not be fitted on this export, even with "
                           "a penalty, so this section is skipped.")
    return fitter


def naive_model(customers: pd.DataFrame, design: Design, covariates=None):
    """The same covariates with "ever test-drove" at baseline (biased; shown for contrast).

    `covariates`: the channel and dealer terms to use (default all of the design's); NotEstimable
    when nobody (or everybody) test-drove or the fit does not converge."""
    from lifelines.exceptions import ConvergenceError

    covariates = list(design.covariates if covariates is None else covariates)
    table = naive_table(design.frame, covariates=covariates)
    if table["ever_test_drove"].nunique() < 2 or not table[EVENT].any():
        raise NotEstimable("The naive comparison needs both leads who test-drove and leads who did not, and "
                           "some purchases.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fit_cox(table, "day", EVENT, ["ever_test_drove", *covariates], batch_mode=True)
    except (ConvergenceError, np.linalg.LinAlgError) as error:
        raise NotEstimable("The naive comparison model did not converge on this export.") from error
