"""Derived tables several parts share, below both `journey prepare` and the analyses.

`feedback`: survey comments scored (themes from a keyword taxonomy, VADER sentiment,
pain points, redacted quotes), used by prepare's persona features, notebook 01's poster
and notebook 05. `persona_model`: the persona table `journey prepare` writes
(`persona_model.table.write_personas`: features, k-means, names). Editing an analysis
(notebook 05's wording, say) changes nothing here, so it does not force a re-prepare.
Layers: docs/architecture.md; `lint-imports` (pyproject.toml) enforces them.
"""
