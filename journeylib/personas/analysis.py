"""Notebook 05 headless: `analyse(tables, Params()) -> PersonasResult`, whose `metrics()` are the
notebook's two sections of metrics.json, `personas` and `feedback`."""

from __future__ import annotations

import dataclasses

import pandas as pd
from sklearn.metrics import adjusted_rand_score

from journeylib.analysis import Params as BaseParams
from journeylib.analysis import Result, whole_number
from journeylib.errors import NotEstimable, ParameterError
from journeylib.personas import feedback
from journeylib.personas.clusters import fit_clusters, stability
from journeylib.personas.features import MIN_LEVEL_CUSTOMERS, UNCLASSIFIED, classifiable, load_features
from journeylib.personas.naming import cluster_z
from journeylib.personas.profile import DIFFERENCE_FEATURES, persona_profile
from journeylib.personas.table import stored_k_choice
from journeylib.results import SectionMetrics
from journeylib.stats import levels
from journeylib.tables import ProcessedTables

BANDS = ("promoter", "passive", "detractor")
NO_COMMENTS = "No survey comments in this export: no themes, sentiment or pain points."
STABLE_ARI, MODERATE_ARI = 0.8, 0.6  # mean ARI at which the personas read "stable" / "moderately stable"


@dataclasses.dataclass(frozen=True)
class Params(BaseParams):
    """Notebook 05's parameters (names and defaults as in its parameters cell)."""

    seed: int = 0                 # the seed personas.parquet was built with (prepare uses 0)
    k_min: int = 2                # smallest number of personas considered
    k_max: int = 8                # largest number of personas considered
    stability_seeds: int = 5      # refits on 80% subsamples for the stability check
    quotes_per_theme: int = 2     # example quotes per pain point
    top_pain_points: int = 5      # pain points shown with quotes
    min_level_customers: int = MIN_LEVEL_CUSTOMERS  # rarer categories are pooled into "other"

    def check(self) -> None:
        for field in dataclasses.fields(self):
            whole_number(field.name, getattr(self, field.name))
        if self.k_min < 2:
            raise ParameterError("k_min", self.k_min, "a whole number >= 2")
        if self.k_max < self.k_min:
            raise ParameterError("k_max", self.k_max, f"a whole number >= k_min ({self.k_min})")


@dataclasses.dataclass
class PersonasResult(Result):
    """Personas (from the stored table, explained) and the voice of the customer.

    No personas (too few customers): `no_personas` holds the reason and the persona tables are None.
    No comments: `no_comments` holds the reason and the comment breakdowns are None.
    """

    params: Params
    as_of: pd.Timestamp              # the as-of date of the processed tables
    features_: pd.DataFrame          # one row per customer (personas.features)
    personas_: pd.DataFrame          # the stored table: customer_id, persona
    levels_pooled: dict              # feature -> categories pooled into "other"
    no_personas: str | None
    k_: int | None
    k_table_: pd.DataFrame | None    # k, silhouette, inertia, chosen
    stored_agreement: float | None   # adjusted Rand index of the refit with the stored personas (1 when read)
    stability_: pd.DataFrame | None  # seed, ari
    profile_: pd.DataFrame | None    # the cards, index persona (largest first), unclassified included
    differences_: pd.DataFrame | None  # persona x indicator: difference from all customers in sd
    comments_: pd.DataFrame          # commented survey rows: sentiment, band, one bool column per theme
    themes: list
    themes_: pd.DataFrame            # index theme: mentions, share, mean_sentiment, negative_mentions
    no_comments: str | None
    themes_by_stage_: pd.DataFrame | None   # theme x survey_type: share of comments
    themes_by_band_: pd.DataFrame | None    # theme x band (promoter, passive, detractor present)
    band_sentiment_: pd.Series | None       # band (promoter, passive, detractor present) -> mean sentiment
    pain_points_: pd.DataFrame | None       # top themes by negative mentions (themes_ columns)
    quotes_: dict | None                    # theme -> redacted, shortened quotes
    pain_by_persona_: pd.DataFrame | None   # persona x theme: negative mentions per 100 of its comments

    section = ("personas", "feedback")

    # ------------------------------------------------------------- number-picking for the takeaways

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
                for feature, pooled in self.levels_pooled.items()]

    def next_best_k(self):
        """The runner-up k by silhouette, or None with a single candidate."""
        table = self.k_table_.sort_values("silhouette", ascending=False)
        return int(table.iloc[1]["k"]) if len(table) > 1 else None

    def stability_verdict(self) -> str:
        mean = self.stability_["ari"].mean()
        return "stable" if mean >= STABLE_ARI else "moderately stable" if mean >= MODERATE_ARI else "unstable"

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

    # ------------------------------------------------------------- metrics

    def metrics(self) -> dict:
        return {"personas": self._persona_metrics(), "feedback": self._feedback_metrics()}

    def _persona_metrics(self) -> dict:
        out = SectionMetrics()
        for (feature, pooled), sentence in zip(self.levels_pooled.items(), self.pooled_sentences):
            out.record_pooled(feature, pooled)
            out.note(sentence)
        if self.no_personas:
            out.record("count", 0)
            out.record_missing("stability.mean_ari", self.no_personas)
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
        return out.values

    def _feedback_metrics(self) -> dict:
        out = SectionMetrics()
        for theme, row in self.themes_.iterrows():
            out.record(("themes", theme, "mentions"), int(row["mentions"]))
            out.record(("themes", theme, "mean_sentiment"),
                       None if pd.isna(row["mean_sentiment"]) else round(row["mean_sentiment"], 4))
        out.record("comments", len(self.comments_))
        if self.no_comments:
            out.record_missing("mean_sentiment", self.no_comments)
            return out.values
        out.record("mean_sentiment", round(self.comments_["sentiment"].mean(), 4))
        for theme, row in self.pain_points_.iterrows():
            out.record(("pain_points", theme), int(row["negative_mentions"]))
        return out.values


def _stored_personas(tables: ProcessedTables, features: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    stored = tables.load("personas")  # built by prepare (personas.table.write_personas)
    persona_of = stored.set_index("customer_id")["persona"].reindex(features.index)
    if persona_of.isna().any():
        raise ValueError(f"{int(persona_of.isna().sum())} customers have no persona: personas.parquet is stale, "
                         "rerun `journey run`")
    return stored, persona_of


def _fit(tables, features, persona_of, params: Params) -> tuple[int, pd.DataFrame, pd.Series, float]:
    """(k, k table, labels of the customers with events, agreement with the stored personas).

    With prepare's settings the stored choice is read and the stored personas are the labels (the refit
    would repeat prepare's computation, seed included); with other settings every k is fitted again.
    """
    stored = stored_k_choice(tables, params.seed, params.k_min, params.k_max, params.min_level_customers)
    if stored is not None:
        return (*stored, persona_of[classifiable(features)], 1.0)
    fit = fit_clusters(features, k_min=params.k_min, k_max=params.k_max, seed=params.seed)
    labels = fit["labels"]
    return fit["k"], fit["k_table"], labels, float(adjusted_rand_score(persona_of[labels.index], labels))


def _persona_part(tables, features, stored, persona_of, params: Params) -> dict:
    try:
        k, k_table, labels, agreement = _fit(tables, features, persona_of, params)
    except NotEstimable as error:
        return {"no_personas": error.reason, "k_": None, "k_table_": None, "stored_agreement": None,
                "stability_": None, "profile_": None, "differences_": None}
    classified = features.index[classifiable(features)]
    return {
        "no_personas": None, "k_": k, "k_table_": k_table, "stored_agreement": agreement,
        "stability_": stability(features, k=k, seeds=range(1, params.stability_seeds + 1),
                                reference_seed=params.seed, reference=labels),
        "profile_": persona_profile(features, stored),
        "differences_": cluster_z(features, persona_of[classified].rename("persona")),
    }


def _pain_by_persona(scored: pd.DataFrame, persona_of: pd.Series, themes: list) -> pd.DataFrame:
    with_persona = scored.assign(persona=scored["customer_id"].map(persona_of))
    negative = with_persona[feedback.is_negative(with_persona)]
    return (negative.groupby("persona")[themes].sum().div(with_persona.groupby("persona").size(), axis=0)
            .reindex(with_persona["persona"].dropna().unique()).fillna(0) * 100)


def _band_sentiment(scored: pd.DataFrame) -> pd.Series:
    means = scored.groupby("band")["sentiment"].mean()
    return means.reindex([band for band in BANDS if band in means.index])


def _feedback_part(scored: pd.DataFrame, themes: list, persona_of: pd.Series, params: Params) -> dict:
    summary = feedback.theme_summary(scored, themes)
    if scored.empty:
        return {"themes_": summary, "no_comments": NO_COMMENTS, "themes_by_stage_": None, "themes_by_band_": None,
                "band_sentiment_": None, "pain_points_": None, "quotes_": None, "pain_by_persona_": None}
    by_band = feedback.themes_by(scored, themes, "band")
    pains = feedback.pain_points(scored, themes, top=params.top_pain_points)
    return {
        "themes_": summary, "no_comments": None,
        "themes_by_stage_": feedback.themes_by(scored, themes, "survey_type"),
        "themes_by_band_": by_band[[band for band in BANDS if band in by_band.columns]],
        "band_sentiment_": _band_sentiment(scored),
        "pain_points_": pains,
        "quotes_": {theme: feedback.example_quotes(scored, theme, n=params.quotes_per_theme) for theme in pains.index},
        "pain_by_persona_": _pain_by_persona(scored, persona_of, themes),
    }


def analyse(tables: ProcessedTables, params: Params | None = None) -> PersonasResult:
    """Notebook 05: the stored personas explained (k choice, stability, cards, differences) and the
    survey comments read (themes, sentiment, pain points with quotes, pains by persona)."""
    params = params or Params()
    taxonomy = feedback.load_taxonomy()
    themes = list(taxonomy)
    scored = feedback.score_comments(tables.load("surveys"), taxonomy)  # once: the features reuse it
    features = load_features(tables, taxonomy, min_level_customers=params.min_level_customers, scored=scored)
    stored, persona_of = _stored_personas(tables, features)
    return PersonasResult(
        params=params, as_of=tables.as_of, features_=features, personas_=stored, levels_pooled=dict(features.attrs["levels_pooled"]),
        comments_=scored, themes=themes,
        **_persona_part(tables, features, stored, persona_of, params),
        **_feedback_part(scored, themes, persona_of, params),
    )
