"""What notebook 03 reads: the shared buyer table and the service visits.

The only module of the package that reads `ProcessedTables`; the others are functions on DataFrames.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from journeylib.buyers import buyer_table

VISIT_COLUMNS = ["ro_id", "customer_id", "opened_at", "pay_type", "amount"]


@dataclass
class Inputs:
    """The tables of one retention analysis."""

    buyers: pd.DataFrame     # journeylib.buyers.buyer_table: purchase-time features, index customer_id
    visits: pd.DataFrame     # every service visit: VISIT_COLUMNS
    as_of: pd.Timestamp      # the as-of date the tables were prepared with (UTC)


def load_inputs(tables) -> Inputs:
    """Read what notebook 03 uses from `tables` (journeylib.tables.ProcessedTables) and build the buyers."""
    buyers = buyer_table(tables.load("journeys"), tables.load("sales"), tables.load("surveys"), tables.as_of)
    return Inputs(buyers=buyers, visits=tables.load("service_visits", columns=VISIT_COLUMNS), as_of=tables.as_of)
