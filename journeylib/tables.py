"""Reading the processed tables: the pandas boundary the notebooks see."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from journeylib import paths

TABLES = (
    "customers", "identity_map", "touchpoints", "sales", "service_visits", "surveys",
    "referrals", "dealers", "journeys", "rejects",
)
OPTIONAL_TABLES = ("personas",)


class MissingProcessedData(FileNotFoundError):
    pass


def _folder(processed_dir) -> Path:
    folder = paths.processed_dir(processed_dir)
    if not (folder / "summary.json").exists():
        raise MissingProcessedData(
            f"{folder}: no processed data (summary.json missing); run `journey prepare` or `journey run` first"
        )
    return folder


def load(name: str, processed_dir=None, columns=None, filters=None) -> pd.DataFrame:
    """One processed table as a DataFrame (timestamps tz-aware UTC).

    `filters` (pyarrow's, e.g. [("event_type", "in", [...])]) are applied while the file is read, so
    the rows left out of a large table never reach memory.
    """
    if name not in TABLES + OPTIONAL_TABLES:
        raise ValueError(f"unknown processed table {name!r}; expected one of {TABLES + OPTIONAL_TABLES}")
    path = _folder(processed_dir) / f"{name}.parquet"
    if not path.exists():
        raise MissingProcessedData(f"{path}: table not found; run `journey run` to build it")
    frame = pd.read_parquet(path, columns=columns, filters=filters)
    return frame if filters is None else frame.reset_index(drop=True)


def load_all(processed_dir=None, names=TABLES) -> dict[str, pd.DataFrame]:
    return {name: load(name, processed_dir) for name in names}


def summary(processed_dir=None) -> dict:
    return json.loads((_folder(processed_dir) / "summary.json").read_text(encoding="utf-8"))


def as_of(processed_dir=None) -> pd.Timestamp:
    """The as-of date the processed data was built with (UTC)."""
    stamp = pd.Timestamp(summary(processed_dir)["as_of"])
    return stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")
