"""Duplicate customer records merged: how each kept record was attached to a person."""

from __future__ import annotations

import pandas as pd

MATCHED_ON = ("self", "email", "phone")  # a record is its own person, or merged on email or phone


def matched(identity: pd.DataFrame) -> pd.Series:
    """Customer records per way of matching (MATCHED_ON order, 0 when none)."""
    return identity["matched_on"].value_counts().reindex(list(MATCHED_ON), fill_value=0)


def customers_with_merges(customers: pd.DataFrame) -> int:
    """Customers that combine more than one exported record."""
    return int((customers["source_ids"] > 1).sum())
