"""The embedded engine and the small portable expression helpers every step shares.

Everything here builds Ibis expressions; nothing is engine-specific SQL, so the
same steps run on every engine (journeylib.engine connects them and keeps their tables).
"""

from __future__ import annotations

import ibis

from journeylib.engine.tables import store  # noqa: F401 - the steps' one way to keep a table
from journeylib.taxonomy import NORMALISE_PATTERN

MISSING_MARKERS = ("", "NULL", "N/A")
UTC_TYPE = "timestamp('UTC')"
# Control characters (C0 but tab, newlines, vertical tab and form feed; DEL; C1) and invisible format
# characters (soft hyphen, zero-width spaces and joiners, direction marks, word joiner, byte-order mark).
INVISIBLE_PATTERN = (r"[\x00-\x08\x0e-\x1f\x7f-\x9f\x{AD}\x{200B}-\x{200F}\x{202A}-\x{202E}"
                     r"\x{2060}-\x{2064}\x{2066}-\x{206F}\x{FEFF}]")
DECIMAL_PATTERN = r"^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$"  # one way to match: linear anywhere


def null(kind: str = "string"):
    return ibis.null(kind)


def text(col):
    """Trimmed; empty strings, NULL and N/A (any case) become missing."""
    value = col.cast("string").strip()
    return ibis.cases((value.upper().isin(MISSING_MARKERS), null()), else_=value)


def ident(col):
    """An id (or another matching key): `text` without control and invisible format characters.

    A NUL, a zero-width space or a byte-order mark inside `C1` would make a second customer that
    looks like the first and orphan its rows; they are removed before trimming (`C1\\x00` is `C1`).
    """
    return text(col.cast("string").re_replace(INVISIBLE_PATTERN, ""))


def label(col):
    """The engine twin of journeylib.taxonomy.normalise_label."""
    value = col.cast("string").strip().lower().re_replace(NORMALISE_PATTERN, "_")
    return value.re_replace(r"^_+|_+$", "")


def number(col):
    """A finite float from text like '25,000', '$25000.50', '1e3'; missing or not a number -> null.

    Only plain decimal notation is read: `NaN`, `inf`, `1_000`, `0x10` are not numbers, and a value
    too large for a float (`1e400`) is not one either (it would be stored as infinity).
    """
    cleaned = text(col).re_replace(r"[$,\s]", "")
    value = cleaned.try_cast("float64")
    finite = cleaned.re_search(DECIMAL_PATTERN) & ~value.isinf() & ~value.isnan()
    return ibis.cases((finite.fill_null(False), value), else_=null("float64"))


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


QUOTED_LENGTH = 100  # a value quoted in a reject's detail is cut here (the row's raw values are in `raw`)


def quoted(value):
    value = value.fill_null("")
    cut = ibis.cases((value.length() > QUOTED_LENGTH, value.substr(0, QUOTED_LENGTH) + "…"), else_=value)
    return ibis.literal("'") + cut + ibis.literal("'")


@ibis.udf.scalar.python
def redacted(text: str) -> str:
    """journeylib.privacy.redact as an engine function, value by value: in this process on DuckDB, in
    Spark's Python workers on Spark (so free text is redacted where it is, and written straight to Parquet)."""
    from journeylib.privacy import redact

    return redact(text)


@ibis.udf.scalar.python
def json_dumped(text: str) -> str:
    """json.dumps of a text value (the engine's fallback for values holding control characters)."""
    import json

    return "null" if text is None else json.dumps(text, ensure_ascii=False)


CONTROL_PATTERN = r"[\x00-\x1f]"


def json_text(value):
    """A text value as `json.dumps(value, ensure_ascii=False)` writes it (`null` when missing), in the engine.

    Without control characters only the backslash and the double quote are escaped, with plain replaces
    every engine has; a value with one (rare: a tab, a line break) goes to Python's json.dumps."""
    value = value.cast("string")
    plain = ibis.literal('"') + value.replace("\\", "\\\\").replace('"', '\\"') + ibis.literal('"')
    return ibis.cases((value.isnull(), ibis.literal("null")),
                      (value.re_search(CONTROL_PATTERN), json_dumped(value)), else_=plain)


def json_object(table, columns, transform=None):
    """One JSON object per row of `table` with `columns` (text) in order, as json.dumps of a dict writes it;
    `transform(column, value)` may change a value first (redaction)."""
    import json

    if not columns:
        return ibis.literal("{}")
    fields = []
    for column in columns:
        value = table[column] if transform is None else transform(column, table[column])
        fields.append(ibis.literal(json.dumps(column, ensure_ascii=False) + ": ") + json_text(value))
    return ibis.literal("{") + ibis.literal(", ").join(fields) + ibis.literal("}")
