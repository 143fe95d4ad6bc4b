"""Sensitivity to the churn window: the churn rate and the main odds ratios for other values of N."""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeylib.errors import NotEstimable
from journeylib.retention.labels import churn_dataset
from journeylib.retention.model import MAIN_TERMS, fit_churn_model, odds_ratios

SENSITIVITY_DAYS = (270, 365, 545)


def sensitivity(buyers: pd.DataFrame, service_visits: pd.DataFrame, as_of: pd.Timestamp,
                days=SENSITIVITY_DAYS, cluster_by_dealer: bool = False, terms=MAIN_TERMS,
                min_count: int = 20, min_events: int = 5) -> pd.DataFrame:
    """Eligible buyers, churn rate and the main odds ratios for several churn windows.

    Columns: churn_after_days, eligible, churn_rate, then `OR <term>` and `CI <term>` per term,
    and `note` where a window's model is not estimable.
    """
    rows = []
    for n_days in days:
        data = churn_dataset(buyers, service_visits, as_of, n_days)
        eligible = data[data["eligible"]]
        row = {"churn_after_days": n_days, "eligible": len(eligible),
               "churn_rate": eligible["churned"].mean() if len(eligible) else np.nan}
        try:
            if eligible.empty:
                raise NotEstimable("no eligible buyers")
            table = odds_ratios(fit_churn_model(eligible, cluster_by_dealer, min_count=min_count,
                                                min_events=min_events)).set_index("term")
        except NotEstimable as error:  # a window with too few buyers: say so in the table, not crash
            table = None
            row["note"] = f"model not estimable: {error.reason}"
        for term in terms:
            row[f"OR {term}"] = np.nan if table is None else table.loc[term, "odds_ratio"]
            row[f"CI {term}"] = "" if table is None or pd.isna(table.loc[term, "odds_ratio"]) else \
                f"{table.loc[term, 'ci_low']:.2f}-{table.loc[term, 'ci_high']:.2f}"
        rows.append(row)
    if not rows:  # no window asked for: the columns still exist
        return pd.DataFrame(columns=["churn_after_days", "eligible", "churn_rate",
                                     *(f"{kind} {term}" for term in terms for kind in ("OR", "CI"))])
    return pd.DataFrame(rows)


def stable_terms(table: pd.DataFrame, terms=MAIN_TERMS) -> list:
    """The terms whose odds ratio is estimable in every window and on the same side of 1 in all of them."""
    return [t for t in terms if table[f"OR {t}"].notna().all()
            and ((table[f"OR {t}"] > 1).all() or (table[f"OR {t}"] < 1).all())]
