"""What notebook 02 reads: the journeys for the lead table, and the journeys and event log the lead scores use.

The only module of the package that reads `ProcessedTables`; the others are functions on DataFrames.
Two readers, called where `analyse` needs them, so the large event log is read only once the curves
and models are done (as before: peak memory stays where it was).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from journeylib.time_to_purchase import lead_history

JOURNEY_COLUMNS = ["customer_id", "dealer_id", "first_touch_at", "acquisition_channel", "first_test_drive_at",
                   "purchased", "days_to_purchase"]


@dataclass
class LeadInputs:
    """What the lead scores read: the journeys, the touchpoint events (no service rows) and the as-of date."""

    journeys: pd.DataFrame   # lead_history.JOURNEY_COLUMNS
    events: pd.DataFrame     # lead_history.EVENT_COLUMNS, touchpoints only
    as_of: pd.Timestamp      # the as-of date the tables were prepared with (UTC)


def load_journeys(tables) -> pd.DataFrame:
    """The journeys table's columns the lead table needs (`tables`: journeylib.tables.ProcessedTables)."""
    return tables.load("journeys", columns=JOURNEY_COLUMNS)


def load_lead_inputs(tables) -> LeadInputs:
    """The journeys and the touchpoint events the lead scores and their backtest read."""
    journeys = tables.load("journeys", columns=lead_history.JOURNEY_COLUMNS)
    events = tables.load("touchpoints", columns=lead_history.EVENT_COLUMNS, filters=[("source", "==", "touchpoints")],
                         categories=["customer_id", "event_type", "source"])
    return LeadInputs(journeys=journeys, events=events, as_of=tables.as_of)
