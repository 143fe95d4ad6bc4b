"""Time to purchase (notebook 02): how long from first touch to purchase, what speeds it up, and who to call.

    from journeylib import time_to_purchase
    result = time_to_purchase.analyse(ProcessedTables(folder), time_to_purchase.Params())
    result.metrics()                  # the `time_to_purchase` section of metrics.json
    result.takeaways("model")         # a section's takeaways, as the notebook shows them

Files, as in every analysis package: `params` (Params), `inputs` (the only module reading
`ProcessedTables`), `analyse` (the topic calls in notebook order), `result` (Result and its metrics),
`sentences` (the takeaways and reviewer tables, methods of Result); topics as functions on DataFrames:
`leads` (the start/stop rows; the lead table itself is `journeylib.derived.leads`), `coding` (sparse
levels, references, dummy columns), `fallbacks` (what a fit that does not converge falls back to), `cox`
(the time-varying Cox model; its Efron likelihood is `efron`), `risksets` (concordance, Breslow hazard),
`checks` (proportional hazards and remedies), `km` (Kaplan-Meier, restricted means; the curve, log-rank
and Cox helpers shared with notebook 04 are `journeylib.stats.survival`), `aft` / `weibull` (the Weibull
cross-check), `scenario` (the test-drive scenario), `lead_history` / `lead_model` / `lead_scores` /
`lead_backtest` (who to call: open leads' chances of buying within 30 and 90 days, their reasons, the
files and the backtest; `lead_cox` the Cox alternative they were chosen against).
scipy and lifelines are imported inside the functions that use them. Definitions: docs/time_to_purchase.md.
"""

from __future__ import annotations

from journeylib.time_to_purchase.analyse import analyse  # first, so `time_to_purchase.analyse` is the function
from journeylib.time_to_purchase.params import Params
from journeylib.time_to_purchase.result import Result
from journeylib.analysis import lazy_names

SECTION = "time_to_purchase"
NOTEBOOK = "02_time_to_purchase"

__all__ = ["Params", "analyse", "Result", "SECTION", "NOTEBOOK"]

# Older names kept for callers (tests, benchmarks, notebook 04 before the survival helpers moved down):
# name -> (module defining it, attribute), imported on first use. New code imports them from that module.
_OLD_NAMES = {
    "TimeToPurchaseResult": ("journeylib.time_to_purchase.result", "Result"),
    **{name: ("journeylib.stats.survival", name) for name in ("fit_cox", "hazard_ratios", "kaplan_meier", "logrank")},
    **{name: ("journeylib.derived.leads", name) for name in ("ID", "customer_table", "model_day")},
    **{name: ("journeylib.time_to_purchase.lead_scores", name) for name in ("score_leads", "write_lead_lists")},
}


__getattr__ = lazy_names(__name__, _OLD_NAMES)
