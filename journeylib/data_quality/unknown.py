"""Labels the taxonomy does not know: the raw event types and channels prepare kept as `unknown`."""

from __future__ import annotations

import pandas as pd

from journeylib.privacy import redact

LABELLED_COLUMNS = ("event_type", "channel")  # the columns mapped to the taxonomy
UNKNOWN_COLUMNS = ["column", "raw label", "rows"]


def unknown_labels(summary: dict) -> pd.DataFrame:
    """summary.json's unknown labels: column, raw label (redacted: labels are data), rows."""
    rows = [{"column": column, "raw label": redact(raw), "rows": int(n)}
            for column, counts in (summary.get("unknown_values") or {}).items() for raw, n in counts.items()]
    return pd.DataFrame(rows, columns=UNKNOWN_COLUMNS)


def rows(unknown: pd.DataFrame, column: str) -> int:
    """Rows whose `column` carries a label the taxonomy does not know."""
    return int(unknown.loc[unknown["column"] == column, "rows"].sum())


def labels(unknown: pd.DataFrame, column: str) -> int:
    """Distinct unknown labels of `column`."""
    return int((unknown["column"] == column).sum())


def top(unknown: pd.DataFrame, n: int) -> pd.DataFrame:
    """The most frequent unknown labels, up to `n` per column."""
    return (unknown.sort_values(["column", "rows", "raw label"], ascending=[True, False, True])
            .groupby("column").head(n).reset_index(drop=True))
