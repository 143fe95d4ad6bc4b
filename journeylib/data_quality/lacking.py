"""What the exports lack (a source left out, many unknown channel labels), as plain sentences.

The sentences go to the result's `notes_`, so metrics.json's `data_quality.notes` and the run's index show them.
"""

from __future__ import annotations

import pandas as pd

from journeylib.labels import pct

TABLE_WORDS = {"sales": "sales", "service_visits": "service visits", "surveys": "surveys", "referrals": "referrals"}
UNKNOWN_CHANNEL_NOTE = 0.05  # a note when at least this share of touchpoints has an unknown channel


def notes(summary: dict, accounting: pd.DataFrame, unknown_channel_rows: int, touchpoint_rows: int) -> list[str]:
    """What the exports lack, in plain sentences (none when nothing is lacking)."""
    out = []
    empty = [words for table, words in TABLE_WORDS.items()
             if table in accounting.index and accounting.loc[table, "kept"] == 0]
    if empty:
        listed = ", ".join(empty[:-1]) + " or " + empty[-1] if len(empty) > 1 else empty[0]
        out.append(f"There are no {listed} in this export: the reports that need them say what they could not "
                   "compute.")
    if summary.get("customers_from") == "derived":
        out.append("There is no customers export: the customers are the distinct ids of the other exports, "
                   "each created at their first row, with no profile (age, gender, postal code).")
    if summary.get("purchases_from") in ("purchase_stage", "purchase_events"):
        rule = ("the event types named by purchase_events" if summary["purchases_from"] == "purchase_events"
                else "the events of the purchase stage")
        out.append(f"There is no sales export: the purchases are {rule} of the event log.")
    if (summary["tables"].get("dealers") or {}).get("raw", 0) == 0:
        out.append("There is no dealers export: timestamps without a time zone are read in the configured "
                   "default time zone.")
    if touchpoint_rows and unknown_channel_rows / touchpoint_rows >= UNKNOWN_CHANNEL_NOTE:
        out.append(f"{pct(unknown_channel_rows / touchpoint_rows)} of the touchpoints carry a channel label the "
                   "taxonomy does not know; they count as channel 'unknown' until the labels are added to the "
                   "taxonomy in the configuration.")
    return out
