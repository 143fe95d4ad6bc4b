"""What a level plan changed, in the report's words and in metrics (notebooks 03 and 04).

`journeylib.stats.levels.plan_levels` decides the merges; this module only reads a
plan back: which levels were pooled, which fixed reference was replaced, which
feature was left out, as one plain sentence each (codes as labels) and in `Results`.
"""

from __future__ import annotations

from journeylib.labels import label
from journeylib.stats.levels import LevelPlan, pooled_sentence


def pooled_levels(plan: LevelPlan) -> dict:
    """Per feature in the model, the raw levels merged into another level (sorted), only where there are some."""
    out = {}
    for feature, mapping in plan.mapping.items():
        merged = sorted(str(level) for level, target in mapping.items() if target != level)
        if merged:
            out[feature] = merged
    return out


def plan_sentences(plan: LevelPlan, features, fixed_references: dict, min_count: int) -> list[str]:
    """One sentence per pooled feature, replaced reference and feature left out of the model."""
    sentences = []
    for feature, merged in pooled_levels(plan).items():
        targets = sorted({str(plan.mapping[feature][level]) for level in merged})
        sentences.append(pooled_sentence(feature, merged, min_count, target=" / ".join(targets)))
    for feature in features:
        wanted = fixed_references.get(feature)
        used = plan.references.get(feature)
        if feature not in plan.references:
            sentences.append(f"{label(feature)}: fewer than two levels with enough customers and events, "
                             "so it is left out of the model.")
        elif wanted is not None and used != wanted:
            sentences.append(f"{label(feature)}: the usual reference '{label(wanted)}' is absent or too rare in this "
                             f"export, so estimates compare with '{label(used)}', the largest group.")
    return sentences


def record_plan(results, plan: LevelPlan, features, fixed_references: dict, min_count: int) -> list[str]:
    """Record the pooled levels (`levels_pooled.<feature>`) and a note per sentence; returns the sentences."""
    for feature, merged in pooled_levels(plan).items():
        results.record_pooled(feature, merged)
    sentences = plan_sentences(plan, features, fixed_references, min_count)
    for sentence in sentences:
        results.note(sentence)
    return sentences
