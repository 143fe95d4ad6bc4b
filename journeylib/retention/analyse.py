"""Notebook 03 headless: `analyse(tables, Params()) -> Result`, the topic functions in notebook order.

Named conditions (no buyer, nobody eligible, a model that cannot be fitted) leave their parts None and
the reason in the result's `missing_` under NO_RATE, NO_MODEL or NO_VALIDATION.
"""

from __future__ import annotations

from journeylib.errors import NotEstimable
from journeylib.retention import labels, rates, sensitivity
from journeylib.retention.at_risk import at_risk_buyers, service_at_risk
from journeylib.retention.inputs import load_inputs
from journeylib.retention.model import main_model, odds_ratios, reference_levels
from journeylib.retention.params import Params
from journeylib.retention.result import NO_MODEL, NO_RATE, NO_VALIDATION, Result
from journeylib.retention.validation import holdout_validation


def analyse(tables, params: Params | None = None) -> Result:
    """Label every buyer at the as-of date of `tables` (journeylib.tables.ProcessedTables), then rates, curves,
    the model, its sensitivity and holdout, the service scores and the at-risk list."""
    p = params or Params()
    data = load_inputs(tables)
    buyers, visits, as_of, days = data.buyers, data.visits, data.as_of, p.churn_after_days
    missing: dict[str, str] = {}
    dataset = labels.churn_dataset(buyers, visits, as_of, days)
    eligible = dataset[dataset["eligible"]]
    rate_part = _rates(dataset, eligible, as_of, p, missing)
    lapse_part = _lapses(buyers, visits, dataset, as_of, days)
    fit = {"cluster_by_dealer": p.cluster_by_dealer, "min_count": p.min_level_customers,
           "min_events": p.min_level_events}
    model_part = _model(eligible, p, fit, missing)
    from journeylib.retention.service import analyse_service  # scipy's optimisers: imported when used

    service = analyse_service(buyers, visits, as_of, top=p.service_to_call_top)
    model = model_part["model_"]
    at_risk, mean_active = _at_risk(service, dataset, model, p.at_risk_top)
    sens = sensitivity.sensitivity(buyers, visits, as_of, days=p.sensitivity_days, **fit)
    curve = rates.retention_curve(buyers, visits, as_of, window_months=p.window_months)
    return Result(params=p, as_of=as_of, dataset_=dataset, **rate_part, curve_=curve, **lapse_part, **model_part,
                  sensitivity_=sens, at_risk_=at_risk, mean_risk_all_active_=mean_active, service_=service,
                  missing_=missing, notes_=[] if model is None else [f"Note: {note}." for note in model.fit_notes])


def _rates(dataset, eligible, as_of, p: Params, missing: dict) -> dict:
    """The churn rate overall and by group; None with the reason under NO_RATE without eligible buyers."""
    no_rate = labels.retention_gap(dataset, as_of, p.churn_after_days)
    if no_rate is not None:
        missing[NO_RATE] = no_rate
        return {"churn_rate_": None, "rates_": None, "rate_levels_pooled_": {}}
    by_group, pooled = rates.rates_by_group(eligible, p.min_level_customers)
    return {"churn_rate_": rates.churn_rates(eligible), "rates_": by_group, "rate_levels_pooled_": pooled}


def _lapses(buyers, visits, dataset, as_of, days: int) -> dict:
    """Lapse times and the share not yet lapsed at N, 2N and 3N days; None without buyers."""
    if not len(dataset):
        return {"lapses_": None, "not_lapsed_": None}
    lapses = labels.lapse_times(buyers, visits, as_of, days).join(dataset[["satisfaction", "finance_type"]])
    return {"lapses_": lapses, "not_lapsed_": rates.still_active(rates.lapse_km(lapses), days=(days, 2 * days, 3 * days))}


def _model(eligible, p: Params, fit: dict, missing: dict) -> dict:
    """The churn model, its odds ratios and references, and the temporal holdout (None with the reasons)."""
    model = odds = references = holdout = None
    try:
        if NO_RATE in missing:
            raise NotEstimable(missing[NO_RATE])
        model = main_model(eligible, **fit)
        odds, references = odds_ratios(model, eligible), reference_levels(model)
        holdout = holdout_validation(eligible, holdout_share=p.holdout_share, **fit)
    except NotEstimable as error:
        if model is None:
            missing[NO_MODEL] = error.reason
        missing[NO_VALIDATION] = error.reason
    return {"model_": model, "odds_ratios_": odds, "reference_levels_": references, "holdout_": holdout}


def _at_risk(service, dataset, model, top):
    """The at-risk list and the mean risk of all active buyers: ranked by the service model (risk = 1 − p_return_12m),
    or by the churn model when there are no service scores; (None, None) with neither."""
    active = dataset[dataset["active"].astype(bool)]
    if service.scores_ is not None:
        risk = 1 - service.scores_.set_index("customer_id")["p_return_12m"].reindex(active.index.astype(str))
        return service_at_risk(service.scores_, dataset, model, top=top), float(risk.mean())
    if model is not None:
        return at_risk_buyers(model, dataset, top=top), float(model.predict(active).mean())
    return None, None
