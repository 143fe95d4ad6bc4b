"""Net Promoter Score: per survey type, dealer and quarter, with the adjusted Wald interval (Rocks 2016)."""

from __future__ import annotations

import pandas as pd

from journeylib.segments import satisfaction_band
from journeylib.stats.intervals import adjusted_wald_nps

NPS_CATEGORIES = ("promoter", "passive", "detractor")
SURVEY_TYPES = ("sales", "service")
NPS_COLUMNS = ["responses", "promoters", "passives", "detractors", "nps", "ci_low", "ci_high"]


def nps_table(surveys: pd.DataFrame, by=None) -> pd.DataFrame:
    """NPS with its adjusted Wald interval per group (by: None, a column or a list of columns).

    Columns: the group columns, then NPS_COLUMNS.
    """
    frame = surveys.assign(category=satisfaction_band(surveys["score"]).to_numpy())
    keys = [] if by is None else [by] if isinstance(by, str) else list(by)
    groups = [((), frame)] if not keys else frame.groupby(keys, observed=True, dropna=False)
    rows = []
    for level, part in groups:
        level = level if isinstance(level, tuple) else (level,)
        counts = part["category"].value_counts()
        pro, pas, det = (int(counts.get(c, 0)) for c in NPS_CATEGORIES)
        nps, low, high = adjusted_wald_nps(pro, det, len(part))
        rows.append({**dict(zip(keys, level)), "responses": len(part), "promoters": pro, "passives": pas,
                     "detractors": det, "nps": nps, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows, columns=keys + NPS_COLUMNS)


def score_distribution(surveys: pd.DataFrame) -> pd.DataFrame:
    """Responses per survey type and score 0..10 (every score present, zeros included)."""
    counts = surveys.groupby(["survey_type", "score"]).size()
    index = pd.MultiIndex.from_product([sorted(surveys["survey_type"].unique()), range(11)],
                                       names=["survey_type", "score"])
    table = counts.reindex(index, fill_value=0).rename("responses").reset_index()
    table["category"] = satisfaction_band(table["score"]).astype(str).to_numpy()
    table["share"] = table["responses"] / table.groupby("survey_type")["responses"].transform("sum")
    return table


def no_nps_reason(survey_type: str) -> str:
    return f"No {survey_type} survey responses in this export, so there is no {survey_type} NPS."


def latest_comparison(nps: pd.DataFrame, latest: pd.DataFrame) -> pd.DataFrame:
    """Per survey type: NPS from every response against the latest response per customer (both indexed by type)."""
    return pd.DataFrame({"every response": nps["nps"], "latest per customer": latest["nps"],
                         "responses": nps["responses"], "customers": latest["responses"]})


def intervals_overlap(nps: pd.DataFrame, first: str = "sales", second: str = "service") -> bool | None:
    """Whether the two survey types' intervals overlap (None when one is missing)."""
    if not {first, second} <= set(nps.index):
        return None
    a, b = nps.loc[first], nps.loc[second]
    return not (a["ci_high"] < b["ci_low"] or b["ci_high"] < a["ci_low"])


def dealer_range(by_dealer: pd.DataFrame, min_responses: int, survey_type: str = "sales") -> dict | None:
    """The best and worst dealer by NPS among those with at least `min_responses` (None with fewer than two).

    `separated`: the best dealer's interval lies wholly above the worst's.
    """
    shown = by_dealer[(by_dealer["survey_type"] == survey_type) & (by_dealer["responses"] >= min_responses)]
    if len(shown) < 2:
        return None
    best, worst = shown.loc[shown["nps"].idxmax()], shown.loc[shown["nps"].idxmin()]
    return {"best": best, "worst": worst, "separated": bool(best["ci_low"] > worst["ci_high"])}


def quarter_trend(by_quarter: pd.DataFrame, min_responses: int, survey_type: str = "sales") -> dict | None:
    """First and last quarter with at least `min_responses`, and the median interval width (None with fewer than two)."""
    shown = by_quarter[(by_quarter["responses"] >= min_responses) & (by_quarter["survey_type"] == survey_type)]
    shown = shown.sort_values("quarter")
    if len(shown) < 2:
        return None
    return {"first": shown.iloc[0], "last": shown.iloc[-1],
            "median_width": float((shown["ci_high"] - shown["ci_low"]).median())}
