"""The journey log's events per month and per dealer, and the dates it covers."""

from __future__ import annotations

import pandas as pd


def by_month(events: pd.DataFrame) -> pd.DataFrame:
    """Events per calendar month (UTC, index 'YYYY-MM') and source (columns)."""
    month = events["occurred_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    table = events.groupby([month.rename("month"), "source"]).size().unstack("source", fill_value=0).sort_index()
    table.index = table.index.astype(str)
    return table


def by_dealer(events: pd.DataFrame, top: int) -> pd.Series:
    """Events per dealer, largest first: the `top` dealers and one 'N other dealers' row for the rest."""
    per_dealer = events["dealer_id"].fillna("(no dealer)").value_counts()
    if len(per_dealer) > top:
        rest = pd.Series({f"{len(per_dealer) - top} other dealers": per_dealer.iloc[top:].sum()})
        per_dealer = pd.concat([per_dealer.iloc[:top], rest])
    return per_dealer


def dealers(events: pd.DataFrame) -> int:
    return int(events["dealer_id"].nunique())


def without_dealer(events: pd.DataFrame) -> int:
    return int(events["dealer_id"].isna().sum())


def span(events: pd.DataFrame) -> tuple:
    """(first, last) event time; (None, None) without events."""
    if not len(events):
        return None, None
    return events["occurred_at"].min(), events["occurred_at"].max()


def after(events: pd.DataFrame, as_of: pd.Timestamp) -> int:
    """Events after the as-of date (tables read at an earlier as-of date than they were prepared with)."""
    return int((events["occurred_at"] > as_of).sum())
