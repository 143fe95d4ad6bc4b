"""What notebook 06 reads: leads, service visits, referrals, surveys placed at a dealer, and the funnels' steps.

The only module of the package that reads `ProcessedTables`; the others are functions on DataFrames.
Surveys are deduplicated and placed at a dealer as notebook 04 does (`journeylib.derived.surveys`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass
class Inputs:
    journeys: pd.DataFrame          # one row per customer: stage times, dealer_id, acquisition_channel
    service_visits: pd.DataFrame    # customer_id, opened_at, dealer_id
    referrals: pd.DataFrame         # referrer_customer_id, referred_at
    surveys: pd.DataFrame           # deduplicated responses with dealer_id
    funnel_steps: dict | None = None  # funnel -> (steps, each customer's step times); None: no funnel measures


def load_inputs(tables) -> Inputs:
    """Read what notebook 06 uses from `tables` (journeylib.tables.ProcessedTables)."""
    from journeylib.derived.surveys import attach_dealer, dedupe_surveys

    journeys = tables.load("journeys")
    sales = tables.load("sales", columns=["customer_id", "sold_at", "dealer_id"])
    visits = tables.load("service_visits", columns=["customer_id", "opened_at", "dealer_id"])
    referrals = tables.load("referrals", columns=["referrer_customer_id", "referred_at"])
    surveys, _ = dedupe_surveys(tables.load("surveys"))
    surveys = attach_dealer(surveys, sales, visits, journeys)
    return Inputs(journeys=journeys, service_visits=visits, referrals=referrals, surveys=surveys,
                  funnel_steps=load_funnel_steps(tables))


def load_funnel_steps(tables) -> dict:
    """{funnel: (steps, each customer's step times)} for the funnels notebook 01 draws (configured, else the
    dealer funnel); only the event rows a step names are read."""
    from journeylib.derived import funnel_steps
    from journeylib.taxonomy import matches_any

    defined = funnel_steps.configured(tables)
    patterns = funnel_steps.event_types(defined)
    kinds = tables.load("touchpoints", columns=["event_type"], categories=["event_type"])["event_type"]
    kinds = kinds.dropna().astype(str).unique()
    named = [kind for kind in kinds if matches_any(kind, patterns)]
    events = tables.load("touchpoints", columns=["customer_id", "occurred_at", "event_type"],
                         filters=[("event_type", "in", named or ["\x00"])])
    return {name: (steps, funnel_steps.step_times(events, steps, tables.as_of)) for name, steps in defined.items()}
