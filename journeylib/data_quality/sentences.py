"""Notebook 00's takeaways: methods of `data_quality.Result`, one per section of the notebook."""

from __future__ import annotations

from journeylib.labels import label, pct


class Sentences:
    """The sentences reviewers read; mixed into `Result`, so they read its fitted attributes."""

    def rows_sentence(self) -> str:
        table = self.accounting_
        total_raw, total_rejected = int(table["raw"].sum()), int(table["rejected"].sum())
        if total_rejected:
            by_reason = self.rejected_by_reason
            top_reason = by_reason.index[0]
            sentence = (f"{total_rejected:,} of {total_raw:,} exported rows ({pct(total_rejected / total_raw)}) "
                        f"were set aside; the most common reason is {top_reason.replace('_', ' ')} "
                        f"({int(by_reason.iloc[0]):,} rows, most of them in {table[top_reason].idxmax()}).")
        else:
            sentence = f"All {total_raw:,} exported rows were kept."
        if not table["balanced"].all():
            sentence += (" Warning: rows do not add up for " + ", ".join(table.index[~table["balanced"]])
                         + "; the preparation lost or duplicated rows.")
        return sentence

    def rejects_sentence(self) -> str:
        """Said only when nothing was set aside (else the table of offending values speaks)."""
        return "No row was set aside." if int(self.accounting_["rejected"].sum()) == 0 else ""

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
        matched, people = self.matched_, self.customers_
        merged_share = pct(self.customers_with_merges_ / people) if people else "0%"
        return (f"{self.identity_records_:,} kept customer records belong to {people:,} people: "
                f"{int(matched['email'] + matched['phone']):,} duplicate records were merged "
                f"({int(matched['email']):,} on email, {int(matched['phone']):,} on phone), "
                f"so {self.customers_with_merges_:,} customers ({merged_share}) combine more than one record.")

    def events_sentence(self) -> str:
        monthly = self.events_by_month_.sum(axis=1)
        if not len(monthly):
            return "The journey log holds no events."
        full_months = monthly.iloc[:-1] if len(monthly) > 1 else monthly  # the last month is partial
        return (f"{self.events_:,} events over {len(monthly)} months: between {int(full_months.min()):,} "
                f"({full_months.idxmin()}) and {int(full_months.max()):,} ({full_months.idxmax()}) per complete "
                f"month; {pct(self.events_without_dealer_ / self.events_)} of events carry no dealer.")

    def coverage_sentence(self) -> str | None:
        """None without events (`missing_["coverage"]` says so)."""
        if not self.events_:
            return None
        gap = (self.as_of - self.last_event_).days
        return (f"The data runs from {self.first_event_:%d %b %Y} to {self.last_event_:%d %b %Y} "
                f"({self.coverage_days:,} days) and is analysed as of {self.as_of:%d %b %Y}"
                + (f", {gap} days after the last event: check the latest exports are complete." if gap > 7 else "."))

    def sources_sentence(self) -> str:
        """Where the customers and the purchases came from (an export may leave either out)."""
        from journeylib.vocabulary import CUSTOMER_RULES, PURCHASE_RULES

        if self.customers_from_ == "customers" and self.purchases_from_ == "sales":
            return "Customers come from the customers export and purchases from the sales export."
        return (f"Customers are {CUSTOMER_RULES.get(self.customers_from_, self.customers_from_)}. "
                f"Purchases are {PURCHASE_RULES.get(self.purchases_from_, self.purchases_from_)}.")

    def outliers_sentence(self) -> str | None:
        """None when prepare set no far-future row aside."""
        outliers = self.as_of_outliers_
        if not outliers:
            return None
        listed = ", ".join(f"{label(o['table']).lower()} row {o['row']} ({o['at'][:10]})" for o in outliers["listed"])
        more = " and others" if outliers["rows"] > len(outliers["listed"]) else ""
        return (f"{outliers['rows']:,} row{'s' if outliers['rows'] != 1 else ''} dated far in the future "
                f"({outliers['rule']}) {'were' if outliers['rows'] != 1 else 'was'} set aside as out of range, so "
                f"that a mistyped date does not move the as-of date: {listed}{more}. The as-of date is the latest "
                f"other timestamp, {outliers['latest_kept'][:10]}.")

    def lacking_sentence(self) -> str:
        return " ".join(self.notes_) if self.notes_ else "Every source is present and almost every label is known."
