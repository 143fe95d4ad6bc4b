"""What went into one run: notebook 00's tables and counts (attributes ending in `_`) and its metrics.

Built by keyword in `analyse.py`. Nothing is estimated, so `missing_` (key -> reason) only says
when the journey log holds no events; `notes_` holds what the exports lack (`lacking`). The
takeaways are the methods `Result` inherits from `data_quality.sentences.Sentences`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from journeylib.analysis import Result as BaseResult
from journeylib.data_quality import accounting, unknown
from journeylib.data_quality.sentences import Sentences
from journeylib.labels import label
from journeylib.results import SectionMetrics

NO_EVENTS = "The journey log holds no events, so there are no months, dealers or dates to cover."
# Older attribute names (before the `_` rule) -> the attribute now; kept for callers.
OLD_NAMES = {name: f"{name}_" for name in (
    "identity_records", "customers", "customers_merged", "customers_with_merges", "events", "dealers",
    "events_without_dealer", "first_event", "last_event", "events_after_as_of", "customers_from", "purchases_from",
    "absent_files", "as_of_outliers", "notes")}


@dataclass(kw_only=True)
class Result(Sentences, BaseResult):
    """Notebook 00's numbers, read from summary.json and the processed tables."""

    params: object                   # journeylib.data_quality.Params
    as_of: pd.Timestamp
    # row accounting
    accounting_: pd.DataFrame        # index table; raw, kept, <reasons with rows>, rejected, balanced
    rejects_: pd.DataFrame           # table, reason, column, value (redacted), rows: the most frequent offending values
    # labels the taxonomy does not know
    unknown_: pd.DataFrame           # column, raw label (redacted), rows
    # duplicate customer records merged
    matched_: pd.Series              # customer records per way of matching (self, email, phone)
    identity_records_: int           # kept customer records
    customers_: int                  # people they belong to
    customers_merged_: object        # summary.json's count (None when absent)
    customers_with_merges_: int
    # events and coverage
    events_by_month_: pd.DataFrame   # index month (YYYY-MM), one column per source: events
    events_by_dealer_: pd.Series     # events per dealer, the top ones and one "N other dealers" row
    events_: int
    dealers_: int
    events_without_dealer_: int
    first_event_: pd.Timestamp | None
    last_event_: pd.Timestamp | None
    events_after_as_of_: int
    as_of_outliers_: dict | None     # summary.json's isolated future dates set aside (None: none)
    # what the exports lack
    customers_from_: str             # customers (the export) or derived (the ids of the other exports)
    purchases_from_: str             # sales, purchase_stage, purchase_events or none (journeylib.prepare.derive)
    absent_files_: list              # tables the export left out
    missing_: dict                   # part -> why this export has none of it
    notes_: list                     # what the exports lack, in sentences

    section = "data_quality"

    def __getattr__(self, name: str):
        if name in OLD_NAMES:
            return getattr(self, OLD_NAMES[name])
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def reason_columns(self) -> list[str]:
        return accounting.reason_columns(self.accounting_)

    @property
    def rejected_by_reason(self) -> pd.Series:
        """Rows set aside per reason over all tables, largest first."""
        return self.accounting_[self.reason_columns].sum().sort_values(ascending=False)

    @property
    def coverage_days(self) -> int:
        return (self.last_event_ - self.first_event_).days if self.events_ else 0

    @property
    def touchpoint_rows(self) -> int:
        return accounting.kept(self.accounting_, "touchpoints")

    def unknown_rows(self, column: str) -> int:
        return unknown.rows(self.unknown_, column)

    def unknown_labels(self, column: str) -> int:
        return unknown.labels(self.unknown_, column)

    def top_unknown(self) -> pd.DataFrame:
        """The most frequent unknown labels, up to `top_unknown` per column."""
        return unknown.top(self.unknown_, self.params.top_unknown)

    def rejects_table(self) -> pd.DataFrame:
        """Per table and reason, the column and its most frequent offending values, for reviewers."""
        frame = self.rejects_
        if frame.empty:
            return pd.DataFrame(columns=["Table", "Reason", "Column", "Most frequent values (rows)"]).set_index("Table")
        grouped = frame.fillna({"column": "(whole row)"}).groupby(["table", "reason", "column"], sort=False)
        rows = [{"Table": label(table), "Reason": label(reason), "Column": column,
                 "Most frequent values (rows)": "; ".join(f"{v} ({n:,})" for v, n in zip(g["value"], g["rows"]))}
                for (table, reason, column), g in grouped]
        return pd.DataFrame(rows).set_index("Table")

    def metrics(self) -> dict:
        """The `data_quality` section of metrics.json (docs/metrics.md), in the order it has always been recorded."""
        out = SectionMetrics()
        table, reasons = self.accounting_, self.reason_columns
        for name, row in table.iterrows():
            out.record(("tables", name, "raw"), row["raw"])
            out.record(("tables", name, "kept"), row["kept"])
            out.record(("tables", name, "rejected"), row["rejected"])
            out.record(("tables", name, "rejected_by_reason"), {r: row[r] for r in reasons if row[r]})
        out.record("rows_balanced", bool(table["balanced"].all()))
        total_raw, total_rejected = int(table["raw"].sum()), int(table["rejected"].sum())
        out.record("rows.raw", total_raw)
        out.record("rows.rejected", total_rejected)
        out.record("rows.rejected_share", total_rejected / total_raw if total_raw else None)
        for column in unknown.LABELLED_COLUMNS:
            out.record(("unknown_values", column, "labels"), self.unknown_labels(column))
            out.record(("unknown_values", column, "rows"), self.unknown_rows(column))
        out.record("identity.records", self.identity_records_)
        out.record("identity.customers", self.customers_)
        out.record("identity.customers_merged", self.customers_merged_)
        out.record("identity.customers_with_merges", self.customers_with_merges_)
        for how, n in self.matched_.items():
            out.record(("identity", "matched_on", how), n)
        out.record("events.total", self.events_)
        out.record("events.months", len(self.events_by_month_))
        out.record("events.dealers", self.dealers_)
        out.record("events.without_dealer", self.events_without_dealer_)
        out.record("as_of", self.as_of)
        out.record("coverage.first_event", self.first_event_)
        out.record("coverage.last_event", self.last_event_)
        out.record("coverage.days", self.coverage_days)
        out.record("coverage.events_after_as_of", self.events_after_as_of_)
        out.record("customers_from", self.customers_from_)
        out.record("purchases_from", self.purchases_from_)
        out.record("absent_files", list(self.absent_files_))
        out.record("coverage.future_outliers", int(self.as_of_outliers_["rows"]) if self.as_of_outliers_ else 0)
        for sentence in self.notes_:
            out.note(sentence)
        return out.values
