"""Timestamps: ISO-8601 or a configured strptime format, local time -> UTC.

A value with `Z` or an offset is absolute. A naive value is local time in the
row's time zone (the dealer's, else the default). Local -> UTC goes through a
small table of UTC offsets per (time zone, local day) built here from the IANA
database, joined like any table: portable, and fast on millions of rows.
DST rule (the same as Python's zoneinfo with fold=0): an ambiguous local time
(the repeated hour when clocks go back) is the first occurrence (summer time);
a nonexistent one (the skipped hour when clocks go forward) is read with the
offset in force before the change (so 02:30 becomes 03:30 summer time).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import ibis
import numpy as np
import pyarrow as pa

FIRST_DAY = datetime(1970, 1, 1)
LAST_DAY = datetime(2061, 1, 2)  # past the last --as-of date (clean.LATEST_AS_OF) in every zone
MINUTES_PER_DAY = 1440
# UTC offsets in use run from -12:00 to +14:00; anything outside is not a real offset.
MIN_OFFSET_MINUTES, MAX_OFFSET_MINUTES = -12 * 60, 14 * 60

# ISO-8601 extended format: `T`, `t` or a space between date and time; seconds may carry any
# number of decimals after `.` or `,` (kept to the microsecond, the rest cut off).
ISO_BODY = r"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?)?$"
OFFSET_SUFFIX = r"[Tt ]\d{2}:?\d{2}(?::?\d{2}(?:[.,]\d+)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)$"
# ISO-8601 basic format: 20240206, 20240206T1000, 20240206T100000(.5)
ISO_BASIC = r"^(\d{4})(\d{2})(\d{2})(?:[Tt](\d{2})(\d{2})(?:(\d{2})([.,]\d+)?)?)?$"
ISO_LENGTH = len("2024-06-25 14:05:00.123456")
MAX_LENGTH = 64  # no timestamp is longer (nanoseconds, an offset and spaces included)

# strptime directive -> (regex, component)
DIRECTIVES = {
    "Y": (r"(\d{4})", "year"), "y": (r"(\d{2})", "year2"), "m": (r"(\d{1,2})", "month"),
    "d": (r"(\d{1,2})", "day"), "H": (r"(\d{1,2})", "hour"), "I": (r"(\d{1,2})", "hour12"),
    "M": (r"(\d{2})", "minute"), "S": (r"(\d{2})", "second"), "f": (r"(\d{1,6})", "fraction"),
    "p": (r"([AaPp][Mm])", "ampm"),
}
# English month names, any case (%b: `Jun`, `JUN`; %B: `June`); the character classes keep the regex portable.
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")


def _any_case(word: str) -> str:
    return "".join(f"[{c.upper()}{c}]" for c in word)


DIRECTIVES["b"] = ("(" + "|".join(_any_case(m[:3]) for m in MONTHS) + ")", "month_name")
DIRECTIVES["B"] = ("(" + "|".join(_any_case(m) for m in MONTHS) + ")", "month_name")
TIME_DIRECTIVES = set("HIMSfp")


def _offset_minutes(zone: ZoneInfo, epoch_seconds: int) -> int:
    moment = datetime.fromtimestamp(epoch_seconds, timezone.utc).astimezone(zone)
    return int(moment.utcoffset().total_seconds() // 60)


def _transitions(name: str):
    """(utc minute of each change, offsets: before the first change, then after each)."""
    zone = ZoneInfo(name)
    start = int(FIRST_DAY.replace(tzinfo=timezone.utc).timestamp())
    days = (LAST_DAY - FIRST_DAY).days
    daily = [_offset_minutes(zone, start + d * 86400) for d in range(days + 1)]
    changes, offsets = [], [daily[0]]
    for d in range(days):
        if daily[d] == daily[d + 1]:
            continue
        low, high = (start + d * 86400) // 60, (start + (d + 1) * 86400) // 60  # minutes
        while high - low > 1:  # first minute with the new offset
            mid = (low + high) // 2
            if _offset_minutes(zone, mid * 60) == daily[d]:
                low = mid
            else:
                high = mid
        changes.append(high)
        offsets.append(daily[d + 1])
    return changes, offsets


def offsets_table(zone_names) -> pa.Table:
    """One row per (zone, local day): offset at local midnight, and the day's change if any.

    A change at UTC minute u from offset a to b takes effect at local minute
    u + max(a, b): before it the old offset applies (fold=0 for both gaps and folds).
    """
    columns = {"zone": [], "day": [], "offset_start": [], "switch_minute": [], "offset_after": []}
    days = (LAST_DAY - FIRST_DAY).days
    epoch = int(FIRST_DAY.replace(tzinfo=timezone.utc).timestamp()) // 60
    day_starts = epoch + np.arange(days, dtype=np.int64) * MINUTES_PER_DAY  # local minutes (naive epoch)
    for name in sorted(set(zone_names)):
        changes, offsets = _transitions(name)
        thresholds = np.array(
            [u + max(offsets[i], offsets[i + 1]) for i, u in enumerate(changes)], dtype=np.int64
        )
        offsets = np.array(offsets, dtype=np.int64)
        k = np.searchsorted(thresholds, day_starts, side="right")
        offset_start = offsets[k]
        has_next = k < len(thresholds)
        next_threshold = np.where(has_next, thresholds[np.minimum(k, max(len(thresholds) - 1, 0))]
                                  if len(thresholds) else 0, 0)
        switches = has_next & (next_threshold < day_starts + MINUTES_PER_DAY)
        switch_minute = np.where(switches, next_threshold - day_starts, -1)
        offset_after = np.where(switches, offsets[np.minimum(k + 1, len(offsets) - 1)], offset_start)
        columns["zone"].extend([name] * days)
        columns["day"].append(day_starts)
        columns["offset_start"].append(offset_start)
        columns["switch_minute"].append(switch_minute)
        columns["offset_after"].append(offset_after)
    def concat(parts):
        return np.concatenate(parts) if parts else np.array([], dtype=np.int64)
    day_minutes = concat(columns["day"])
    return pa.table({
        "zone": pa.array(columns["zone"], pa.string()),
        "day": pa.array((day_minutes // MINUTES_PER_DAY).astype("datetime64[D]"), pa.date32()),
        "offset_start": pa.array(concat(columns["offset_start"]), pa.int32()),
        "switch_minute": pa.array(concat(columns["switch_minute"]), pa.int32()),
        "offset_after": pa.array(concat(columns["offset_after"]), pa.int32()),
    })


def format_regex(fmt: str) -> tuple[str, list[str]]:
    """A strptime format as an anchored regex and the component each group holds."""
    pattern, parts, i = "", [], 0
    while i < len(fmt):
        char = fmt[i]
        if char == "%" and i + 1 < len(fmt):
            code = fmt[i + 1]
            if code == "%":
                pattern += "%"
            else:
                regex, part = DIRECTIVES[code]
                pattern += regex
                parts.append(part)
            i += 2
        elif char.isspace():
            pattern += r"\s+"
            while i < len(fmt) and fmt[i].isspace():
                i += 1
            continue
        else:
            pattern += re.escape(char)
            i += 1
    return f"^{pattern}$", parts


def date_part(fmt: str) -> str:
    """The format cut before its first time directive: '%m/%d/%Y %H:%M' -> '%m/%d/%Y'."""
    match = re.search(r"%[" + "".join(TIME_DIRECTIVES) + "]", fmt)
    return fmt[: match.start()].rstrip() if match else fmt


def _int(value):
    return value.nullif("").cast("int32")


# Parsing runs as a few stacked projections, each naming what the next one reads: an expression
# used twice is then computed once per value (inlined, the body's regex ran once per use and the
# SQL grew to hundreds of KB). The working columns start with PART and are dropped at the end.
PART = "__ts_"


def _with_format(t, body: str, fmt: str, name: str):
    """`t` plus column `name`: the naive timestamp of `body` parsed with a strptime format, null
    when it does not match."""
    pattern, parts = format_regex(fmt)
    got = {part: f"{name}_{part}" for part in parts}
    t = t.mutate(**{got[part]: t[body].re_extract(pattern, i + 1) for i, part in enumerate(parts)},
                 **{f"{name}_ok": t[body].re_search(pattern)})
    get = {part: t[column] for part, column in got.items()}
    if "year" in get:
        year = _int(get["year"])
    else:
        two = _int(get["year2"])
        year = ibis.cases((two < 69, two + 2000), else_=two + 1900)
    hour = _int(get["hour"]) if "hour" in get else ibis.literal(0)
    if "hour12" in get:
        h12 = _int(get["hour12"]) % 12
        pm = get["ampm"].upper() == "PM" if "ampm" in get else ibis.literal(False)
        hour = ibis.cases((pm, h12 + 12), else_=h12)
    minute = _int(get["minute"]) if "minute" in get else ibis.literal(0)
    second = _int(get["second"]) if "second" in get else ibis.literal(0)
    fraction = get["fraction"].rpad(6, "0") if "fraction" in get else ibis.literal("000000")
    t = t.mutate(**{f"{name}_y": year, f"{name}_h": hour, f"{name}_mi": minute, f"{name}_s": second})
    year, hour, minute, second = (t[f"{name}_{k}"] for k in ("y", "h", "mi", "s"))
    if "month" in get:
        month = _int(get["month"])
    else:
        abbreviation = get["month_name"].upper().substr(0, 3)
        month = ibis.cases(*[(abbreviation == m[:3].upper(), i + 1) for i, m in enumerate(MONTHS)],
                           else_=ibis.null("int32"))
    iso = (
        year.cast("string").lpad(4, "0") + "-" + month.cast("string").lpad(2, "0") + "-"
        + _int(get["day"]).cast("string").lpad(2, "0") + " " + hour.cast("string").lpad(2, "0") + ":"
        + minute.cast("string").lpad(2, "0") + ":" + second.cast("string").lpad(2, "0") + "." + fraction
    )
    return t.mutate(**{name: ibis.cases((t[f"{name}_ok"] & (hour < 24) & (minute < 60) & (second < 60),
                                         iso.try_cast("timestamp")), else_=ibis.null("timestamp"))})


def _iso_text(body):
    """An extended ISO body as `YYYY-MM-DD HH:MM:SS.ffffff` text (decimals cut to microseconds)."""
    return body.replace("T", " ").replace("t", " ").replace(",", ".").substr(0, ISO_LENGTH)


def _basic_text(body):
    """A basic ISO body (`20240206T100000`) as extended text."""
    part = {i: body.re_extract(ISO_BASIC, i) for i in range(1, 8)}
    date_ = part[1] + "-" + part[2] + "-" + part[3]
    time_ = (" " + part[4] + ":" + part[5] + ":" + ibis.cases((part[6] == "", "00"), else_=part[6])
             + part[7].replace(",", "."))
    return ibis.cases((part[4] == "", date_), else_=date_ + time_).substr(0, ISO_LENGTH)


def _digits(suffix):
    """The digits of an offset suffix (`Z`, `+05`, `+0530`, `-05:30`): its other characters dropped, without a
    global regex replace (the slowest string function here)."""
    for char in ("Z", "z", "+", "-", ":"):
        suffix = suffix.replace(char, "")
    return suffix


def naive_and_offset(t, column: str, fmt: str | None = None):
    """`t` plus `_naive` (the naive timestamp) and `_offset` (minutes, or null) read from the text
    in `column`; both null when unparseable.

    A value longer than MAX_LENGTH is unparseable without running any pattern on it: the
    work per value stays bounded however long a broken cell is.
    """
    v, suffix, body, naive = (f"{PART}{k}" for k in ("v", "suffix", "body", "naive"))
    t = t.mutate(**{v: ibis.cases((t[column].length() <= MAX_LENGTH, t[column]), else_=ibis.null("string"))})
    # The suffix regex runs only where an offset can be: a value ending in Z or with a sign in its last 6 characters.
    tail = t[v].right(6)
    maybe = tail.endswith("Z") | tail.endswith("z") | tail.contains("+") | tail.contains("-")
    t = t.mutate(**{suffix: ibis.cases((maybe, t[v].re_extract(OFFSET_SUFFIX, 1).nullif("")),
                                       else_=ibis.null("string"))})
    t = t.mutate(**{body: ibis.cases((t[suffix].notnull(), t[v].substr(0, t[v].length() - t[suffix].length()).rstrip()),
                                     else_=t[v])})
    # cheap character checks first: the extended form has '-' at index 4, the basic form no '-', ':' or '/'
    nothing = ibis.null("timestamp")
    b = t[body]
    extended = b.substr(4, 1) == "-"
    basic = ~(b.contains("-") | b.contains(":") | b.contains("/"))
    t = t.mutate(**{naive: ibis.cases(
        (extended, ibis.cases((b.re_search(ISO_BODY), _iso_text(b).try_cast("timestamp")), else_=nothing)),
        (basic, ibis.cases((b.re_search(ISO_BASIC), _basic_text(b).try_cast("timestamp")), else_=nothing)),
        else_=nothing,
    ), f"{PART}digits": _digits(t[suffix])})
    if fmt:
        # a naive value that is not ISO: the format, else its date part (the patterns run on those values only)
        local, other = f"{PART}local", f"{PART}other"
        t = t.mutate(**{local: ibis.cases((t[suffix].isnull() & t[naive].isnull(), t[body]), else_=ibis.null("string"))})
        t = _with_format(t, local, fmt, f"{PART}f1")
        found = t[f"{PART}f1"]
        if date_part(fmt) != fmt:
            t = t.mutate(**{other: ibis.cases((found.isnull(), t[local]), else_=ibis.null("string"))})
            t = _with_format(t, other, date_part(fmt), f"{PART}f2")
            found = ibis.coalesce(t[f"{PART}f1"], t[f"{PART}f2"])
        t = t.mutate(**{naive: ibis.coalesce(t[naive], found)})
    digits = t[f"{PART}digits"]
    t = t.mutate(**{f"{PART}minutes": ibis.cases((digits.length() == 4, digits.substr(2, 2).cast("int32")), else_=0)})
    minutes = t[f"{PART}minutes"]
    magnitude = digits.substr(0, 2).nullif("").cast("int32") * 60 + minutes
    offset = ibis.cases(
        (t[suffix].upper() == "Z", ibis.literal(0)),
        (t[suffix].startswith("-"), -magnitude),
        (t[suffix].notnull(), magnitude),
        else_=ibis.null("int32"),
    )
    t = t.mutate(_offset=offset)
    # An offset no clock uses (`+99:99`, `+15:00`, `-13:00`) makes the value unparseable, not shifted.
    impossible = t._offset.notnull() & ((minutes >= 60) | (t._offset < MIN_OFFSET_MINUTES)
                                        | (t._offset > MAX_OFFSET_MINUTES))
    t = t.mutate(_naive=ibis.cases((impossible.fill_null(False), ibis.null("timestamp")), else_=t[naive]))
    return t.drop(*[c for c in t.columns if c.startswith(PART)])


def parse_column(table, column: str, zone, offsets, fmt: str | None = None):
    """`table` with `column` (text) replaced by its UTC timestamp; `zone` is the row's IANA zone.

    Adds `_<column>_text` (the cleaned text) so callers can tell missing from unparseable.
    """
    step = naive_and_offset(table.mutate(_zone=zone, _text=table[column]), "_text", fmt)
    joined_ = step.left_join(offsets, [step._zone == offsets.zone, step._naive.date() == offsets.day])
    minute = joined_._naive.hour() * 60 + joined_._naive.minute()
    local_offset = ibis.cases(
        ((joined_.switch_minute >= 0) & (minute >= joined_.switch_minute), joined_.offset_after),
        else_=joined_.offset_start,
    ).fill_null(0)
    used = ibis.coalesce(joined_._offset, local_offset)
    utc = (joined_._naive - used.as_interval("m")).cast("timestamp('UTC')")
    keep = [c for c in table.columns if c != column]
    return joined_.select(*keep, **{column: utc, f"_{column}_text": joined_._text})
