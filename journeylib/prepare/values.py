"""Optional categorical values no vocabulary knows (a pay type `W`, a condition `demo`): the row is kept
with the value missing, and the spellings are counted here for summary.json and notebook 00.

Losing a service visit over its pay type is worse than not knowing the pay type; a required categorical
(`survey_type`) still rejects its row (`invalid_value`). `values:` in the configuration maps such spellings.
"""

from __future__ import annotations

from journeylib.prepare.engine import text
from journeylib.prepare.load import ROW

# table -> the optional categorical columns an unknown spelling clears (the row kept)
CLEARED = {"sales": ("condition", "finance_type"), "service_visits": ("pay_type",)}


def cleared_labels(run) -> dict:
    """{"table.column": {export spelling: kept rows}} for every optional categorical value left missing."""
    out = {}
    for table, columns in CLEARED.items():
        if table not in run.work or table not in run.raw:
            continue
        t, raw = run.work[table], run.raw[table]
        present = [c for c in columns if c in raw.columns and c in t.columns]  # sales made from events have none
        for column in columns:
            out[f"{table}.{column}"] = {}
        if not present:
            continue
        columns = present
        kept = t.filter(t._reason.isnull()).select(k_row=t[ROW], **{f"k_{c}": t[c] for c in columns})
        j = kept.join(raw, kept.k_row == raw[ROW])
        for column in columns:
            spelling = text(j[column])
            bad = j.filter(spelling.notnull() & j[f"k_{column}"].isnull())
            rows = run.con.to_pyarrow(bad.group_by(value=text(bad[column])).agg(n=bad.count())).to_pylist()
            out[f"{table}.{column}"] = {r["value"]: int(r["n"]) for r in sorted(rows, key=lambda r: (-r["n"], r["value"]))}
    return out
