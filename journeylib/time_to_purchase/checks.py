"""Checks of the Cox model: the proportional-hazards test, and its remedies (effect by period, strata)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeylib.time_to_purchase.cox import CoxResult, TimeVaryingCox, fit_time_varying_cox, hazard_ratios
from journeylib.time_to_purchase.leads import EVENT, ID, START, STOP, TEST_DRIVE
from journeylib.time_to_purchase.risksets import _subsample_ids


def proportional_hazards(model: CoxResult, max_rows=None, seed: int = 0) -> pd.DataFrame:
    """The notebook's check of the fitted model: every term, on about `max_rows` rows of whole customers
    (the model's own fit is reused when it covers them all and is not penalised)."""
    return schoenfeld_test(model.long, list(model.fitter.params_.index), max_rows=max_rows, seed=seed,
                           fitter=None if model.penalised else model.fitter, start=model.fitter.params_)


def schoenfeld_test(long: pd.DataFrame, covariates, max_rows=None, seed: int = 0, time_transform: str = "rank",
                    id_col=ID, start_col=START, stop_col=STOP, event_col=EVENT, fitter=None,
                    start=None) -> pd.DataFrame:
    """Grambsch-Therneau test on scaled Schoenfeld residuals, for start/stop data.

    The model is refitted on a random set of whole customers (about max_rows rows) so that the
    residuals and the variance come from the same fit. Residuals use Efron's weighting of tied
    purchases; the statistic per covariate is lifelines' `proportional_hazard_test` one (a
    chi-square with 1 df). time_transform: "rank" (average rank of the event times), "km",
    "identity" or "log". Returns test statistic and p per covariate, plus the residuals in
    `.attrs["residuals"]` (a DataFrame with the event time) for plots. `start`: where the refit's
    Newton steps start (the full model's coefficients are close, so fewer steps).
    """
    data = _subsample_ids(long, max_rows, seed, id_col)
    if fitter is None or data is not long:
        fitter = fit_time_varying_cox(data, covariates, id_col, start_col, stop_col, event_col, start=start)
    position = [list(fitter.params_.index).index(c) for c in covariates]
    beta = fitter.params_.to_numpy()[position]
    variance = np.asarray(fitter.variance_matrix_)[np.ix_(position, position)]
    x = data[list(covariates)].to_numpy(dtype="float64")
    start, stop = data[start_col].to_numpy(), data[stop_col].to_numpy()
    event = data[event_col].to_numpy(dtype=bool)
    weight = np.exp(x @ beta)

    residuals, times = [], []
    for t in np.unique(stop[event]):
        at_risk = (start < t) & (t <= stop)
        dies = at_risk & event & (stop == t)
        risk_w, risk_wx = weight[at_risk].sum(), weight[at_risk] @ x[at_risk]
        tie_w, tie_wx = weight[dies].sum(), weight[dies] @ x[dies]
        d = int(dies.sum())
        # Efron: the l-th of d tied purchases sees the risk set minus l/d of the tied buyers.
        mean = sum((risk_wx - l / d * tie_wx) / (risk_w - l / d * tie_w) for l in range(d)) / d
        residuals.append(x[dies] - mean)
        times.extend([t] * d)
    schoenfeld = np.vstack(residuals)
    times = np.asarray(times)
    n_events = len(times)
    scaled = n_events * schoenfeld @ variance
    g = _transform_times(times, data, time_transform, stop_col, event_col)
    centred = g - g.mean()
    statistic = (centred @ scaled) ** 2 / (n_events * np.diag(variance) * (centred ** 2).sum())
    from scipy import stats

    result = pd.DataFrame({"test_statistic": statistic, "p": stats.chi2.sf(statistic, 1)},
                          index=pd.Index(list(covariates), name="covariate"))
    result.attrs["residuals"] = pd.DataFrame(scaled + beta, columns=list(covariates)).assign(time=times)
    result.attrs["rows_used"] = len(data)
    return result


def _transform_times(times, data, how, stop_col, event_col) -> np.ndarray:
    if how == "rank":
        from scipy import stats

        return stats.rankdata(times)
    if how == "identity":
        return times.astype("float64")
    if how == "log":
        return np.log(times)
    if how == "km":
        from lifelines import KaplanMeierFitter

        last = data.groupby(ID)[[stop_col, event_col]].last() if ID in data else data[[stop_col, event_col]]
        km = KaplanMeierFitter().fit(last[stop_col], last[event_col])
        return 1.0 - km.survival_function_at_times(times).to_numpy()
    raise ValueError(f"unknown time_transform {how!r}")


def split_follow_up(long: pd.DataFrame, cuts, start_col=START, stop_col=STOP, event_col=EVENT) -> pd.DataFrame:
    """Split start/stop rows at journey-day cut points (episode splitting) and add a `period` column,
    so an effect can differ by period (the remedy when proportional hazards fail)."""
    edges = [0.0, *sorted(float(c) for c in cuts), np.inf]
    pieces = []
    for low, high in zip(edges[:-1], edges[1:]):
        part = long.loc[(long[start_col] < high) & (long[stop_col] > low)].copy()
        ends_inside = part[stop_col] <= high
        part[event_col] = part[event_col] & ends_inside
        part[start_col] = part[start_col].clip(lower=low)
        part[stop_col] = part[stop_col].clip(upper=high)
        part["period"] = f"{low:g}-{high:g}" if np.isfinite(high) else f"{low:g}+"
        pieces.append(part)
    return pd.concat(pieces, ignore_index=True).sort_values([ID, start_col], kind="stable").reset_index(drop=True)


def period_interaction(long: pd.DataFrame, cuts, covariate: str = TEST_DRIVE):
    """Split at `cuts` and replace `covariate` by one indicator per period (`test_drive[0-30]`, ...).

    Only rows with `covariate` on are split: a row without it has the same covariates in every piece,
    and its pieces are at risk exactly when it is, so splitting it would change no risk set (and
    would double the rows to fit)."""
    on = long[covariate] == 1
    split = pd.concat([long.loc[~on].assign(period=""), split_follow_up(long.loc[on], cuts)], ignore_index=True)
    split = split.sort_values([ID, START], kind="stable").reset_index(drop=True)
    edges = [0.0, *sorted(float(c) for c in cuts), np.inf]
    names = []
    for low, high in zip(edges[:-1], edges[1:]):
        if not (long[STOP] > low).any():  # nobody is followed into this period
            continue
        period = f"{low:g}-{high:g}" if np.isfinite(high) else f"{low:g}+"
        name = f"{covariate}[{period}]"
        split[name] = (split["period"] == period).astype("int8")
        names.append(name)
    return split, names


def period_effects(model: CoxResult, cuts) -> pd.DataFrame:
    """The test drive's hazard ratio per period of the journey (the remedy when it breaks proportional
    hazards), the other terms as in the model; the refit starts from the model's coefficients."""
    split, names = period_interaction(model.long, cuts)
    params = model.fitter.params_
    others = [c for c in params.index if c != TEST_DRIVE]
    start = pd.concat([pd.Series(params[TEST_DRIVE], index=names), params[others]])
    return hazard_ratios(fit_time_varying_cox(split, [*names, *others], start=start)).loc[names]


FACTOR_OF_PREFIX = {"channel:": "acquisition_channel", "dealer:": "dealer_id"}


def stratified_refit(result: CoxResult, violated) -> tuple[TimeVaryingCox, list[str]]:
    """The remedy when a channel or dealer term breaks proportional hazards: that factor becomes strata
    (each level its own baseline curve) instead of covariates. Returns the refit and the strata used."""
    strata = sorted({factor for prefix, factor in FACTOR_OF_PREFIX.items()
                     if any(str(term).startswith(prefix) for term in violated)})
    dropped = tuple(prefix for prefix, factor in FACTOR_OF_PREFIX.items() if factor in strata)
    keep = [term for term in result.fitter.params_.index if not dropped or not term.startswith(dropped)]
    levels = result.design.frame.set_index(ID)[strata]
    long = result.long.join(levels, on=ID)
    return fit_time_varying_cox(long, keep, strata=strata or None, start=result.fitter.params_[keep]), strata
