"""Nothing silently thrown away: a table that loses more than `max_rejected_share` of its rows, or every
row, stops prepare with one line (exit 2) before anything is written (docs/prepare.md)."""

from __future__ import annotations

from journeylib.errors import InputError
from journeylib.prepare.write import table_counts


def file_name(run, table: str) -> str:
    """The export a table came from, as a user knows it."""
    if table in run.files:
        return run.files[table].name
    if table == "sales":
        return "sales (the purchase events of the event log)"
    if table == "customers":
        return "customers (the ids of the other exports)"
    return table


def top_detail(run, table: str, reason: str) -> tuple[str, int]:
    """The most frequent detail of a table's rows rejected for `reason`, and its rows."""
    t = run.work[table]
    t = t.filter(t._reason == reason)
    rows = run.con.to_pyarrow(t.group_by(d=t._detail).agg(n=t.count()).order_by([t.count().desc(), "d"]).limit(1))
    rows = rows.to_pylist()
    return (rows[0]["d"] or "", int(rows[0]["n"])) if rows else ("", 0)


def likely_cause(run, table: str, reason: str, counts: dict) -> str:
    """A plain sentence: why a table's rows were most likely rejected for `reason`, and what to do."""
    from journeylib.privacy import redact

    detail = redact(top_detail(run, table, reason)[0])
    if reason == "unknown_customer":
        customers = counts.get("customers", {})
        if "customers" in run.files and not customers.get("kept"):
            what = "has no rows" if not customers.get("raw") else "keeps none of its rows"
            return (f"{run.files['customers'].name} {what}; drop the file to derive customers from the event log"
                    if what == "has no rows" else
                    f"{run.files['customers'].name} {what} (see its own rejects); drop the file to derive "
                    "customers from the event log")
        return (f"for example {detail}; the exports do not cover the same customers (drop customers.csv to "
                "derive customers from the event log)")
    if reason == "unparseable_timestamp":
        return f"for example {detail}; describe the format under timestamp_formats.{table} in the configuration"
    if reason == "out_of_range_timestamp":
        return (f"for example {detail} (as-of date {run.as_of:%Y-%m-%d}); check --as-of and the timestamp format")
    if reason == "missing_required":
        source = table if table in run.files else "touchpoints"  # sales made from events: the event log's columns
        return f"for example {detail}; map the export's column under columns.{source} in the configuration"
    if reason == "duplicate":
        return f"for example {detail}; the export repeats its rows (or its ids are not unique)"
    if reason == "test_record":
        return f"for example {detail}; check internal_domains in the configuration"
    return f"for example {detail}" if detail else "see rejects.parquet"


def check_rejections(run) -> dict:
    """The row counts of every table (kept for the summary); InputError when a table lost too many rows."""
    counts = table_counts(run)
    run.facts["counts"] = counts
    limit = run.config.max_rejected_share
    for table, n in counts.items():
        raw, rejected = n["raw"], sum(n["rejected"].values())
        if not raw or not rejected or rejected / raw <= limit and (rejected < raw or limit >= 1):
            continue  # max_rejected_share: 1 turns the check off (every row lost included)
        reason = max(n["rejected"], key=lambda r: (n["rejected"][r], r))
        share = "" if rejected == raw else f" ({rejected / raw:.0%}, more than max_rejected_share {limit:g})"
        raise InputError(f"{file_name(run, table)}: {rejected:,} of {raw:,} rows{share} rejected ({reason}): "
                         f"{likely_cause(run, table, reason, counts)}")
    return counts
