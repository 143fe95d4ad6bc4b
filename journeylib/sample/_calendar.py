"""Time zones and fast, fixed-width timestamp formatting (numpy bytes -> Arrow strings).

Times are int64 seconds since the Unix epoch. `offsets(t, tz)` gives the UTC
offset in seconds of each instant at each row's time zone (US zones, computed
once from zoneinfo's transitions); the formatters write the export spellings
without going through Python objects, so millions of rows take a second.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from journeylib.sample._spec import TIMEZONES

_GRID_START = 1_640_995_200  # 2022-01-01
_GRID_END = 1_830_297_600    # 2028-01-01


@lru_cache(maxsize=None)
def _transitions(tz_name: str) -> tuple[np.ndarray, np.ndarray]:
    """(instants, offsets): the offset in force from each instant on, 2022..2027."""
    zone = ZoneInfo(tz_name)

    def offset(t: int) -> int:
        return int(dt.datetime.fromtimestamp(t, zone).utcoffset().total_seconds())

    starts, values = [_GRID_START], [offset(_GRID_START)]
    for day in range(_GRID_START, _GRID_END, 86_400):
        if offset(day + 86_400) != values[-1]:
            hour = day
            while offset(hour) == values[-1]:
                hour += 3_600
            starts.append(hour)
            values.append(offset(hour))
    return np.array(starts, dtype=np.int64), np.array(values, dtype=np.int64)


def offsets(t: np.ndarray, tz: np.ndarray) -> np.ndarray:
    """UTC offset (seconds) of instants `t` at time zones `tz` (indexes into TIMEZONES)."""
    t = np.asarray(t, dtype=np.int64)
    tz = np.broadcast_to(np.asarray(tz), t.shape)
    out = np.zeros(t.shape, dtype=np.int64)
    for code, name in enumerate(TIMEZONES):
        rows = np.flatnonzero(tz == code)
        if rows.size:
            starts, values = _transitions(name)
            out[rows] = values[np.searchsorted(starts, t[rows], side="right") - 1]
    return out


def ambiguous_local(t: np.ndarray, tz: np.ndarray) -> np.ndarray:
    """True where the local wall-clock time of `t` occurs twice (the fall-back hour)."""
    here = offsets(t, tz)
    return (offsets(t + 3_600, tz) == here - 3_600) | (offsets(t - 3_600, tz) == here + 3_600)


def local_to_utc(wall: np.ndarray, tz: np.ndarray) -> np.ndarray:
    """The instant whose local time at `tz` is `wall` (never called in gaps or folds)."""
    guess = wall - offsets(wall, tz)
    return wall - offsets(guess, tz)


def local_midnight(t: np.ndarray, tz: np.ndarray) -> np.ndarray:
    """The instant of local midnight starting the local day of `t`."""
    wall = t + offsets(t, tz)
    return local_to_utc(wall - wall % 86_400, tz)


# ---------------------------------------------------------------------------------------
def _civil(wall: np.ndarray):
    wall = np.asarray(wall, dtype=np.int64)
    days = wall // 86_400
    seconds = wall - days * 86_400
    d = days.astype("datetime64[D]")
    month_start = d.astype("datetime64[M]")
    year = month_start.astype("datetime64[Y]").astype(np.int64) + 1970
    month = month_start.astype(np.int64) % 12 + 1
    day = (d - month_start.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day, seconds // 3_600, seconds // 60 % 60, seconds % 60


def _put(matrix: np.ndarray, column: int, values: np.ndarray, width: int) -> None:
    values = np.abs(values)
    for i in range(width):
        matrix[:, column + width - 1 - i] = 48 + (values // 10 ** i) % 10


def _strings(matrix: np.ndarray) -> pa.Array:
    n, width = matrix.shape
    offs = pa.py_buffer((np.arange(n + 1, dtype=np.int32) * width).tobytes())
    return pa.StringArray.from_buffers(n, offs, pa.py_buffer(np.ascontiguousarray(matrix).tobytes()))


def _render(wall: np.ndarray, template: str, offset: np.ndarray | None = None) -> pa.Array:
    """Fill `template` (Y M D h m s o: year, month, day, hour, minute, second, ±HH:MM)."""
    n = len(wall)
    matrix = np.empty((n, len(template)), dtype=np.uint8)
    matrix[:] = np.frombuffer(template.encode(), dtype=np.uint8)
    if n == 0:
        return pa.array([], pa.string())
    year, month, day, hour, minute, second = _civil(wall)
    fields = {"YYYY": year, "MM": month, "DD": day, "hh": hour, "mm": minute, "ss": second}
    for key, values in fields.items():
        pos = template.find(key)
        if pos >= 0:
            _put(matrix, pos, values, len(key))
    pos = template.find("+HH:MM")
    if pos >= 0:
        matrix[:, pos] = np.where(offset < 0, ord("-"), ord("+"))
        _put(matrix, pos + 1, np.abs(offset) // 3_600, 2)
        _put(matrix, pos + 4, np.abs(offset) // 60 % 60, 2)
    return _strings(matrix)


# format codes for a timestamp column
Z, OFFSET, NAIVE, NAIVE_SPACE, DATE_ONLY, US = range(6)


def format_times(t: np.ndarray, tz: np.ndarray, kind: np.ndarray) -> pa.Array:
    """Spell instants `t` (UTC seconds) per `kind`; local spellings use each row's `tz`."""
    t = np.asarray(t, dtype=np.int64)
    kind = np.broadcast_to(np.asarray(kind, dtype=np.int8), t.shape)
    off = offsets(t, tz) if np.any(kind != Z) else np.zeros_like(t)
    wall = t + off
    templates = {Z: "YYYY-MM-DDThh:mm:ssZ", OFFSET: "YYYY-MM-DDThh:mm:ss+HH:MM", NAIVE: "YYYY-MM-DDThh:mm:ss",
                 NAIVE_SPACE: "YYYY-MM-DD hh:mm:ss", DATE_ONLY: "YYYY-MM-DD", US: "MM/DD/YYYY hh:mm"}
    order = np.argsort(kind, kind="stable")
    pieces = []
    for code, template in templates.items():
        rows = order[kind[order] == code]
        if rows.size:
            source = t if code == Z else wall
            pieces.append(_render(source[rows], template, off[rows]))
    return in_row_order(pieces, order)


def in_row_order(pieces: list, order: np.ndarray) -> pa.Array:
    """String pieces rendered group by group (their rows listed in `order`), put back in row order."""
    if not pieces:
        return pa.array([], pa.string())
    combined = pa.concat_arrays(pieces)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    return combined.take(pa.array(inverse))
