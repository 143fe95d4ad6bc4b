"""Reading the processed tables: the pandas boundary the notebooks see."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from journeylib import paths

from journeylib.vocabulary import OPTIONAL_TABLES, TABLES


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


class ProcessedTables:
    """The processed tables of one prepare, as the analyses read them: `analyse(tables, params)`.

    Holds the folder and the as-of date the data was prepared with (a different
    `as_of` is an error, not a silent mix); tables are read when asked for, with
    only the columns and rows an analysis needs.
    """

    def __init__(self, processed_dir=None, as_of=None):
        self.folder = _folder(processed_dir)
        built = globals()["as_of"](self.folder)
        if as_of not in (None, ""):
            wanted = pd.Timestamp(as_of)
            wanted = wanted.tz_convert("UTC") if wanted.tzinfo else wanted.tz_localize("UTC")
            if wanted.normalize() != built.normalize():
                raise ValueError(
                    f"as_of={as_of} but the processed data was prepared as of {built.date()}; "
                    "run `journey prepare --as-of` (or `journey run --as-of`) with the same date"
                )
        self.as_of = built

    def load(self, name: str, columns=None, filters=None) -> pd.DataFrame:
        return load(name, self.folder, columns=columns, filters=filters)

    def has(self, name: str) -> bool:
        return (self.folder / f"{name}.parquet").exists()

    def summary(self) -> dict:
        return summary(self.folder)

    def __repr__(self) -> str:
        return f"ProcessedTables({str(self.folder)!r}, as_of={self.as_of.date()})"
