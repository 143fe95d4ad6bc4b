"""Reading the processed tables: the pandas boundary the notebooks see."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from journeylib import asof, paths
from journeylib.errors import InputError

from journeylib.vocabulary import OPTIONAL_TABLES, TABLES


MAX_CUSTOMERS_ENV = "JOURNEY_MAX_CUSTOMERS"
SAMPLE_HASH_KEY = "journeylibsample"  # 16 characters (pandas' hash key); changing it changes every sample
CUSTOMER_KEYS = {"referrals": "referrer_customer_id"}  # a referral is a row of the customer who referred


class MissingProcessedData(FileNotFoundError):
    pass


class AsOfMismatch(InputError, ValueError):
    """An `as_of` that is not the day the processed data was prepared as of (a ValueError, as it was)."""


def _folder(processed_dir) -> Path:
    folder = paths.processed_dir(processed_dir)
    if not (folder / "summary.json").exists():
        raise MissingProcessedData(
            f"{folder}: no processed data (summary.json missing); run `journey prepare` or `journey run` first"
        )
    return folder


def load(name: str, processed_dir=None, columns=None, filters=None, categories=None) -> pd.DataFrame:
    """One processed table as a DataFrame (timestamps tz-aware UTC).

    `filters` (pyarrow's, e.g. [("event_type", "in", [...])]) are applied while the file is read, so
    the rows left out of a large table never reach memory. `categories`: text columns to read as pandas
    Categoricals (codes and one copy of each value, not a Python string per row: a tenth of the memory
    for the event log's repeated ids and labels).
    """
    if name not in TABLES + OPTIONAL_TABLES:
        raise ValueError(f"unknown processed table {name!r}; expected one of {TABLES + OPTIONAL_TABLES}")
    path = _folder(processed_dir) / f"{name}.parquet"
    if not path.exists():
        raise MissingProcessedData(f"{path}: table not found; run `journey run` to build it")
    options = {"read_dictionary": list(categories)} if categories else {}
    frame = pd.read_parquet(path, columns=columns, filters=filters, **options)
    return frame if filters is None else frame.reset_index(drop=True)


def load_all(processed_dir=None, names=TABLES) -> dict[str, pd.DataFrame]:
    return {name: load(name, processed_dir) for name in names}


def summary(processed_dir=None) -> dict:
    return json.loads((_folder(processed_dir) / "summary.json").read_text(encoding="utf-8"))


def prepared_as_of(processed_dir=None) -> pd.Timestamp:
    """The as-of date the processed data was built with (UTC)."""
    stamp = pd.Timestamp(summary(processed_dir)["as_of"])
    return stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")


as_of = prepared_as_of  # the older name, kept for callers


class ProcessedTables:
    """The processed tables of one prepare, as the analyses read them: `analyse(tables, params)`.

    Holds the folder and the as-of date the data was prepared with (a different
    `as_of` is an error, not a silent mix); tables are read when asked for, with
    only the columns and rows an analysis needs. `as_of` is read by
    `journeylib.asof.parse_as_of`, as `journey prepare --as-of` reads it, in `timezone`
    (default: summary.json's `default_timezone` if prepare recorded it, else the
    configured zone, `asof.configured_zone()`); it must name the prepared day there.
    """

    def __init__(self, processed_dir=None, as_of=None, max_customers=None, timezone=None):
        self.folder = _folder(processed_dir)
        built = prepared_as_of(self.folder)
        if as_of not in (None, ""):
            _check_as_of(as_of, built, timezone or self.summary().get("default_timezone"))
        self.as_of = built
        self.max_customers = _max_customers(max_customers)
        self.customers, self.chosen = _choose_customers(self.folder, self.max_customers)
        # One plain sentence for the report when the figures are of a sample (None when they are not).
        self.sample_note = None if self.chosen is None else (
            f"These figures use a random {len(self.chosen):,} of the {self.customers:,} customers, "
            "with every row of each chosen customer.")

    def load(self, name: str, columns=None, filters=None, categories=None) -> pd.DataFrame:
        """One table; above max_customers, only the rows of the chosen customers (tables without a
        customer, such as dealers and rejects, whole). `categories`: as for `load`."""
        key = self._customer_key(name)
        if key is not None:
            chosen = ds.field(key).isin(self.chosen)
            filters = chosen if filters is None else pq.filters_to_expression(filters) & chosen
        return load(name, self.folder, columns=columns, filters=filters, categories=categories)

    def _customer_key(self, name: str) -> str | None:
        if self.chosen is None or not self.has(name):
            return None
        key = CUSTOMER_KEYS.get(name, "customer_id")
        return key if key in pq.read_schema(self.folder / f"{name}.parquet").names else None

    def has(self, name: str) -> bool:
        return (self.folder / f"{name}.parquet").exists()

    def summary(self) -> dict:
        return summary(self.folder)

    def __repr__(self) -> str:
        return f"ProcessedTables({str(self.folder)!r}, as_of={self.as_of.date()})"


def _check_as_of(value, built: pd.Timestamp, zone: str | None) -> None:
    """A requested as-of that is not the prepared day (in the configured zone) is an InputError."""
    zone = zone or asof.configured_zone()
    if not asof.names_prepared_day(value, built.to_pydatetime(), zone):
        raise AsOfMismatch(
            f"as_of={value} but the processed data was prepared as of {asof.local_day(built, zone)} ({zone}); "
            "run `journey prepare --as-of` (or `journey run --as-of`) with the same date"
        )


def _max_customers(value) -> int | None:
    """The limit asked for, else $JOURNEY_MAX_CUSTOMERS, else none."""
    source = "max_customers"
    if value is None:
        value, source = os.environ.get(MAX_CUSTOMERS_ENV, "").strip() or None, MAX_CUSTOMERS_ENV
    if value is None:
        return None
    try:
        number = int(str(value).replace(",", "").replace("_", ""))
    except ValueError:
        number = 0
    if number < 1 or isinstance(value, bool):
        raise ValueError(f"{source}={value}: expected a whole number of customers, at least 1")
    return number


def _choose_customers(folder: Path, limit: int | None) -> tuple[int | None, pa.Array | None]:
    """(customers in the data, or None without a limit; the chosen customer ids, or None when all are used).

    The chosen ones are the `limit` ids with the smallest hash of the id (ties in file order, which is
    by id): a random-looking set that is the same in every notebook, run and engine for the same data.
    """
    if limit is None:
        return None, None  # nothing to choose: the customers are not even counted
    path = folder / "customers.parquet"
    customers = pq.ParquetFile(path).metadata.num_rows
    if customers <= limit:
        return customers, None
    ids = pq.read_table(path, columns=["customer_id"]).column(0).combine_chunks()
    hashes = pd.util.hash_array(ids.to_numpy(zero_copy_only=False).astype(object), encoding="utf8",
                                hash_key=SAMPLE_HASH_KEY, categorize=False)
    keep = np.sort(np.argsort(hashes, kind="stable")[:limit])
    return customers, ids.take(pa.array(keep))
