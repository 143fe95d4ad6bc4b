"""Advocacy: NPS, who refers, and what referrals bring (notebook 04; definitions: docs/advocacy.md).

    from journeylib import advocacy
    result = advocacy.analyse(ProcessedTables(folder), advocacy.Params())
    result.metrics()   # the `advocacy` section of metrics.json

Modules by topic: `inputs` (the tables read, deduplicated surveys at their dealer), `nps`,
`referrals` (which referrals count, rates, funnel, k-factor), `count_models` (Poisson, NB2,
rate ratios, zero inflation), `zinb` (the zero-inflated NB2 fitter), `lead_times` (do referred
leads buy faster), `chains` (referral chain depth), `reviews` (reviews and shares), `result`.
"""

from __future__ import annotations

import dataclasses
import math

from journeylib.advocacy import chains, count_models, lead_times, nps, referrals, reviews
from journeylib.advocacy.inputs import attach_dealer, dedupe_surveys, latest_per_customer, load_inputs
from journeylib.advocacy.result import AdvocacyResult
from journeylib.analysis import Params as _Params, positive_int
from journeylib.errors import NotEstimable

SECTION = "advocacy"
NOTEBOOK = "04_advocacy_referrals"

__all__ = ["Params", "analyse", "AdvocacyResult", "SECTION", "NOTEBOOK", "attach_dealer", "dedupe_surveys"]


@dataclasses.dataclass(frozen=True)
class Params(_Params):
    """Notebook 04's parameters (names and defaults as in its parameters cell)."""

    min_level_customers: int = 20   # a model level (e.g. a channel) with fewer buyers is pooled into "other"
    min_referrals: int = 3          # ... and so is one whose buyers made fewer referrals than this
    min_group_responses: int = 30   # NPS by dealer or quarter: groups with fewer responses are shown but marked

    def check(self) -> None:
        for name in ("min_level_customers", "min_referrals", "min_group_responses"):
            positive_int(name, getattr(self, name), expected="a positive integer")


def analyse(tables, params: Params | None = None) -> AdvocacyResult:
    """Every number notebook 04 reports, from `tables` (journeylib.tables.ProcessedTables)."""
    params = Params() if params is None else params
    data = load_inputs(tables)
    events = reviews.advocacy_events(data.buyers, data.advocacy_touchpoints, tables.as_of)
    return AdvocacyResult(
        params=params, as_of=tables.as_of, customers=len(data.journeys), duplicate_responses=data.duplicate_responses,
        surveys_=data.surveys, buyers_=data.buyers, **_nps_parts(data.surveys, params),
        **_who_refers(data.buyers, data.referrals, tables.as_of, params), **_what_referrals_bring(data, tables.as_of),
        advocacy_events_=events, advocacy_by_band_=reviews.advocacy_by_band(events))


def _nps_parts(surveys, params: Params) -> dict:
    table = nps.nps_table(surveys, by="survey_type").set_index("survey_type")
    missing = {t: nps.no_nps_reason(t) for t in nps.SURVEY_TYPES if t not in table.index}
    if surveys.empty:
        return {"nps_": table, "nps_missing": missing, "no_surveys": "No survey responses",
                "score_distribution_": None, "nps_latest_": None, "nps_by_dealer_": None, "nps_by_quarter_": None,
                "dealer_range": None, "quarter_trend": None}
    latest = nps.nps_table(latest_per_customer(surveys), by="survey_type").set_index("survey_type")
    by_dealer = nps.nps_table(surveys, by=["survey_type", "dealer_id"])
    by_quarter = nps.nps_table(surveys, by=["survey_type", "quarter"])
    return {"nps_": table, "nps_missing": missing, "no_surveys": None,
            "score_distribution_": nps.score_distribution(surveys),
            "nps_latest_": nps.latest_comparison(table, latest), "nps_by_dealer_": by_dealer,
            "nps_by_quarter_": by_quarter, "dealer_range": nps.dealer_range(by_dealer, params.min_group_responses),
            "quarter_trend": nps.quarter_trend(by_quarter, params.min_group_responses)}


def _who_refers(buyers, referral_rows, as_of, params: Params) -> dict:
    labelled = referrals.window_referrals(buyers, referral_rows, as_of)
    counts = referrals.referral_counts(buyers, labelled)
    frame = referrals.model_frame(buyers, counts)
    by_band, pooled = referrals.rates_by_band(frame, params.min_level_customers)
    parts = {"referrals_": labelled, "referral_status": referrals.status_counts(labelled).to_dict(),
             "model_frame_": frame, "referral_rate": referrals.referral_rate(counts), "rates_by_band_": by_band,
             "pooled_bands": pooled}
    try:
        models = count_models.referral_models(frame, params.min_level_customers, params.min_referrals)
    except NotEstimable as error:
        return {**parts, "models": None, "no_model": error.reason, "dispersion": None, "rate_ratios_": None,
                "poisson_rate_ratios_": None, "zero_inflation": None, "count_fit_": None}
    return {**parts, "models": models, "no_model": None, "dispersion": count_models.overdispersion(models),
            "rate_ratios_": count_models.rate_ratios(models),
            "poisson_rate_ratios_": count_models.rate_ratios(models, fit=models.poisson),
            "zero_inflation": count_models.zero_inflation(models), "count_fit_": count_models.count_fit_table(models)}


def _what_referrals_bring(data, as_of) -> dict:
    outcomes = referrals.referral_outcomes(data.referrals, data.journeys, as_of)
    k = referrals.k_factor(data.buyers, outcomes, as_of)
    no_k = f"{referrals.NO_EXPOSURE}, so there is no referral coefficient k." if math.isnan(k["estimate"]) else None
    times = lead_times.referred_lead_times(data.journeys, data.referrals)
    try:
        hazard_ratio, no_hazard_ratio = lead_times.referred_hazard_ratio(times), None
    except NotEstimable as error:
        hazard_ratio, no_hazard_ratio = None, error.reason
    curves = lead_times.purchase_curves(times)
    depth = chains.chain_depth(outcomes)
    return {"outcomes_": outcomes, "funnel_": referrals.referral_funnel(outcomes), "k_factor": None if no_k else k,
            "no_k_factor": no_k, "lead_times_": times, "referred_hazard_ratio": hazard_ratio,
            "no_hazard_ratio": no_hazard_ratio, "purchase_curves": curves,
            "purchase_by_day_": lead_times.purchase_by_day(curves), "chain_depth_": depth,
            "depth_table_": chains.depth_table(depth, customers=len(data.journeys))}
