"""Notebook 05: customer personas and the voice of the customer (survey comments).

    from journeylib import personas
    result = personas.analyse(ProcessedTables(folder), personas.Params())
    result.metrics()        # {"personas": {...}, "feedback": {...}}: the notebook records two sections
    result.k_sentence()     # a takeaway, as the notebook shows it

`SECTION` is therefore a pair, ("personas", "feedback"). The persona table itself is built during prepare
(`write_personas`) into processed/personas.parquet; the analysis reads it and explains it.
Files, as in every analysis package: `params`, `inputs` (the only module reading `ProcessedTables`),
`analyse`, `result`, `sentences` (the takeaways, methods of Result); topics: `features` (one row per
customer), `clusters` (k-means, choosing k, stability), `naming`, `table` (the stored table), `profile`
(the persona cards), `feedback` (themes, sentiment, pain points, quotes). scikit-learn and scipy are
imported where they are used. Definitions: docs/personas_and_feedback.md.
"""

from __future__ import annotations

from journeylib.personas.analyse import analyse  # first, so `personas.analyse` is the function, not the module
from journeylib.personas.params import Params
from journeylib.personas.result import Result

SECTION = ("personas", "feedback")
NOTEBOOK = "05_personas_and_feedback"

__all__ = ["Params", "analyse", "Result", "SECTION", "NOTEBOOK"]

# Older names kept for callers (prepare runs `personas.write_personas`; tests and notebooks use the rest):
# name -> module defining it. New code imports them from that module.
_OLD_NAMES = {
    "PersonasResult": ("result", "Result"), "NotEstimable": ("journeylib.errors", "NotEstimable"),
    **{name: ("clusters", name) for name in ("fit_clusters", "select_k", "stability")},
    **{name: ("features", name) for name in ("CATEGORICAL_FEATURES", "UNCLASSIFIED", "classifiable",
                                             "customer_features", "load_features")},
    **{name: ("naming", name) for name in ("NAMING_RULES", "PLAIN_NAMES", "name_clusters", "plain_name")},
    "persona_profile": ("profile", "persona_profile"),
    **{name: ("table", name) for name in ("PERSONAS_TABLE", "assign_personas", "write_personas")},
}


def __getattr__(name: str):
    if name not in _OLD_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module, attribute = _OLD_NAMES[name]
    return getattr(importlib.import_module(module if "." in module else f"{__name__}.{module}"), attribute)
