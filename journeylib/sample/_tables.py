"""From persons and events to the seven export tables, with the mess added on top.

Each table is built as integer index columns into small string pools (so
millions of rows cost a few numpy arrays), then spelled out with Arrow and
written with pyarrow.csv. Mess rows are extra rows (or harmless re-spellings of
clean rows), so the clean data and its truth stay exact.
"""

from __future__ import annotations


import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from journeylib.sample import _spec as S
from journeylib.sample import _text as T
from journeylib.sample._calendar import (
    DATE_ONLY, NAIVE, NAIVE_SPACE, US, Z, ambiguous_local,
)
from journeylib.sample._people import categorical

CHUNK_ROWS = 1_000_000


# --- small helpers -------------------------------------------------------------------------
def pool(values) -> pa.Array:
    return pa.array(list(values), pa.string())


def take(pool_array: pa.Array, index: np.ndarray) -> pa.Array:
    return pool_array.take(pa.array(np.asarray(index, dtype=np.int64)))


def patch(array: pa.Array, rows: np.ndarray, values) -> pa.Array:
    """`array` with `rows` replaced by `values` (strings)."""
    rows = np.asarray(rows, dtype=np.int64)
    if rows.size == 0:
        return array
    index = np.arange(len(array), dtype=np.int64)
    index[rows] = len(array) + np.arange(rows.size)
    return pa.concat_arrays([array, pa.array(list(values), pa.string())]).take(pa.array(index))


def number_strings(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    import pyarrow.compute as pc

    digits = pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()), width, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")


def pick(rng, rows: np.ndarray, share: float, minimum: int = 1) -> np.ndarray:
    """A random subset of `rows`: about `share` of them, at least `minimum` (when there are any)."""
    rows = np.asarray(rows)
    if rows.size == 0:
        return rows
    k = min(rows.size, max(minimum, int(round(share * rows.size))))
    return np.sort(rng.choice(rows, size=k, replace=False))


def time_formats(rng, t, tz, shares: dict) -> np.ndarray:
    """A format code per row (naive spellings fall back to Z in the ambiguous fall-back hour)."""
    codes = np.array(list(shares), dtype=np.int8)
    kind = codes[categorical(rng, np.array(list(shares.values())), size=len(t))]
    naive = np.isin(kind, [NAIVE, NAIVE_SPACE, DATE_ONLY, US])
    if naive.any():
        rows = np.flatnonzero(naive)
        bad = ambiguous_local(t[rows], tz[rows])
        kind[rows[bad]] = Z
    return kind


def row_tz(dealer: np.ndarray) -> np.ndarray:
    """Time zone code per row: the dealer's, else the configured default."""
    dealer = np.asarray(dealer)
    return np.where(dealer >= 0, S.DEALER_TZ[np.clip(dealer, 0, None)], S.DEFAULT_TZ_CODE).astype(np.int8)


def spelling_pool(spellings: dict, canonical: list) -> tuple[list, np.ndarray, np.ndarray]:
    """A flat list of spellings with, per canonical code, its start and count."""
    flat, start, count = [], [], []
    for name in canonical:
        variants = spellings.get(name, [name])
        start.append(len(flat))
        count.append(len(variants))
        flat.extend(variants)
    return flat, np.array(start), np.array(count)


def spell(rng, codes: np.ndarray, start: np.ndarray, count: np.ndarray) -> np.ndarray:
    """A spelling index per row: the clean spelling for CLEAN_SPELLING_SHARE, else another one."""
    n = codes.size
    k = count[codes]
    other = 1 + (rng.random(n) * np.maximum(k - 1, 1)).astype(np.int64)
    choice = np.where((rng.random(n) < T.CLEAN_SPELLING_SHARE) | (k == 1), 0, np.minimum(other, k - 1))
    return start[codes] + choice


class Writer:
    """Writes CSV files and keeps the row counts."""

    def __init__(self, folder):
        self.folder = folder
        self.rows = {}

    def write(self, name: str, columns: dict) -> None:
        table = pa.table({k: (v if isinstance(v, (pa.Array, pa.ChunkedArray)) else pa.array(v)) for k, v in columns.items()})
        with pacsv.CSVWriter(self.folder / f"{name}.csv", table.schema,
                             write_options=pacsv.WriteOptions(quoting_style="needed")) as out:
            out.write_table(table)
        self.rows[name] = self.rows.get(name, 0) + table.num_rows

    def open(self, name: str, names: list):
        schema = pa.schema([(n, pa.string()) for n in names])
        self.rows[name] = 0
        return pacsv.CSVWriter(self.folder / f"{name}.csv", schema,
                               write_options=pacsv.WriteOptions(quoting_style="needed"))
