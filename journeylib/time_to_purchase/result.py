"""Notebook 02's one entry point: `analyse(tables, Params()) -> TimeToPurchaseResult`.

Everything a metric or a takeaway's number depends on is computed here, in the
notebook's order, so `result.metrics()` is the notebook's `time_to_purchase`
section and the notebook only draws and words it. Named conditions become
sentences in `messages_` (with the section of the report they belong to) and,
where a metric goes missing, a null with the reason.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from journeylib.errors import ParameterError
from journeylib.analysis import Params as BaseParams
from journeylib.analysis import Result, positive_int
from journeylib.errors import NotEstimable
from journeylib.results import SectionMetrics
from journeylib.time_to_purchase import aft as aft_module
from journeylib.time_to_purchase.checks import period_effects, proportional_hazards, stratified_refit
from journeylib.time_to_purchase.coding import FEATURE_WORDS, LevelChoice, choose_levels
from journeylib.time_to_purchase.cox import CoxResult, hazard_ratios, naive_model, purchase_model
from journeylib.time_to_purchase.km import curves_by_level, logrank, median_days, purchase_probability, \
    restricted_mean, kaplan_meier
from journeylib.time_to_purchase.leads import TEST_DRIVE, customer_table
from journeylib.time_to_purchase import lead_history
from journeylib.time_to_purchase.lead_backtest import Backtest, backtest
from journeylib.time_to_purchase.lead_scores import SCORES_FILE, TO_CALL_FILE, LeadScores, score, to_call, \
    write_lead_lists
from journeylib.time_to_purchase.scenario import Scenario, test_drive_scenario
from journeylib.time_to_purchase.sentences import Sentences

SECTION = "time_to_purchase"
NOTEBOOK = "02_time_to_purchase"
JOURNEY_COLUMNS = ["customer_id", "dealer_id", "first_touch_at", "acquisition_channel", "first_test_drive_at",
                   "purchased", "days_to_purchase"]
PANEL_LEVELS = 6        # curves drawn per panel (channel: the reference and the five largest others)
REMEDY_CUTS = (30, 90)  # journey days where the test drive's effect may change (the period remedy)


@dataclass(frozen=True)
class Params(BaseParams):
    max_rows: int = 20000             # rows for the proportional-hazards check and the concordance
    rmst_horizon_days: float = 180
    scenario_share: float = 0.10
    scenario_window_days: int = 14
    scenario_horizon_days: int = 90
    seed: int = 0
    min_level_customers: int = 20
    leads_to_call_top: int = 25       # leads per dealer on leads_to_call.csv (and on the backtest's call list)

    def check(self) -> None:
        for name in ("max_rows", "scenario_window_days", "scenario_horizon_days", "min_level_customers",
                     "leads_to_call_top"):
            positive_int(name, getattr(self, name), expected=f"a positive {int}")
        _number("rmst_horizon_days", self.rmst_horizon_days, (int, float), positive=True)
        _number("scenario_share", self.scenario_share, float, positive=True)
        _number("seed", self.seed, int, positive=False)
        if not 0 < self.scenario_share <= 1:
            raise ParameterError("scenario_share", self.scenario_share, "a share in (0, 1]")
        if self.scenario_window_days >= self.scenario_horizon_days:
            raise ParameterError("scenario_window_days", self.scenario_window_days,
                                 f"fewer days than scenario_horizon_days ({self.scenario_horizon_days})")


def _number(name, value, kind, positive: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, kind) or (positive and value <= 0):
        what = "whole number" if kind is int else "number"
        raise ParameterError(name, value, f"a positive {what}" if positive else f"a {what}")


def _lower_first(reason: str) -> str:
    return f"{reason[0].lower()}{reason[1:]}"


@dataclass
class TimeToPurchaseResult(Sentences, Result):
    """Notebook 02's numbers. Tables end in `_`; None where a step could not be computed (the reason is in
    `messages_`, as (report section, metrics key or None, sentence), in the order the notebook says them)."""

    params: Params
    leads_: int
    bought_: int
    test_drives_: int
    follow_up_median_days_: float
    levels_: LevelChoice
    overall_curve_: object                  # lifelines KaplanMeierFitter, all leads
    channel_curves_: dict                   # channel -> KaplanMeierFitter, every channel (reference first)
    dealer_curves_: dict                    # dealer -> KaplanMeierFitter, the largest PANEL_LEVELS dealers
    logrank_: pd.DataFrame                  # feature -> levels, statistic, df, p (NaN: skipped)
    purchase_probability_: pd.DataFrame     # by horizon: estimate, ci_low, ci_high
    model_: CoxResult | None
    naive_: pd.Series | None                # naive "ever test-drove" hazard ratio row
    ph_test_: pd.DataFrame | None           # per covariate: test_statistic, p
    ph_violated_: list
    by_period_: pd.DataFrame | None         # test drive hazard ratio per journey period (remedy)
    stratified_: pd.Series | None           # test drive hazard ratio with the violating factors as strata
    strata_: list
    aft_: object | None                     # aft.AFTResult
    time_ratios_: pd.DataFrame | None
    medians_: pd.DataFrame                  # per channel: leads, KM median and interval, Weibull median
    rmst_: pd.DataFrame                     # per channel, fastest first: estimate (mean days), ci_low, ci_high
    scenario_: Scenario | None
    messages_: list = field(default_factory=list)
    open_leads_: int = 0                    # leads open at the as-of date (first touch by then, no purchase by then)
    lead_scores_: LeadScores | None = None  # every open lead's p_purchase_30d/90d and reasons
    lead_backtest_: Backtest | None = None  # the same model refitted as of as_of - 90 days, judged by the as-of date
    section = SECTION

    @property
    def leads_to_call_(self) -> pd.DataFrame | None:
        """The top `leads_to_call_top` open leads per dealer by p_purchase_30d."""
        return None if self.lead_scores_ is None else to_call(self.lead_scores_.table, self.params.leads_to_call_top)

    def write_lead_lists(self, run_dir):
        """lead_scores.parquet and leads_to_call.csv into the run folder; nothing without scores or a run."""
        if self.lead_scores_ is None:
            return None
        return write_lead_lists(self.lead_scores_.table, run_dir, self.params.leads_to_call_top)

    def lead_metrics(self) -> dict:
        """The `lead_scores` object of the section (None where the reason is under `missing`)."""
        scores, test = self.lead_scores_, self.lead_backtest_
        out = {"leads": self.open_leads_, "expected_purchases_30d": None, "expected_purchases_90d": None,
               "file": None, "to_call_file": None, "to_call_rows": None}
        if scores is not None:
            out.update(expected_purchases_30d=scores.expected_30d, expected_purchases_90d=scores.expected_90d,
                       file=SCORES_FILE, to_call_file=TO_CALL_FILE, to_call_rows=len(self.leads_to_call_))
        backtest_keys = ("as_of", "leads", "auc_30d", "auc_90d", "expected_30d", "observed_30d", "expected_90d",
                         "observed_90d", "top_n", "precision_top_n")
        back = dict.fromkeys(backtest_keys)
        if test is not None:
            back.update(as_of=test.as_of.date().isoformat(), leads=test.leads, auc_30d=test.auc_30d,
                        auc_90d=test.auc_90d, **test.totals(), top_n=test.top_n, precision_top_n=test.precision_top_n)
        out["backtest"] = back
        return out

    @property
    def hazard_ratios_(self) -> pd.DataFrame | None:
        return None if self.model_ is None else self.model_.hazard_ratios

    @property
    def test_drive_(self) -> pd.Series | None:
        """The test drive's hazard ratio row, None when the model has no test-drive term."""
        ratios = self.hazard_ratios_
        return None if ratios is None or TEST_DRIVE not in ratios.index else ratios.loc[TEST_DRIVE]

    @property
    def fastest_channel_(self) -> str:
        """The channel with the fewest restricted mean days shopping (its leads buy soonest)."""
        return self.rmst_.index[0]

    @property
    def slowest_channel_(self) -> str:
        return self.rmst_.index[-1]

    @property
    def codings_(self) -> pd.DataFrame | None:
        """The test drive's hazard ratio under the naive and the time-varying coding, side by side."""
        td = self.test_drive_
        if self.naive_ is None or td is None:
            return None
        rows = {"naive: 'ever test-drove' at first touch": self.naive_,
                "correct: test-driven from the test drive on": td}
        return pd.DataFrame({name: {"hazard ratio": r["hazard_ratio"], "95% low": r["ci_low"], "95% high": r["ci_high"]}
                             for name, r in rows.items()}).T

    def notes_for(self, section: str) -> list[str]:
        """The sentences one report section shows, each once."""
        return list(dict.fromkeys(sentence for where, _, sentence in self.messages_ if where == section))

    def channel_agreement(self) -> tuple[int, int]:
        """(channels whose Weibull time ratio and Cox hazard ratio point the same way, channels in both)."""
        if self.time_ratios_ is None or self.model_ is None:
            return 0, 0
        ratios = self.model_.hazard_ratios
        both = [c for c in self.time_ratios_.index if c.startswith("channel:") and c in ratios.index]
        agree = [c for c in both if (self.time_ratios_.loc[c, "time_ratio"] < 1) == (ratios.loc[c, "hazard_ratio"] > 1)]
        return len(agree), len(both)

    def metrics(self) -> dict:
        out = SectionMetrics()
        for feature, names in self.levels_.pooled.items():
            out.record_pooled(feature, names)
        missing_keys = set()
        for _, key, sentence in self.messages_:
            if key is None:
                out.note(sentence)
            else:
                out.record_missing(key, sentence)
                missing_keys.add(key)
        for days, row in self.purchase_probability_.dropna(subset=["estimate"]).iterrows():
            out.record_effect(("purchase_probability", str(days)), row["estimate"], row["ci_low"], row["ci_high"])
        if self.levels_.reference_channel is not None:
            out.record("reference_channel", self.levels_.reference_channel)
        out.record("reference_dealer", self.levels_.reference_dealer)
        if self.model_ is not None:
            for name, row in self.model_.hazard_ratios.iterrows():
                if name == TEST_DRIVE or name.startswith("channel:"):
                    out.record_effect(("hazard_ratios", name), row["hazard_ratio"], row["ci_low"], row["ci_high"],
                                      p=row["p"])
            if self.model_.concordance == self.model_.concordance:
                out.record("concordance", self.model_.concordance)
            else:  # NaN: no buyer had anyone else at risk on their purchase day (all bought at the first touch)
                out.record_missing("concordance", "No buyer can be compared with a customer still deciding on "
                                   "the day they bought (every purchase is on the first day), so the model's "
                                   "concordance is not defined.")
        if self.naive_ is not None:
            out.record_effect("naive_test_drive_hazard_ratio", self.naive_["hazard_ratio"], self.naive_["ci_low"],
                              self.naive_["ci_high"], p=self.naive_["p"])
        out.record("restricted_mean_days", {
            "horizon_days": self.params.rmst_horizon_days,
            **{c: {"estimate": r["estimate"], "ci_low": r["ci_low"], "ci_high": r["ci_high"]}
               for c, r in self.rmst_.iterrows()}})
        if self.scenario_ is not None:
            s, p = self.scenario_, self.params
            out.record("scenario", {"share": p.scenario_share, "window_days": p.scenario_window_days,
                                    "horizon_days": p.scenario_horizon_days, "eligible_leads": s.eligible,
                                    "extra_purchases": {"estimate": s.extra_purchases, "ci_low": s.ci_low,
                                                        "ci_high": s.ci_high}})
        out.record("lead_scores", self.lead_metrics())
        self.record_shown(out)
        return out.values


class _Messages(list):
    def note(self, section: str, sentence: str) -> None:
        self.append((section, None, sentence))

    def missing(self, section: str, keys, sentence: str) -> None:
        for key in keys:
            self.append((section, key, sentence))


def analyse(tables, params: Params | None = None) -> TimeToPurchaseResult:
    """Notebook 02 headless: the lead table from `tables` (ProcessedTables), every curve, model and check."""
    params = params or Params()
    customers = customer_table(tables.load("journeys", columns=JOURNEY_COLUMNS))
    choice = choose_levels(customers, min_level_customers=params.min_level_customers)
    pooled, messages = choice.customers, _Messages()
    for sentence in choice.sentences:
        messages.note("levels", sentence)

    overall = kaplan_meier(customers, label="all leads")
    channel_curves = curves_by_level(pooled, "acquisition_channel", choice.channels())
    dealer_curves = curves_by_level(pooled, "dealer_id", _largest(pooled["dealer_id"], PANEL_LEVELS))
    logrank_rows = {}
    for feature in ("acquisition_channel", "dealer_id"):
        words = FEATURE_WORDS[feature] + "s"
        try:
            logrank_rows[feature] = logrank(pooled, feature)
        except NotEstimable as error:
            logrank_rows[feature] = (np.nan, np.nan, np.nan)
            messages.note(f"logrank:{feature}", f"Log-rank test across {words} skipped: {_lower_first(error.reason)}")
    logrank_table = pd.DataFrame.from_dict(logrank_rows, orient="index", columns=["statistic", "df", "p"])

    probability = purchase_probability(overall)
    for days, row in probability.iterrows():
        if pd.isna(row["estimate"]):
            messages.missing("probability", [("purchase_probability", str(days))],
                             f"No lead has been followed for {days} days yet, so the share bought by day {days} "
                             "is unknown.")

    if choice.reference_channel is None:
        messages.missing("model", ["reference_channel"], "No model compares acquisition channels on this export, "
                                                         "so there is no reference channel.")
    model = _model(choice, params, messages)
    naive = _naive(pooled, model, messages)
    ph, violated = _ph_check(model, params, messages)
    by_period, stratified, strata = _remedies(model, violated, messages)
    aft = _aft(model, messages)
    medians = _medians(pooled, channel_curves, model, aft)
    rmst = pd.DataFrame([(c, *restricted_mean(km, params.rmst_horizon_days)) for c, km in channel_curves.items()],
                        columns=["channel", "estimate", "ci_low", "ci_high"]).set_index("channel") \
        .sort_values("estimate")
    scenario = _scenario(model, params, messages)
    open_leads, scores, test = _lead_scores(tables, params, messages)
    return TimeToPurchaseResult(
        params, len(customers), int(customers["purchased"].sum()), int(customers["test_drive_days"].notna().sum()),
        float(customers["days"].median()), choice, overall, channel_curves, dealer_curves, logrank_table, probability,
        model, naive, ph, violated, by_period, stratified, strata, aft,
        None if aft is None else aft_module.time_ratios(aft.fitter), medians, rmst, scenario, list(messages),
        open_leads, scores, test)


def _largest(values: pd.Series, n: int) -> list:
    sizes = values.value_counts()
    return sorted(sizes.index, key=lambda level: (-sizes[level], level))[:n]


def _model(choice, params, messages) -> CoxResult | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning)
            model = purchase_model(choice, concordance_rows=params.max_rows, seed=params.seed)
    except NotEstimable as error:
        messages.missing("model", [("hazard_ratios", TEST_DRIVE), "concordance"], error.reason)
        return None
    for sentence in dict.fromkeys([*model.notes, *model.missing.values()]):
        messages.note("model", sentence)
    for term, reason in model.missing.items():
        if term == TEST_DRIVE or term.startswith("channel:"):
            messages.missing("model", [("hazard_ratios", term)], reason)
    return model


def _has_test_drive(model) -> bool:
    return model is not None and TEST_DRIVE in model.hazard_ratios.index


def _naive(pooled, model, messages) -> pd.Series | None:
    if not _has_test_drive(model):
        messages.missing("naive", ["naive_test_drive_hazard_ratio"], "Without a test-drive effect from the model "
                                                                     "there is nothing to compare the naive coding with.")
        return None
    terms = [t for t in model.hazard_ratios.index if t != TEST_DRIVE]
    try:
        return hazard_ratios(naive_model(pooled, model.design, terms)).loc["ever_test_drove"]
    except NotEstimable as error:
        messages.missing("naive", ["naive_test_drive_hazard_ratio"], error.reason)
        return None


def _ph_check(model, params, messages):
    if model is None:
        messages.note("ph", "Without the model there is no proportional-hazards check.")
        return None, []
    try:
        ph = proportional_hazards(model, max_rows=params.max_rows, seed=params.seed)
    except NotEstimable as error:
        messages.note("ph", f"The proportional-hazards check could not be run: {_lower_first(error.reason)}")
        return None, []
    return ph, list(ph.index[ph["p"] < 0.05])


def _remedies(model, violated, messages):
    """Where proportional hazards fail: the test drive's effect by period; the other factors as strata."""
    by_period = stratified = None
    strata: list = []
    if TEST_DRIVE in violated:
        try:
            by_period = period_effects(model, REMEDY_CUTS)
        except NotEstimable as error:
            messages.note("remedy", "The test drive's effect by period of the journey could not be estimated: "
                                    f"{_lower_first(error.reason)}")
    others = [c for c in violated if c != TEST_DRIVE]
    if others:
        try:
            refit, strata = stratified_refit(model, others)
            if TEST_DRIVE in refit.params_.index:
                stratified = hazard_ratios(refit).loc[TEST_DRIVE]
        except NotEstimable as error:
            messages.note("remedy", f"The stratified remedy could not be fitted: {_lower_first(error.reason)}")
    return by_period, stratified, strata


def _aft(model, messages):
    if model is None:
        messages.note("aft", "Without the Cox model's design there is no Weibull cross-check.")
        return None
    try:
        aft = aft_module.cross_check_aft(model.design, [t for t in model.fitter.params_.index if t != TEST_DRIVE])
    except NotEstimable as error:
        messages.note("aft", error.reason)
        return None
    for sentence in aft.notes:
        messages.note("aft", sentence)
    return aft


def _medians(pooled, curves, model, aft) -> pd.DataFrame:
    sizes = pooled["acquisition_channel"].value_counts()
    table = pd.DataFrame([(c, int(sizes[c]), *median_days(km)) for c, km in curves.items()],
                         columns=["channel", "leads", "KM median days", "95% low", "95% high"]).set_index("channel")
    if aft is not None:
        table["Weibull median days (reference dealer)"] = aft_module.aft_median_by_channel(aft.fitter, model.design,
                                                                                          aft.covariates)
    return table.replace(np.inf, np.nan)


def _scenario(model, params, messages) -> Scenario | None:
    if model is None:
        messages.note("scenario", "Without the model there is no test-drive scenario.")
        return None
    try:
        return test_drive_scenario(model, share=params.scenario_share, window_days=params.scenario_window_days,
                                   horizon_days=params.scenario_horizon_days, seed=params.seed)
    except NotEstimable as error:
        messages.note("scenario", error.reason)
        return None


LEAD_KEYS = [("lead_scores", k) for k in ("expected_purchases_30d", "expected_purchases_90d", "file", "to_call_file",
                                          "to_call_rows")]
BACKTEST_KEYS = [("lead_scores", "backtest", k) for k in ("as_of", "leads", "auc_30d", "auc_90d", "expected_30d",
                                                          "observed_30d", "expected_90d", "observed_90d", "top_n",
                                                          "precision_top_n")]


def _lead_scores(tables, params, messages):
    """Who to call: the open leads' scores at the as-of date and the backtest 90 days earlier."""
    journeys = tables.load("journeys", columns=lead_history.JOURNEY_COLUMNS)
    events = tables.load("touchpoints", columns=lead_history.EVENT_COLUMNS, filters=[("source", "==", "touchpoints")],
                         categories=["customer_id", "event_type", "source"])
    as_of = tables.as_of
    known = lead_history.history(journeys, events, lead_history.seconds([as_of])[0])
    open_leads = int(known.open_at(known.cutoff).sum())
    scores = test = None
    try:
        scores = score(known, min_level_customers=params.min_level_customers, seed=params.seed)
        for sentence in scores.notes:
            messages.note("leads", sentence)
    except NotEstimable as error:
        messages.missing("leads", LEAD_KEYS, f"No lead scores: {_lower_first(error.reason)}")
    try:
        test = backtest(journeys, events, as_of, top_per_dealer=params.leads_to_call_top,
                        min_level_customers=params.min_level_customers, seed=params.seed, known=known)
        for key, reason in test.missing.items():
            messages.missing("leads", [("lead_scores", "backtest", key)], reason)
    except NotEstimable as error:
        messages.missing("leads", BACKTEST_KEYS, error.reason)
    return open_leads, scores, test
