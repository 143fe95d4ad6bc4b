"""The parametric cross-check: a Weibull accelerated-failure-time model on channel and dealer."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from journeylib.errors import NotEstimable
from journeylib.time_to_purchase.coding import Design
from journeylib.time_to_purchase.cox import exp_coef_table
from journeylib.time_to_purchase.fallbacks import NotConverged, fit_without_a_group, term_groups
from journeylib.time_to_purchase.weibull import WeibullAFT, WeibullNotConverged


LEADS = "leads"  # the weight column of the aggregated table


def weibull_aft(design: Design, covariates=None, penalizer: float = 0.0):
    """Weibull AFT on the baseline covariates (channel, dealer); exp(coef) are time ratios.

    The test drive is left out: as a baseline covariate it would carry the immortal-time bias. Leads
    with the same journey day, outcome and levels add the same term to the likelihood, so each such
    combination is one row weighted by its leads (far fewer rows on large exports), fitted by
    `weibull.WeibullAFT`; with a `penalizer`, lifelines' ridge-penalised WeibullAFTFitter on every lead.
    NotConverged when the fit fails or an estimate is not finite."""
    from lifelines import WeibullAFTFitter
    from lifelines.exceptions import ConvergenceError

    covariates = list(design.covariates if covariates is None else covariates)
    table = design.frame[["day", "purchased", *covariates]].astype({"purchased": bool})
    if not table["purchased"].any():
        raise NotEstimable("No lead has bought yet, so the Weibull cross-check cannot be fitted.")
    try:
        if penalizer:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                aft = WeibullAFTFitter(penalizer=penalizer).fit(table, duration_col="day", event_col="purchased")
        else:
            counts = table.groupby(["day", "purchased", *covariates], sort=False, observed=True).size()
            rows = counts.rename(LEADS).reset_index()
            aft = WeibullAFT().fit(rows["day"], rows["purchased"], rows[covariates], rows[LEADS])
    except (ConvergenceError, WeibullNotConverged, np.linalg.LinAlgError) as error:
        raise NotConverged("the Weibull model did not converge") from error
    summary = aft.summary
    if not np.all(np.isfinite(summary[["coef", "se(coef)"]].to_numpy())):
        raise NotConverged("the Weibull model did not converge (infinite estimates)")
    return aft


@dataclass
class AFTResult:
    fitter: object
    covariates: list
    missing: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    penalised: bool = False


def cross_check_aft(design: Design, covariates=None, penalizer: float = 0.1) -> AFTResult:
    """The Weibull cross-check with the same fallbacks as the Cox model: every term; without the dealer
    terms, then without the channel terms; a ridge-penalised fit; else NotEstimable (section skipped)."""
    covariates = list(design.covariates if covariates is None else covariates)
    if not covariates:
        raise NotEstimable("With a single acquisition channel and a single dealer after pooling, the Weibull "
                           "cross-check has nothing to compare.")
    try:
        return AFTResult(weibull_aft(design, covariates), covariates)
    except NotConverged:
        pass
    refit = fit_without_a_group(lambda rest: weibull_aft(design, rest), covariates,
                                term_groups(covariates, test_drive=False))
    if refit is not None:
        aft, name, rest = refit
        reason = f"The Weibull model could not be fitted with {name}, so {name} is left out of it."
        return AFTResult(aft, rest, {t: reason for t in covariates if t not in rest}, [reason])
    try:
        aft = weibull_aft(design, covariates, penalizer=penalizer)
    except NotConverged as error:
        raise NotEstimable("The Weibull cross-check could not be fitted on this export, even with a penalty, "
                           "so it is skipped.") from error
    return AFTResult(aft, covariates, notes=[f"The Weibull model only converged with a small penalty (ridge, "
                                              f"{penalizer:g}), which pulls every time ratio slightly towards 1."],
                     penalised=True)


def time_ratios(aft) -> pd.DataFrame:
    return exp_coef_table(aft.summary.loc["lambda_"].drop(index="Intercept", errors="ignore"), "time_ratio")


def aft_median_by_channel(aft, design: Design, covariates=None) -> pd.Series:
    """Model median days to purchase per channel, at the reference dealer (channels the model left out: none)."""
    covariates = list(design.covariates if covariates is None else covariates)
    channels = [c for c in design.channels if f"channel:{c}" in covariates]
    levels = [design.reference_channel, *channels] if channels else []
    rows = pd.DataFrame(0, index=levels, columns=covariates, dtype="float64")
    for channel in channels:
        rows.loc[channel, f"channel:{channel}"] = 1.0
    if rows.empty:
        return pd.Series(dtype="float64", name="aft_median_days")
    return aft.predict_median(rows).rename("aft_median_days")
