"""The picks the takeaway sentences name and the derived tables, as properties of the journey-map result.

Each reads the tables `analyse` fitted (attributes ending in `_`); nothing here is stored.
"""

from __future__ import annotations

import pandas as pd

from journeylib.journey_map.attribution import MODELS

AGREE_WITHIN = 0.01  # shares of credit closer than one point are the same to a reader: no disagreement, no opener


class Views:
    """Mixed into `journey_map.Result`: rows the takeaways name (the weakest step, the strongest switch) and
    derived tables (credit shares, revenue credits)."""

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
    def unrecorded_stages_(self) -> list:
        """Stages nobody reached because the export holds none of their events (a log without service
        events has no retention): the steps into them are not compared with the others."""
        from journeylib.vocabulary import STAGES

        counts = getattr(self, "stage_counts_channel_", None)
        if counts is None:
            return []
        recorded = set(counts["stage"].astype(str))
        into = self.conversion_.set_index("to_stage")["converted"]
        return [s for s in STAGES[1:] if s not in recorded and into.get(s, 0) == 0]

    @property
    def measured_steps_(self) -> pd.DataFrame:
        """The rows of `conversion_` someone reached, into a stage the export records."""
        conv = self.conversion_.dropna(subset=["rate"])
        return conv[~conv["to_stage"].isin(self.unrecorded_stages_)]

    @property
    def most_lost_step(self) -> pd.Series | None:
        """The measured step losing the most customers in head count."""
        steps = self.measured_steps_
        return steps.loc[steps["dropped"].idxmax()] if len(steps) else None

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
        trans, order = self.channel_transitions_, self.channel_order_
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
    def opener_closer(self) -> tuple[str | None, str | None]:
        """The channel most often first rather than last (opener), and the reverse (closer); None where no
        channel's first- and last-touch shares differ by AGREE_WITHIN or more."""
        shares = self.shares_
        first_heavy = (shares["first_touch"] - shares["last_touch"]).sort_values()
        opener, closer = first_heavy.index[-1], first_heavy.index[0]
        return (opener if first_heavy.iloc[-1] >= AGREE_WITHIN else None,
                closer if -first_heavy.iloc[0] >= AGREE_WITHIN else None)

    @property
    def models_agree(self) -> bool:
        """Every model gives every channel the same share of the credit, within AGREE_WITHIN."""
        spread = self.disagreement_
        return spread is not None and float(spread["spread"].max()) < AGREE_WITHIN

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
