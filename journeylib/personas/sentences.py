"""The takeaways notebook 05 shows, as methods of its result: each a plain sentence from the numbers.

`Result` inherits these; every number in them is in `Result.metrics()`. Persona, theme and
feature codes pass through `journeylib.labels.label`, so no sentence shows a snake_case code.
A part this export lacks (no personas, no comments) answers with the reason.
"""

from __future__ import annotations

from journeylib.labels import date_text, label

STABLE_ARI, MODERATE_ARI = 0.8, 0.6  # mean ARI at which the personas read "stable" / "moderately stable"


def _name(code) -> str:
    """A persona, theme or feature as a sentence reads it: labelled, lower case (`digital researchers`)."""
    return label(code).lower()


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


class Sentences:
    """Takeaway sentences of a personas `Result` (attributes as there)."""

    def customers_sentence(self) -> str:
        return (f"{len(self.features_):,} customers as of {date_text(self.as_of)}; {self.classified:,} with at least one "
                "event are segmented.")

    def _no_personas(self) -> str | None:
        reason = self.missing_.get("personas")
        return None if reason is None else f"No personas: {reason}"

    def k_sentence(self) -> str:
        if self._no_personas():
            return self._no_personas()
        agreement = self.stored_agreement_
        return (f"{self.k_} personas separate customers best (silhouette {self.chosen_silhouette():.2f}; next best "
                f"k = {self.next_best_k() or 'none'}). Agreement with the stored personas: adjusted Rand index "
                f"{agreement:.2f}" + (" (identical)." if agreement > 0.999 else
                                      " — the stored table was built with other settings (the runner uses seed 0, k 2..8)."))

    def stability_verdict(self) -> str:
        mean = self.stability_["ari"].mean()
        return "stable" if mean >= STABLE_ARI else "moderately stable" if mean >= MODERATE_ARI else "unstable"

    def stability_sentence(self) -> str:
        if self._no_personas():
            return self._no_personas()
        ari = self.stability_["ari"]
        return (f"The personas are {self.stability_verdict()}: mean ARI {ari.mean():.2f} over {len(ari)} refits "
                f"(lowest {ari.min():.2f}).")

    def sizes_sentence(self) -> str:
        if self._no_personas():
            return self._no_personas()
        named = self.named_
        return (f"{len(named)} personas; the largest, {_name(named.index[0])}, holds "
                f"{_pct(named['share'].iloc[0])} of customers.")

    def unclassified_sentence(self) -> str:
        if self._no_personas():
            return self._no_personas()
        if "unclassified" not in self.profile_.index:
            return "Every customer has at least one event: none is unclassified."
        return f"{self.profile_.loc['unclassified', 'customers']} customers have no events yet and are unclassified."

    def difference_sentence(self) -> str:
        if self._no_personas():
            return self._no_personas()
        persona, feature, z = self.sharpest_difference()
        return (f"The sharpest difference: {_name(persona)} on {_name(feature)} ({z:+.1f} standard deviations from "
                "the average customer).")

    def themes_sentence(self) -> str:
        if "comments" in self.missing_:
            return self.missing_["comments"]
        (most, most_share), (worst, worst_sentiment) = self.most_mentioned_theme(), self.most_negative_theme()
        return (f"{len(self.comments_)} comments; {_name(most)} comes up most ({_pct(most_share)} of comments) and "
                f"{_name(worst)} is talked about most negatively (mean sentiment {worst_sentiment:+.2f}).")

    def gap_sentence(self) -> str:
        if "comments" in self.missing_:
            return self.missing_["comments"]
        gap = self.band_gap()
        if gap is None:
            return "Comments from both promoters and detractors are needed to compare what they mention."
        theme, points = gap
        return (f"Detractors mention {_name(theme)} {points * 100:+.0f} points more often than promoters; the "
                f"biggest stage difference is {_name(self.stage_gap_theme())}.")

    def band_sentiment_sentence(self) -> str:
        if "comments" in self.missing_:
            return self.missing_["comments"]
        return ("Mean sentiment: " + ", ".join(f"{_name(band)}s {value:+.2f}" for band, value in self.band_sentiment_.items())
                + " — the words follow the scores.")

    def pain_point_quotes(self) -> list[tuple[str, list[str]]]:
        """(heading, quotes) per top pain point, in rank order; none without comments."""
        if "comments" in self.missing_:
            return []
        return [(f"{rank}. {label(theme)}: {int(row['negative_mentions'])} negative mentions (mean sentiment "
                 f"{row['mean_sentiment']:+.2f})", list(self.quotes_[theme]))
                for rank, (theme, row) in enumerate(self.pain_points_.iterrows(), start=1)]

    def top_pain_sentence(self) -> str:
        if "comments" in self.missing_:
            return self.missing_["comments"]
        top = self.top_pain_share()
        if top is None:
            return "No theme is mentioned in a complaint."
        theme, mentions, share = top
        return f"The top pain point is {_name(theme)}: {mentions} negative mentions, {_pct(share)} of all comments."

    def hottest_pain_sentence(self) -> str:
        if "comments" in self.missing_:
            return self.missing_["comments"]
        persona, theme, share = self.hottest_pain()
        return f"The most concentrated pain: {_name(theme)} for {_name(persona)} ({share:.0f}% of their comments)."
