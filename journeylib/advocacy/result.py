"""What one advocacy analysis found: its tables (attributes ending in `_`) and the `advocacy` metrics."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from journeylib.advocacy.count_models import NOT_ESTIMABLE_TERM, REQUIRED_TERMS, ReferralModels
from journeylib.advocacy.nps import SURVEY_TYPES
from journeylib.advocacy.referrals import MODEL_FEATURES
from journeylib.analysis import Result
from journeylib.results import SectionMetrics
from journeylib.stats import level_notes
from journeylib.vocabulary import ADVOCACY_REFERENCES


@dataclass
class AdvocacyResult(Result):
    """Notebook 04's numbers. A named condition leaves its part None with the reason beside it."""

    params: object                      # journeylib.advocacy.Params
    as_of: pd.Timestamp
    customers: int                      # customers with a journey
    duplicate_responses: int            # survey rows dropped as repeated response ids
    surveys_: pd.DataFrame              # deduplicated responses with dealer_id and quarter
    buyers_: pd.DataFrame               # journeylib.buyers.buyer_table
    # 1. NPS (empty or None without survey responses)
    nps_: pd.DataFrame                  # per survey type (index): nps.NPS_COLUMNS
    nps_missing: dict                   # survey type -> why it has no NPS
    no_surveys: str | None              # why there is no NPS by dealer or quarter
    score_distribution_: pd.DataFrame | None
    nps_latest_: pd.DataFrame | None    # every response against the latest per customer
    nps_by_dealer_: pd.DataFrame | None
    nps_by_quarter_: pd.DataFrame | None
    dealer_range: dict | None           # nps.dealer_range
    quarter_trend: dict | None          # nps.quarter_trend
    # 2. who refers
    referrals_: pd.DataFrame            # every referral with its status (referrals.window_referrals)
    referral_status: dict               # referrals per status
    model_frame_: pd.DataFrame          # buyers with time to refer: features, exposure, referrals
    referral_rate: dict
    rates_by_band_: pd.DataFrame        # referrals.BAND_RATE_COLUMNS
    pooled_bands: list                  # bands pooled into `other` in rates_by_band_
    models: ReferralModels | None
    no_model: str | None
    dispersion: dict | None
    rate_ratios_: pd.DataFrame | None   # NB2; count_models.RATE_RATIO_COLUMNS
    poisson_rate_ratios_: pd.DataFrame | None
    zero_inflation: dict | None
    count_fit_: pd.DataFrame | None     # buyers by number of referrals, observed and expected
    # 3. what referrals bring
    outcomes_: pd.DataFrame             # referrals by as-of with has_customer, became_buyer
    funnel_: pd.DataFrame               # step, count, share_of_previous, ci_low, ci_high
    k_factor: dict | None
    no_k_factor: str | None
    lead_times_: pd.DataFrame           # lead_times.referred_lead_times
    referred_hazard_ratio: dict | None
    no_hazard_ratio: str | None
    purchase_curves: dict               # lead group -> lifelines KaplanMeierFitter
    purchase_by_day_: pd.DataFrame
    chain_depth_: pd.Series
    depth_table_: pd.DataFrame          # depth, customers, share
    # 4. reviews and shares
    advocacy_events_: pd.DataFrame
    advocacy_by_band_: pd.DataFrame

    section = "advocacy"

    @property
    def reference_satisfaction(self) -> str | None:
        if self.models is None:
            return None
        return self.models.plan.references.get("satisfaction", ADVOCACY_REFERENCES["satisfaction"])

    @property
    def level_sentences(self) -> list:
        """One sentence per pooled feature, replaced reference or feature left out of the model."""
        if self.models is None:
            return []
        return level_notes.plan_sentences(self.models.plan, MODEL_FEATURES, ADVOCACY_REFERENCES,
                                          self.params.min_level_customers)

    def metrics(self) -> dict:
        """The `advocacy` section of metrics.json, in the order notebook 04 has always recorded it."""
        m = SectionMetrics()
        for survey_type in SURVEY_TYPES:
            if survey_type in self.nps_missing:
                m.record_missing(("nps", survey_type), self.nps_missing[survey_type])
            else:
                row = self.nps_.loc[survey_type]
                m.record_effect(("nps", survey_type), row["nps"], row["ci_low"], row["ci_high"])
                m.record(("nps_responses", survey_type), int(row["responses"]))
        rate = self.referral_rate
        m.record_effect("referral_rate", rate["estimate"], rate["ci_low"], rate["ci_high"])
        self._record_models(m)
        self._record_what_referrals_bring(m)
        overall = self.advocacy_by_band_[self.advocacy_by_band_["satisfaction"] == "all"]
        for _, row in overall.iterrows():
            m.record_effect(("post_purchase", row["event"], "share_of_buyers"), row["share"], row["ci_low"],
                            row["ci_high"])
        return m.values

    def _record_models(self, m: SectionMetrics) -> None:
        if self.models is None:
            m.record_missing("reference_satisfaction", self.no_model)
            for term in REQUIRED_TERMS:
                m.record_missing(("referral_rate_ratios", term), self.no_model)
            return
        d = self.dispersion
        m.record("dispersion", {"pearson_chi2_df": d["pearson_chi2_df"], "cameron_trivedi_p": d["ct_p"],
                                "lr_p": d["lr_p"], "nb2_alpha": d["nb2_alpha"]})
        m.record("reference_satisfaction", self.reference_satisfaction)
        m.record("reference_levels", dict(self.models.plan.references))
        for _, row in self.rate_ratios_.iterrows():
            if pd.isna(row["rate_ratio"]):
                m.record_missing(("referral_rate_ratios", row["term"]), NOT_ESTIMABLE_TERM)
            else:
                m.record_effect(("referral_rate_ratios", row["term"]), row["rate_ratio"], row["ci_low"],
                                row["ci_high"], p=row["p"])
        level_notes.record_plan(m, self.models.plan, MODEL_FEATURES, ADVOCACY_REFERENCES,
                                self.params.min_level_customers)
        z = self.zero_inflation
        m.record("zero_inflation", {"matters": z["matters"], "lr_p": z["lr_p"],
                                    "never_referrer_share": z["zinb_inflation"], "observed_zeros": z["observed_zeros"],
                                    "nb2_expected_zeros": z["nb2_expected_zeros"]})

    def _record_what_referrals_bring(self, m: SectionMetrics) -> None:
        funnel = self.funnel_
        m.record("referral_funnel", {row["step"].replace(" ", "_"): int(row["count"]) for _, row in funnel.iterrows()})
        for _, row in funnel.iloc[1:].iterrows():
            m.record_effect(("referral_conversion", row["step"].replace(" ", "_")), row["share_of_previous"],
                            row["ci_low"], row["ci_high"])
        if self.k_factor is None:
            m.record_missing("k_factor", self.no_k_factor)
        else:
            m.record_effect("k_factor", self.k_factor["estimate"], self.k_factor["ci_low"], self.k_factor["ci_high"])
        if self.referred_hazard_ratio is None:
            m.record_missing("referred_hazard_ratio", self.no_hazard_ratio)
        else:
            hr = self.referred_hazard_ratio
            m.record_effect("referred_hazard_ratio", hr["estimate"], hr["ci_low"], hr["ci_high"], p=hr["p"])
        depth, table = self.chain_depth_, self.depth_table_
        m.record("chain_depth", {"max": int(depth.max()) if len(depth) else 0,
                                 "customers_by_depth": {str(int(d)): int(c)
                                                        for d, c in zip(table["depth"], table["customers"])}})
