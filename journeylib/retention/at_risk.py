"""The action list: active buyers with the highest predicted churn risk, and the CSV for the service team."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from journeylib.privacy import write_shareable
from journeylib.retention.labels import NUMERIC_FEATURE
from journeylib.retention.model import ChurnModel, term_prefix

AT_RISK_COLUMNS = ["customer_id", "risk", "factor_1", "factor_2"]
AT_RISK_FILE = "at_risk_buyers.csv"  # in the run folder (metrics `at_risk.file`)


def top_factors(model: ChurnModel, frame: pd.DataFrame, k: int = 2) -> pd.DataFrame:
    """Per buyer, the `k` features that raise the log-odds most relative to the reference levels.

    A categorical feature contributes its level's coefficient (0 at the reference);
    days to purchase contributes its coefficient times the distance from the median.
    Only positive contributions count; fewer than `k` leave blanks.
    """
    applied = model.plan.apply(frame)
    params = model.result.params
    contributions, labels = {}, {}
    for feature, reference in model.plan.references.items():
        by_level = {lvl: float(params.get(f"{term_prefix(feature, reference)}[T.{lvl}]", 0.0))
                    for lvl in model.plan.levels[feature]}
        contributions[feature] = applied[feature].map(by_level).astype(float)
        labels[feature] = feature + ":" + applied[feature].astype(str)
    distance = applied[NUMERIC_FEATURE] - model.plan.numeric_center
    contributions["days_to_purchase"] = float(params.get(NUMERIC_FEATURE, 0.0)) * distance
    labels["days_to_purchase"] = np.where(distance > 0, "days_to_purchase:longer", "days_to_purchase:shorter")
    values = pd.DataFrame(contributions, index=frame.index)
    names = pd.DataFrame(labels, index=frame.index)
    order = np.argsort(-values.to_numpy(), axis=1, kind="stable")
    rows = np.arange(len(values))
    out = pd.DataFrame(index=frame.index)
    for i in range(k):
        if i >= values.shape[1]:
            out[f"factor_{i + 1}"] = ""
            continue
        picked_value = values.to_numpy()[rows, order[:, i]]
        picked_name = names.to_numpy()[rows, order[:, i]]
        out[f"factor_{i + 1}"] = np.where(picked_value > 1e-12, picked_name, "")
    return out


def at_risk_buyers(model: ChurnModel, frame: pd.DataFrame, top: int = 50) -> pd.DataFrame:
    """Currently active buyers (not churned at as-of) with the highest predicted churn risk.

    Ids, risk and the two factors only: no personal data leaves the notebook.
    """
    active = frame[frame["active"].astype(bool)]
    table = top_factors(model, active)
    table.insert(0, "risk", model.predict(active).round(4))
    table.insert(0, "customer_id", active.index.astype(str))
    table = table.reset_index(drop=True)
    table = table.sort_values(["risk", "customer_id"], ascending=[False, True], kind="stable")
    return table.head(top).reset_index(drop=True)[AT_RISK_COLUMNS]


def service_at_risk(scores: pd.DataFrame, frame: pd.DataFrame, model: ChurnModel | None = None,
                    top: int = 50) -> pd.DataFrame:
    """Active buyers ranked by the service model: risk = 1 − p_return_12m (no service visit in the next 12 months).

    The factors are the churn model's (what about the sale raises the risk), blank without one.
    """
    active = frame[frame["active"].astype(bool)]
    risk = scores.set_index("customer_id")["p_return_12m"].reindex(active.index.astype(str))
    if model is None:
        table = pd.DataFrame({"factor_1": "", "factor_2": ""}, index=active.index)
    else:
        table = top_factors(model, active)
    table.insert(0, "risk", (1 - risk.to_numpy()).round(4))
    table.insert(0, "customer_id", active.index.astype(str))
    table = table.reset_index(drop=True)
    table = table.sort_values(["risk", "customer_id"], ascending=[False, True], kind="stable")
    return table.head(top).reset_index(drop=True)[AT_RISK_COLUMNS]


def factor_counts(table: pd.DataFrame) -> pd.Series:
    """How many listed buyers each factor applies to (as first or second factor), most common first."""
    factors = pd.concat([table["factor_1"], table["factor_2"]])
    return factors[factors != ""].value_counts().rename("buyers").rename_axis("factor raising the risk")


def write_at_risk(table: pd.DataFrame, run_dir, name: str = AT_RISK_FILE) -> Path | None:
    """Write the action list into the run folder (nothing outside a run)."""
    return write_shareable(table, run_dir, name, AT_RISK_COLUMNS, "at-risk list")
