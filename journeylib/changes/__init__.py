"""What changed, and is it real (notebook 06; definitions: docs/what_changed.md).

    from journeylib import changes
    result = changes.analyse(ProcessedTables(folder), changes.Params(period="week"))
    result.flagged_      # the flagged comparisons, largest first, with their sentence
    result.metrics()     # the `changes` section of metrics.json (docs/metrics.md)
    result.summary       # the headline, as the notebook shows it

The latest complete period of each measure is compared with the pooled baseline periods before it
(and with the same period a year earlier), overall, per dealer and per acquisition channel; every
comparison has an effect with a 95% interval and a p-value (`journeylib.stats.comparisons`), and the
family is controlled for false discoveries (Benjamini-Hochberg at q). A comparison is flagged when it
is beyond chance, at least a practical threshold and not seasonal (`screen`); a group's change that
explains others is reported once with them beneath it, across groupings (a dealer behind a channel's
drop), and a group's other measures in the same period are listed beneath its headline (`nesting`).

Files, as in every analysis package: `params`, `inputs` (the only module reading `ProcessedTables`),
`analyse` (the topic calls in notebook order; `what_changed` on tables already loaded), `result`
(Result, its tables and metrics), `sentences` (the sentences, and the headline and thresholds as
properties of Result); topics as functions on DataFrames: `cohorts` (units, periods, measures),
`compare` (groups, sparse levels), `screen`, `nesting`, `detectable`. The figure is
journeylib.figures.changes.
"""

from __future__ import annotations

from journeylib.changes.analyse import analyse  # first, so `changes.analyse` is the function, not the module
from journeylib.changes.params import Params
from journeylib.changes.result import Result
from journeylib.analysis import lazy_names

SECTION = "changes"
NOTEBOOK = "06_what_changed"

__all__ = ["Params", "analyse", "Result", "SECTION", "NOTEBOOK"]

# Older names kept for callers (tests call `changes.what_changed`); new code imports them from the module named.
_OLD_NAMES = {"WhatChanged": ("result", "Result"), "what_changed": ("analyse", "what_changed"),
              "load_inputs": ("inputs", "load_inputs"), "Measure": ("cohorts", "Measure"),
              "Population": ("cohorts", "Population")}


__getattr__ = lazy_names(__name__, _OLD_NAMES)
