"""The persona table prepare writes: `personas.parquet` (customer_id, persona), one row per customer.

`journey prepare` and `journey run` call `write_personas(folder, seed=0)` right after the tables, so
every notebook can segment by persona; notebook 05 reads the table and explains it.
"""

from __future__ import annotations

import pandas as pd

from journeylib.errors import NotEstimable
from journeylib.personas.clusters import fit_clusters
from journeylib.personas.features import UNCLASSIFIED, load_features
from journeylib.personas.naming import cluster_z, name_clusters
from journeylib.tables import ProcessedTables

PERSONAS_TABLE = "personas"


def assign_personas(features: pd.DataFrame, seed: int = 0, k: int | None = None, k_min: int = 2, k_max: int = 8,
                    fit_size: int = 20000) -> pd.DataFrame:
    """customer_id, persona for every customer in `features` (no events -> 'unclassified').

    With too few customers to cluster (`fit_clusters` raises NotEstimable) everyone is 'unclassified'.
    """
    personas = pd.DataFrame({"customer_id": features.index.astype(str)})
    try:
        fit = fit_clusters(features, k=k, k_min=k_min, k_max=k_max, seed=seed, fit_size=fit_size)
    except NotEstimable:
        personas["persona"] = UNCLASSIFIED
        return personas.sort_values("customer_id", ignore_index=True)
    names = name_clusters(cluster_z(features, fit["labels"]))
    labels = fit["labels"].reindex(features.index)
    personas["persona"] = labels.map(names).fillna(UNCLASSIFIED).astype(str).to_numpy()
    return personas.sort_values("customer_id", ignore_index=True)


def write_personas(processed_dir=None, seed: int = 0, k: int | None = None, k_min: int = 2, k_max: int = 8,
                   taxonomy=None) -> pd.DataFrame:
    """Build personas from the processed tables and write `<processed_dir>/personas.parquet`."""
    tables = ProcessedTables(processed_dir)
    features = load_features(tables, taxonomy)
    personas = assign_personas(features, seed=seed, k=k, k_min=k_min, k_max=k_max)
    personas.astype({"customer_id": "string", "persona": "string"}).to_parquet(
        tables.folder / f"{PERSONAS_TABLE}.parquet", index=False)
    return personas
