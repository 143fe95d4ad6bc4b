"""The takeaways notebook 04 shows, as methods of its result: each a plain sentence from the numbers.

`Result` inherits these; every number in them is in `Result.metrics()`. Codes pass through
`journeylib.labels` and p-values through `labels.p_value`, so no sentence shows a snake_case
code or `4.4e-49`.
"""

from __future__ import annotations

import math

import pandas as pd

from journeylib.labels import label, number_range, p_value

SIGNIFICANCE = 0.05  # p below this names an "other factor" of the referral model


class Sentences:
    """Takeaway sentences of an advocacy `Result` (attributes as there)."""

    def referral_count_sentence(self) -> str:
        counted, total = self.referral_status_.get("counted", 0), len(self.referrals_)
        if not total:
            return "This export has no referrals."
        return (f"{counted} of {total} referrals were made by a buyer after their first purchase and count below; "
                f"{total - counted} do not (made before the referrer's purchase or by someone who never bought).")

    def nps_sentence(self) -> str:
        """Why a survey has no NPS, then each survey's NPS and whether the two differ."""
        return " ".join(self.nps_sentences())

    def nps_sentences(self) -> list[str]:
        reasons = [self.missing_[key] for key in ("nps.sales", "nps.service") if key in self.missing_]
        if not len(self.nps_):
            return reasons
        parts = [f"{label(t)}: NPS {row['nps']:.0f} (95% interval {number_range(row['ci_low'], row['ci_high'])}) "
                 f"from {int(row['responses'])} responses" for t, row in self.nps_.iterrows()]
        if set(self.nps_.index) >= {"sales", "service"}:
            a, b = self.nps_.loc["sales"], self.nps_.loc["service"]
            overlap = not (a["ci_high"] < b["ci_low"] or b["ci_high"] < a["ci_low"])
            parts.append("the two intervals overlap, so the surveys do not clearly differ" if overlap
                         else "the intervals do not overlap: the two surveys differ")
        return reasons + ["; ".join(parts) + "."]

    def dealer_sentence(self) -> str:
        if "nps_by_group" in self.missing_:
            return "No survey responses: no NPS by dealer."
        span, least = self.dealer_range_, self.params.min_group_responses
        if span is None:
            return f"Fewer than two dealers have {least} sales responses: no dealer comparison."
        best, worst = span["best"], span["worst"]
        return (f"Sales NPS ranges from {worst['nps']:.0f} at dealer {worst['dealer_id']} to {best['nps']:.0f} at dealer "
                f"{best['dealer_id']} (dealers with at least {least} responses); their intervals "
                f"{'do not overlap' if span['separated'] else 'overlap, so the gap may be chance'}.")

    def quarter_sentence(self) -> str:
        if "nps_by_group" in self.missing_:
            return "No survey responses: no NPS by quarter."
        trend, least = self.quarter_trend_, self.params.min_group_responses
        if trend is None:
            return f"Too few quarters with {least} sales responses to read a trend."
        return (f"Sales NPS was {trend['first']['nps']:.0f} in {trend['first']['quarter']} and {trend['last']['nps']:.0f} "
                f"in {trend['last']['quarter']} (quarters with at least {least} responses); quarterly intervals are "
                f"about {trend['median_width']:.0f} points wide, so moves smaller than that are noise.")

    def pooled_band_sentences(self) -> list[str]:
        """Satisfaction bands pooled into "other" in the unadjusted rates (none, usually)."""
        if not self.pooled_bands_:
            return []
        from journeylib.stats.levels import pooled_sentence

        return [pooled_sentence("satisfaction", self.pooled_bands_, self.params.min_level_customers)]

    def shows_referral_figures(self) -> bool:
        """Whether the referrals-per-buyer figure and table have anything to show: buyers with time to refer
        and at least one referral (an export without referrals gets the sentence alone, not an empty chart)."""
        per_year = self.referrals_per_buyer_year
        return not self.model_frame_.empty and per_year["buyer_years"] > 0 and per_year["referrals"] > 0

    def referral_rate_sentence(self) -> str:
        rate, per_year = self.referral_rate_, self.referrals_per_buyer_year
        if not rate["buyers"] or not per_year["buyer_years"] > 0:
            return "No buyer has had time to refer anyone yet."
        if not per_year["referrals"]:
            return (f"None of the {rate['buyers']:,} buyers has referred anyone in {per_year['buyer_years']:,.0f} "
                    "buyer-years since their purchase: the export holds no referral made by a buyer, so there is "
                    "nothing to compare between satisfaction bands.")
        return (f"{rate['referrers']} of {rate['buyers']} buyers ({rate['estimate']:.1%}, 95% interval "
                f"{rate['ci_low']:.1%} to {rate['ci_high']:.1%}) have referred someone; {per_year['referrals']} referrals "
                f"over {per_year['buyer_years']:.0f} buyer-years is {per_year['estimate']:.2f} per buyer per year.")

    def dispersion_sentence(self) -> str:
        d = self.dispersion_
        if d is None:
            return self.missing_["referral_models"]
        overdispersed = d["ct_p"] < SIGNIFICANCE or d["lr_p"] < SIGNIFICANCE
        return (("Referrals are overdispersed" if overdispersed else "No clear overdispersion")
                + f" (Cameron-Trivedi {p_value(d['ct_p'])}, likelihood ratio {p_value(d['lr_p'])}; NB2 alpha = "
                f"{d['nb2_alpha']:.2f}). " + ("Poisson intervals would be too narrow; NB2 below corrects them."
                                              if overdispersed else "NB2 and Poisson agree closely here; NB2 is reported "
                                              "so that the intervals stay honest whenever the data are clustered."))

    def model_sentences(self) -> list[str]:
        """Why there is no model, or which levels were pooled or left out, then the fit notes."""
        if self.models_ is None:  # said once: the overdispersion check above already gives the reason
            return [] if self.dispersion_ is None else [self.missing_["referral_models"]]
        return list(self.level_sentences) + list(self.notes_)

    def satisfaction_sentence(self) -> str:
        if self.rate_ratios_ is None:  # no model: its reason is already on the page, once
            return "" if self.models_ is None else self.missing_["referral_models"]
        ratios = self.rate_ratios_.set_index("term")
        promoter, detractor = ratios.loc["satisfaction:promoter"], ratios.loc["satisfaction:detractor"]
        if pd.isna(promoter["rate_ratio"]) or pd.isna(detractor["rate_ratio"]):
            return "The promoter or detractor rate ratio is not estimable on this export (too few buyers in the band)."
        estimated = self.rate_ratios_.dropna(subset=["rate_ratio"])
        others = estimated[~estimated["term"].str.startswith("satisfaction:")]
        found = [label(term) for term in others.loc[others["p"] < SIGNIFICANCE, "term"]]
        tail = (f"Other factors with p < 0.05: {', '.join(found)} (with {len(others)} non-satisfaction terms, about "
                f"{SIGNIFICANCE * len(others):.1f} are expected by chance)." if found else
                "No finance type, condition or channel effect reaches p < 0.05.")
        return (f"Promoters make {promoter['rate_ratio']:.1f} times as many referrals per year as passives "
                f"(95% interval {promoter['ci_low']:.1f} to {promoter['ci_high']:.1f}), detractors "
                f"{detractor['rate_ratio']:.2f} times (95% interval {detractor['ci_low']:.2f} to "
                f"{detractor['ci_high']:.2f}). {tail}")

    def zero_inflation_sentence(self) -> str:
        z = self.zero_inflation_
        if z is None:
            return "" if self.models_ is None else self.missing_["referral_models"]
        opening = (f"{z['observed_zeros']} buyers made no referral; NB2 expects {z['nb2_expected_zeros']:.0f} and Poisson "
                   f"{z['poisson_expected_zeros']:.0f}. The zero-inflated model estimates {z['zinb_inflation']:.0%} "
                   f"never-referrers (likelihood ratio {p_value(z['lr_p'])}): zero inflation ")
        if z["matters"]:
            return opening + ("matters: part of the satisfaction effect is about whether buyers refer at all; among "
                              f"buyers who refer, promoters refer {z['promoter_rr_zinb']:.1f} times as often as passives "
                              f"(NB2: {z['promoter_rr_nb2']:.1f}).")
        return opening + (f"does not matter here; the promoter rate ratio would be {z['promoter_rr_zinb']:.1f} against "
                          f"NB2's {z['promoter_rr_nb2']:.1f}.")

    def funnel_sentence(self) -> str:
        k = self.k_factor_
        if self.outcomes_.empty:
            return ("No referrals were made by the as-of date: there is no referral funnel."
                    + ("" if k is None else " The referral coefficient k is 0."))
        customers, buyers = self.funnel_.iloc[1], self.funnel_.iloc[2]
        if k is None or not k["estimate"] > 0 or pd.isna(buyers["share_of_previous"]):
            return "No referral has brought a buyer yet."
        return (f"{customers['share_of_previous']:.0%} of referrals became customers and {buyers['share_of_previous']:.0%} "
                f"of those bought (95% interval {buyers['ci_low']:.0%} to {buyers['ci_high']:.0%}). Each buyer brings "
                f"{k['estimate']:.3f} referred buyers per year (k, 95% interval {k['ci_low']:.3f} to {k['ci_high']:.3f}), "
                f"about one new buyer a year for every {1 / k['estimate']:.0f} buyers. Recent referrals have had little "
                "time to convert, so k is a floor.")

    def lead_time_sentence(self) -> str:
        hr, times = self.referred_hazard_ratio_, self.lead_times_
        if hr is None:
            return self.missing_["referred_hazard_ratio"]
        late = int(times["referred_after_first_touch"].sum())
        return (f"{int(times['referred'].sum())} referred leads against {int((~times['referred']).sum())} others: "
                f"referred leads buy {hr['estimate']:.1f} times as fast per day (Cox hazard ratio, 95% interval "
                f"{hr['ci_low']:.1f} to {hr['ci_high']:.1f}; log-rank {p_value(hr['logrank_p'])})."
                + (f" {late} referred leads were referred only after their first touch; they count as referred from "
                   "day 0." if late else ""))

    def shows_referred_curves(self) -> bool:
        """Whether the referred-against-other purchase curves compare anything: both groups of leads present
        (an export without referred leads gets its sentence alone, not one curve called 'other')."""
        return len(self.purchase_curves_ or {}) >= 2

    def shows_chain_figure(self) -> bool:
        """Whether the chain-depth figure has a bar to draw: at least one customer came through a referral."""
        return len(self.chain_depth_) > 0

    def chain_sentence(self) -> str:
        depth, table = self.chain_depth_, self.depth_table_
        if not len(depth):
            return "No customer came through a referral, so there are no referral chains."
        second = int(table.loc[table["depth"] >= 2, "customers"].sum())
        share = len(depth) / self.customers_ if self.customers_ else math.nan
        return (f"{len(depth)} customers came through a referral ({share:.1%} of all customers); {second} of them were "
                f"referred by someone who had been referred in turn (chains up to depth "
                f"{int(depth.max()) if len(depth) else 0}).")

    def reviews_sentence(self) -> str:
        shares = self.advocacy_by_band_.set_index(["event", "satisfaction"])["share"]
        bands = shares.drop("all", level="satisfaction")
        if not bands.loc["review_posted"].notna().any():
            return "No buyers: no reviews or shares after a purchase."
        top = {event: bands.loc[event].idxmax() for event in ("review_posted", "social_share")}
        others = [f"{label(band).lower()}s {shares.loc[('review_posted', band)]:.0%}" for band in ("detractor", "passive")
                  if band != top["review_posted"] and pd.notna(shares.loc[("review_posted", band)])]
        return (f"{shares.loc[('review_posted', 'all')]:.0%} of buyers posted a review and "
                f"{shares.loc[('social_share', 'all')]:.0%} shared after their purchase; reviews are most common among "
                f"{label(top['review_posted']).lower()}s ({shares.loc[('review_posted', top['review_posted'])]:.0%}"
                f"{'; ' + ', '.join(others) if others else ''}) and shares among {label(top['social_share']).lower()}s "
                f"({shares.loc[('social_share', top['social_share'])]:.0%}).")
