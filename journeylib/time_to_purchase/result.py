"""What one time-to-purchase analysis found: its tables (attributes ending in `_`) and the `time_to_purchase` metrics.

Built by keyword in `analyse.py`. A named condition leaves its part None and says why: `missing_` (metrics
key -> reason) for the metrics it leaves null, `notes_` (every sentence, in the order said) and
`note_sections_` (report section -> its sentences, `notes_for`). The takeaways and reviewer tables are the
methods `Result` inherits from `time_to_purchase.sentences.Sentences`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from journeylib.analysis import Result as BaseResult
from journeylib.results import SectionMetrics
from journeylib.time_to_purchase.leads import TEST_DRIVE
from journeylib.time_to_purchase.lead_scores import SCORES_FILE, TO_CALL_FILE, to_call, write_lead_lists
from journeylib.time_to_purchase.sentences import Sentences

SECTION = "time_to_purchase"
NOTEBOOK = "02_time_to_purchase"


@dataclass(kw_only=True)
class Result(Sentences, BaseResult):
    """Notebook 02's numbers. A named condition leaves its part None with the reason in `missing_`/`notes_`."""

    params: object                          # journeylib.time_to_purchase.Params
    leads_: int                             # customers with a first touch
    bought_: int
    test_drives_: int                       # leads with a test drive before buying or the as-of date
    follow_up_median_days_: float
    levels_: object                         # coding.LevelChoice: pooled levels, references, the pooled lead table
    overall_curve_: object                  # lifelines KaplanMeierFitter, all leads
    channel_curves_: dict                   # channel -> KaplanMeierFitter, every channel (reference first)
    dealer_curves_: dict                    # dealer -> KaplanMeierFitter, the largest six dealers
    logrank_: pd.DataFrame                  # feature -> statistic, df, p (NaN: skipped)
    purchase_probability_: pd.DataFrame     # by horizon: estimate, ci_low, ci_high
    model_: object | None                   # cox.CoxResult
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
    scenario_: object | None                # scenario.Scenario
    open_leads_: int = 0                    # leads open at the as-of date (first touch by then, no purchase by then)
    lead_scores_: object | None = None      # lead_scores.LeadScores: every open lead's p_purchase_30d/90d, reasons
    lead_backtest_: object | None = None    # lead_backtest.Backtest: refitted as of as_of - 90 days, judged by as_of
    missing_: dict                          # metrics key (dotted) -> why it is null
    notes_: list                            # every sentence said, in order, each once
    note_sections_: dict                    # report section -> its sentences (notes_for)

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
        """The sentences one report section shows, each once (why it has nothing, a fallback, a pooled level)."""
        return list(self.note_sections_.get(section, []))

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
        for sentence in self.notes_:  # in the order said; a reason's keys where it was first said
            for key in [key for key, reason in self.missing_.items() if reason == sentence]:
                out.record_missing(key, sentence)
            out.note(sentence)
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


TimeToPurchaseResult = Result  # the older name, kept for callers
