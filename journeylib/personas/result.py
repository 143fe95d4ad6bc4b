"""What one personas-and-feedback analysis found: its tables (attributes ending in `_`) and two metrics sections.

Built by keyword in `analyse.py`. No personas (too few customers) leaves the persona tables None and
the reason in `missing_["personas"]`; no comments leaves the comment breakdowns None and the reason in
`missing_["comments"]`. The takeaways are the methods `Result` inherits from `personas.sentences`.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from journeylib.analysis import Result as BaseResult
from journeylib.derived.persona_model.features import UNCLASSIFIED, classifiable
from journeylib.personas.profile import DIFFERENCE_FEATURES
from journeylib.personas.sentences import Sentences
from journeylib.results import SectionMetrics
from journeylib.stats import levels

BANDS = ("promoter", "passive", "detractor")
NO_COMMENTS = "No survey comments in this export: no themes, sentiment or pain points."


@dataclasses.dataclass(kw_only=True)
class Result(Sentences, BaseResult):
    """Personas (from the stored table, explained) and the voice of the customer."""

    params: object                   # journeylib.personas.Params
    as_of: pd.Timestamp              # the as-of date of the processed tables
    features_: pd.DataFrame          # one row per customer (personas.features)
    personas_: pd.DataFrame          # the stored table: customer_id, persona
    levels_pooled_: dict             # feature -> categories pooled into "other"
    k_: int | None
    k_table_: pd.DataFrame | None    # k, silhouette, inertia, chosen
    stored_agreement_: float | None  # adjusted Rand index of the refit with the stored personas (1 when read)
    stability_: pd.DataFrame | None  # seed, ari
    profile_: pd.DataFrame | None    # the cards, index persona (largest first), unclassified included
    differences_: pd.DataFrame | None  # persona x indicator: difference from all customers in sd
    comments_: pd.DataFrame          # commented survey rows: sentiment, band, one bool column per theme
    themes: list                     # the taxonomy's themes, in its order
    themes_: pd.DataFrame            # index theme: mentions, share, mean_sentiment, negative_mentions
    themes_by_stage_: pd.DataFrame | None   # theme x survey_type: share of comments
    themes_by_band_: pd.DataFrame | None    # theme x band (promoter, passive, detractor present)
    band_sentiment_: pd.Series | None       # band (promoter, passive, detractor present) -> mean sentiment
    pain_points_: pd.DataFrame | None       # top themes by negative mentions (themes_ columns)
    quotes_: dict | None                    # theme -> redacted, shortened quotes
    pain_by_persona_: pd.DataFrame | None   # persona x theme: negative mentions per 100 of its comments
    missing_: dict                          # "personas" / "comments" -> why this export has none
    notes_: list

    section = ("personas", "feedback")

    # ------------------------------------------------------------- derived views

    @property
    def named_(self) -> pd.DataFrame:
        """The profile without the unclassified customers."""
        return self.profile_.drop(index=UNCLASSIFIED, errors="ignore")

    @property
    def classified(self) -> int:
        """Customers with at least one event: the ones segmented."""
        return int(classifiable(self.features_).sum())

    @property
    def pooled_sentences(self) -> list[str]:
        return [levels.pooled_sentence(feature, pooled, self.params.min_level_customers)
                for feature, pooled in self.levels_pooled_.items()]

    @property
    def stability_table(self) -> pd.DataFrame:
        """One row, the ARI of each refit (columns: the refit's seed)."""
        table = self.stability_.set_index("seed").round(3).T
        table.index, table.columns.name = ["Adjusted Rand index"], "Refit seed"
        return table

    def next_best_k(self):
        """The runner-up k by silhouette, or None with a single candidate."""
        table = self.k_table_.sort_values("silhouette", ascending=False)
        return int(table.iloc[1]["k"]) if len(table) > 1 else None

    def sharpest_difference(self) -> tuple[str, str, float]:
        """(persona, feature, z) of the largest |z| among the features the heat map shows."""
        shown = self.differences_[list(DIFFERENCE_FEATURES)]
        persona, feature = shown.stack().abs().idxmax()
        return persona, feature, float(shown.loc[persona, feature])

    def chosen_silhouette(self) -> float:
        return float(self.k_table_.loc[self.k_table_["chosen"], "silhouette"].iloc[0])

    def most_mentioned_theme(self) -> tuple[str, float]:
        """(theme, share of comments) of the theme that comes up most."""
        theme = self.themes_.sort_values("mentions", ascending=False).index[0]
        return theme, float(self.themes_.loc[theme, "share"])

    def most_negative_theme(self) -> tuple[str, float]:
        """(theme, mean sentiment) of the theme with the lowest mean sentiment."""
        theme = self.themes_["mean_sentiment"].idxmin()
        return theme, float(self.themes_.loc[theme, "mean_sentiment"])

    def band_gap(self):
        """(theme, detractor share - promoter share) of the theme detractors mention most more often; None
        without both bands."""
        if not {"detractor", "promoter"} <= set(self.themes_by_band_.columns):
            return None
        gap = (self.themes_by_band_["detractor"] - self.themes_by_band_["promoter"]).sort_values(ascending=False)
        return gap.index[0], float(gap.iloc[0])

    def stage_gap_theme(self) -> str:
        """The theme whose share differs most between sales and service comments."""
        return (self.themes_by_stage_.max(axis=1) - self.themes_by_stage_.min(axis=1)).idxmax()

    def hottest_pain(self) -> tuple[str, str, float]:
        """(persona, theme, %) of the most concentrated pain."""
        persona, theme = self.pain_by_persona_.stack().idxmax()
        return persona, theme, float(self.pain_by_persona_.loc[persona, theme])

    def top_pain_share(self) -> tuple[str, int, float] | None:
        """(theme, negative mentions, share of all comments) of the top pain point; None without one."""
        if self.pain_points_ is None or not len(self.pain_points_):
            return None
        mentions = int(self.pain_points_["negative_mentions"].iloc[0])
        return self.pain_points_.index[0], mentions, mentions / max(len(self.comments_), 1)

    # ------------------------------------------------------------- metrics

    def metrics(self) -> dict:
        return {"personas": self._persona_metrics(), "feedback": self._feedback_metrics()}

    def _persona_metrics(self) -> dict:
        out = SectionMetrics()
        for (feature, pooled), sentence in zip(self.levels_pooled_.items(), self.pooled_sentences):
            out.record_pooled(feature, pooled)
            out.note(sentence)
        if "personas" in self.missing_:
            out.record("count", 0)
            out.record_missing("stability.mean_ari", self.missing_["personas"])
            self._record_shown_personas(out)
            return out.values
        out.record("stability.mean_ari", round(self.stability_["ari"].mean(), 4))
        out.record("stability.min_ari", round(self.stability_["ari"].min(), 4))
        out.record("k_chosen_by", "silhouette")
        out.record("count", len(self.named_))
        total = self.profile_["customers"].sum()
        for name, row in self.profile_.iterrows():
            out.record(("sizes", name), int(row["customers"]))
            out.record(("shares", name), round(float(row["customers"] / total), 4))
            out.record(("conversion", name), round(float(row["conversion"]), 4))
        self._record_shown_personas(out)
        return out.values

    def _record_shown_personas(self, out: SectionMetrics) -> None:
        """Other numbers notebook 05's persona takeaways show (keys added by issue 23; null without personas)."""
        out.record("customers", len(self.features_))
        out.record("classified", self.classified)
        if "personas" in self.missing_:
            out.record("k_choice", None)
            out.record("sharpest_difference", None)
            return
        out.record("k_choice", {"k": self.k_, "silhouette": self.chosen_silhouette(), "next_best_k": self.next_best_k(),
                                "stored_agreement": self.stored_agreement_})
        persona, feature, z = self.sharpest_difference()
        out.record("sharpest_difference", {"persona": persona, "feature": feature, "z": z})

    def _feedback_metrics(self) -> dict:
        out = SectionMetrics()
        for theme, row in self.themes_.iterrows():
            out.record(("themes", theme, "mentions"), int(row["mentions"]))
            out.record(("themes", theme, "mean_sentiment"),
                       None if pd.isna(row["mean_sentiment"]) else round(row["mean_sentiment"], 4))
        out.record("comments", len(self.comments_))
        if "comments" in self.missing_:
            out.record_missing("mean_sentiment", self.missing_["comments"])
            for key in ("most_mentioned_theme", "most_negative_theme", "band_gap", "band_sentiment", "top_pain_share",
                        "hottest_pain"):
                out.record(key, None)
            return out.values
        out.record("mean_sentiment", round(self.comments_["sentiment"].mean(), 4))
        for theme, row in self.pain_points_.iterrows():
            out.record(("pain_points", theme), int(row["negative_mentions"]))
        self._record_shown_feedback(out)
        return out.values

    def _record_shown_feedback(self, out: SectionMetrics) -> None:
        """Other numbers notebook 05's comment takeaways show (keys added by issue 23)."""
        (most, most_share), (worst, worst_sentiment) = self.most_mentioned_theme(), self.most_negative_theme()
        out.record("most_mentioned_theme", {"theme": most, "share_of_comments": most_share})
        out.record("most_negative_theme", {"theme": worst, "mean_sentiment": worst_sentiment})
        gap = self.band_gap()
        out.record("band_gap", None if gap is None else {"theme": gap[0], "detractor_minus_promoter": gap[1],
                                                          "stage_gap_theme": self.stage_gap_theme()})
        out.record("band_sentiment", dict(self.band_sentiment_))
        top = self.top_pain_share()
        out.record("top_pain_share", None if top is None else {"theme": top[0], "negative_mentions": top[1],
                                                               "share_of_comments": top[2]})
        persona, theme, per_100 = self.hottest_pain()
        out.record("hottest_pain", {"persona": persona, "theme": theme, "per_100_comments": per_100})
