"""The embedded engine and the small portable expression helpers every step shares.

Everything here builds Ibis expressions; nothing is engine-specific SQL, so the
same steps run on every engine (journeylib.prepare.connection connects them).
"""

from __future__ import annotations

import ibis

from journeylib.prepare.connection import materialise
from journeylib.taxonomy import NORMALISE_PATTERN

MISSING_MARKERS = ("", "NULL", "N/A")
UTC_TYPE = "timestamp('UTC')"


def null(kind: str = "string"):
    return ibis.null(kind)


def text(col):
    """Trimmed; empty strings, NULL and N/A (any case) become missing."""
    value = col.cast("string").strip()
    return ibis.cases((value.upper().isin(MISSING_MARKERS), null()), else_=value)


def label(col):
    """The engine twin of journeylib.taxonomy.normalise_label."""
    value = col.cast("string").strip().lower().re_replace(NORMALISE_PATTERN, "_")
    return value.re_replace(r"^_+|_+$", "")


def number(col):
    """A float from text like '25,000', '$25000.50'; missing or not a number -> null."""
    cleaned = text(col).re_replace(r"[$,\s]", "")
    return cleaned.try_cast("float64")


def as_text(col):
    """A value as text, the same on every engine: a UTC timestamp reads `2024-02-06 10:00:00+00`
    (DuckDB's spelling; Spark leaves out the `+00`)."""
    value = col.cast("string")
    if col.type().is_timestamp():
        value = ibis.cases((value.endswith("+00"), value), else_=value + "+00")
    return value


def joined(cols):
    """One string from several (nulls marked), for content keys and deterministic tie-breaks."""
    return ibis.literal("\x1f").join([as_text(c).fill_null("\x00") for c in cols])


def content_id(cols, prefix: str):
    """A stable id from a row's content: the same row gets the same id whatever the row order."""
    return ibis.literal(prefix) + joined(cols).hexdigest("md5").substr(0, 20)


def add_reason(table, condition, reason: str, detail):
    """Set the reject reason where the row has none yet and `condition` holds."""
    hit = table._reason.isnull() & condition.fill_null(False)
    detail = ibis.literal(detail) if isinstance(detail, str) else detail
    return table.mutate(
        _reason=ibis.cases((hit, ibis.literal(reason)), else_=table._reason),
        _detail=ibis.cases((hit, detail.fill_null("")), else_=table._detail),
    )


def override_reason(table, condition, reason: str, detail):
    """Set the reject reason where `condition` holds, whatever reason the row had."""
    hit = condition.fill_null(False)
    detail = ibis.literal(detail) if isinstance(detail, str) else detail
    return table.mutate(
        _reason=ibis.cases((hit, ibis.literal(reason)), else_=table._reason),
        _detail=ibis.cases((hit, detail.fill_null("")), else_=table._detail),
    )


def quoted(value):
    return ibis.literal("'") + value.fill_null("") + ibis.literal("'")


def store(con, name: str, data):
    """Materialise an expression (or Arrow table) as a new engine table.

    Never replaces a table: a repeated name gets a suffix, so a step can be run
    again on the same connection (and Ibis 12's overwrite path is avoided: it
    emits a bare `DROP TABLE IF EXISTS` under sqlglot 30).
    """
    used = con.__dict__.setdefault("_journey_table_names", {})  # list_tables() fails on duckdb 2.0
    used[name] = used.get(name, 0) + 1
    # in-memory data becomes a memtable there: Ibis would emit the broken DROP VIEW
    return materialise(con, name if used[name] == 1 else f"{name}_{used[name]}", data)
