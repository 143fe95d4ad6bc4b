"""What notebook 01 reads: the journeys, surveys and sales in pandas, the event log in its engine.

The only module of the package that reads `ProcessedTables`; the others are functions on
DataFrames (and, for the event log, on Ibis tables: `engine`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from journeylib.journey_map import engine
from journeylib.journey_map.params import Params


@dataclass
class Inputs:
    """The tables of one journey-map analysis."""

    journeys: pd.DataFrame          # one row per customer
    surveys: pd.DataFrame           # every survey response
    sales: pd.DataFrame
    events: object                  # the touchpoints as an Ibis table on the engine that prepared them
    personas: pd.DataFrame | None   # customer_id, persona: only when a segment or comparison is by persona
    scored: pd.DataFrame            # the commented survey rows with their themes and sentiment
    themes: list                    # the taxonomy's themes, in its order
    funnels: dict                   # the configured funnels' definitions (else the default)
    as_of: pd.Timestamp             # the as-of date the tables were prepared with (UTC)


def load_inputs(tables, params: Params, con) -> Inputs:
    """Read what notebook 01 uses from `tables` (journeylib.tables.ProcessedTables); the event log on `con`
    (a journeylib.engine.Engine)."""
    from journeylib.derived import feedback
    from journeylib.journey_map import funnels

    survey_rows = tables.load("surveys")
    return Inputs(journeys=tables.load("journeys"), surveys=survey_rows, sales=tables.load("sales"),
                  events=engine.open_events(tables, con), personas=_personas(tables, params),
                  scored=feedback.score_comments(survey_rows), themes=list(feedback.load_taxonomy()),
                  funnels=funnels.configured(tables), as_of=tables.as_of)


def _personas(tables, params: Params) -> pd.DataFrame | None:
    """The personas table when segments or the comparison are by persona (built by `journey run`; tables.load
    names that command when it is missing)."""
    compared = params.compared_groups()
    if params.segment_by == "persona" or (compared is not None and compared[0] == "persona"):
        return tables.load("personas")
    return None
