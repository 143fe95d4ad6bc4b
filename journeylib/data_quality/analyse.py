"""Notebook 00 headless: `analyse(tables, Params()) -> Result`, the topic functions in notebook order."""

from __future__ import annotations

from journeylib.data_quality import accounting, events, identity, lacking, unknown
from journeylib.data_quality.inputs import load_inputs
from journeylib.data_quality.params import Params
from journeylib.data_quality.result import NO_EVENTS, Result


def analyse(tables, params: Params | None = None) -> Result:
    """Row accounting, unknown labels, identity merges, events and coverage of one prepared data set."""
    params = Params() if params is None else params
    data = load_inputs(tables)
    summary = data.summary
    rows = accounting.accounting(summary)
    labels = unknown.unknown_labels(summary)
    first, last = events.span(data.events)
    return Result(
        params=params, as_of=data.as_of,
        # row accounting, and what was set aside column by column
        accounting_=rows, rejects_=accounting.rejects(summary),
        # labels the taxonomy does not know
        unknown_=labels,
        # duplicate customer records merged
        matched_=identity.matched(data.identity), identity_records_=len(data.identity),
        customers_=len(data.customers), customers_merged_=summary.get("customers_merged"),
        customers_with_merges_=identity.customers_with_merges(data.customers),
        # events over time and by dealer; as-of date and coverage
        events_by_month_=events.by_month(data.events),
        events_by_dealer_=events.by_dealer(data.events, params.top_dealers),
        events_=len(data.events), dealers_=events.dealers(data.events),
        events_without_dealer_=events.without_dealer(data.events),
        first_event_=first, last_event_=last, events_after_as_of_=events.after(data.events, data.as_of),
        as_of_outliers_=summary.get("as_of_outliers"),
        # what the exports lack
        customers_from_=summary.get("customers_from", "customers"),
        purchases_from_=summary.get("purchases_from", "sales"),
        absent_files_=list(summary.get("absent_files") or []),
        missing_={} if len(data.events) else {"coverage": NO_EVENTS},
        notes_=lacking.notes(summary, rows, unknown.rows(labels, "channel"), accounting.kept(rows, "touchpoints")),
    )
