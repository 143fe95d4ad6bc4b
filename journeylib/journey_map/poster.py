"""The poster's table: one row per stage with everything the printable journey map shows."""

from __future__ import annotations

import pandas as pd

from journeylib.journey_map.channels import top_values
from journeylib.journey_map.funnel import conversion, funnel, stage_durations
from journeylib.journey_map.surveys import satisfaction_by_stage, stage_pain_points
from journeylib.vocabulary import STAGES

COLUMNS = ["stage", "reach", "reach_share", "conversion", "ci_low", "ci_high", "median_days_to_next",
           "top_touchpoints", "top_channels", "survey_responses", "mean_score", "nps", "pain_points"]


def journey_map_table(journeys: pd.DataFrame, counts_channel: pd.DataFrame, counts_event: pd.DataFrame,
                      surveys: pd.DataFrame, scored: pd.DataFrame, themes: list[str], segment: str = "all",
                      top: int = 3) -> pd.DataFrame:
    """One row per stage: everything the printable map shows, for the customers in `journeys`.

    `counts_*` come from `stage_counts` (the rows of `segment` are used); `scored`
    and `themes` from `journeylib.derived.feedback`; surveys and comments are restricted to
    the customers in `journeys`.
    """
    fun = funnel(journeys).set_index("stage")
    conv = conversion(journeys).set_index("from_stage")
    durations = stage_durations(journeys).set_index("from_stage")
    surveys = surveys[surveys["customer_id"].isin(journeys["customer_id"])]
    satisfaction = satisfaction_by_stage(surveys).set_index("stage")
    pains = stage_pain_points(scored[scored["customer_id"].isin(journeys["customer_id"])], themes, top)
    channels = top_values(counts_channel[counts_channel["segment"] == segment], "channel", top)
    events = top_values(counts_event[counts_event["segment"] == segment], "event_type", top)
    rows = []
    for stage in STAGES:
        row = {"stage": stage, "reach": int(fun.loc[stage, "customers"]),
               "reach_share": fun.loc[stage, "share_of_customers"]}
        if stage in conv.index:
            row.update(conversion=conv.loc[stage, "rate"], ci_low=conv.loc[stage, "ci_low"],
                       ci_high=conv.loc[stage, "ci_high"], median_days_to_next=durations.loc[stage, "median_days"])
        row["top_touchpoints"] = events.get((segment, stage), [])
        row["top_channels"] = channels.get((segment, stage), [])
        if stage in satisfaction.index:
            row.update(survey_responses=int(satisfaction.loc[stage, "responses"]),
                       mean_score=satisfaction.loc[stage, "mean_score"], nps=satisfaction.loc[stage, "nps"])
        stage_pains = pains[pains["stage"] == stage]
        row["pain_points"] = [str(t).replace("_", " ") for t in stage_pains["theme"].head(top)]
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=COLUMNS)


