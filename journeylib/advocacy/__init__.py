"""Advocacy: NPS, who refers, and what referrals bring (notebook 04; definitions: docs/advocacy.md).

    from journeylib import advocacy
    result = advocacy.analyse(ProcessedTables(folder), advocacy.Params())
    result.metrics()                  # the `advocacy` section of metrics.json
    result.referral_rate_sentence()   # a takeaway, as the notebook shows it

Files, as in every analysis package: `params` (Params), `inputs` (the only module reading
`ProcessedTables`), `analyse` (the topic calls in notebook order), `result` (Result and its
metrics), `sentences` (the takeaways, methods of Result); topics as functions on DataFrames:
`nps`, `referrals` (which referrals count, rates, funnel, k-factor), `count_models` (Poisson,
NB2, rate ratios, zero inflation), `zinb`, `lead_times`, `chains`, `reviews`.
scipy, statsmodels and lifelines are imported inside the functions that use them, so
`import journeylib.advocacy` costs pandas and little more.
"""

from __future__ import annotations

from journeylib.advocacy.analyse import analyse  # first, so `advocacy.analyse` is the function, not the module
from journeylib.advocacy.params import Params
from journeylib.advocacy.result import Result
from journeylib.analysis import lazy_names

SECTION = "advocacy"
NOTEBOOK = "04_advocacy_referrals"

__all__ = ["Params", "analyse", "Result", "SECTION", "NOTEBOOK"]

# Older names kept for callers (changes reads `advocacy.dedupe_surveys` and `attach_dealer`); new code
# imports them from `advocacy.inputs`.
_OLD_NAMES = {"AdvocacyResult": ("result", "Result"), "dedupe_surveys": ("inputs", "dedupe_surveys"),
              "attach_dealer": ("inputs", "attach_dealer")}


__getattr__ = lazy_names(__name__, _OLD_NAMES)
