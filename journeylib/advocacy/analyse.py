"""Notebook 04 headless: `analyse(tables, Params()) -> Result`, the topic functions in notebook order."""

from __future__ import annotations

import math

from journeylib.advocacy import chains, count_models, lead_times, nps, referrals, reviews
from journeylib.advocacy.inputs import latest_per_customer, load_inputs
from journeylib.advocacy.params import Params
from journeylib.advocacy.result import NO_MODEL, Result
from journeylib.errors import NotEstimable

# Keys of `Result.missing_`: a part of the analysis and why this export has none of it.
NO_NPS_BY_GROUP = "nps_by_group"
NO_K_FACTOR = "k_factor"
NO_HAZARD_RATIO = "referred_hazard_ratio"


def analyse(tables, params: Params | None = None) -> Result:
    """Every number notebook 04 reports, from `tables` (journeylib.tables.ProcessedTables)."""
    params = Params() if params is None else params
    data = load_inputs(tables)
    missing: dict[str, str] = {}
    parts = {**_nps_parts(data.surveys, params, missing), **_who_refers(data.buyers, data.referrals, data.as_of, params, missing),
             **_what_referrals_bring(data, missing)}
    events = reviews.advocacy_events(data.buyers, data.advocacy_touchpoints, data.as_of)
    models = parts["models_"]
    return Result(params=params, as_of=data.as_of, customers_=len(data.journeys),
                  duplicate_responses_=data.duplicate_responses, surveys_=data.surveys, buyers_=data.buyers,
                  advocacy_events_=events, advocacy_by_band_=reviews.advocacy_by_band(events), missing_=missing,
                  notes_=[] if models is None else [f"Note: {note}." for note in models.fit_notes], **parts)


def _nps_parts(surveys, params: Params, missing: dict) -> dict:
    table = nps.nps_table(surveys, by="survey_type").set_index("survey_type")
    missing.update({f"nps.{t}": nps.no_nps_reason(t) for t in nps.SURVEY_TYPES if t not in table.index})
    if surveys.empty:
        missing[NO_NPS_BY_GROUP] = "No survey responses"
        return {"nps_": table, "score_distribution_": None, "nps_latest_": None, "nps_by_dealer_": None,
                "nps_by_quarter_": None, "dealer_range_": None, "quarter_trend_": None}
    latest = nps.nps_table(latest_per_customer(surveys), by="survey_type").set_index("survey_type")
    by_dealer = nps.nps_table(surveys, by=["survey_type", "dealer_id"])
    by_quarter = nps.nps_table(surveys, by=["survey_type", "quarter"])
    return {"nps_": table, "score_distribution_": nps.score_distribution(surveys),
            "nps_latest_": nps.latest_comparison(table, latest), "nps_by_dealer_": by_dealer,
            "nps_by_quarter_": by_quarter, "dealer_range_": nps.dealer_range(by_dealer, params.min_group_responses),
            "quarter_trend_": nps.quarter_trend(by_quarter, params.min_group_responses)}


def _who_refers(buyers, referral_rows, as_of, params: Params, missing: dict) -> dict:
    labelled = referrals.window_referrals(buyers, referral_rows, as_of)
    counts = referrals.referral_counts(buyers, labelled)
    frame = referrals.model_frame(buyers, counts)
    by_band, pooled = referrals.rates_by_band(frame, params.min_level_customers)
    parts = {"referrals_": labelled, "referral_status_": referrals.status_counts(labelled).to_dict(),
             "model_frame_": frame, "referral_rate_": referrals.referral_rate(counts), "rates_by_band_": by_band,
             "pooled_bands_": pooled}
    try:
        models = count_models.referral_models(frame, params.min_level_customers, params.min_referrals)
    except NotEstimable as error:
        missing[NO_MODEL] = error.reason
        return {**parts, "models_": None, "dispersion_": None, "rate_ratios_": None, "poisson_rate_ratios_": None,
                "zero_inflation_": None, "count_fit_": None}
    return {**parts, "models_": models, "dispersion_": count_models.overdispersion(models),
            "rate_ratios_": count_models.rate_ratios(models),
            "poisson_rate_ratios_": count_models.rate_ratios(models, fit=models.poisson),
            "zero_inflation_": count_models.zero_inflation(models), "count_fit_": count_models.count_fit_table(models)}


def _what_referrals_bring(data, missing: dict) -> dict:
    outcomes = referrals.referral_outcomes(data.referrals, data.journeys, data.as_of)
    k = referrals.k_factor(data.buyers, outcomes, data.as_of)
    if math.isnan(k["estimate"]):
        missing[NO_K_FACTOR] = f"{referrals.NO_EXPOSURE}, so there is no referral coefficient k."
    times = lead_times.referred_lead_times(data.journeys, data.referrals)
    try:
        hazard_ratio = lead_times.referred_hazard_ratio(times)
    except NotEstimable as error:
        hazard_ratio, missing[NO_HAZARD_RATIO] = None, error.reason
    curves = lead_times.purchase_curves(times)
    depth = chains.chain_depth(outcomes)
    return {"outcomes_": outcomes, "funnel_": referrals.referral_funnel(outcomes),
            "k_factor_": None if NO_K_FACTOR in missing else k, "lead_times_": times,
            "referred_hazard_ratio_": hazard_ratio, "purchase_curves_": curves,
            "purchase_by_day_": lead_times.purchase_by_day(curves), "chain_depth_": depth,
            "depth_table_": chains.depth_table(depth, customers=len(data.journeys))}
