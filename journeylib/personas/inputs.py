"""What notebook 05 reads: scored survey comments, one row of features per customer, the stored personas.

The only module of the analysis that reads `ProcessedTables` (the persona model prepare runs,
`personas.table.write_personas`, reads them for itself).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from journeylib.derived import feedback
from journeylib.derived.persona_model.features import load_features
from journeylib.derived.persona_model.table import stored_k_choice


@dataclass
class Inputs:
    as_of: pd.Timestamp
    taxonomy: dict                   # theme -> keywords (the packaged default)
    scored: pd.DataFrame             # commented survey rows with sentiment, band and one column per theme
    features: pd.DataFrame           # one row per customer (personas.features)
    stored: pd.DataFrame             # personas.parquet: customer_id, persona
    persona_of: pd.Series            # customer_id -> persona, in the order of `features`
    stored_choice: tuple | None      # (k, k table) prepare chose with the notebook's settings, else None


def load_inputs(tables, params) -> Inputs:
    """Read what notebook 05 uses from `tables` (journeylib.tables.ProcessedTables)."""
    taxonomy = feedback.load_taxonomy()
    scored = feedback.score_comments(tables.load("surveys"), taxonomy)  # once: the features reuse it
    features = load_features(tables, taxonomy, min_level_customers=params.min_level_customers, scored=scored)
    stored = tables.load("personas")  # built by prepare (personas.table.write_personas)
    persona_of = stored.set_index("customer_id")["persona"].reindex(features.index)
    if persona_of.isna().any():
        raise ValueError(f"{int(persona_of.isna().sum())} customers have no persona: personas.parquet is stale, "
                         "rerun `journey run`")
    choice = stored_k_choice(tables, params.seed, params.k_min, params.k_max, params.min_level_customers)
    return Inputs(as_of=tables.as_of, taxonomy=taxonomy, scored=scored, features=features, stored=stored,
                  persona_of=persona_of, stored_choice=choice)
