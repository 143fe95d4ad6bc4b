"""The persona cards: one row per persona with its size, demographics, channels, conversion and pains."""

from __future__ import annotations

import pandas as pd

from journeylib.derived.persona_model.features import known_median, pain_columns

# The features the "what sets each persona apart" heat map shows (and its takeaway reads).
DIFFERENCE_FEATURES = ("age", "channels", "digital_share", "social_share", "in_person_share", "vdp_views",
                       "build_and_price", "price_tools", "test_drive", "days_to_purchase")

def _top(values: pd.Series) -> str:
    counts = values.value_counts()
    return str(counts.index[0]) if len(counts) else "n/a"


def persona_profile(features: pd.DataFrame, personas: pd.DataFrame, top_pains: int = 2) -> pd.DataFrame:
    """One row per persona (largest first): size and the card's demographics, channels, conversion, pains."""
    persona = personas.set_index("customer_id")["persona"].reindex(features.index)
    rows = []
    pains = pain_columns(features)
    for name, group in features.groupby(persona.to_numpy()):
        buyers = group[group["purchased"]]
        pain_share = group[pains].mean().sort_values(ascending=False, kind="stable") if pains else pd.Series()
        rows.append({
            "persona": name,
            "customers": len(group),
            "median_age": known_median(group["age"]),
            "top_income_band": _top(group["income_band"]),
            "top_gender": _top(group["gender"]),
            "top_region": _top(group["region"]),
            "top_acquisition_channel": _top(group["acquisition_channel"]),
            "channels_used": group["channels"].mean(),
            "digital_share": group["digital_share"].mean(),
            "social_share": group["social_share"].mean(),
            "in_person_share": group["in_person_share"].mean(),
            "vdp_views": group["vdp_views"].mean(),
            "build_and_price": group["build_and_price"].mean(),
            "price_tools": group["price_tools"].mean(),
            "test_drive_rate": group["test_drive"].mean(),
            "conversion": group["purchased"].mean(),
            "median_days_to_purchase": known_median(buyers["days_to_purchase"]),
            "top_finance_type": _top(buyers["finance_type"]) if len(buyers) else "n/a",
            "top_pain_points": ", ".join(p.removeprefix("pain_") for p in pain_share.index[:top_pains]
                                         if pain_share[p] > 0) or "none",
        })
    profile = pd.DataFrame(rows).set_index("persona")
    profile.insert(1, "share", profile["customers"] / profile["customers"].sum())
    return profile.sort_values(["customers"], ascending=False, kind="stable")
