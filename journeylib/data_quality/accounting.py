"""Row accounting: every exported row kept or set aside for a reason, and the values that set rows aside."""

from __future__ import annotations

import re

import pandas as pd

from journeylib.privacy import PERSONAL_COLUMNS, redact

# Reject reasons in the order prepare assigns them (docs/prepare.md); any other reason follows, sorted.
REASONS = ("duplicate", "test_record", "unparseable_timestamp", "out_of_range_timestamp", "missing_required",
           "unknown_customer", "unresolved_identity", "invalid_value")
COUNT_COLUMNS = ("raw", "kept", "rejected", "balanced")  # the accounting's columns that are not reasons
REJECT_COLUMNS = ["table", "reason", "column", "value", "rows"]


def accounting(summary: dict) -> pd.DataFrame:
    """Per table (index): raw, kept, one column per reason with rows, rejected, balanced (raw = kept + rejected)."""
    table = pd.DataFrame({
        name: {"raw": counts["raw"], "kept": counts["kept"], **counts.get("rejected", {})}
        for name, counts in summary["tables"].items()
    }).T.fillna(0).astype(int)
    reasons = [r for r in REASONS if r in table] + sorted(set(table) - {"raw", "kept", *REASONS})
    table = table[["raw", "kept", *reasons]]
    table["rejected"] = table[reasons].sum(axis=1)
    table["balanced"] = table["raw"] == table["kept"] + table["rejected"]
    table.index.name = "table"
    return table


def reason_columns(table: pd.DataFrame) -> list[str]:
    """The reasons with rows in `table` (an `accounting` table), in prepare's order."""
    return [c for c in table.columns if c not in COUNT_COLUMNS]


def kept(table: pd.DataFrame, name: str) -> int:
    """Rows of table `name` kept (0 when the export has no such table)."""
    return int(table.loc[name, "kept"]) if name in table.index else 0


def rejects(summary: dict) -> pd.DataFrame:
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
    return pd.DataFrame(rows, columns=REJECT_COLUMNS)


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
