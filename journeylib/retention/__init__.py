"""Retention after the sale (notebook 03): who stops coming back to service, and why.

    from journeylib import retention
    result = retention.analyse(ProcessedTables(folder), retention.Params())
    result.metrics()                  # the `retention` section of metrics.json
    result.takeaways("overall")       # a section's takeaways, as the notebook shows them

Files, as in every analysis package: `params` (Params), `inputs` (the only module reading
`ProcessedTables`), `analyse` (the topic calls in notebook order), `result` (Result and its metrics),
`sentences` (the takeaways and reviewer tables, methods of Result); topics as functions on DataFrames:
`labels` (the churn data set, eligibility, lapse times), `rates` (rates by group, retention curve, share
not yet lapsed), `model` (the logistic model, its level plan and odds ratios), `sensitivity` (other churn
windows), `validation` (temporal holdout, calibration, lift), `at_risk` (the action list and its CSV);
the service scores: `service_value` (MBG/NBD, Gamma–Gamma, Beta–Binomial), `service_scores` (history,
fit, scores, reasons), `service_landmark`, `service_backtest`, `service_list` (the lists and their
files), `service` (all of it in one call). Definitions: docs/retention_churn.md.
"""

from __future__ import annotations

from journeylib.retention.analyse import analyse  # first, so `retention.analyse` is the function, not the module
from journeylib.retention.params import Params
from journeylib.retention.result import Result
from journeylib.analysis import lazy_names

SECTION = "retention"
NOTEBOOK = "03_retention_churn"

__all__ = ["Params", "analyse", "Result", "SECTION", "NOTEBOOK"]

# Older names kept for callers (tests, docs): name -> (module defining it, attribute), imported on first
# use. New code imports them from that module.
_OLD_NAMES = {
    "RetentionResult": ("journeylib.retention.result", "Result"),
    "AT_RISK_FILE": ("journeylib.retention.at_risk", "AT_RISK_FILE"),
    "write_at_risk": ("journeylib.retention.at_risk", "write_at_risk"),
    "write_scores": ("journeylib.retention.service_list", "write_scores"),
    "write_to_call": ("journeylib.retention.service_list", "write_to_call"),
}


__getattr__ = lazy_names(__name__, _OLD_NAMES)
