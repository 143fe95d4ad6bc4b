"""journeylib: clean dealer exports into customer journeys and analyse them.

The heavy event-level work lives in `journeylib.prepare` (Ibis on DuckDB);
the notebooks read the processed Parquet tables through `journeylib.tables`.
`journeylib.analyse_all(processed_dir)` computes every notebook's metrics without
papermill (its home is `journeylib.headless`, imported on first use so that
`import journeylib` stays cheap).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("journeylib")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"

from journeylib.vocabulary import STAGES  # noqa: E402,F401 - journeylib.STAGES is the public name

# Public names imported on first use: name -> module that defines it.
LAZY = {"analyse_all": "journeylib.headless", "ProcessedTables": "journeylib.tables"}

__all__ = ["STAGES", "__version__", *LAZY]


def __getattr__(name: str):
    if name in LAZY:
        import importlib

        value = getattr(importlib.import_module(LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'journeylib' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(LAZY))
