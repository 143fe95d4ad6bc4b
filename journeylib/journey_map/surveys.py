"""Satisfaction and complaint themes per stage (sales surveys speak for purchase, service surveys for retention)."""

from __future__ import annotations

import pandas as pd

from journeylib.vocabulary import STAGES

# Survey types tell which stage a score speaks for; advocacy reads every response.
SURVEY_STAGE = {"sales": "purchase", "service": "retention"}


def satisfaction_by_stage(surveys: pd.DataFrame) -> pd.DataFrame:
    """Per stage with a survey (sales -> purchase, service -> retention, all -> advocacy): responses, mean score, NPS."""
    from journeylib.segments import satisfaction_band

    frames = [surveys.assign(stage=surveys["survey_type"].map(SURVEY_STAGE)).dropna(subset=["stage"]),
              surveys.assign(stage="advocacy")]
    both = pd.concat(frames, ignore_index=True)
    both["band"] = satisfaction_band(both["score"]).to_numpy()
    rows = []
    for stage in STAGES:
        group = both[(both["stage"] == stage) & both["score"].notna()]
        if group.empty:
            continue
        promoters = (group["band"] == "promoter").mean()
        detractors = (group["band"] == "detractor").mean()
        rows.append({"stage": stage, "responses": len(group), "mean_score": group["score"].astype(float).mean(),
                     "promoters": promoters, "detractors": detractors, "nps": 100 * (promoters - detractors)})
    return pd.DataFrame(rows, columns=["stage", "responses", "mean_score", "promoters", "detractors", "nps"])


def stage_pain_points(scored: pd.DataFrame, themes: list[str], top: int = 3) -> pd.DataFrame:
    """The top complaint themes per stage with a survey (sales -> purchase, service -> retention).

    `scored` and `themes` come from `journeylib.derived.feedback` (score_comments, load_taxonomy): a
    complaint is a comment with negative sentiment or from a detractor; themes are ranked by
    complaints mentioning them.
    """
    from journeylib.derived import feedback

    frames = []
    for survey_type, stage in SURVEY_STAGE.items():
        ranked = feedback.pain_points(scored[scored["survey_type"] == survey_type], themes, top=top)
        frames.append(ranked.reset_index().assign(stage=stage))
    columns = ["stage", "theme", "negative_mentions", "mentions"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


