"""Reference levels and sparse-level merging for the regression models (churn, referrals).

A categorical level with too little data gives an unstable or infinite
estimate. Each model says what "too little" means for a group of rows (a
level, or all its sparse levels together); the plan merges sparse levels into
`other`, an `other` that is still sparse into the reference, and drops a
feature left with a single level. Every merge is written down in `notes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

from journeylib.labels import label
from journeylib.vocabulary import OTHER_LEVEL


@dataclass
class LevelPlan:
    """Per categorical feature: its reference level, the levels kept, and how raw values map to them."""

    references: dict
    levels: dict
    mapping: dict
    notes: list = field(default_factory=list)

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Recode a feature frame; values unseen when the plan was made go to `other`, else the reference."""
        out = frame.copy()
        for feature, levels in self.levels.items():
            fallback = OTHER_LEVEL if OTHER_LEVEL in levels else self.references[feature]
            out[feature] = frame[feature].map(self.mapping[feature]).fillna(fallback)
        return out


def plan_levels(frame: pd.DataFrame, features, is_sparse: Callable[[pd.DataFrame], bool],
                fixed_references: dict) -> LevelPlan:
    """The plan for `features`; `is_sparse(rows)` tells whether a group of rows is too thin to estimate.

    The reference is the fixed one where it survives, else the level with most rows (ties: first by name).
    """
    references, levels, mapping, notes = {}, {}, {}, []
    for feature in features:
        groups = {level: rows for level, rows in frame.groupby(feature, sort=True)}
        sizes = {level: len(rows) for level, rows in groups.items()}
        sparse = {level: bool(is_sparse(rows)) for level, rows in groups.items()}
        kept = [level for level in groups if not sparse[level]]
        if not kept:
            notes.append(f"{feature}: every level is sparse; left out of the model")
            continue
        wanted = fixed_references.get(feature)
        largest = sorted(kept, key=lambda level: (-sizes[level], str(level)))[0]
        reference = wanted if wanted in kept else largest
        if wanted is not None and reference != wanted:
            notes.append(f"{feature}: reference {wanted!r} absent or sparse; using {reference!r}")
        merged = sorted((level for level in groups if sparse[level]), key=str)
        feature_map = {level: level for level in kept}
        if merged:
            other_ok = not is_sparse(pd.concat([groups[level] for level in merged]))
            target = OTHER_LEVEL if other_ok else reference
            feature_map.update({level: target for level in merged})
            kept += [OTHER_LEVEL] if other_ok else []
            notes.append(f"{feature}: sparse levels {[str(level) for level in merged]} merged into {target!r}")
        if len(kept) < 2:
            notes.append(f"{feature}: a single level after merging; left out of the model")
            continue
        references[feature], levels[feature], mapping[feature] = reference, sorted(kept), feature_map
    return LevelPlan(references, levels, mapping, notes)


def pool_rare(values: pd.Series, min_count: int, keep=()) -> tuple[pd.Series, list]:
    """Per-group figures: levels with fewer than `min_count` rows become `other`.

    Returns the recoded values and the sorted list of pooled levels (for the
    report's sentence and `levels_pooled` in metrics). Levels in `keep` are
    never pooled; missing values stay missing. If only one level would be
    pooled it is still pooled, so a lone tiny group never gets its own bar.
    """
    counts = values.value_counts(dropna=True)
    rare = sorted((str(level) for level, n in counts.items() if n < min_count and level not in keep), key=str)
    if not rare:
        return values, []
    recoded = values.where(~values.astype("string").isin(rare), OTHER_LEVEL)
    return recoded, rare


def pooled_sentence(feature: str, pooled, min_count: int, target: str = OTHER_LEVEL, events: str = "events",
                    units: str = "customers") -> str:
    """The report's one sentence for levels pooled before fitting or drawing.

    `events` names what a level must have (e.g. "purchases"); None leaves the clause out (pooling by size).
    The feature, each level and the target read as labels ("Satisfaction: No response ... pooled into
    'Other'"); `label()` leaves a label as it is, so a caller that already passes labels gets the same sentence.
    A target of several levels joined by " / " has each of them labelled.
    """
    names = ", ".join(label(level) for level in pooled)
    into = " / ".join(label(level) for level in str(target).split(" / "))
    clause = f" (or no {events})" if events else ""
    return (f"{label(feature)}: {names} had fewer than {min_count} {units}"
            f"{clause} and {'is' if len(pooled) == 1 else 'are'} pooled into '{into}'.")
