"""What notebook 00 reads: summary.json and three processed tables, a few columns each.

The only module of the package that reads `ProcessedTables`; the others are functions on
DataFrames and on the summary's dict.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass
class Inputs:
    summary: dict             # summary.json: rows per table and reason, unknown labels, reject examples, sources
    identity: pd.DataFrame    # identity_map: customer_id, matched_on (one row per kept customer record)
    customers: pd.DataFrame   # customers: customer_id, source_ids (records merged into each)
    events: pd.DataFrame      # touchpoints: occurred_at, dealer_id, source (every event of the journey log)
    as_of: pd.Timestamp       # the as-of date the tables were prepared with (UTC)


def load_inputs(tables) -> Inputs:
    """Read what notebook 00 uses from `tables` (journeylib.tables.ProcessedTables)."""
    return Inputs(summary=tables.summary(),
                  identity=tables.load("identity_map", columns=["customer_id", "matched_on"]),
                  customers=tables.load("customers", columns=["customer_id", "source_ids"]),
                  events=tables.load("touchpoints", columns=["occurred_at", "dealer_id", "source"]),
                  as_of=tables.as_of)
