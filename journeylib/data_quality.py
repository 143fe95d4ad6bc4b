"""What went into a run (notebook 00): row accounting, unknown labels, merged customers, events and coverage.

    result = analyse(ProcessedTables(processed_dir), Params(top_unknown=10))
    result.accounting_   # per table: raw, kept, one column per reject reason present, rejected, balanced
    result.metrics()     # the `data_quality` section of metrics.json (docs/metrics.md)

Everything is read from summary.json and the processed tables; nothing here is
estimated. The runner's own `data` section (journeylib.run.manifest) counts the
same rows for schedulers; this section is the notebook's reading of them.
"""

from __future__ import annotations

import dataclasses
import re

import pandas as pd

from journeylib.analysis import Params as BaseParams
from journeylib.analysis import Result, positive_int
from journeylib.labels import label
from journeylib.privacy import PERSONAL_COLUMNS, redact
from journeylib.report import pct
from journeylib.results import SectionMetrics

SECTION = "data_quality"
NOTEBOOK = "00_data_quality"
# Reject reasons in the order prepare assigns them (docs/prepare.md); any other reason follows, sorted.
REASONS = ("duplicate", "test_record", "unparseable_timestamp", "out_of_range_timestamp", "missing_required",
           "unknown_customer", "unresolved_identity", "invalid_value")
LABELLED_COLUMNS = ("event_type", "channel")  # the columns mapped to the taxonomy
MATCHED_ON = ("self", "email", "phone")
TABLE_WORDS = {"sales": "sales", "service_visits": "service visits", "surveys": "surveys", "referrals": "referrals"}
UNKNOWN_CHANNEL_NOTE = 0.05  # a note when at least this share of touchpoints has an unknown channel


@dataclasses.dataclass(frozen=True)
class Params(BaseParams):
    top_unknown: int = 10  # unknown raw labels listed per column
    top_dealers: int = 15  # dealers shown in the events-by-dealer chart (the rest are grouped)

    def check(self) -> None:
        positive_int("top_unknown", self.top_unknown)
        positive_int("top_dealers", self.top_dealers)


@dataclasses.dataclass
class DataQuality(Result):
    section = SECTION
    params: Params
    as_of: pd.Timestamp
    accounting_: pd.DataFrame  # index table; raw, kept, <reasons with rows>, rejected, balanced
    unknown_: pd.DataFrame  # column, raw label (redacted), rows
    matched_: pd.Series  # customer records per way of matching (self, email, phone)
    identity_records: int
    customers: int
    customers_merged: object  # summary.json's count (None when absent)
    customers_with_merges: int
    events_by_month_: pd.DataFrame  # index month (YYYY-MM), one column per source: events
    events_by_dealer_: pd.Series  # events per dealer, the top ones and one "N other dealers" row
    events: int
    dealers: int
    events_without_dealer: int
    first_event: pd.Timestamp | None
    last_event: pd.Timestamp | None
    events_after_as_of: int
    customers_from: str = "customers"  # customers (the export) or derived (the ids of the other exports)
    purchases_from: str = "sales"  # sales, purchase_stage, purchase_events or none (journeylib.prepare.derive)
    absent_files: list = dataclasses.field(default_factory=list)  # tables the export left out
    rejects_: pd.DataFrame = None  # table, reason, column, value (redacted), rows: the most frequent offending values
    as_of_outliers: dict | None = None  # summary.json's isolated future dates set aside (None: none)
    notes: list = dataclasses.field(default_factory=list)

    @property
    def reason_columns(self) -> list[str]:
        return [c for c in self.accounting_.columns if c not in ("raw", "kept", "rejected", "balanced")]

    @property
    def rejected_by_reason(self) -> pd.Series:
        """Rows set aside per reason over all tables, largest first."""
        return self.accounting_[self.reason_columns].sum().sort_values(ascending=False)

    @property
    def coverage_days(self) -> int:
        return (self.last_event - self.first_event).days if self.events else 0

    @property
    def touchpoint_rows(self) -> int:
        return int(self.accounting_.loc["touchpoints", "kept"]) if "touchpoints" in self.accounting_.index else 0

    def unknown_rows(self, column: str) -> int:
        return int(self.unknown_.loc[self.unknown_["column"] == column, "rows"].sum())

    def unknown_labels(self, column: str) -> int:
        return int((self.unknown_["column"] == column).sum())

    def top_unknown(self) -> pd.DataFrame:
        """The most frequent unknown labels, up to `top_unknown` per column."""
        return (self.unknown_.sort_values(["column", "rows", "raw label"], ascending=[True, False, True])
                .groupby("column").head(self.params.top_unknown).reset_index(drop=True))

    # ---------------------------------------------------------------- takeaways

    def rows_sentence(self) -> str:
        accounting = self.accounting_
        total_raw, total_rejected = int(accounting["raw"].sum()), int(accounting["rejected"].sum())
        if total_rejected:
            by_reason = self.rejected_by_reason
            top_reason = by_reason.index[0]
            sentence = (f"{total_rejected:,} of {total_raw:,} exported rows ({pct(total_rejected / total_raw)}) "
                        f"were set aside; the most common reason is {top_reason.replace('_', ' ')} "
                        f"({int(by_reason.iloc[0]):,} rows, most of them in {accounting[top_reason].idxmax()}).")
        else:
            sentence = f"All {total_raw:,} exported rows were kept."
        if not accounting["balanced"].all():
            sentence += (" Warning: rows do not add up for " + ", ".join(accounting.index[~accounting["balanced"]])
                         + "; the preparation lost or duplicated rows.")
        return sentence

    def unknown_sentence(self) -> str:
        if self.unknown_.empty:
            return "Every event type and channel in the exports is known to the taxonomy."
        worst = self.unknown_.groupby("column")["rows"].sum()
        labels = self.unknown_["column"].value_counts()
        parts = [f"{int(worst[c]):,} rows with an unknown {c.replace('_', ' ')} "
                 f"({int(labels[c])} label{'s' if labels[c] != 1 else ''})" for c in worst.index]
        touchpoints = self.touchpoint_rows
        share = f", {pct(worst.sum() / touchpoints)} of kept touchpoints at most" if touchpoints else ""
        return "; ".join(parts) + share + ". These rows stay in the data but do not move a journey stage."

    def identity_sentence(self) -> str:
        matched, people = self.matched_, self.customers
        merged_share = pct(self.customers_with_merges / people) if people else "0%"
        return (f"{self.identity_records:,} kept customer records belong to {people:,} people: "
                f"{int(matched['email'] + matched['phone']):,} duplicate records were merged "
                f"({int(matched['email']):,} on email, {int(matched['phone']):,} on phone), "
                f"so {self.customers_with_merges:,} customers ({merged_share}) combine more than one record.")

    def events_sentence(self) -> str:
        monthly = self.events_by_month_.sum(axis=1)
        if not len(monthly):
            return "The journey log holds no events."
        full_months = monthly.iloc[:-1] if len(monthly) > 1 else monthly  # the last month is partial
        return (f"{self.events:,} events over {len(monthly)} months: between {int(full_months.min()):,} "
                f"({full_months.idxmin()}) and {int(full_months.max()):,} ({full_months.idxmax()}) per complete "
                f"month; {pct(self.events_without_dealer / self.events)} of events carry no dealer.")

    def coverage_sentence(self) -> str | None:
        if not self.events:
            return None
        gap = (self.as_of - self.last_event).days
        return (f"The data runs from {self.first_event:%d %b %Y} to {self.last_event:%d %b %Y} "
                f"({self.coverage_days:,} days) and is analysed as of {self.as_of:%d %b %Y}"
                + (f", {gap} days after the last event: check the latest exports are complete." if gap > 7 else "."))

    def sources_sentence(self) -> str:
        """Where the customers and the purchases came from (an export may leave either out)."""
        from journeylib.vocabulary import CUSTOMER_RULES, PURCHASE_RULES

        if self.customers_from == "customers" and self.purchases_from == "sales":
            return "Customers come from the customers export and purchases from the sales export."
        return (f"Customers are {CUSTOMER_RULES.get(self.customers_from, self.customers_from)}. "
                f"Purchases are {PURCHASE_RULES.get(self.purchases_from, self.purchases_from)}.")

    def rejects_table(self) -> pd.DataFrame:
        """Per table and reason, the column and its most frequent offending values, for reviewers."""
        frame = self.rejects_ if self.rejects_ is not None else _rejects({})
        if frame.empty:
            return pd.DataFrame(columns=["Table", "Reason", "Column", "Most frequent values (rows)"]).set_index("Table")
        grouped = frame.fillna({"column": "(whole row)"}).groupby(["table", "reason", "column"], sort=False)
        rows = [{"Table": label(table), "Reason": label(reason), "Column": column,
                 "Most frequent values (rows)": "; ".join(f"{v} ({n:,})" for v, n in zip(g["value"], g["rows"]))}
                for (table, reason, column), g in grouped]
        return pd.DataFrame(rows).set_index("Table")

    def outliers_sentence(self) -> str | None:
        outliers = self.as_of_outliers
        if not outliers:
            return None
        listed = ", ".join(f"{label(o['table']).lower()} row {o['row']} ({o['at'][:10]})" for o in outliers["listed"])
        more = " and others" if outliers["rows"] > len(outliers["listed"]) else ""
        return (f"{outliers['rows']:,} row{'s' if outliers['rows'] != 1 else ''} dated far in the future "
                f"({outliers['rule']}) {'were' if outliers['rows'] != 1 else 'was'} set aside as out of range, so "
                f"that a mistyped date does not move the as-of date: {listed}{more}. The as-of date is the latest "
                f"other timestamp, {outliers['latest_kept'][:10]}.")

    def lacking_sentence(self) -> str:
        return " ".join(self.notes) if self.notes else "Every source is present and almost every label is known."

    # ---------------------------------------------------------------- metrics.json

    def metrics(self) -> dict:
        out = SectionMetrics()
        accounting, reasons = self.accounting_, self.reason_columns
        for table, row in accounting.iterrows():
            out.record(("tables", table, "raw"), row["raw"])
            out.record(("tables", table, "kept"), row["kept"])
            out.record(("tables", table, "rejected"), row["rejected"])
            out.record(("tables", table, "rejected_by_reason"), {r: row[r] for r in reasons if row[r]})
        out.record("rows_balanced", bool(accounting["balanced"].all()))
        total_raw, total_rejected = int(accounting["raw"].sum()), int(accounting["rejected"].sum())
        out.record("rows.raw", total_raw)
        out.record("rows.rejected", total_rejected)
        out.record("rows.rejected_share", total_rejected / total_raw if total_raw else None)
        for column in LABELLED_COLUMNS:
            out.record(("unknown_values", column, "labels"), self.unknown_labels(column))
            out.record(("unknown_values", column, "rows"), self.unknown_rows(column))
        out.record("identity.records", self.identity_records)
        out.record("identity.customers", self.customers)
        out.record("identity.customers_merged", self.customers_merged)
        out.record("identity.customers_with_merges", self.customers_with_merges)
        for how, n in self.matched_.items():
            out.record(("identity", "matched_on", how), n)
        out.record("events.total", self.events)
        out.record("events.months", len(self.events_by_month_))
        out.record("events.dealers", self.dealers)
        out.record("events.without_dealer", self.events_without_dealer)
        out.record("as_of", self.as_of)
        out.record("coverage.first_event", self.first_event)
        out.record("coverage.last_event", self.last_event)
        out.record("coverage.days", self.coverage_days)
        out.record("coverage.events_after_as_of", self.events_after_as_of)
        out.record("customers_from", self.customers_from)
        out.record("purchases_from", self.purchases_from)
        out.record("absent_files", list(self.absent_files))
        out.record("coverage.future_outliers", int(self.as_of_outliers["rows"]) if self.as_of_outliers else 0)
        for sentence in self.notes:
            out.note(sentence)
        return out.values


def _accounting(summary: dict) -> pd.DataFrame:
    accounting = pd.DataFrame({
        name: {"raw": counts["raw"], "kept": counts["kept"], **counts.get("rejected", {})}
        for name, counts in summary["tables"].items()
    }).T.fillna(0).astype(int)
    reasons = [r for r in REASONS if r in accounting] + sorted(set(accounting) - {"raw", "kept", *REASONS})
    accounting = accounting[["raw", "kept", *reasons]]
    accounting["rejected"] = accounting[reasons].sum(axis=1)
    accounting["balanced"] = accounting["raw"] == accounting["kept"] + accounting["rejected"]
    accounting.index.name = "table"
    return accounting


def _unknown(summary: dict) -> pd.DataFrame:
    rows = [{"column": column, "raw label": redact(label), "rows": int(n)}  # labels are data: redacted
            for column, counts in (summary.get("unknown_values") or {}).items() for label, n in counts.items()]
    return pd.DataFrame(rows, columns=["column", "raw label", "rows"])


def offending(detail: str) -> tuple[str | None, str]:
    """(column, value) a reject's detail names: `price: '-3' is negative` -> ('price', "'-3'");
    `customer_id: C1 is not in customers` -> ('customer_id', 'C1'); `same deal_id as ...` -> ('deal_id', '')."""
    detail = detail or ""
    if detail.startswith("the row repeats the header"):
        return None, "(the header line, repeated)"
    same = re.match(r"^same (\w+) as a kept row", detail)
    if same:
        return same.group(1), "(repeated rows)"
    column = re.match(r"^(\w+):? ", detail)
    name = column.group(1) if column else None
    if name == "customer":
        name = "customer_id"
    quoted = re.search(r"'(.*)'", detail)
    if quoted:
        return name, f"'{quoted.group(1)}'"
    if name and re.match(r"^\w+: missing", detail):
        return name, "(missing)"
    value = re.match(r"^\w+:? (\S+)", detail)
    if name in ("the", None):
        return None, detail
    return name, value.group(1) if value else detail


def _rejects(summary: dict) -> pd.DataFrame:
    """summary.json's most frequent reject details as (table, reason, column, value, rows); values are data:
    personal columns hidden, the rest redacted."""
    rows = []
    for table, reasons in (summary.get("reject_examples") or {}).items():
        for reason, examples in reasons.items():
            for example in examples:
                column, value = offending(example["detail"])
                value = "[personal]" if column in PERSONAL_COLUMNS else redact(value)
                rows.append({"table": table, "reason": reason, "column": column, "value": value,
                             "rows": int(example["rows"])})
    return pd.DataFrame(rows, columns=["table", "reason", "column", "value", "rows"])


def _by_dealer(events: pd.DataFrame, top: int) -> pd.Series:
    per_dealer = events["dealer_id"].fillna("(no dealer)").value_counts()
    if len(per_dealer) > top:
        rest = pd.Series({f"{len(per_dealer) - top} other dealers": per_dealer.iloc[top:].sum()})
        per_dealer = pd.concat([per_dealer.iloc[:top], rest])
    return per_dealer


def _notes(summary: dict, accounting: pd.DataFrame, unknown_channel_rows: int, touchpoint_rows: int) -> list[str]:
    """What the exports lack, in plain sentences (also shown on the run's index)."""
    notes = []
    empty = [words for table, words in TABLE_WORDS.items()
             if table in accounting.index and accounting.loc[table, "kept"] == 0]
    if empty:
        listed = ", ".join(empty[:-1]) + " or " + empty[-1] if len(empty) > 1 else empty[0]
        notes.append(f"There are no {listed} in this export: the reports that need them say what they could not "
                     "compute.")
    if summary.get("customers_from") == "derived":
        notes.append("There is no customers export: the customers are the distinct ids of the other exports, "
                     "each created at their first row, with no profile (age, gender, postal code).")
    if summary.get("purchases_from") in ("purchase_stage", "purchase_events"):
        rule = ("the event types named by purchase_events" if summary["purchases_from"] == "purchase_events"
                else "the events of the purchase stage")
        notes.append(f"There is no sales export: the purchases are {rule} of the event log.")
    if (summary["tables"].get("dealers") or {}).get("raw", 0) == 0:
        notes.append("There is no dealers export: timestamps without a time zone are read in the configured "
                     "default time zone.")
    if touchpoint_rows and unknown_channel_rows / touchpoint_rows >= UNKNOWN_CHANNEL_NOTE:
        notes.append(f"{pct(unknown_channel_rows / touchpoint_rows)} of the touchpoints carry a channel label the "
                     "taxonomy does not know; they count as channel 'unknown' until the labels are added to the "
                     "taxonomy in the configuration.")
    return notes


def analyse(tables, params: Params = Params()) -> DataQuality:
    """Row accounting, unknown labels, identity merges, events and coverage of one prepared data set."""
    summary = tables.summary()
    accounting, unknown = _accounting(summary), _unknown(summary)
    identity = tables.load("identity_map", columns=["customer_id", "matched_on"])
    customers = tables.load("customers", columns=["customer_id", "source_ids"])
    events = tables.load("touchpoints", columns=["occurred_at", "dealer_id", "source"])
    month = events["occurred_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    by_month = events.groupby([month.rename("month"), "source"]).size().unstack("source", fill_value=0).sort_index()
    by_month.index = by_month.index.astype(str)
    result = DataQuality(
        params=params, as_of=tables.as_of, accounting_=accounting, unknown_=unknown,
        matched_=identity["matched_on"].value_counts().reindex(list(MATCHED_ON), fill_value=0),
        identity_records=len(identity), customers=len(customers), customers_merged=summary.get("customers_merged"),
        customers_with_merges=int((customers["source_ids"] > 1).sum()),
        events_by_month_=by_month, events_by_dealer_=_by_dealer(events, params.top_dealers), events=len(events),
        dealers=int(events["dealer_id"].nunique()), events_without_dealer=int(events["dealer_id"].isna().sum()),
        first_event=events["occurred_at"].min() if len(events) else None,
        last_event=events["occurred_at"].max() if len(events) else None,
        events_after_as_of=int((events["occurred_at"] > tables.as_of).sum()),
        customers_from=summary.get("customers_from", "customers"), purchases_from=summary.get("purchases_from", "sales"),
        absent_files=list(summary.get("absent_files") or []), rejects_=_rejects(summary),
        as_of_outliers=summary.get("as_of_outliers"),
    )
    result.notes = _notes(summary, accounting, result.unknown_rows("channel"), result.touchpoint_rows)
    return result
