"""Persona names: rule names where a cluster fits a named profile, else plain words.

Rules (`NAMING_RULES`) are matched to clusters one-to-one on their z-scores; a cluster that fits none
is named after its most distinctive indicator (`plain_name`), e.g. "mostly_digital_shoppers".
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from journeylib.derived.persona_model.features import (
    CATEGORICAL_FEATURES, FLAG_FEATURES, NUMERIC_FEATURES, UNCLASSIFIED, known_median, pain_columns,
)

# Naming rules: a persona's score is the mean, over its listed features, of
# sign * z, where z = (cluster mean - population mean) / population sd and
# "column=value" means the share of the cluster with that category. Names are
# matched to clusters one-to-one (highest total score) and kept only when the
# score reaches MIN_NAME_SCORE; other clusters get a plain-words name (PLAIN_NAMES).
NAMING_RULES = {
    "digital_researcher": {"vdp_views": +1, "build_and_price": +1, "digital_share": +1},
    "walk_in_decider": {"in_person_share": +1, "acquisition_channel=walk_in": +1, "days_to_purchase": -1,
                        "vdp_views": -1},
    "deal_hunter": {"price_tools": +1, "acquisition_channel=third_party": +1, "pain_price": +1},
    "social_browser": {"social_share": +1, "acquisition_channel=social": +1, "test_drive": -1},
}
MIN_NAME_SCORE = 0.5

# Plain-words names for a cluster that fits no rule, from its most distinctive indicator:
# (name when the cluster is above the average customer, name when below).
PLAIN_NAMES = {
    "age": ("older_shoppers", "younger_shoppers"),
    "channels": ("many_channel_shoppers", "few_channel_shoppers"),
    "digital_share": ("mostly_digital_shoppers", "less_digital_shoppers"),
    "social_share": ("social_media_shoppers", "rarely_social_media_shoppers"),
    "in_person_share": ("in_person_shoppers", "rarely_in_person_shoppers"),
    "vdp_views": ("heavy_vehicle_page_viewers", "light_vehicle_page_viewers"),
    "build_and_price": ("build_and_price_users", "build_and_price_skippers"),
    "price_tools": ("price_tool_users", "price_tool_skippers"),
    "days_to_purchase": ("slow_deciders", "quick_deciders"),
    "test_drive": ("test_drivers", "shoppers_skipping_test_drives"),
    "finance_type=none": ("non_buyers", "mostly_buyers"),
    "gender=f": ("mostly_women", "few_women"),
    "gender=m": ("mostly_men", "few_men"),
}
# Other "column=value" indicators: templates filled with the value in words ("<50k" -> "under_50k").
PLAIN_CATEGORY_NAMES = {
    "acquisition_channel": ("{value}_leads", "few_{value}_leads"),
    "income_band": ("{value}_earners", "few_{value}_earners"),
    "finance_type": ("{value}_buyers", "few_{value}_buyers"),
    "region": ("mostly_{value}_customers", "few_{value}_customers"),
}


def indicator_frame(features: pd.DataFrame) -> pd.DataFrame:
    """Interpretable numeric view: numeric features (median-imputed), flags, and a 0/1 column per `column=value`."""
    numeric = features[list(NUMERIC_FEATURES)].apply(lambda c: c.fillna(known_median(c)))  # none known: 0 below
    flags = features[list(FLAG_FEATURES) + pain_columns(features)]
    dummies = [pd.get_dummies(features[c], prefix=c, prefix_sep="=").astype("float64") for c in CATEGORICAL_FEATURES]
    return pd.concat([numeric, flags, *dummies], axis=1).fillna(0.0)


def cluster_z(features: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """Rows: clusters; columns: (cluster mean - population mean) / population sd of each indicator."""
    view = indicator_frame(features.loc[labels.index])
    sd = view.std(ddof=0).replace(0, np.nan)
    return ((view.groupby(labels.to_numpy()).mean() - view.mean()) / sd).fillna(0.0)


def rule_scores(z: pd.DataFrame, rules=NAMING_RULES) -> pd.DataFrame:
    """Rows: clusters; columns: persona names; each cell the mean signed z over the rule's features present."""
    scores = {}
    for name, rule in rules.items():
        present = [f for f in rule if f in z.columns]
        scores[name] = (sum(rule[f] * z[f] for f in present) / len(present)) if present else pd.Series(0.0, z.index)
    return pd.DataFrame(scores, index=z.index)


def _words(text: str) -> str:
    """snake_case words safe as a metrics key: '<50k' -> 'under_50k', '150k+' -> '150k_plus'."""
    text = str(text).lower().replace("<", " under ").replace(">", " over ").replace("+", " plus ")
    return re.sub(r"[^0-9a-z]+", "_", text).strip("_")


def plain_name(feature: str, above: bool) -> str:
    """The plain-words name of a cluster whose most distinctive indicator is `feature` (above or below average).

    Named features use `PLAIN_NAMES`; pain_<theme> -> '<theme>_complainers' / 'few_<theme>_complaints';
    other 'column=value' indicators use `PLAIN_CATEGORY_NAMES` ('third_party_leads', 'under_50k_earners'),
    a missing value reads 'unknown_<column>', and anything else 'mostly_<column>_<value>' or 'more_<feature>' /
    'less_<feature>'.
    """
    side = 0 if above else 1
    if feature in PLAIN_NAMES:
        return PLAIN_NAMES[feature][side]
    if feature.startswith("pain_"):
        theme = _words(feature.removeprefix("pain_"))
        return (f"{theme}_complainers", f"few_{theme}_complaints")[side]
    if "=" in feature:
        column, value = feature.split("=", 1)
        if value == "missing":
            return (f"mostly_unknown_{_words(column)}", f"few_unknown_{_words(column)}")[side]
        if column in PLAIN_CATEGORY_NAMES:
            return PLAIN_CATEGORY_NAMES[column][side].format(value=_words(value))
        return (f"mostly_{_words(column)}_{_words(value)}", f"few_{_words(column)}_{_words(value)}")[side]
    return (f"more_{_words(feature)}", f"less_{_words(feature)}")[side]


def _descriptive_name(z_row: pd.Series, taken: set) -> str:
    """Plain-words name from the cluster's most distinctive indicator whose name is not yet used, else segment_<n>."""
    for feature in z_row.abs().sort_values(ascending=False, kind="stable").index:
        if z_row[feature] == 0:
            break
        name = plain_name(str(feature), z_row[feature] > 0)
        if name and name not in taken:
            return name
    suffix = 2
    while f"segment_{suffix}" in taken:
        suffix += 1
    return f"segment_{suffix}"


def name_clusters(z: pd.DataFrame, rules=NAMING_RULES, min_score: float = MIN_NAME_SCORE) -> dict:
    """Cluster -> unique persona name: rule names by best one-to-one match, plain-words names for the rest."""
    scores = rule_scores(z, rules)
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(-scores.to_numpy())  # maximise the total score
    names, taken = {}, {UNCLASSIFIED}
    for r, c in zip(rows, cols):
        if scores.iat[r, c] >= min_score:
            names[scores.index[r]] = scores.columns[c]
            taken.add(scores.columns[c])
    for cluster in z.index:
        if cluster not in names:
            names[cluster] = _descriptive_name(z.loc[cluster], taken)
            taken.add(names[cluster])
    return names
