"""Ordered funnels' definitions and, in pandas, the moment each customer reached each step.

Shared by notebook 01 (`journeylib.journey_map.funnels`, which matches the steps in the engine)
and notebook 06 (`journeylib.changes`, each step's conversion as a measure). The rule, as in
docs/journey_map.md: a customer reaches the first step at their first matching event (up to the
as-of date), and each later step at the first matching event at or after the time they reached the
previous one and within its `within_days` of it.
"""

from __future__ import annotations

import pandas as pd

from journeylib.taxonomy import matches_any

# The contract's dealer funnel, used when the configuration names none. "Lead": the customer reached
# out (a form, call, chat, e-mail reply) or walked into the showroom. A later step's event also counts
# for an earlier step (a test drive means the customer was in the showroom; a sale means they were a
# lead), so a step the export did not record does not lose the customer.
_DEALER_STEPS = [("lead", ["lead_form", "phone_call", "chat", "email_reply", "showroom_visit"], None),
                 ("appointment_set", ["appointment_set"], 30.0), ("showroom_visit", ["showroom_visit"], 30.0),
                 ("test_drive", ["test_drive"], 30.0), ("purchase", ["purchase"], 90.0)]
DEFAULT_FUNNELS = {
    "dealer": [{"step": step, "events": sorted({e for _, later, _ in _DEALER_STEPS[i:] for e in later} | set(own)),
                "within_days": days}
               for i, (step, own, days) in enumerate(_DEALER_STEPS)],
}


def configured(tables) -> dict:
    """The funnels of the configuration the data was prepared with (summary.json), else the default."""
    funnels = tables.summary().get("funnels") if hasattr(tables, "summary") else None
    return funnels or DEFAULT_FUNNELS


def event_types(funnels: dict) -> list:
    """Every event pattern the funnels name (to read only those rows of the event log)."""
    return sorted({pattern for steps in funnels.values() for step in steps for pattern in step["events"]})


def step_times(events: pd.DataFrame, steps: list, as_of) -> pd.DataFrame:
    """One row per customer who reached the first step: `customer_id` and the time each step was reached
    (a column per step, NaT when not reached). `events`: customer_id, occurred_at (UTC), event_type."""
    as_of = _utc(as_of)
    events = events[events["occurred_at"] <= as_of]
    types = events["event_type"].dropna().astype(str).unique()
    out, previous = None, None
    for i, step in enumerate(steps):
        names = [name for name in types if matches_any(name, step["events"])]
        m = events.loc[events["event_type"].astype(str).isin(names), ["customer_id", "occurred_at"]]
        m = m.assign(customer_id=m["customer_id"].astype(str))
        if i:
            m = m.merge(previous.rename("_previous_at").reset_index(), on="customer_id")
            keep = m["occurred_at"] >= m["_previous_at"]
            if step.get("within_days") is not None:
                keep &= m["occurred_at"] - m["_previous_at"] <= pd.Timedelta(days=step["within_days"])
            m = m[keep]
        previous = m.groupby("customer_id")["occurred_at"].min().rename(step["step"])
        out = previous.to_frame() if out is None else out.join(previous, how="left")
    out = out.rename_axis("customer_id").reset_index()
    for step in steps:  # timestamps even when nobody reached a step (an empty or unmatched log)
        out[step["step"]] = pd.to_datetime(out[step["step"]], utc=True)
    return out


def _utc(stamp) -> pd.Timestamp:
    stamp = pd.Timestamp(stamp)
    return stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")
