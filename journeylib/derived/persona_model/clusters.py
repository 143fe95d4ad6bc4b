"""k-means personas: the model matrix, the choice of k by silhouette, the fit, and its stability.

Numeric features standardised (median-imputed), yes/no flags left as 0/1, one-hot categories scaled so a
differing category weighs one standard deviation. Fitting uses at most `fit_size` customers (a seeded
sample) and every customer is then assigned to the nearest centre, so 1M customers cost one `predict`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeylib.errors import NotEstimable
from journeylib.derived.persona_model.features import (CATEGORICAL_FEATURES, FLAG_FEATURES, LOG_FEATURES, NUMERIC_FEATURES,
                                          classifiable, pain_columns)

MIN_CUSTOMERS = 20  # fewer classifiable customers than this: no personas (everyone unclassified)
ONE_HOT_WEIGHT = 1 / np.sqrt(2)
FIT_SIZE = 20000        # customers a model is fitted on (a seeded sample); everyone is then assigned
SILHOUETTE_SIZE = 3000  # customers the silhouette of each k is computed on (a seeded sample)


def _log_counts(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for column in LOG_FEATURES:
        frame[column] = np.log1p(frame[column].clip(lower=0))
    return frame


def _weight_one_hot(matrix):
    return matrix * ONE_HOT_WEIGHT


def preprocessor(features: pd.DataFrame) -> Pipeline:
    """Features -> model matrix in which a differing flag or category weighs as much as one standard deviation.

    Numeric features are standardised; flags stay 0/1 (standardising a rare flag would make it shout);
    one-hot columns are scaled by 1/sqrt(2) because a different category differs in two columns.
    """
    # a feature no customer has (days to purchase in a leads-only export) carries nothing: leave it out,
    # as the imputer would, without its warning in the report
    numeric = [column for column in NUMERIC_FEATURES if features[column].notna().any()]
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    columns = ColumnTransformer([
        ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        ("flags", "passthrough", list(FLAG_FEATURES) + pain_columns(features)),
        ("categories", make_pipeline(OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                                     FunctionTransformer(_weight_one_hot)), list(CATEGORICAL_FEATURES)),
    ])
    return make_pipeline(FunctionTransformer(_log_counts), columns)


def _fit_sample(n: int, fit_size: int, seed: int) -> np.ndarray:
    if n <= fit_size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=fit_size, replace=False))


def _kmeans(k: int, seed: int) -> KMeans:
    from sklearn.cluster import KMeans  # scikit-learn is imported where it is used (seconds)

    return KMeans(n_clusters=k, n_init=10, random_state=seed)


def select_k(matrix: np.ndarray, k_min: int = 2, k_max: int = 8, seed: int = 0,
             silhouette_size: int = SILHOUETTE_SIZE) -> pd.DataFrame:
    """Silhouette score (higher = better separated) and inertia for each k; `chosen` marks the best (ties: smaller k).

    The silhouette is computed on a seeded sample of at most `silhouette_size` customers (its cost grows with
    the square of the sample).
    """
    return _select_k(matrix, k_min, k_max, seed, silhouette_size)[0]


def _select_k(matrix, k_min, k_max, seed, silhouette_size=SILHOUETTE_SIZE) -> tuple[pd.DataFrame, dict]:
    """`select_k`'s table and the fitted model per k (the chosen one is the final model: no second fit)."""
    n = len(matrix)
    distinct = len(np.unique(np.round(matrix, 9), axis=0))
    if min(k_max, n - 1, distinct - 1) < k_min:
        raise NotEstimable(f"Only {n} customers with events ({distinct} distinct profiles): too few to form "
                           f"at least {k_min} personas, so every customer is unclassified.")
    from sklearn.metrics import silhouette_score

    rows, models = [], {}
    for k in range(k_min, min(k_max, n - 1, distinct - 1) + 1):
        model = models[k] = _kmeans(k, seed).fit(matrix)
        score = silhouette_score(matrix, model.labels_, sample_size=min(n, silhouette_size), random_state=seed)
        rows.append({"k": k, "silhouette": float(score), "inertia": float(model.inertia_)})
    table = pd.DataFrame(rows)
    if table.empty:
        raise ValueError(f"cannot choose k in {k_min}..{k_max} with {n} customers")
    best = table["silhouette"].round(6).idxmax()  # idxmax returns the first maximum: the smaller k
    table["chosen"] = table.index == best
    return table, models


def _relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Cluster 0 = the largest (ties: the lower original label), so labels do not depend on k-means' order."""
    sizes = pd.Series(labels).value_counts()
    order = sorted(sizes.index, key=lambda label: (-sizes[label], label))
    mapping = np.zeros(max(order) + 1, dtype=np.int64)
    mapping[order] = np.arange(len(order))
    return mapping[labels]


def fit_clusters(features: pd.DataFrame, k: int | None = None, k_min: int = 2, k_max: int = 8, seed: int = 0,
                 fit_size: int = FIT_SIZE) -> dict:
    """Cluster the classifiable customers. Returns labels (Series on their customer_id), k, the k table, the model."""
    rows = features[classifiable(features)]
    if len(rows) < MIN_CUSTOMERS:
        raise NotEstimable(f"Only {len(rows)} customers with events (personas need at least {MIN_CUSTOMERS}), "
                           "so every customer is unclassified.")
    prep = preprocessor(rows)
    fit_rows = rows.iloc[_fit_sample(len(rows), fit_size, seed)]
    matrix = prep.fit_transform(fit_rows)
    if k is None:
        k_table, models = _select_k(matrix, k_min, k_max, seed)
        k = int(k_table.loc[k_table["chosen"], "k"].iloc[0])
        model = models[k]
    else:
        k_table, model = None, _kmeans(k, seed).fit(matrix)
    labels = _relabel_by_size(model.predict(prep.transform(rows)))
    return {"labels": pd.Series(labels, index=rows.index, name="cluster"), "k": k, "k_table": k_table,
            "model": model, "preprocessor": prep}


def stability(features: pd.DataFrame, k: int, seeds=range(1, 6), fraction: float = 0.8,
              reference_seed: int = 0, reference: pd.Series | None = None, fit_size: int = FIT_SIZE) -> pd.DataFrame:
    """Adjusted Rand index between the reference segmentation and refits on seeded 80% subsamples.

    ARI 1 = the same segments, 0 = no better than chance. Each refit uses a different seed for both
    the subsample and k-means' starts, then assigns every customer, so the two labelings are comparable.
    A refit uses at most `fit_size` customers, like the reference fit: the check asks whether another
    sample of the size the model is fitted on gives the same personas, at a cost that does not grow with
    the customers. `reference`: the labels of `fit_clusters(features, k=k, seed=reference_seed)` if fitted.
    """
    from sklearn.metrics import adjusted_rand_score

    rows = features[classifiable(features)]
    if reference is None:
        reference = fit_clusters(features, k=k, seed=reference_seed, fit_size=fit_size)["labels"]
    out = []
    for seed in seeds:
        pick = _fit_sample(len(rows), min(max(k + 1, int(fraction * len(rows))), fit_size), seed)
        prep = preprocessor(rows)
        matrix = prep.fit_transform(rows.iloc[pick])
        labels = _kmeans(k, seed).fit(matrix).predict(prep.transform(rows))
        out.append({"seed": seed, "ari": float(adjusted_rand_score(reference.to_numpy(), labels))})
    return pd.DataFrame(out, columns=["seed", "ari"])
