"""The takeaway sentences of notebook 01, as methods of the journey-map result (`JourneyMapResult` inherits them).

Every code a sentence names passes through `labels.label` (`walk_in` -> "Walk-in"); every
number it shows is one `metrics()` records. Each method returns one sentence (or a list),
with the named conditions (nobody reached a stage, no buyer) worded here, not in the notebook.
"""

from __future__ import annotations

import pandas as pd

from journeylib.labels import MISSING, date_text, days, label, number, percent


def _pct(share) -> str:
    return percent(share, 0)


def _count(n, singular: str, plural: str | None = None) -> str:
    """A count with its noun: '1 customer', '1,300 customers' (a median may be '1.5 channels')."""
    value = float(n)
    text = number(value, 0 if value.is_integer() else 1)
    return f"{text} {singular if text == '1' else plural or singular + 's'}"


def _days(value, digits: int = 0) -> str:
    """A duration in days; one that rounds to 0 days reads 'under a day' (a median of a few hours is no 0)."""
    text = days(value, digits)
    return "under a day" if text in ("0 days", "0.0 days") else text


def _times(n) -> str:
    return "once" if n == 1 else "twice" if n == 2 else f"{n:,} times"


def _names(codes) -> str:
    """'A', 'A and B', 'A, B and C'."""
    names = [label(c) for c in codes]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _model(code) -> str:
    """An attribution model in a sentence: 'first touch', 'Markov'."""
    return "Markov" if code == "markov" else label(code).lower()


def _step(row) -> str:
    return f"{label(row['from_stage'])} to {label(row['to_stage']).lower()}"


class Sentences:
    """Mixed into `JourneyMapResult`: its tables and picks in words."""

    # how the reviewer tables' columns read (`report.table(..., formats=result.formats)`)
    formats = {**{c: "percent" for c in ("Share", "Cumulative share", "Bought", "Share of buyers",
                                         "Moved on within 30 days (KM)", "Within 90 days (KM)",
                                         "Within 180 days (KM)")},
               **{c: _days for c in ("Median days", "Days, 25th percentile", "Days, 75th percentile")}}

    def notes_for(self, topic: str) -> list[str]:
        """The named conditions of a topic as a reviewer reads them: "groups" (channels and dealers pooled into
        'other', a single dealer), "attribution" (nothing attributed), "revenue" (no price, no campaigns),
        "segments" (segments pooled).
        Pooled groups are named by their labels ("Text message, Unknown"), as in metrics' notes."""
        from journeylib.journey_map.groups import PURCHASE_SHARE_BY, pooled_note
        from journeylib.journey_map.result import (NO_ATTRIBUTION, NO_CAMPAIGN_REVENUE, NO_DEALER_COMPARISON,
                                                   NO_REVENUE_CREDIT)

        def pooled(feature: str) -> str:
            return pooled_note(feature, self.pooled_[feature], self.params.min_level_customers)

        reasons = {"groups": (NO_DEALER_COMPARISON,), "attribution": (NO_ATTRIBUTION,),
                   "revenue": (NO_REVENUE_CREDIT, NO_CAMPAIGN_REVENUE)}
        if topic == "groups":
            out = [pooled(feature) for feature in PURCHASE_SHARE_BY if feature in self.pooled_]
        elif topic == "segments":  # a grouping of part 1 was said there
            by = self.params.segment_by
            out = [pooled(by)] if by in self.pooled_ and by not in PURCHASE_SHARE_BY else []
        else:
            out = []
        return out + [self.missing_[key] for key in reasons.get(topic, ()) if key in self.missing_]

    # ------------------------------------------------------------ 1. the funnel

    @property
    def steepest_steps_(self) -> pd.DataFrame:
        """The measured steps with the lowest conversion, as a reviewer reads it (rounded to whole percent): a
        tie keeps every step it ties. A step into a stage the export records no event of is none of them."""
        valid = self.measured_steps_
        shown = (valid["rate"] * 100).round()
        return valid[shown == shown.min()]

    def unrecorded_sentence(self) -> str:
        """'The export records no retention events, ...' ('' when it records every stage someone could reach)."""
        stages = self.unrecorded_stages_
        if not stages:
            return ""
        names = [label(s).lower() for s in stages]
        what = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        if len(stages) == 1:
            return (f"The export records no {what} events, so nobody can reach that stage: the step into it is "
                    "not counted as a loss.")
        return (f"The export records no {what} events, so nobody can reach those stages: the steps into them "
                "are not counted as losses.")

    def funnel_sentence(self) -> str:
        steepest, absent = self.steepest_steps_, self.unrecorded_sentence()
        if steepest.empty:
            return absent or "No customer reached any stage, so there is no step to compare."
        if len(steepest) == 1:
            row = steepest.iloc[0]
            opening = (f"The steepest step is {_step(row)}: only {_pct(row['rate'])} "
                       f"(95% CI {_pct(row['ci_low'])} to {_pct(row['ci_high'])}) go on")
        else:
            opening = (f"The steepest steps tie at {_pct(steepest['rate'].iloc[0])} going on: "
                       + _join(_step(row) for _, row in steepest.iterrows()))
        lost = self.most_lost_step
        out = (f"{opening}; in head count, most customers are lost between {label(lost['from_stage']).lower()} "
               f"and {label(lost['to_stage']).lower()} ({int(lost['dropped']):,}).")
        return f"{out} {absent}" if absent else out

    def groups_sentence(self, which: str = "channel") -> str:
        """The best and worst acquisition channel (`which="channel"`) or segment (`"segment"`) by purchase share."""
        pick = self.channel_extremes_ if which == "channel" else self.segment_extremes_
        word = "acquisition channel" if which == "channel" else label(self.params.segment_by).lower()
        best, worst = pick["best"], pick["worst"]
        if pick["compared"] < 2:
            return (f"There is a single {word} group ({label(best['segment'])}): {_pct(best['share_of_segment'])} "
                    f"of its {_count(int(best['segment_customers']), 'customer')} reach purchase.")
        size = f" of at least {_count(pick['min_n'], 'customer')}" if pick["all_large"] else ""
        return (f"Among {word} groups{size}, {label(best['segment'])} reaches purchase most often "
                f"({_pct(best['share_of_segment'])}, n={int(best['segment_customers']):,}) and "
                f"{label(worst['segment'])} least ({_pct(worst['share_of_segment'])}, "
                f"n={int(worst['segment_customers']):,}).")

    def cohort_sentence(self) -> str:
        horizon, cohorts, pick = self.params.cohort_horizon_days, self.cohorts_, self.cohort_extremes_
        if cohorts.empty:
            return (f"No customer had {days(horizon)} of follow-up before {date_text(self.as_of)}: "
                    "no cohort can be compared yet.")
        hi, lo = pick["best"], pick["worst"]
        size = f" of at least {_count(pick['min_n'], 'customer')}" if pick["all_large"] else ""
        if pick["compared"] < 2:
            return (f"Within {days(horizon)}, {_pct(hi['purchase'])} of the one cohort{size} ({hi['cohort']}, "
                    f"{_count(int(cohorts['eligible'].sum()), 'customer')}) bought.")
        return (f"Within {days(horizon)}, {_pct(lo['purchase'])} ({lo['cohort']}) to {_pct(hi['purchase'])} "
                f"({hi['cohort']}) of a cohort bought, across {pick['compared']} cohorts{size} "
                f"({_count(int(cohorts['eligible'].sum()), 'customer')} in all).")

    def funnel_sentences(self) -> list[str]:
        """Per funnel: the step losing most of its eligible customers, and how many are still in progress.

        A step every customer reached at the same moment as the step before has no separate event in the export
        (one event counts for both): it is named as such, never ranked weakest."""
        out = []
        for name, table in (self.funnels_ if self.funnels_ is not None else pd.DataFrame(columns=["funnel"])).groupby(
                "funnel", sort=False):
            later = table.iloc[1:].dropna(subset=["conversion"])
            if later.empty:
                out.append(f"{label(name)} funnel: nobody could reach a step past {label(table['step'].iloc[0])}, "
                           "so no step conversion can be computed.")
                continue
            implied = later[(later["reached"] > 0) & (later["same_moment"] >= later["reached"])]
            own = later.drop(implied.index)
            sentence = f"{label(name)} funnel: "
            if len(own):
                weak = own.loc[own["conversion"].idxmin()]
                which = f"the weakest step is {label(weak['step'])}," if len(own) > 1 else f"{label(weak['step'])} is"
                sentence += (f"{which} reached by {_pct(weak['conversion'])} of the "
                             f"{_count(int(weak['eligible']), 'customer')} who could reach it "
                             f"(95% CI {_pct(weak['ci_low'])} to {_pct(weak['ci_high'])}).")
            if len(implied):
                one = len(implied) == 1
                said = (f"{'the' if own.empty else ' The'} export records no separate event for "
                        f"{_join(label(s) for s in implied['step'])}: customers reach {'it' if one else 'each'} at "
                        "the same moment as the step before (one event counts for both steps), so ")
                sentence += said + (f"{'it is' if one else 'they are'} not ranked." if len(own) else
                                    "no step can be called the weakest or the strongest.")
            waiting = int(table["in_progress"].sum())
            if waiting:
                sentence += (f" {_count(waiting, 'customer')} {'is' if waiting == 1 else 'are'} still inside a "
                             "step's window at the as-of date; they count neither as converted nor as lost.")
            out.append(sentence)
        return out

    # ------------------------------------------------------------ 2. time between stages

    @property
    def step_times_(self) -> pd.DataFrame:
        """The time-between-stages table a reviewer reads: one row per step, days and Kaplan-Meier shares."""
        table = self.durations_.merge(self.progression_, on=["from_stage", "to_stage", "progressed"])
        table["km_median_days"] = table["km_median_days"].where(table["km_median_days"] != float("inf"))
        # into a stage the export records no event of, nobody can move on: its 0% is no share, it reads "—"
        unrecorded = table["to_stage"].isin(self.unrecorded_stages_)
        km = {d: table[f"by_{d}_days"].mask(unrecorded) for d in (30, 90, 180)}
        step = [f"{label(a)} → {label(b).lower()}" for a, b in zip(table["from_stage"], table["to_stage"])]
        return pd.DataFrame({
            "Step": step, "Reached the stage": table["at_risk"], "Moved on later": table["later"],
            "Median days": table["median_days"], "Days, 25th percentile": table["q1_days"],
            "Days, 75th percentile": table["q3_days"], "Moved on within 30 days (KM)": km[30],
            "Within 90 days (KM)": km[90], "Within 180 days (KM)": km[180]})

    def timing_sentence(self) -> str:
        slowest, buy_90 = self.slowest_step, self.buy_within_90_days
        out = (f"The slowest step is {_step(slowest)} (median {_days(slowest['median_days'])} among those who "
               "moved on later). " if slowest is not None else "")
        same = self.durations_[self.durations_["same_moment"] > 0]
        if len(same):
            out += ("Customers who reached two stages at the same moment (a later stage's event counts for an "
                    "earlier stage) are left out of the days: " + _join(
                        f"{int(r['same_moment']):,} for {_step(r)}" for _, r in same.iterrows()) + ". ")
        if buy_90 is None:
            return out + "No customer reached consideration, so the time to buy cannot be estimated."
        return out + (f"Of customers in consideration, {_pct(buy_90)} are expected to buy within 90 days "
                      "(Kaplan-Meier, with those still shopping counted as not yet).")

    # ------------------------------------------------------------ 3. channels

    def channel_mix_sentence(self) -> str:
        return "The leading channel per stage: " + "; ".join(
            f"{label(s).lower()} {label(c)} ({_pct(share)})" for s, (c, share) in self.leading_channels.items()) + "."

    def channels_used_sentence(self) -> str:
        with_path, three_plus = self.buyers_with_path, self.three_plus
        if not with_path:
            return "No buyer had a marketing touch before buying."
        return (f"{_pct(three_plus / with_path)} of buyers ({three_plus:,} of {with_path:,} with touches before "
                f"buying) used three or more channels before their first purchase; a journey uses "
                f"{_count(self.median_channels_, 'channel')} at the median.")

    @property
    def buyer_paths_table_(self) -> pd.DataFrame:
        paths = self.buyer_paths_
        return pd.DataFrame({"Channel sequence before purchase": paths["path"].map(_path),
                             "Buyers": paths["conversions"], "Share of buyers": paths["share_of_buyers"],
                             "All customers on it": paths["customers"]})

    def buyer_paths_sentence(self) -> str:
        paths = self.buyer_paths_
        if not len(paths):
            return "No buyer had a touch before buying."
        if len(paths) == 1:
            return (f"The most common sequence, {_path(paths['path'].iloc[0])}, covers "
                    f"{_pct(paths['share_of_buyers'].iloc[0])} of buyers.")
        return (f"The top {len(paths)} sequences cover {_pct(paths['share_of_buyers'].sum())} of buyers; the most "
                f"common, {_path(paths['path'].iloc[0])}, alone covers {_pct(paths['share_of_buyers'].iloc[0])}.")

    # ------------------------------------------------------------ 4. paths

    def variant_table(self, kind: str) -> pd.DataFrame:
        top, _ = self.variants_[kind]
        return pd.DataFrame({"Journey variant": top["variant"].map(_path), "Customers": top["customers"],
                             "Share": top["share"], "Cumulative share": top["cumulative_share"],
                             "Bought": top["conversion"]})

    def variant_title(self, kind: str) -> str:
        top, totals = self.variants_[kind]
        title = "stages" if kind == "stage" else "event types"
        return f"Top {_count(len(top), 'journey variant')} as {title} ({totals['variants']:,} distinct)"

    def variant_sentence(self, kind: str) -> str:
        top, totals = self.variants_[kind]
        title = "stages" if kind == "stage" else "event types"
        top_part = (f"the top {len(top)} variants cover" if len(top) != 1 else "the top variant covers")
        distinct = totals["variants"]
        return (f"As {title}, {top_part} {_pct(totals['top_share'])} of {_count(totals['journeys'], 'journey')}; "
                f"there {'is' if distinct == 1 else 'are'} {_count(distinct, 'distinct variant')}.")

    # ------------------------------------------------------------ 5. flows

    def stop_sentence(self) -> str:
        stop = self.stopped_most
        if stop is None:
            return "No journey has a step yet."
        return (f"Most journeys that stop, stop at {label(stop['from_state']).lower()} "
                f"({_count(int(stop['transitions']), 'customer')}); {_count(self.steps_back, 'step')} "
                f"{'goes' if self.steps_back == 1 else 'go'} back to an earlier stage (e.g. shopping again after "
                "buying).")

    def switch_sentence(self) -> str:
        switch = self.strongest_switch
        if switch is None:
            return "No customer switched from one channel to another."
        return (f"The most frequent channel switch is {label(switch['from_state'])} → {label(switch['to_state'])} "
                f"({_times(int(switch['transitions']))}, median {_days(switch['median_hours'] / 24, 1)} apart).")

    def event_step_sentence(self) -> str:
        step = self.strongest_event_step
        if step is None:
            return "No customer moved from one event type to another."
        return (f"Over event types (the ten most frequent; the rest as Other), the most frequent step is "
                f"{label(step['from_state'])} → {label(step['to_state'])} ({_times(int(step['transitions']))}, "
                f"{_pct(step['probability'])} of what follows {label(step['from_state'])}).")

    def share_bought_sentence(self) -> str:
        bought = self.share_bought_
        if not len(bought):
            return "No customer has got as far as a purchase yet, whatever the first-touch channel."
        return (f"By first-touch channel, the share whose journey got at least to purchase ranges from "
                f"{_pct(bought.iloc[0])} ({label(bought.index[0])}) to {_pct(bought.iloc[-1])} "
                f"({label(bought.index[-1])}).")

    # ------------------------------------------------------------ 6. attribution

    @property
    def credits_table_(self) -> pd.DataFrame:
        """Purchases credited per channel and model, channels as labels, largest mean share first."""
        from journeylib.journey_map.attribution import MODELS

        credits = self.credits_by_share_
        if credits is None:
            credits = pd.DataFrame(columns=list(MODELS), dtype=float)
        return credits.rename(index=label, columns=label).rename_axis("Channel")

    def attribution_sentences(self) -> list[str]:
        """The attribution notes (why nothing is attributed); who is attributed; where the models disagree (or that
        they agree, every share within a point); opener and closer (where first and last touch differ by a point
        or more); the leader per model."""
        info, notes = self.attribution_info_, self.notes_for("attribution")
        if self.credits_ is None:
            return notes
        attributed, buyers = info["purchases_attributed"], info["buyers"]
        if attributed == buyers:
            who = ("The buyer had a marketing touch before buying and is attributed." if buyers == 1 else
                   f"All {buyers:,} buyers had a marketing touch before buying and are attributed.")
        else:
            who = (f"{attributed:,} of {_count(buyers, 'buyer')} had a marketing touch before buying and "
                   f"{'is' if attributed == 1 else 'are'} attributed; {buyers - attributed:,} bought with no "
                   "recorded touch before.")
        out = notes + [who, self._disagreement_sentence()]
        leaders = self.leaders
        if len(set(leaders.values())) == 1:
            out.append(f"All five models rank {label(leaders['markov'])} first.")
        else:
            out.append("The top channel changes with the model: "
                       + ", ".join(f"{_model(m)} {label(c)}" for m, c in leaders.items()) + ".")
        return out

    def _disagreement_sentence(self) -> str:
        from journeylib.journey_map.views import AGREE_WITHIN

        if self.models_agree:
            return (f"The five models agree: each gives every channel the same share of the credit, within "
                    f"{_count(round(AGREE_WITHIN * 100), 'percentage point')}, so no channel stands out as an "
                    "opener or a closer.")
        shares, spread = self.shares_, self.disagreement_
        top, most = spread.index[0], spread.iloc[0]
        out = (f"The models disagree most on {label(top)}: {_pct(most[most['highest_model']])} of the credit under "
               f"{_model(most['highest_model'])} but {_pct(most[most['lowest_model']])} under "
               f"{_model(most['lowest_model'])}.")
        opener, closer = self.opener_closer
        roles = []
        if opener is not None:
            roles.append(f"{label(opener)} is mostly an opener (first touch {_pct(shares.loc[opener, 'first_touch'])} "
                         f"vs last touch {_pct(shares.loc[opener, 'last_touch'])})")
        if closer is not None:
            roles.append(f"{label(closer)} {'is ' if opener is None else ''}mostly a closer (last touch "
                         f"{_pct(shares.loc[closer, 'last_touch'])} vs first {_pct(shares.loc[closer, 'first_touch'])})")
        if not roles:
            return out + (f" First and last touch credit every channel alike, within "
                          f"{_count(round(AGREE_WITHIN * 100), 'percentage point')}: no channel is mostly an opener "
                          "or a closer.")
        return f"{out} {', '.join(roles)}."

    def revenue_sentences(self) -> list[str]:
        """The revenue notes (no purchase has a price, no campaigns); the channel earning most revenue per model
        family, and unpriced buyers."""
        from journeylib.journey_map.result import NO_REVENUE_CREDIT

        credits, notes = self.revenue_credits_, self.notes_for("revenue")
        if credits is None or NO_REVENUE_CREDIT in self.missing_:
            return notes  # without attribution, attribution's own sentence says why nothing is credited
        info = self.attribution_info_
        if not info["revenue"] > 0:
            return ["No attributed purchase has a known price, so no revenue can be credited to channels.", *notes]
        shares = credits / credits.sum()
        first, last, markov = (shares[m].idxmax() for m in ("first_touch", "last_touch", "markov"))
        out = [f"{_count(info['purchases_attributed'], 'attributed purchase')} brought in {info['revenue']:,.0f} in "
               f"revenue; {label(first)} opens the most of it ({_pct(shares.loc[first, 'first_touch'])} by first "
               f"touch), {label(last)} closes the most ({_pct(shares.loc[last, 'last_touch'])} by last touch), and "
               f"the Markov model credits {label(markov)} with most ({_pct(shares.loc[markov, 'markov'])})."]
        unpriced = info.get("unpriced")
        if unpriced:
            out.append("1 attributed buyer's purchase has no price; it counts as 0 revenue." if unpriced == 1 else
                       f"{unpriced:,} attributed buyers' purchases have no price; they count as 0 revenue.")
        return out + notes

    def markov_k_sentences(self) -> list[str]:
        return [] if self.markov_k_ is None else [self.markov_k_.sentence()]

    # ------------------------------------------------------------ 7. the journey map

    @property
    def credits_title(self) -> str:
        return "Purchases credited to each channel (each column sums to the purchases)"

    @property
    def map_title(self) -> str:
        return f"Customer journey map · {_count(self.customers_, 'customer')} · as of {date_text(self.as_of)}"

    def map_sentence(self) -> str:
        table = self.map_table_.set_index("stage")
        reach, nps = table["reach"], table["nps"].dropna()
        out = f"{_count(int(reach['awareness']), 'customer')} became aware and {int(reach['purchase']):,} bought"
        steepest = self.steepest_steps_
        if len(steepest):
            out += (f"; the weakest link is {_join(_step(r) for _, r in steepest.iterrows())} "
                    f"({_pct(steepest['rate'].iloc[0])})")
        after = [f"{nps[s]:+.0f} after {word}" for s, word in (("purchase", "the sale"), ("retention", "service"))
                 if s in nps]
        return out + (f"; NPS is {' and '.join(after)}." if after else ".")

    def pain_headings(self) -> list[tuple[str, list]]:
        """(heading, quotes) per stage's most frequent complaint theme."""
        return [(f"{label(stage)}: {label(theme).lower()} ({_count(complaints, 'complaint')})", quotes)
                for stage, theme, complaints, quotes in self.pains_]

    def pains_sentence(self) -> str:
        return "" if self.pains_ else "No survey comment complains about a known theme."

    # ------------------------------------------------------------ 8. segments

    def segment_map_sentences(self) -> list[str]:
        return [self.segment_map_sentence(seg) for seg in self.segment_maps_]

    def segment_map_sentence(self, seg) -> str:
        """A segment's reach and its weakest link (every step of a tie, as `funnel_sentence`; never a step into a
        stage the export records no event of)."""
        table = seg.table.set_index("stage")
        reach = table["reach"]
        out = f"{label(seg.name)}: {int(reach['awareness']):,} aware, {int(reach['purchase']):,} bought"
        unrecorded = self.unrecorded_stages_
        rates = table["conversion"].dropna()
        rates = rates[[_next(s) not in unrecorded for s in rates.index]]
        if rates.empty:
            return out + "."
        shown = (rates * 100).round()
        weakest = [s for s in rates.index if shown[s] == shown.min()]
        steps = _join(_step({"from_stage": s, "to_stage": _next(s)}) for s in weakest)
        return out + f"; weakest link {steps} ({_pct(rates[weakest[0]])})."

    def segment_map_title(self, seg) -> str:
        return (f"Journey map · {label(self.params.segment_by)}: {label(seg.name)} · "
                f"{_count(seg.customers, 'customer')}")


def _next(stage: str) -> str:
    from journeylib.vocabulary import STAGES

    return STAGES[STAGES.index(stage) + 1]


def _join(parts) -> str:
    parts = list(parts)
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _path(path) -> str:
    """A path of codes (`search > website`) in words, whole (never cut off)."""
    if not isinstance(path, str):
        return MISSING
    return " → ".join(label(part.strip()) for part in path.replace("→", ">").split(">"))
