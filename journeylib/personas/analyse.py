"""Notebook 05 headless: `analyse(tables, Params()) -> Result`, the topic functions in notebook order."""

from __future__ import annotations

import pandas as pd

from journeylib.errors import NotEstimable
from journeylib.derived import feedback
from journeylib.derived.persona_model.clusters import fit_clusters, stability
from journeylib.derived.persona_model.features import classifiable
from journeylib.personas.inputs import load_inputs
from journeylib.derived.persona_model.naming import cluster_z
from journeylib.personas.params import Params
from journeylib.personas.profile import persona_profile
from journeylib.personas.result import BANDS, NO_COMMENTS, Result


def analyse(tables, params: Params | None = None) -> Result:
    """Notebook 05: the stored personas explained (k choice, stability, cards, differences) and the
    survey comments read (themes, sentiment, pain points with quotes, pains by persona)."""
    params = params or Params()
    data = load_inputs(tables, params)
    missing: dict[str, str] = {}
    themes = list(data.taxonomy)
    return Result(params=params, as_of=data.as_of, features_=data.features, personas_=data.stored,
                  levels_pooled_=dict(data.features.attrs["levels_pooled"]), comments_=data.scored, themes=themes,
                  missing_=missing, notes_=[], **_persona_part(data, params, missing),
                  **_feedback_part(data.scored, themes, data.persona_of, params, missing))


def _fit(data, params: Params) -> tuple[int, pd.DataFrame, pd.Series, float]:
    """(k, k table, labels of the customers with events, agreement with the stored personas).

    With prepare's settings the stored choice is read and the stored personas are the labels (the refit
    would repeat prepare's computation, seed included); with other settings every k is fitted again.
    """
    features, persona_of = data.features, data.persona_of
    if data.stored_choice is not None:
        return (*data.stored_choice, persona_of[classifiable(features)], 1.0)
    from sklearn.metrics import adjusted_rand_score

    fit = fit_clusters(features, k_min=params.k_min, k_max=params.k_max, seed=params.seed)
    labels = fit["labels"]
    return fit["k"], fit["k_table"], labels, float(adjusted_rand_score(persona_of[labels.index], labels))


def _persona_part(data, params: Params, missing: dict) -> dict:
    try:
        k, k_table, labels, agreement = _fit(data, params)
    except NotEstimable as error:
        missing["personas"] = error.reason
        return {"k_": None, "k_table_": None, "stored_agreement_": None, "stability_": None, "profile_": None,
                "differences_": None}
    features = data.features
    classified = features.index[classifiable(features)]
    return {
        "k_": k, "k_table_": k_table, "stored_agreement_": agreement,
        "stability_": stability(features, k=k, seeds=range(1, params.stability_seeds + 1),
                                reference_seed=params.seed, reference=labels),
        "profile_": persona_profile(features, data.stored),
        "differences_": cluster_z(features, data.persona_of[classified].rename("persona")),
    }


def pain_by_persona(scored: pd.DataFrame, persona_of: pd.Series, themes: list) -> pd.DataFrame:
    """persona x theme: negative mentions per 100 of the persona's comments."""
    with_persona = scored.assign(persona=scored["customer_id"].map(persona_of))
    negative = with_persona[feedback.is_negative(with_persona)]
    return (negative.groupby("persona")[themes].sum().div(with_persona.groupby("persona").size(), axis=0)
            .reindex(with_persona["persona"].dropna().unique()).fillna(0) * 100)


def band_sentiment(scored: pd.DataFrame) -> pd.Series:
    """Mean sentiment per satisfaction band present (promoter, passive, detractor order)."""
    means = scored.groupby("band")["sentiment"].mean()
    return means.reindex([band for band in BANDS if band in means.index])


def _feedback_part(scored: pd.DataFrame, themes: list, persona_of: pd.Series, params: Params, missing: dict) -> dict:
    summary = feedback.theme_summary(scored, themes)
    if scored.empty:
        missing["comments"] = NO_COMMENTS
        return {"themes_": summary, "themes_by_stage_": None, "themes_by_band_": None, "band_sentiment_": None,
                "pain_points_": None, "quotes_": None, "pain_by_persona_": None}
    by_band = feedback.themes_by(scored, themes, "band")
    pains = feedback.pain_points(scored, themes, top=params.top_pain_points)
    return {
        "themes_": summary,
        "themes_by_stage_": feedback.themes_by(scored, themes, "survey_type"),
        "themes_by_band_": by_band[[band for band in BANDS if band in by_band.columns]],
        "band_sentiment_": band_sentiment(scored),
        "pain_points_": pains,
        "quotes_": {theme: feedback.example_quotes(scored, theme, n=params.quotes_per_theme) for theme in pains.index},
        "pain_by_persona_": pain_by_persona(scored, persona_of, themes),
    }
