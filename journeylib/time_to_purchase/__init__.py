"""Time to purchase (notebook 02): how long from first touch to purchase, and what speeds it up.

    from journeylib import time_to_purchase
    result = time_to_purchase.analyse(ProcessedTables(folder), time_to_purchase.Params())
    result.metrics()          # the `time_to_purchase` section of metrics.json

Modules by topic: `leads` (the lead table and its start/stop rows), `coding` (sparse levels,
references, dummy columns), `fallbacks` (what a fit that does not converge falls back to), `cox`
(the time-varying Cox model; its Efron likelihood is `efron`), `risksets` (concordance, Breslow hazard),
`checks` (proportional hazards and remedies), `km` (Kaplan-Meier, log-rank, RMST), `aft` (the
Weibull cross-check), `scenario` (the test-drive scenario), `lead_history` / `lead_model` /
`lead_scores` / `lead_backtest` (who to call: open leads' chances of buying within 30 and 90 days, their
reasons, the files and the backtest; `lead_cox` the Cox alternative they were chosen against), `result`
(the entry point), `sentences` (the takeaways and reviewer tables of the result).
Definitions: docs/time_to_purchase.md.
"""

from journeylib.time_to_purchase.cox import fit_cox, hazard_ratios  # noqa: F401
from journeylib.time_to_purchase.km import kaplan_meier, logrank  # noqa: F401
from journeylib.time_to_purchase.leads import ID, customer_table, model_day  # noqa: F401
from journeylib.time_to_purchase.lead_scores import score_leads, write_lead_lists  # noqa: F401
from journeylib.time_to_purchase.result import (  # noqa: F401
    NOTEBOOK, SECTION, Params, TimeToPurchaseResult, analyse,
)
