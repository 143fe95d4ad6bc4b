"""What one advocacy analysis found: its tables (attributes ending in `_`) and the `advocacy` metrics.

Built by keyword in `analyse.py`. A named condition leaves its part None and its reason in
`missing_` (key -> sentence); `notes_` holds the fit notes. The takeaways a reviewer reads
are the methods `Result` inherits from `advocacy.sentences.Sentences`, the tables reviewers
see its properties from `advocacy.views.Views`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from journeylib.advocacy.count_models import NOT_ESTIMABLE_TERM, REQUIRED_TERMS, ReferralModels
from journeylib.advocacy.nps import SURVEY_TYPES
from journeylib.advocacy.referrals import MODEL_FEATURES
from journeylib.advocacy.sentences import Sentences
from journeylib.advocacy.views import Views
from journeylib.analysis import Result as BaseResult
from journeylib.results import SectionMetrics
from journeylib.stats import level_notes
from journeylib.vocabulary import ADVOCACY_REFERENCES

NO_MODEL = "referral_models"  # the `missing_` key when the count models cannot be fitted


@dataclass(kw_only=True)
class Result(Sentences, Views, BaseResult):
    """Notebook 04's numbers. A named condition leaves its part None with the reason in `missing_`."""

    params: object                      # journeylib.advocacy.Params
    as_of: pd.Timestamp
    customers_: int                     # customers with a journey
    duplicate_responses_: int           # survey rows dropped as repeated response ids
    surveys_: pd.DataFrame              # deduplicated responses with dealer_id and quarter
    buyers_: pd.DataFrame               # journeylib.buyers.buyer_table
    # 1. NPS (empty or None without survey responses)
    nps_: pd.DataFrame                  # per survey type (index): nps.NPS_COLUMNS
    score_distribution_: pd.DataFrame | None
    nps_latest_: pd.DataFrame | None    # every response against the latest per customer
    nps_by_dealer_: pd.DataFrame | None
    nps_by_quarter_: pd.DataFrame | None
    dealer_range_: dict | None          # nps.dealer_range
    quarter_trend_: dict | None         # nps.quarter_trend
    # 2. who refers
    referrals_: pd.DataFrame            # every referral with its status (referrals.window_referrals)
    referral_status_: dict              # referrals per status
    model_frame_: pd.DataFrame          # buyers with time to refer: features, exposure, referrals
    referral_rate_: dict
    rates_by_band_: pd.DataFrame        # referrals.BAND_RATE_COLUMNS
    pooled_bands_: list                 # bands pooled into `other` in rates_by_band_
    models_: ReferralModels | None
    dispersion_: dict | None
    rate_ratios_: pd.DataFrame | None   # NB2; count_models.RATE_RATIO_COLUMNS
    poisson_rate_ratios_: pd.DataFrame | None
    zero_inflation_: dict | None
    count_fit_: pd.DataFrame | None     # buyers by number of referrals, observed and expected
    # 3. what referrals bring
    outcomes_: pd.DataFrame             # referrals by as-of with has_customer, became_buyer
    funnel_: pd.DataFrame               # step, count, share_of_previous, ci_low, ci_high
    k_factor_: dict | None
    lead_times_: pd.DataFrame           # lead_times.referred_lead_times
    referred_hazard_ratio_: dict | None
    purchase_curves_: dict              # lead group -> lifelines KaplanMeierFitter
    purchase_by_day_: pd.DataFrame
    chain_depth_: pd.Series
    depth_table_: pd.DataFrame          # depth, customers, share
    # 4. reviews and shares
    advocacy_events_: pd.DataFrame
    advocacy_by_band_: pd.DataFrame
    missing_: dict                      # part -> why this export has none of it
    notes_: list                        # sentences about the fits

    section = "advocacy"

    @property
    def reference_satisfaction(self) -> str | None:
        if self.models_ is None:
            return None
        return self.models_.plan.references.get("satisfaction", ADVOCACY_REFERENCES["satisfaction"])

    @property
    def level_sentences(self) -> list:
        """One sentence per pooled feature, replaced reference or feature left out of the model."""
        if self.models_ is None:
            return []
        return level_notes.plan_sentences(self.models_.plan, MODEL_FEATURES, ADVOCACY_REFERENCES,
                                          self.params.min_level_customers)

    @property
    def referrals_per_buyer_year(self) -> dict:
        """Counted referrals over the buyers' years of exposure (NaN without exposure)."""
        frame = self.model_frame_
        referrals, years = int(frame["referrals"].sum()), float(frame["exposure_years"].sum())
        return {"referrals": referrals, "buyer_years": years, "estimate": referrals / years if years > 0 else float("nan")}

    def metrics(self) -> dict:
        """The `advocacy` section of metrics.json, in the order notebook 04 has always recorded it (new keys last)."""
        m = SectionMetrics()
        for survey_type in SURVEY_TYPES:
            if f"nps.{survey_type}" in self.missing_:
                m.record_missing(("nps", survey_type), self.missing_[f"nps.{survey_type}"])
            else:
                row = self.nps_.loc[survey_type]
                m.record_effect(("nps", survey_type), row["nps"], row["ci_low"], row["ci_high"])
                m.record(("nps_responses", survey_type), int(row["responses"]))
        rate = self.referral_rate_
        m.record_effect("referral_rate", rate["estimate"], rate["ci_low"], rate["ci_high"])
        self._record_models(m)
        self._record_what_referrals_bring(m)
        overall = self.advocacy_by_band_[self.advocacy_by_band_["satisfaction"] == "all"]
        for _, row in overall.iterrows():
            m.record_effect(("post_purchase", row["event"], "share_of_buyers"), row["share"], row["ci_low"],
                            row["ci_high"])
        self._record_shown_numbers(m)
        return m.values

    def _record_models(self, m: SectionMetrics) -> None:
        if self.models_ is None:
            m.record_missing("reference_satisfaction", self.missing_[NO_MODEL])
            for term in REQUIRED_TERMS:
                m.record_missing(("referral_rate_ratios", term), self.missing_[NO_MODEL])
            return
        d = self.dispersion_
        m.record("dispersion", {"pearson_chi2_df": d["pearson_chi2_df"], "cameron_trivedi_p": d["ct_p"],
                                "lr_p": d["lr_p"], "nb2_alpha": d["nb2_alpha"]})
        m.record("reference_satisfaction", self.reference_satisfaction)
        m.record("reference_levels", dict(self.models_.plan.references))
        for _, row in self.rate_ratios_.iterrows():
            if pd.isna(row["rate_ratio"]):
                m.record_missing(("referral_rate_ratios", row["term"]), NOT_ESTIMABLE_TERM)
            else:
                m.record_effect(("referral_rate_ratios", row["term"]), row["rate_ratio"], row["ci_low"],
                                row["ci_high"], p=row["p"])
        level_notes.record_plan(m, self.models_.plan, MODEL_FEATURES, ADVOCACY_REFERENCES,
                                self.params.min_level_customers)
        z = self.zero_inflation_
        m.record("zero_inflation", {"matters": z["matters"], "lr_p": z["lr_p"],
                                    "never_referrer_share": z["zinb_inflation"], "observed_zeros": z["observed_zeros"],
                                    "nb2_expected_zeros": z["nb2_expected_zeros"]})

    def _record_what_referrals_bring(self, m: SectionMetrics) -> None:
        funnel = self.funnel_
        m.record("referral_funnel", {row["step"].replace(" ", "_"): int(row["count"]) for _, row in funnel.iterrows()})
        for _, row in funnel.iloc[1:].iterrows():
            m.record_effect(("referral_conversion", row["step"].replace(" ", "_")), row["share_of_previous"],
                            row["ci_low"], row["ci_high"])
        if self.k_factor_ is None:
            m.record_missing("k_factor", self.missing_["k_factor"])
        else:
            m.record_effect("k_factor", self.k_factor_["estimate"], self.k_factor_["ci_low"], self.k_factor_["ci_high"])
        if self.referred_hazard_ratio_ is None:
            m.record_missing("referred_hazard_ratio", self.missing_["referred_hazard_ratio"])
        else:
            hr = self.referred_hazard_ratio_
            m.record_effect("referred_hazard_ratio", hr["estimate"], hr["ci_low"], hr["ci_high"], p=hr["p"])
        depth, table = self.chain_depth_, self.depth_table_
        m.record("chain_depth", {"max": int(depth.max()) if len(depth) else 0,
                                 "customers_by_depth": {str(int(d)): int(c)
                                                        for d, c in zip(table["depth"], table["customers"])}})

    def _record_shown_numbers(self, m: SectionMetrics) -> None:
        """The other numbers notebook 04's takeaways show (docs/metrics.md, advocacy: keys added by issue 23).

        Null without a reason in `missing`/`notes` when there is none, so that the keys recorded
        before stay exactly as they were.
        """
        m.record("referral_status", {status: int(count) for status, count in self.referral_status_.items()})
        rate = self.referral_rate_
        m.record("referrals_per_buyer_year", {**self.referrals_per_buyer_year, "referrers": rate["referrers"],
                                              "buyers": rate["buyers"]})
        span = self.dealer_range_
        m.record("nps_dealer_range", None if span is None else {
            "best_dealer": span["best"]["dealer_id"], "best_nps": span["best"]["nps"],
            "worst_dealer": span["worst"]["dealer_id"], "worst_nps": span["worst"]["nps"], "separated": span["separated"]})
        trend = self.quarter_trend_
        m.record("nps_quarter_trend", None if trend is None else {
            "first_quarter": trend["first"]["quarter"], "first_nps": trend["first"]["nps"],
            "last_quarter": trend["last"]["quarter"], "last_nps": trend["last"]["nps"],
            "median_width": trend["median_width"]})
        z = self.zero_inflation_
        m.record("zero_inflation_check", None if z is None else {
            "poisson_expected_zeros": z["poisson_expected_zeros"], "promoter_rr_nb2": z["promoter_rr_nb2"],
            "promoter_rr_zinb": z["promoter_rr_zinb"]})
        times, hr = self.lead_times_, self.referred_hazard_ratio_
        m.record("referred_leads", {"referred": int(times["referred"].sum()), "other": int((~times["referred"]).sum()),
                                    "referred_after_first_touch": int(times["referred_after_first_touch"].sum()),
                                    "logrank_p": None if hr is None else hr["logrank_p"]})
        by_band = self.advocacy_by_band_
        for _, row in by_band[by_band["satisfaction"] != "all"].iterrows():
            m.record(("post_purchase_by_band", row["event"], row["satisfaction"]), row["share"])
