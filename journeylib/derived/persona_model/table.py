"""The persona table prepare writes: `personas.parquet` (customer_id, persona), one row per customer.

`journey prepare` and `journey run` call `write_personas(folder, seed=0)` right after the tables, so
every notebook can segment by persona; notebook 05 reads the table and explains it.

The file's metadata also keeps how k was chosen (the settings and the k table). Notebook 05 with the same
settings reads that choice instead of fitting every k again: on the same processed tables the refit is
the same computation with the same seed, and it is most of the notebook's time.
"""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from journeylib.errors import NotEstimable
from journeylib.derived.persona_model.clusters import FIT_SIZE, fit_clusters
from journeylib.derived.persona_model.features import MIN_LEVEL_CUSTOMERS, UNCLASSIFIED, load_features
from journeylib.derived.persona_model.naming import cluster_z, name_clusters
from journeylib.tables import ProcessedTables

PERSONAS_TABLE = "personas"
CHOICE_KEY = b"journeylib.personas.k_choice"  # parquet metadata: the settings and k table of the fit


def _assign(features: pd.DataFrame, seed: int, k, k_min: int, k_max: int, fit_size: int):
    """(customer_id/persona table, the fit or None when there are too few customers to cluster)."""
    personas = pd.DataFrame({"customer_id": features.index.astype(str)})
    try:
        fit = fit_clusters(features, k=k, k_min=k_min, k_max=k_max, seed=seed, fit_size=fit_size)
    except NotEstimable:
        personas["persona"] = UNCLASSIFIED
        return personas.sort_values("customer_id", ignore_index=True), None
    names = name_clusters(cluster_z(features, fit["labels"]))
    labels = fit["labels"].reindex(features.index)
    personas["persona"] = labels.map(names).fillna(UNCLASSIFIED).astype(str).to_numpy()
    return personas.sort_values("customer_id", ignore_index=True), fit


def assign_personas(features: pd.DataFrame, seed: int = 0, k: int | None = None, k_min: int = 2, k_max: int = 8,
                    fit_size: int = FIT_SIZE) -> pd.DataFrame:
    """customer_id, persona for every customer in `features` (no events -> 'unclassified').

    With too few customers to cluster (`fit_clusters` raises NotEstimable) everyone is 'unclassified'.
    """
    return _assign(features, seed, k, k_min, k_max, fit_size)[0]


def _settings(seed: int, k_min: int, k_max: int, min_level_customers: int, taxonomy=None) -> dict:
    return {"seed": seed, "k_min": k_min, "k_max": k_max, "min_level_customers": min_level_customers,
            "fit_size": FIT_SIZE, "default_taxonomy": taxonomy is None}


def write_personas(processed_dir=None, seed: int = 0, k: int | None = None, k_min: int = 2, k_max: int = 8,
                   taxonomy=None) -> pd.DataFrame:
    """Build personas from the processed tables and write `<processed_dir>/personas.parquet`."""
    tables = ProcessedTables(processed_dir)
    features = load_features(tables, taxonomy)
    personas, fit = _assign(features, seed, k, k_min, k_max, FIT_SIZE)
    table = pa.Table.from_pandas(personas.astype({"customer_id": "string", "persona": "string"}),
                                 preserve_index=False)
    if fit is not None and fit["k_table"] is not None:
        choice = {**_settings(seed, k_min, k_max, MIN_LEVEL_CUSTOMERS, taxonomy),
                  "k": fit["k"], "k_table": fit["k_table"].to_dict("records")}
        table = table.replace_schema_metadata({**table.schema.metadata, CHOICE_KEY: json.dumps(choice)})
    pq.write_table(table, tables.folder / f"{PERSONAS_TABLE}.parquet")
    return personas


def stored_k_choice(tables: ProcessedTables, seed: int, k_min: int, k_max: int,
                    min_level_customers: int) -> tuple[int, pd.DataFrame] | None:
    """(k, k table) prepare chose with these settings, or None (other settings, or an older table)."""
    metadata = pq.read_schema(tables.folder / f"{PERSONAS_TABLE}.parquet").metadata or {}
    if CHOICE_KEY not in metadata:
        return None
    choice = json.loads(metadata[CHOICE_KEY])
    if {key: choice.get(key) for key in ("seed", "k_min", "k_max", "min_level_customers", "fit_size",
                                         "default_taxonomy")} != _settings(seed, k_min, k_max, min_level_customers):
        return None
    return int(choice["k"]), pd.DataFrame(choice["k_table"], columns=["k", "silhouette", "inertia", "chosen"])
