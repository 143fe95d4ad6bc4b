"""Notebook 05: customer personas and the voice of the customer (survey comments).

    from journeylib import personas
    result = personas.analyse(ProcessedTables(folder), personas.Params())
    result.metrics()   # {"personas": {...}, "feedback": {...}}: the notebook records two sections

`SECTION` is therefore a pair, ("personas", "feedback"). The persona table itself is built during prepare
(`write_personas`, called by journeylib.prepare.cache) into processed/personas.parquet; the analysis reads
it and explains it. Modules by topic: `features` (one row per customer), `clusters` (k-means, choosing k,
stability), `naming` (rule and plain-words names), `table` (the stored table), `profile` (the persona
cards), `feedback` (themes, sentiment, pain points, quotes), `analysis` (Params, analyse, the result).
Definitions: docs/personas_and_feedback.md.
"""

from journeylib.errors import NotEstimable  # noqa: F401 - what the persona functions raise
from journeylib.personas.analysis import Params, PersonasResult, analyse
from journeylib.personas.clusters import fit_clusters, select_k, stability
from journeylib.personas.features import (CATEGORICAL_FEATURES, UNCLASSIFIED, classifiable, customer_features,
                                          load_features)
from journeylib.personas.naming import NAMING_RULES, PLAIN_NAMES, name_clusters, plain_name
from journeylib.personas.profile import persona_profile
from journeylib.personas.table import PERSONAS_TABLE, assign_personas, write_personas

SECTION = ("personas", "feedback")
NOTEBOOK = "05_personas_and_feedback"

__all__ = ["Params", "PersonasResult", "analyse", "SECTION", "NOTEBOOK", "write_personas", "assign_personas",
           "customer_features", "load_features", "classifiable", "fit_clusters", "select_k", "stability",
           "name_clusters", "plain_name", "persona_profile", "NAMING_RULES", "PLAIN_NAMES", "CATEGORICAL_FEATURES",
           "UNCLASSIFIED", "PERSONAS_TABLE"]
