"""Retention after the sale (notebook 03): who stops coming back to service, and why.

    result = retention.analyse(ProcessedTables(folder), retention.Params())
    result.odds_ratios_, result.curve_, ...   # tables with fixed columns
    result.metrics()                          # the `retention` section of metrics.json

Modules by topic: `labels` (the churn data set, eligibility, lapse times),
`rates` (rates by group, retention curve, share not yet lapsed), `model` (the
logistic model, its level plan and odds ratios), `sensitivity` (other churn
windows), `validation` (temporal holdout, calibration, lift), `at_risk` (the
action list and its CSV), `params`, `result`; the service scores: `service_value`
(MBG/NBD, Gamma–Gamma, Beta–Binomial), `service_scores` (history, fit, scores, reasons),
`service_backtest`, `service_list` (the lists and their files), `service` (all of it in
one call). Definitions: docs/retention_churn.md.
"""

from __future__ import annotations

from journeylib.errors import NotEstimable
from journeylib.retention import labels, rates, sensitivity
from journeylib.retention.at_risk import AT_RISK_FILE, at_risk_buyers, service_at_risk, write_at_risk
from journeylib.retention.model import main_model, odds_ratios, reference_levels
from journeylib.retention.params import Params
from journeylib.retention.result import NOTEBOOK, SECTION, RetentionResult
from journeylib.retention.service import analyse_service
from journeylib.retention.service_list import write_scores, write_to_call
from journeylib.retention.validation import holdout_validation

__all__ = ["AT_RISK_FILE", "NOTEBOOK", "SECTION", "Params", "RetentionResult", "analyse", "write_at_risk",
           "write_scores", "write_to_call"]


def analyse(tables, params: Params | None = None) -> RetentionResult:
    """Label every buyer at the as-of date of `tables` (a ProcessedTables), then rates, curves, the model,
    its sensitivity and holdout, and the at-risk list; named conditions leave None with a reason."""
    p = params or Params()
    as_of, days = tables.as_of, p.churn_after_days
    buyers, visits = labels.load_inputs(tables)
    dataset = labels.churn_dataset(buyers, visits, as_of, days)
    eligible = dataset[dataset["eligible"]]
    no_rate = labels.retention_gap(dataset, as_of, days)
    overall, by_group, pooled = None, None, {}
    if no_rate is None:
        overall = rates.churn_rates(eligible)
        by_group, pooled = rates.rates_by_group(eligible, p.min_level_customers)
    lapses, not_lapsed = None, None
    if len(dataset):
        lapses = labels.lapse_times(buyers, visits, as_of, days).join(dataset[["satisfaction", "finance_type"]])
        not_lapsed = rates.still_active(rates.lapse_km(lapses), days=(days, 2 * days, 3 * days))
    fit = {"cluster_by_dealer": p.cluster_by_dealer, "min_count": p.min_level_customers,
           "min_events": p.min_level_events}
    model = odds = references = no_model = holdout = no_validation = None
    try:
        if no_rate is not None:
            raise NotEstimable(no_rate)
        model = main_model(eligible, **fit)
        odds, references = odds_ratios(model, eligible), reference_levels(model)
        holdout = holdout_validation(eligible, holdout_share=p.holdout_share, **fit)
    except NotEstimable as error:
        if model is None:
            no_model = error.reason
        no_validation = error.reason
    service = analyse_service(buyers, visits, as_of, top=p.service_to_call_top)
    at_risk, mean_active = _at_risk(service, dataset, model, p.at_risk_top)
    sens = sensitivity.sensitivity(buyers, visits, as_of, days=p.sensitivity_days, **fit)
    return RetentionResult(p, as_of, dataset, no_rate, overall, by_group, pooled, rates.retention_curve(
        buyers, visits, as_of, window_months=p.window_months), lapses, not_lapsed, model, no_model, odds,
        references, sens, holdout, no_validation, at_risk, mean_active, service)


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
