"""Notebook 02 headless: `analyse(tables, Params()) -> Result`, the topic functions in notebook order.

Named conditions (no purchases, one channel, a model that does not converge) become sentences, each
filed under the report section that says it (`Notes`); the ones that leave a metric null also name its key.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from journeylib.errors import NotEstimable
from journeylib.time_to_purchase import aft as aft_module
from journeylib.time_to_purchase import lead_history
from journeylib.time_to_purchase.checks import period_effects, proportional_hazards, stratified_refit
from journeylib.time_to_purchase.coding import FEATURE_WORDS, choose_levels
from journeylib.time_to_purchase.cox import CoxResult, hazard_ratios, naive_model, purchase_model
from journeylib.time_to_purchase.inputs import load_journeys, load_lead_inputs
from journeylib.time_to_purchase.km import curves_by_level, kaplan_meier, logrank, median_days, \
    purchase_probability, restricted_mean
from journeylib.time_to_purchase.lead_backtest import backtest
from journeylib.time_to_purchase.lead_scores import score
from journeylib.time_to_purchase.leads import TEST_DRIVE, customer_table
from journeylib.time_to_purchase.params import Params
from journeylib.time_to_purchase.result import Result
from journeylib.time_to_purchase.scenario import Scenario, test_drive_scenario

PANEL_LEVELS = 6        # curves drawn per panel (channel: the reference and the five largest others)
REMEDY_CUTS = (30, 90)  # journey days where the test drive's effect may change (the period remedy)
LEAD_KEYS = [("lead_scores", k) for k in ("expected_purchases_30d", "expected_purchases_90d", "file", "to_call_file",
                                          "to_call_rows")]
BACKTEST_KEYS = [("lead_scores", "backtest", k) for k in ("as_of", "leads", "auc_30d", "auc_90d", "expected_30d",
                                                          "observed_30d", "expected_90d", "observed_90d", "top_n",
                                                          "precision_top_n")]


class Notes:
    """The sentences of one analysis, in the order said: `notes` (each once), `missing` (metrics key -> reason),
    `sections` (report section -> its sentences, each once)."""

    def __init__(self):
        self.notes: list[str] = []
        self.missing: dict[str, str] = {}
        self.sections: dict[str, list[str]] = {}

    def note(self, section: str, sentence: str) -> None:
        if sentence not in self.notes:
            self.notes.append(sentence)
        said = self.sections.setdefault(section, [])
        if sentence not in said:
            said.append(sentence)

    def missing_keys(self, section: str, keys, sentence: str) -> None:
        """`sentence` says why each of `keys` (dotted or tuples of parts) has no value."""
        for key in keys:
            self.missing[key if isinstance(key, str) else ".".join(key)] = sentence
        self.note(section, sentence)


def analyse(tables, params: Params | None = None) -> Result:
    """Notebook 02: the lead table from `tables` (journeylib.tables.ProcessedTables), every curve, model and
    check, then the open leads' scores and their backtest."""
    params = params or Params()
    customers = customer_table(load_journeys(tables))
    choice = choose_levels(customers, min_level_customers=params.min_level_customers)
    pooled, notes = choice.customers, Notes()
    for sentence in choice.sentences:
        notes.note("levels", sentence)

    overall = kaplan_meier(customers, label="all leads")
    channel_curves = curves_by_level(pooled, "acquisition_channel", choice.channels())
    dealer_curves = curves_by_level(pooled, "dealer_id", _largest(pooled["dealer_id"], PANEL_LEVELS))
    logrank_table = _logrank(pooled, notes)
    probability = _probability(overall, notes)
    if choice.reference_channel is None:
        notes.missing_keys("model", ["reference_channel"], "No model compares acquisition channels on this export, "
                                                           "so there is no reference channel.")
    model = _model(choice, params, notes)
    naive = _naive(pooled, model, notes)
    ph, violated = _ph_check(model, params, notes)
    by_period, stratified, strata = _remedies(model, violated, notes)
    aft = _aft(model, notes)
    rmst = pd.DataFrame([(c, *restricted_mean(km, params.rmst_horizon_days)) for c, km in channel_curves.items()],
                        columns=["channel", "estimate", "ci_low", "ci_high"]).set_index("channel") \
        .sort_values("estimate")
    scenario = _scenario(model, params, notes)
    lead_part = _lead_scores(load_lead_inputs(tables), params, notes)
    return Result(
        params=params, leads_=len(customers), bought_=int(customers["purchased"].sum()),
        test_drives_=int(customers["test_drive_days"].notna().sum()),
        follow_up_median_days_=float(customers["days"].median()), levels_=choice, overall_curve_=overall,
        channel_curves_=channel_curves, dealer_curves_=dealer_curves, logrank_=logrank_table,
        purchase_probability_=probability, model_=model, naive_=naive, ph_test_=ph, ph_violated_=violated,
        by_period_=by_period, stratified_=stratified, strata_=strata, aft_=aft,
        time_ratios_=None if aft is None else aft_module.time_ratios(aft.fitter),
        medians_=_medians(pooled, channel_curves, model, aft), rmst_=rmst, scenario_=scenario, **lead_part,
        missing_=notes.missing, notes_=notes.notes, note_sections_=notes.sections)


def _lower_first(reason: str) -> str:
    return f"{reason[0].lower()}{reason[1:]}"


def _largest(values: pd.Series, n: int) -> list:
    sizes = values.value_counts()
    return sorted(sizes.index, key=lambda level: (-sizes[level], level))[:n]


def _logrank(pooled: pd.DataFrame, notes: Notes) -> pd.DataFrame:
    """feature -> statistic, df, p of the log-rank test across its levels (NaN where skipped, with a note)."""
    rows = {}
    for feature in ("acquisition_channel", "dealer_id"):
        words = FEATURE_WORDS[feature] + "s"
        try:
            rows[feature] = logrank(pooled, feature)
        except NotEstimable as error:
            rows[feature] = (np.nan, np.nan, np.nan)
            notes.note(f"logrank:{feature}", f"Log-rank test across {words} skipped: {_lower_first(error.reason)}")
    return pd.DataFrame.from_dict(rows, orient="index", columns=["statistic", "df", "p"])


def _probability(overall, notes: Notes) -> pd.DataFrame:
    probability = purchase_probability(overall)
    for days, row in probability.iterrows():
        if pd.isna(row["estimate"]):
            notes.missing_keys("probability", [("purchase_probability", str(days))],
                               f"No lead has been followed for {days} days yet, so the share bought by day {days} "
                               "is unknown.")
    return probability


def _model(choice, params: Params, notes: Notes) -> CoxResult | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning)
            model = purchase_model(choice, concordance_rows=params.max_rows, seed=params.seed)
    except NotEstimable as error:
        notes.missing_keys("model", [("hazard_ratios", TEST_DRIVE), "concordance"], error.reason)
        return None
    for sentence in dict.fromkeys([*model.notes, *model.missing.values()]):
        notes.note("model", sentence)
    for term, reason in model.missing.items():
        if term == TEST_DRIVE or term.startswith("channel:"):
            notes.missing_keys("model", [("hazard_ratios", term)], reason)
    return model


def _has_test_drive(model) -> bool:
    return model is not None and TEST_DRIVE in model.hazard_ratios.index


def _naive(pooled, model, notes: Notes) -> pd.Series | None:
    if not _has_test_drive(model):
        notes.missing_keys("naive", ["naive_test_drive_hazard_ratio"], "Without a test-drive effect from the model "
                                                                      "there is nothing to compare the naive coding "
                                                                      "with.")
        return None
    terms = [t for t in model.hazard_ratios.index if t != TEST_DRIVE]
    try:
        return hazard_ratios(naive_model(pooled, model.design, terms)).loc["ever_test_drove"]
    except NotEstimable as error:
        notes.missing_keys("naive", ["naive_test_drive_hazard_ratio"], error.reason)
        return None


def _ph_check(model, params: Params, notes: Notes):
    if model is None:
        notes.note("ph", "Without the model there is no proportional-hazards check.")
        return None, []
    try:
        ph = proportional_hazards(model, max_rows=params.max_rows, seed=params.seed)
    except NotEstimable as error:
        notes.note("ph", f"The proportional-hazards check could not be run: {_lower_first(error.reason)}")
        return None, []
    return ph, list(ph.index[ph["p"] < 0.05])


def _remedies(model, violated, notes: Notes):
    """Where proportional hazards fail: the test drive's effect by period; the other factors as strata."""
    by_period = stratified = None
    strata: list = []
    if TEST_DRIVE in violated:
        try:
            by_period = period_effects(model, REMEDY_CUTS)
        except NotEstimable as error:
            notes.note("remedy", "The test drive's effect by period of the journey could not be estimated: "
                                 f"{_lower_first(error.reason)}")
    others = [c for c in violated if c != TEST_DRIVE]
    if others:
        try:
            refit, strata = stratified_refit(model, others)
            if TEST_DRIVE in refit.params_.index:
                stratified = hazard_ratios(refit).loc[TEST_DRIVE]
        except NotEstimable as error:
            notes.note("remedy", f"The stratified remedy could not be fitted: {_lower_first(error.reason)}")
    return by_period, stratified, strata


def _aft(model, notes: Notes):
    if model is None:
        notes.note("aft", "Without the Cox model's design there is no Weibull cross-check.")
        return None
    try:
        aft = aft_module.cross_check_aft(model.design, [t for t in model.fitter.params_.index if t != TEST_DRIVE])
    except NotEstimable as error:
        notes.note("aft", error.reason)
        return None
    for sentence in aft.notes:
        notes.note("aft", sentence)
    return aft


def _medians(pooled, curves, model, aft) -> pd.DataFrame:
    sizes = pooled["acquisition_channel"].value_counts()
    table = pd.DataFrame([(c, int(sizes[c]), *median_days(km)) for c, km in curves.items()],
                         columns=["channel", "leads", "KM median days", "95% low", "95% high"]).set_index("channel")
    if aft is not None:
        table["Weibull median days (reference dealer)"] = aft_module.aft_median_by_channel(aft.fitter, model.design,
                                                                                          aft.covariates)
    return table.replace(np.inf, np.nan)


def _scenario(model, params: Params, notes: Notes) -> Scenario | None:
    if model is None:
        notes.note("scenario", "Without the model there is no test-drive scenario.")
        return None
    try:
        return test_drive_scenario(model, share=params.scenario_share, window_days=params.scenario_window_days,
                                   horizon_days=params.scenario_horizon_days, seed=params.seed)
    except NotEstimable as error:
        notes.note("scenario", error.reason)
        return None


def _lead_scores(data, params: Params, notes: Notes) -> dict:
    """Who to call: the open leads' scores at the as-of date and the backtest 90 days earlier
    (`data`: inputs.LeadInputs); the Result's `open_leads_`, `lead_scores_` and `lead_backtest_`."""
    known = lead_history.history(data.journeys, data.events, lead_history.seconds([data.as_of])[0])
    open_leads = int(known.open_at(known.cutoff).sum())
    scores = test = None
    try:
        scores = score(known, min_level_customers=params.min_level_customers, seed=params.seed)
        for sentence in scores.notes:
            notes.note("leads", sentence)
    except NotEstimable as error:
        notes.missing_keys("leads", LEAD_KEYS, f"No lead scores: {_lower_first(error.reason)}")
    try:
        test = backtest(data.journeys, data.events, data.as_of, top_per_dealer=params.leads_to_call_top,
                        min_level_customers=params.min_level_customers, seed=params.seed, known=known)
        for key, reason in test.missing.items():
            notes.missing_keys("leads", [("lead_scores", "backtest", key)], reason)
    except NotEstimable as error:
        notes.missing_keys("leads", BACKTEST_KEYS, error.reason)
    return {"open_leads_": open_leads, "lead_scores_": scores, "lead_backtest_": test}
