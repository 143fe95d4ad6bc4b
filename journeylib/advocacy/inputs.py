"""What notebook 04 reads: the processed tables it needs, deduplicated surveys placed at their dealer.

The only module of the package that reads `ProcessedTables`; the others are functions on DataFrames.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from journeylib.vocabulary import UNKNOWN

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


def dedupe_surveys(surveys: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """One row per response_id (the contract's rule; `journey prepare` has applied it, so this is a guard).

    Several responses from one customer are kept: each rates a different sale or service visit.
    Returns the rows kept and the number dropped.
    """
    kept = surveys.sort_values(["response_id", "responded_at"]).drop_duplicates("response_id", keep="first")
    return kept.sort_index(), len(surveys) - len(kept)


def latest_per_customer(surveys: pd.DataFrame) -> pd.DataFrame:
    """One response per customer and survey type: the latest (ties: the largest response_id)."""
    ordered = surveys.sort_values(["customer_id", "survey_type", "responded_at", "response_id"])
    return ordered.drop_duplicates(["customer_id", "survey_type"], keep="last")


def attach_dealer(surveys: pd.DataFrame, sales: pd.DataFrame, service_visits: pd.DataFrame,
                  journeys: pd.DataFrame) -> pd.DataFrame:
    """Surveys with the dealer they rate and the UTC quarter of the response.

    A sales survey rates the customer's latest sale at or before the response,
    a service survey the latest service visit; without one, the customer's dealer.
    """
    out = surveys.copy()
    out["dealer_id"] = pd.Series(pd.NA, index=out.index, dtype="object")
    sources = {"sales": (sales, "sold_at"), "service": (service_visits, "opened_at")}
    for survey_type, (events, at) in sources.items():
        part = out[out["survey_type"] == survey_type]
        found = _latest_event_dealer(part, events, at)
        out.loc[found.index, "dealer_id"] = found.to_numpy()
    home = journeys.set_index("customer_id")["dealer_id"]
    out["dealer_id"] = out["dealer_id"].fillna(out["customer_id"].map(home)).fillna(UNKNOWN)
    out["quarter"] = out["responded_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("Q").astype(str)
    return out


def _latest_event_dealer(part: pd.DataFrame, events: pd.DataFrame, at: str) -> pd.Series:
    """Per survey row, the dealer of the customer's latest event at or before the response (index kept)."""
    if part.empty or events.empty:
        return pd.Series(dtype="object")
    left = part[["customer_id", "responded_at"]].reset_index().sort_values("responded_at")
    right = events[["customer_id", at, "dealer_id"]].dropna(subset=[at]).sort_values(at)
    right = right.astype({"customer_id": left["customer_id"].dtype})
    right[at] = right[at].astype(left["responded_at"].dtype)
    merged = pd.merge_asof(left, right, left_on="responded_at", right_on=at, by="customer_id",
                           direction="backward")
    return merged.set_index("index")["dealer_id"].dropna()
