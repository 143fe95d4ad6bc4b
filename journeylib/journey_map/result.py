"""What notebook 01 shows and records: `Result`, its tables (attributes ending in `_`) and the `journey` metrics.

Built by keyword in `analyse.py`. A named condition leaves its part None and its reason in
`missing_` (key -> sentence: NO_ATTRIBUTION, NO_REVENUE_CREDIT, NO_CAMPAIGN_REVENUE, NO_DEALER_COMPARISON); `notes_`
holds the sentences metrics.json's `notes` records, in its order (the groups pooled into 'other',
then those reasons, then the pooled segments). The takeaways are the methods `Result` inherits
from `journey_map.sentences.Sentences`, the picks they name and the derived tables its properties
from `journey_map.views.Views`.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from journeylib.analysis import Result as BaseResult
from journeylib.journey_map.attribution import MODELS
from journeylib.journey_map.sentences import Sentences
from journeylib.journey_map.views import Views
from journeylib.results import SectionMetrics

SECTION = "journey"
NOTEBOOK = "01_journey_map"
# Keys of `Result.missing_`: a part of the analysis and why this export has none of it.
NO_ATTRIBUTION = "attribution"                # no purchase with a touch before it: no credits, no revenue credit
NO_REVENUE_CREDIT = "attribution_revenue"     # no attributed purchase has a price: revenue credits are null
NO_CAMPAIGN_REVENUE = "revenue_by_campaign"   # the touchpoints name no campaign
NO_DEALER_COMPARISON = "dealer_comparison"    # one dealer (or one group once the small ones are pooled)
NO_PRICE = "No purchase has a price, so no revenue can be credited to channels or shown per lead."
NO_ATTRIBUTED_PRICE = "No attributed purchase has a price, so no revenue can be credited to channels."


@dataclasses.dataclass
class SegmentMap:
    """One segment's journey map: its name, customers, poster table and weakest step."""

    name: str
    customers: int
    table: pd.DataFrame
    weakest_step: pd.Series


@dataclasses.dataclass(kw_only=True)
class Result(Sentences, Views, BaseResult):
    """Notebook 01's numbers: tables (DataFrames with fixed columns) and the picks of `analyse`, all ending in `_`."""

    params: object                       # journeylib.journey_map.Params
    as_of: pd.Timestamp
    customers_: int                      # customers with a journey
    # 1. the funnel
    funnel_: pd.DataFrame                # stage, customers
    conversion_: pd.DataFrame            # per step: reached, converted, dropped, rate, ci_low, ci_high
    weakest_step_: pd.Series | None      # None: nobody reached a stage
    most_lost_: pd.Series | None
    funnels_: pd.DataFrame | None        # funnels.funnel_tables: every configured funnel, overall
    funnel_groups_: pd.DataFrame | None  # ... per dealer and acquisition channel (with `shrunk`)
    funnel_steps_: dict                  # the funnels' definitions (configured, else the default)
    purchase_share_: dict                # by -> table (acquisition_channel, dealer_id), best first
    pooled_: dict                        # feature -> pooled level names (recorded under levels_pooled)
    channel_extremes_: dict              # groups.extremes of the acquisition channels' purchase share
    cohorts_: pd.DataFrame
    cohort_extremes_: dict | None        # None: no cohort with follow-up
    # 2. time between stages
    durations_: pd.DataFrame
    progression_: pd.DataFrame
    progression_curves_: pd.DataFrame
    # 3. channels
    stage_counts_channel_: pd.DataFrame
    stage_counts_event_: pd.DataFrame
    channel_mix_: pd.DataFrame
    channels_per_journey_: pd.Series
    median_channels_: float              # channels per journey with touches, at the median
    channels_used_: pd.DataFrame
    buyer_paths_: pd.DataFrame
    # 4. paths and flows
    variants_: dict                      # kind -> (top, totals)
    stage_transitions_: pd.DataFrame
    channel_transitions_: pd.DataFrame
    event_type_transitions_: pd.DataFrame  # variants.transitions over the top event types
    channel_order_: list                 # channels, most entered first
    stage_flows_: pd.DataFrame
    channel_flows_: pd.DataFrame
    share_bought_: pd.Series
    # 5. what buyers do
    buyers_compared_: object             # compare.GroupComparison: buyers against non-buyers (recorded in metrics)
    compared_: object                    # the comparison the `compare` parameter asks for (buyers by default)
    # 6. attribution and revenue
    credits_: pd.DataFrame | None        # None: missing_[NO_ATTRIBUTION]
    attribution_info_: dict | None
    markov_k_: object                    # markov_k.MarkovK: the order-k chain's credits with intervals (None: none)
    revenue_by_channel_: pd.DataFrame    # revenue.revenue_by per acquisition channel
    revenue_by_campaign_: pd.DataFrame | None  # ... per first-touch campaign; None: missing_[NO_CAMPAIGN_REVENUE]
    # 7. the journey map
    map_table_: pd.DataFrame
    pains_: list                         # (stage, theme, complaints, quotes)
    # 8. segments
    segment_funnel_: pd.DataFrame
    segment_sizes_: pd.Series
    segment_extremes_: dict
    segment_maps_: list                  # SegmentMap per largest segment
    missing_: dict                       # part -> why this export has none of it
    notes_: list                         # sentences metrics.json's `notes` records

    section = SECTION

    # ------------------------------------------------------------ older names (notebook 01, figures)

    customers = property(lambda self: self.customers_)
    channel_order = property(lambda self: self.channel_order_)
    median_channels = property(lambda self: self.median_channels_)
    channel_extremes = property(lambda self: self.channel_extremes_)
    cohort_extremes = property(lambda self: self.cohort_extremes_)
    segment_extremes = property(lambda self: self.segment_extremes_)
    funnel_steps = property(lambda self: self.funnel_steps_)

    @property
    def attribution_reason(self) -> str | None:
        """Why nothing is attributed (None when purchases are)."""
        return self.missing_.get(NO_ATTRIBUTION)

    # ------------------------------------------------------------ metrics

    def notes(self) -> list[str]:
        """The named conditions metrics.json's `notes` records (the codes as they are: `notes_for` words them)."""
        return list(self.notes_)

    def metrics(self) -> dict:
        section = SectionMetrics()
        for row in self.funnel_.itertuples():
            section.record(f"funnel.{row.stage}", int(row.customers))
        unrecorded = self.unrecorded_stages_
        for row in self.conversion_.itertuples():
            if row.reached == 0:
                section.record_missing(f"conversion.{row.key}", missing_conversion(row))
            elif row.to_stage in unrecorded:
                section.record_missing(f"conversion.{row.key}", unrecorded_conversion(row))
            else:
                section.record_effect(f"conversion.{row.key}", row.rate, row.ci_low, row.ci_high)
        for feature, names in self.pooled_.items():
            section.record_pooled(feature, names)
        for sentence in self.notes():
            section.note(sentence)
        for row in (self.funnels_.itertuples() if self.funnels_ is not None else []):
            section.record(("funnels", row.funnel, row.step), {
                "reached": int(row.reached), "in_progress": int(row.in_progress), "conversion": row.conversion,
                "ci_low": row.ci_low, "ci_high": row.ci_high, "median_days": row.median_days})
        for model in MODELS:
            if self.credits_ is None:
                section.record_missing(("attribution", model), self.missing_[NO_ATTRIBUTION])
            else:
                for channel, value in self.credits_[model].items():
                    section.record(("attribution", model, channel), round(float(value), 6))
        self._record_revenue(section)
        self._record_paths(section)
        self._record_shown(section)
        self._record_buyers(section)
        if self.markov_k_ is not None:
            found = self.markov_k_
            section.record("attribution_markov_order", {
                "order": found.order, "chosen": found.chosen,
                "held_out_log_likelihood": {str(k): round(float(v), 6) for k, v in found.log_likelihood.items()}})
            for channel, row in found.credits_.iterrows():
                section.record_effect(("attribution_markov_k", channel), round(float(row["markov"]), 6),
                                      round(float(row["ci_low"]), 6), round(float(row["ci_high"]), 6))
        return section.values

    def _record_shown(self, section) -> None:
        """The numbers the notebook's tables and sentences show (none depends on a display parameter)."""
        steps = self.durations_.merge(self.progression_, on=["from_stage", "to_stage", "progressed"])
        unrecorded = self.unrecorded_stages_
        for row, conv in zip(steps.itertuples(), self.conversion_.itertuples()):
            section.record(("steps", conv.key), {
                "reached": int(conv.reached), "converted": int(conv.converted), "dropped": int(conv.dropped),
                "moved_on_later": int(row.later), "same_moment": int(row.same_moment),
                "median_days": row.median_days, "q1_days": row.q1_days, "q3_days": row.q3_days,
                "km_median_days": row.km_median_days, **{f"km_by_{d}_days": getattr(row, f"by_{d}_days")
                                                         for d in (30, 90, 180)}})
            if conv.to_stage in unrecorded:  # nobody can move on: a null with the reason, not a Kaplan-Meier 0%
                for name in ("km_median_days", "km_by_30_days", "km_by_90_days", "km_by_180_days"):
                    section.record_missing(("steps", conv.key, name), unrecorded_conversion(conv))
        for by, table in {**self.purchase_share_, self.params.segment_by + "_segments": self.segment_funnel_[
                self.segment_funnel_["stage"] == "purchase"]}.items():
            for row in table.itertuples():
                section.record(("purchase_share", by, str(row.segment)), {
                    "customers": int(row.segment_customers), "share": row.share_of_segment})
        for row in self.cohorts_.itertuples():
            section.record(("cohorts", row.cohort), {"eligible": int(row.eligible),
                                                     "consideration": row.consideration, "purchase": row.purchase})
        for stage, row in self.channel_mix_.iterrows():
            section.record(("channel_mix", stage), {str(c): round(float(v), 6) for c, v in row.items() if v > 0})
        section.record("channels_used", {"buyers_with_touches": self.buyers_with_path, "three_or_more": self.three_plus,
                                         "median_per_journey": self.median_channels_})
        stop, switch = self.stopped_most, self.strongest_switch
        section.record("flows", {
            "steps_back": self.steps_back,
            "stopped_most": None if stop is None else {"stage": stop["from_state"], "customers": int(stop["transitions"])},
            "strongest_switch": None if switch is None else {
                "from": switch["from_state"], "to": switch["to_state"], "transitions": int(switch["transitions"]),
                "median_days": round(float(switch["median_hours"]) / 24, 6)},
            "share_bought_by_first_channel": {str(k): round(float(v), 6) for k, v in self.share_bought_.items()}})
        table = self.map_table_.set_index("stage")
        section.record("journey_map", {stage: {"reach": int(row["reach"]), "nps": row["nps"],
                                               "median_days_to_next": row["median_days_to_next"]}
                                       for stage, row in table.iterrows()})

    def _record_buyers(self, section) -> None:
        """Buyers against non-buyers: the family's size, what was flagged, the detectable difference."""
        found = self.buyers_compared_
        if found is None:
            return
        flagged = found.flagged_
        section.record("what_buyers_do", {
            "buyers": found.sizes[0], "non_buyers": found.sizes[1], "window_days": found.window_days,
            "compared": len(found.table_), "flagged": len(flagged), "q": found.q, "detectable": found.detectable,
            "largest": [{"kind": r.kind, "behaviour": r.behaviour, "difference": round(float(r.difference), 6),
                         "ci_low": round(float(r.ci_low), 6), "ci_high": round(float(r.ci_high), 6),
                         "q_value": round(float(r.q_value), 6)} for r in flagged.head(10).itertuples()]})

    def _record_paths(self, section) -> None:
        """Event-type transitions (the TOP_EVENT_TYPES most frequent, the rest as 'other') and the variants' totals
        (not the top rows: those follow the top_n display parameter)."""
        if self.event_type_transitions_ is not None:
            for row in self.event_type_transitions_.itertuples():
                section.record(("event_type_transitions", row.from_state, row.to_state),
                               {"transitions": int(row.transitions), "probability": round(float(row.probability), 6)})
        for kind, (_, totals) in self.variants_.items():
            section.record(("variants", kind), {"journeys": int(totals["journeys"]), "variants": int(totals["variants"])})

    def _record_revenue(self, section) -> None:
        """Revenue credits per model and channel, revenue per group. Where no attributed purchase has a price the
        credits are null (each channel's key kept) with missing_[NO_REVENUE_CREDIT]; where no purchase at all has
        one, so are the groups' revenue, per lead and per purchase."""
        unpriced = self.missing_.get(NO_REVENUE_CREDIT)
        for model in MODELS:
            if self.revenue_credits_ is None:
                section.record_missing(("attribution_revenue", model), self.missing_.get(NO_ATTRIBUTION) or
                                       "No purchase could be attributed, so no revenue is credited.")
            else:
                for channel, value in self.revenue_credits_[model].items():
                    if unpriced:
                        section.record_missing(("attribution_revenue", model, channel), unpriced)
                    else:
                        section.record(("attribution_revenue", model, channel), round(float(value), 2))
        for key, table in (("by_acquisition_channel", self.revenue_by_channel_),
                           ("by_campaign", self.revenue_by_campaign_)):
            # buyers, none of whose purchases has a price: no revenue is known, none is 0
            no_price = table is not None and table["purchases"].sum() == 0 and table["buyers"].sum() > 0
            for row in (table.itertuples() if table is not None else []):
                section.record(("revenue", key, row.group), {
                    "customers": int(row.customers), "purchases": int(row.purchases),
                    "revenue": round(float(row.revenue), 2), "per_lead": row.per_lead,
                    "per_purchase": row.per_purchase})
                for measure in ("revenue", "per_lead", "per_purchase") if no_price else ():
                    section.record_missing(("revenue", key, row.group, measure), NO_PRICE)


def unrecorded_conversion(row) -> str:
    return (f"The export records no {row.to_stage} events, so the {row.from_stage} → {row.to_stage} conversion "
            "cannot be measured.")


def missing_conversion(row) -> str:
    return (f"No customer reached {row.from_stage}, so the {row.from_stage} → {row.to_stage} "
            "conversion cannot be computed.")


JourneyMapResult = Result  # the older name (tests, callers written before the template)
