"""What went into a run (notebook 00): row accounting, unknown labels, merged customers, events and coverage.

    from journeylib import data_quality
    result = data_quality.analyse(ProcessedTables(folder), data_quality.Params(top_unknown=10))
    result.accounting_        # per table: raw, kept, one column per reject reason present, rejected, balanced
    result.metrics()          # the `data_quality` section of metrics.json (docs/metrics.md)
    result.rows_sentence()    # a takeaway, as the notebook shows it

Everything is read from summary.json and the processed tables; nothing here is estimated.
The runner's own `data` section (journeylib.run.manifest) counts the same rows for schedulers;
this section is the notebook's reading of them. Files, as in every analysis package: `params`,
`inputs` (the only module reading `ProcessedTables`), `analyse` (the topic calls in notebook
order), `result` (Result and its metrics), `sentences` (the takeaways, methods of Result); topics
as functions on DataFrames: `accounting` (rows kept and set aside, the offending values),
`unknown` (labels the taxonomy does not know), `identity` (merged records), `events` (per month,
per dealer, coverage) and `lacking` (what the exports lack, as notes).
"""

from __future__ import annotations

from journeylib.data_quality.analyse import analyse  # first, so `data_quality.analyse` is the function
from journeylib.data_quality.params import Params
from journeylib.data_quality.result import Result
from journeylib.analysis import lazy_names

SECTION = "data_quality"
NOTEBOOK = "00_data_quality"

__all__ = ["Params", "analyse", "Result", "SECTION", "NOTEBOOK"]

# Older names kept for callers (tests read `offending`); new code imports them from the module named.
_OLD_NAMES = {"DataQuality": ("result", "Result"), "offending": ("accounting", "offending"),
              "REASONS": ("accounting", "REASONS"), "LABELLED_COLUMNS": ("unknown", "LABELLED_COLUMNS"),
              "MATCHED_ON": ("identity", "MATCHED_ON"), "TABLE_WORDS": ("lacking", "TABLE_WORDS"),
              "UNKNOWN_CHANNEL_NOTE": ("lacking", "UNKNOWN_CHANNEL_NOTE")}


__getattr__ = lazy_names(__name__, _OLD_NAMES)
