"""Notebook 05: customer personas and the voice of the customer (survey comments).

    from journeylib import personas
    result = personas.analyse(ProcessedTables(folder), personas.Params())
    result.metrics()        # {"personas": {...}, "feedback": {...}}: the notebook records two sections
    result.k_sentence()     # a takeaway, as the notebook shows it

`SECTION` is therefore a pair, ("personas", "feedback"). The persona table itself is built during prepare
(`journeylib.derived.persona_model.table.write_personas`) into processed/personas.parquet; the
analysis reads it and explains it. Files, as in every analysis package: `params`, `inputs` (the only
module reading `ProcessedTables`), `analyse`, `result`, `sentences` (the takeaways, methods of Result);
topic: `profile` (the persona cards). The persona model (`features`, `clusters`, `naming`, `table`) and
the comment scoring (`feedback`) live in `journeylib.derived`, below prepare; the modules of those names
here are the same modules under their old paths. scikit-learn and scipy are imported where they are
used. Definitions: docs/personas_and_feedback.md.
"""

from __future__ import annotations

from journeylib.personas.analyse import analyse  # first, so `personas.analyse` is the function, not the module
from journeylib.personas.params import Params
from journeylib.personas.result import Result
from journeylib.analysis import lazy_names

SECTION = ("personas", "feedback")
NOTEBOOK = "05_personas_and_feedback"

__all__ = ["Params", "analyse", "Result", "SECTION", "NOTEBOOK"]

# Older names kept for callers (prepare runs `personas.write_personas`; tests and notebooks use the rest):
# name -> module defining it, imported on first use. New code imports them from that module.
_MODEL = "journeylib.derived.persona_model"
_OLD_NAMES = {
    "PersonasResult": ("journeylib.personas.result", "Result"), "NotEstimable": ("journeylib.errors", "NotEstimable"),
    **{name: (f"{_MODEL}.clusters", name) for name in ("fit_clusters", "select_k", "stability")},
    **{name: (f"{_MODEL}.features", name) for name in ("CATEGORICAL_FEATURES", "UNCLASSIFIED", "classifiable",
                                                        "customer_features", "load_features")},
    **{name: (f"{_MODEL}.naming", name) for name in ("NAMING_RULES", "PLAIN_NAMES", "name_clusters", "plain_name")},
    "persona_profile": ("journeylib.personas.profile", "persona_profile"),
    **{name: (f"{_MODEL}.table", name) for name in ("PERSONAS_TABLE", "assign_personas", "write_personas")},
}


__getattr__ = lazy_names(__name__, _OLD_NAMES)
