"""The journey map (notebook 01): funnel, drop-off, time between stages, channels, paths, flows, attribution.

    from journeylib import journey_map
    result = journey_map.analyse(ProcessedTables(folder), journey_map.Params())
    result.funnel_, result.credits_, result.map_table_ ...   # tables the figures draw
    result.metrics()                                          # the `journey` section of metrics.json
    result.funnel_sentence()                                  # a takeaway, as the notebook shows it

Two inputs, two engines: the `journeys` table (one row per customer) is read into pandas; the
event log stays in the engine that prepared it (`engine.connect`, a `journeylib.engine.Engine`)
and only small summaries (per variant, transition, stage and channel, distinct path) come back.

Files, as in every analysis package: `params` (Params), `inputs` (the only module reading
`ProcessedTables`), `analyse` (the topic calls in notebook order), `result` (Result and its
metrics), `sentences` (the takeaways, methods of Result), `views` (the picks they name, derived
tables); topics as functions on DataFrames and Ibis tables: `funnel` (the five stages),
`funnels` (configured funnels with windows), `groups`, `channels`, `variants`, `attribution`,
`revenue` (revenue credit), `markov_k` (Markov of order k), `compare` (what buyers do that
others don't), `surveys`, `poster`, and `engine` (the event log's shared expressions). Figures
are in `journeylib.figures.journey`. ibis and scipy are imported where they are used.
Definitions: docs/journey_map.md.
"""

from __future__ import annotations

from journeylib.journey_map.analyse import analyse  # first, so `journey_map.analyse` is the function, not the module
from journeylib.journey_map.params import Params
from journeylib.journey_map.result import NOTEBOOK, SECTION, Result
from journeylib.analysis import lazy_names

__all__ = ["Params", "analyse", "Result", "SECTION", "NOTEBOOK"]

# Older names kept for callers (tests use `JourneyMapResult`, `SegmentMap`); new code imports them from `result`.
_OLD_NAMES = {"JourneyMapResult": ("result", "Result"), "SegmentMap": ("result", "SegmentMap")}


__getattr__ = lazy_names(__name__, _OLD_NAMES)
