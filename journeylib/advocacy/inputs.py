"""What notebook 04 reads: the processed tables it needs, deduplicated surveys placed at their dealer.

The only module of the package that reads `ProcessedTables`; the others are functions on DataFrames.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from journeylib.derived.surveys import attach_dealer, dedupe_surveys  # noqa: F401 - shared with what changed

ADVOCACY_EVENTS = ("review_posted", "social_share")
INPUT_TABLES = ("journeys", "sales", "service_visits", "surveys", "referrals")
# Columns read per table (None: every column). Service visits only place a survey at its dealer.
INPUT_COLUMNS = {"service_visits": ["customer_id", "opened_at", "dealer_id"]}
ADVOCACY_TOUCHPOINT_COLUMNS = ["customer_id", "event_type", "counts_for_journey", "occurred_at"]


@dataclass
class Inputs:
    """The tables of one advocacy analysis; `surveys` deduplicated and with `dealer_id` and `quarter`."""

    journeys: pd.DataFrame
    sales: pd.DataFrame
    surveys: pd.DataFrame
    referrals: pd.DataFrame
    advocacy_touchpoints: pd.DataFrame   # only the review and social-share rows
    buyers: pd.DataFrame                 # journeylib.buyers.buyer_table
    duplicate_responses: int             # survey rows dropped as repeated response ids
    as_of: pd.Timestamp                  # the as-of date the tables were prepared with (UTC)


def load_inputs(tables) -> Inputs:
    """Read what notebook 04 uses from `tables` (journeylib.tables.ProcessedTables) and build the buyers."""
    from journeylib.buyers import buyer_table

    loaded = {name: tables.load(name, columns=INPUT_COLUMNS.get(name)) for name in INPUT_TABLES}
    surveys, dropped = dedupe_surveys(loaded["surveys"])
    buyers = buyer_table(loaded["journeys"], loaded["sales"], surveys, tables.as_of)
    surveys = attach_dealer(surveys, loaded["sales"], loaded["service_visits"], loaded["journeys"])
    return Inputs(journeys=loaded["journeys"], sales=loaded["sales"], surveys=surveys, referrals=loaded["referrals"],
                  advocacy_touchpoints=load_advocacy_touchpoints(tables), buyers=buyers, duplicate_responses=dropped,
                  as_of=tables.as_of)


def load_advocacy_touchpoints(tables) -> pd.DataFrame:
    """The touchpoints `reviews.advocacy_events` reads: review_posted and social_share rows, four columns.

    The touchpoints table is by far the largest processed table (about 14 rows per customer);
    reading all of it took most of notebook 04's memory. The event-type filter is applied while
    reading the Parquet file, so the other rows are never turned into Python objects.
    """
    return tables.load("touchpoints", columns=ADVOCACY_TOUCHPOINT_COLUMNS,
                       filters=[("event_type", "in", list(ADVOCACY_EVENTS))])


def latest_per_customer(surveys: pd.DataFrame) -> pd.DataFrame:
    """One response per customer and survey type: the latest (ties: the largest response_id)."""
    ordered = surveys.sort_values(["customer_id", "survey_type", "responded_at", "response_id"])
    return ordered.drop_duplicates(["customer_id", "survey_type"], keep="last")


