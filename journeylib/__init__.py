"""journeylib: clean dealer exports into customer journeys and analyse them.

The heavy event-level work lives in `journeylib.prepare` (Ibis on DuckDB);
the notebooks read the processed Parquet tables through `journeylib.tables`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("journeylib")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"

from journeylib.vocabulary import STAGES  # noqa: E402,F401 - journeylib.STAGES is the public name
