"""Ratio tables from fitted log-link models (odds ratios, rate ratios, hazard ratios).

One function for the shape every analysis reports: a row per model term with
its feature, level and reference, the ratio exp(coef), its 95% interval and p.
Required terms the model could not estimate keep a row with missing values,
so metrics.json always holds their keys.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RATIO_COLUMNS = ("term", "feature", "level", "reference", "ratio", "ci_low", "ci_high", "p", "note")


def ratio_table(fit, terms: dict, references: dict, required=(), fallback_references=None,
                not_estimable: str = "not estimable: level absent or merged",
                per_unit: str = "per doubling") -> pd.DataFrame:
    """exp(coef) with 95% intervals for a statsmodels result.

    `terms` maps a model parameter name to its term ("feature:level"); `references`
    gives each feature's reference (a feature without one is numeric: `per_unit`).
    Terms in `required` that the model lacks get a row of NaN with `not_estimable`.
    """
    ci = np.exp(np.asarray(fit.conf_int(), dtype=float))
    names = list(fit.params.index) if hasattr(fit.params, "index") else list(fit.model.exog_names)
    position = {name: i for i, name in enumerate(names)}
    params = np.asarray(fit.params, dtype=float)
    pvalues = np.asarray(fit.pvalues, dtype=float)
    rows = []
    for name, term in terms.items():
        feature, level = term.split(":", 1)
        i = position[name]
        rows.append({"term": term, "feature": feature, "level": level,
                     "reference": references.get(feature, per_unit), "ratio": float(np.exp(params[i])),
                     "ci_low": float(ci[i, 0]), "ci_high": float(ci[i, 1]), "p": float(pvalues[i]), "note": ""})
    present = {row["term"] for row in rows}
    fallback_references = fallback_references or {}
    for term in required:
        if term not in present:
            feature, level = term.split(":", 1)
            rows.append({"term": term, "feature": feature, "level": level,
                         "reference": references.get(feature, fallback_references.get(feature)),
                         "ratio": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan, "note": not_estimable})
    return pd.DataFrame(rows, columns=list(RATIO_COLUMNS))
