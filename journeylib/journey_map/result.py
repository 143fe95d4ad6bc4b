"""What notebook 01 shows and records: `JourneyMapResult`, its tables, the picks its sentences use, its metrics."""

from __future__ import annotations

import dataclasses

import pandas as pd

from journeylib.analysis import Result
from journeylib.journey_map.attribution import MODELS
from journeylib.journey_map.params import Params
from journeylib.journey_map.sentences import Sentences
from journeylib.results import SectionMetrics

SECTION = "journey"
NOTEBOOK = "01_journey_map"


@dataclasses.dataclass
class SegmentMap:
    """One segment's journey map: its name, customers, poster table and weakest step."""

    name: str
    customers: int
    table: pd.DataFrame
    weakest_step: pd.Series


@dataclasses.dataclass
class JourneyMapResult(Sentences, Result):
    """Tables end in `_` (DataFrames with fixed columns); picks are the rows the takeaways name; the takeaway
    sentences are methods (`journeylib.journey_map.sentences`).

    `notes_` holds the report's sentences for named conditions by topic ("funnel",
    "groups", "attribution", "segments"); `metrics()` records them in that order.
    """

    params: Params
    as_of: pd.Timestamp
    customers: int
    funnel_: pd.DataFrame
    conversion_: pd.DataFrame
    weakest_step_: pd.Series | None
    most_lost_: pd.Series | None
    purchase_share_: dict  # by -> table (acquisition_channel, dealer_id), best first
    pooled_: dict  # feature -> pooled level names (recorded under levels_pooled)
    channel_extremes: dict
    cohorts_: pd.DataFrame
    cohort_extremes: dict | None
    durations_: pd.DataFrame
    progression_: pd.DataFrame
    progression_curves_: pd.DataFrame
    stage_counts_channel_: pd.DataFrame
    stage_counts_event_: pd.DataFrame
    channel_mix_: pd.DataFrame
    channels_per_journey_: pd.Series
    median_channels: float
    channels_used_: pd.DataFrame
    buyer_paths_: pd.DataFrame
    variants_: dict  # kind -> (top, totals)
    stage_transitions_: pd.DataFrame
    channel_transitions_: pd.DataFrame
    channel_order: list
    stage_flows_: pd.DataFrame
    channel_flows_: pd.DataFrame
    share_bought_: pd.Series
    credits_: pd.DataFrame | None
    attribution_info_: dict | None
    attribution_reason: str | None
    map_table_: pd.DataFrame
    pains_: list  # (stage, theme, complaints, quotes)
    segment_funnel_: pd.DataFrame
    segment_sizes_: pd.Series
    segment_extremes: dict
    segment_maps_: list  # SegmentMap per largest segment
    notes_: dict
    funnels_: pd.DataFrame | None = None  # funnels.funnel_tables: every configured funnel, overall
    funnel_groups_: pd.DataFrame | None = None  # ... per dealer and acquisition channel (with `shrunk`)
    funnel_steps: dict | None = None  # the funnels' definitions (configured, else the default)
    event_type_transitions_: pd.DataFrame | None = None  # variants.transitions over the top_n event types
    buyers_compared_: object = None  # compare.GroupComparison: buyers against non-buyers (recorded in metrics)
    markov_k_: object = None  # markov_k.MarkovK: the order-k chain's credits with intervals (None: no attribution)
    compared_: object = None  # the comparison the `compare` parameter asks for (buyers by default)
    revenue_by_channel_: pd.DataFrame | None = None  # revenue.revenue_by per acquisition channel
    revenue_by_campaign_: pd.DataFrame | None = None  # ... per first-touch campaign (top_n, rest pooled); None: none
    section = SECTION

    # ------------------------------------------------------------ picks the sentences use

    @property
    def leading_channels(self) -> dict:
        """{stage: (channel, share of the stage's events)} for the channel with most events per stage."""
        return {s: (self.channel_mix_.loc[s].idxmax(), self.channel_mix_.loc[s].max()) for s in self.channel_mix_.index}

    @property
    def buyers_with_path(self) -> int:
        return int(self.channels_used_["buyers"].sum())

    @property
    def three_plus(self) -> int:
        return int(self.channels_used_.loc[self.channels_used_["channels"] >= 3, "buyers"].sum())

    @property
    def slowest_step(self) -> pd.Series | None:
        timed = self.durations_.dropna(subset=["median_days"])
        return timed.loc[timed["median_days"].idxmax()] if len(timed) else None

    @property
    def buy_within_90_days(self) -> float | None:
        """Kaplan-Meier share of customers in consideration who buy within 90 days (None: nobody reached it)."""
        share = self.progression_.set_index("from_stage").loc["consideration", "by_90_days"]
        return None if pd.isna(share) else float(share)

    @property
    def stopped_most(self) -> pd.Series | None:
        """The stage most journeys stop at (with its count), from the stage transitions."""
        from journeylib.journey_map.engine import END
        from journeylib.vocabulary import STAGES

        trans = self.stage_transitions_
        ends = trans[(trans["to_state"] == END) & trans["from_state"].isin(STAGES)]
        return ends.loc[ends["transitions"].idxmax()] if len(ends) else None

    @property
    def steps_back(self) -> int:
        """Steps from a stage back to an earlier one."""
        from journeylib.vocabulary import STAGES

        trans = self.stage_transitions_
        forward = trans[trans["from_state"].isin(STAGES[:-1]) & trans["to_state"].isin(STAGES)]
        back = forward[forward["from_state"].map(STAGES.index) > forward["to_state"].map(STAGES.index)]
        return int(back["transitions"].sum())

    @property
    def strongest_switch(self) -> pd.Series | None:
        """The most frequent move from one channel to another."""
        trans, order = self.channel_transitions_, self.channel_order
        moves = trans[trans["from_state"].isin(order) & trans["to_state"].isin(order)]
        return moves.loc[moves["transitions"].idxmax()] if len(moves) else None

    @property
    def shares_(self) -> pd.DataFrame | None:
        """Each model's credits as shares of its purchases (columns sum to 1), rows as in `credits_`."""
        return None if self.credits_ is None else self.credits_ / self.credits_.sum()

    @property
    def credits_by_share_(self) -> pd.DataFrame | None:
        """`credits_` with channels ordered by their mean share over the models (largest first)."""
        if self.credits_ is None:
            return None
        return self.credits_.loc[self.shares_.mean(axis=1).sort_values(ascending=False).index]

    @property
    def disagreement_(self) -> pd.DataFrame | None:
        from journeylib.journey_map.attribution import disagreement

        return None if self.credits_ is None else disagreement(self.credits_)

    @property
    def leaders(self) -> dict:
        """{model: the channel it credits most}."""
        return {m: self.shares_[m].idxmax() for m in MODELS}

    @property
    def opener_closer(self) -> tuple[str, str]:
        """The channel most often first rather than last (opener), and the reverse (closer)."""
        shares = self.shares_
        first_heavy = (shares["first_touch"] - shares["last_touch"]).sort_values()
        return first_heavy.index[-1], first_heavy.index[0]

    def funnel_sentences(self) -> list[str]:
        """Per funnel: the step losing most of its eligible customers, and how many are still in progress."""
        from journeylib.labels import label

        out = []
        for name, table in (self.funnels_ if self.funnels_ is not None else pd.DataFrame(columns=["funnel"])).groupby(
                "funnel", sort=False):
            later = table.iloc[1:].dropna(subset=["conversion"])
            if later.empty:
                out.append(f"{label(name)} funnel: nobody could reach a step past {label(table['step'].iloc[0])}, "
                           "so no step conversion can be computed.")
                continue
            weak = later.loc[later["conversion"].idxmin()]
            waiting = int(table["in_progress"].sum())
            sentence = (f"{label(name)} funnel: the weakest step is {label(weak['step'])}, reached by "
                        f"{weak['conversion']:.0%} of the {int(weak['eligible']):,} customers who could reach it "
                        f"(95% CI {weak['ci_low']:.0%} to {weak['ci_high']:.0%}).")
            if waiting:
                sentence += (f" {waiting:,} customers are still inside a step's window at the as-of date; "
                             "they count neither as converted nor as lost.")
            out.append(sentence)
        return out

    @property
    def event_type_order(self) -> list:
        """The event types of `event_type_transitions_`, most entered first ('other' last)."""
        from journeylib.journey_map.engine import END
        from journeylib.vocabulary import OTHER_LEVEL

        trans = self.event_type_transitions_
        entered = trans.groupby("to_state")["transitions"].sum().drop([END, OTHER_LEVEL], errors="ignore")
        order = list(entered.sort_values(ascending=False, kind="stable").index)
        return order + ([OTHER_LEVEL] if OTHER_LEVEL in set(trans["to_state"]) else [])

    @property
    def strongest_event_step(self) -> pd.Series | None:
        """The most frequent move from one event type to another (neither pooled)."""
        from journeylib.vocabulary import OTHER_LEVEL

        trans, order = self.event_type_transitions_, [s for s in self.event_type_order if s != OTHER_LEVEL]
        moves = trans[trans["from_state"].isin(order) & trans["to_state"].isin(order)]
        return moves.loc[moves["transitions"].idxmax()] if len(moves) else None

    @property
    def revenue_credits_(self) -> pd.DataFrame | None:
        """Revenue credited to each channel by the five models (columns sum to the attributed revenue)."""
        info = self.attribution_info_
        return None if info is None or "revenue_credits" not in info else info["revenue_credits"]

    def revenue_sentences(self) -> list[str]:
        """What the revenue credit says: the channel earning most revenue per model family, and unpriced buyers."""
        credits = self.revenue_credits_
        if credits is None:
            return []  # attribution's own sentence says why nothing is credited
        if not self.attribution_info_["revenue"] > 0:
            return ["No attributed purchase has a known price, so no revenue can be credited to channels."]
        from journeylib.labels import label

        info, shares = self.attribution_info_, credits / credits.sum()
        first, last, markov = (shares[m].idxmax() for m in ("first_touch", "last_touch", "markov"))
        out = [f"{info['purchases_attributed']:,} attributed purchases brought in {info['revenue']:,.0f} in revenue; "
               f"{label(first)} opens the most of it ({shares.loc[first, 'first_touch']:.0%} by first touch), "
               f"{label(last)} closes the most ({shares.loc[last, 'last_touch']:.0%} by last touch), and the Markov "
               f"model credits {label(markov)} with most ({shares.loc[markov, 'markov']:.0%})."]
        if info.get("unpriced"):
            out.append(f"{info['unpriced']:,} attributed buyers' purchases have no price; they count as 0 revenue.")
        return out

    # ------------------------------------------------------------ metrics

    def notes(self) -> list[str]:
        return [sentence for topic in ("funnel", "groups", "attribution", "segments")
                for sentence in self.notes_.get(topic, [])]

    def metrics(self) -> dict:
        section = SectionMetrics()
        for row in self.funnel_.itertuples():
            section.record(f"funnel.{row.stage}", int(row.customers))
        for row in self.conversion_.itertuples():
            if row.reached == 0:
                section.record_missing(f"conversion.{row.key}", missing_conversion(row))
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
                section.record_missing(("attribution", model), self.attribution_reason)
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
        for row, conv in zip(steps.itertuples(), self.conversion_.itertuples()):
            section.record(("steps", conv.key), {
                "reached": int(conv.reached), "converted": int(conv.converted), "dropped": int(conv.dropped),
                "moved_on_later": int(row.later), "same_moment": int(row.same_moment),
                "median_days": row.median_days, "q1_days": row.q1_days, "q3_days": row.q3_days,
                "km_median_days": row.km_median_days, **{f"km_by_{d}_days": getattr(row, f"by_{d}_days")
                                                         for d in (30, 90, 180)}})
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
                                         "median_per_journey": self.median_channels})
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
        for model in MODELS:
            if self.revenue_credits_ is None:
                section.record_missing(("attribution_revenue", model), self.attribution_reason or
                                       "No purchase could be attributed, so no revenue is credited.")
            else:
                for channel, value in self.revenue_credits_[model].items():
                    section.record(("attribution_revenue", model, channel), round(float(value), 2))
        for key, table in (("by_acquisition_channel", self.revenue_by_channel_),
                           ("by_campaign", self.revenue_by_campaign_)):
            for row in (table.itertuples() if table is not None else []):
                section.record(("revenue", key, row.group), {
                    "customers": int(row.customers), "purchases": int(row.purchases),
                    "revenue": round(float(row.revenue), 2), "per_lead": row.per_lead,
                    "per_purchase": row.per_purchase})


def missing_conversion(row) -> str:
    return (f"No customer reached {row.from_stage}, so the {row.from_stage} → {row.to_stage} "
            "conversion cannot be computed.")
