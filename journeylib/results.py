"""How a notebook records its results, and how the runner merges them.

A notebook creates one `Results` for its section of metrics.json, records
computed values (never typed-in numbers) and saves at the end. Under
`journey run` the file lands in `<run_dir>/results/<notebook>.json` and the
runner merges every file into `<run_dir>/metrics.json` (schema: docs/metrics.md).
Outside a run (JupyterLab, nbval) `save()` writes nothing; `as_dict()` shows what was recorded.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from pathlib import Path

import numpy as np

RESULTS_FOLDER = "results"

# Keys every complete run's metrics.json must hold. "<channel>" and "<stage>"
# parts are checked by the analysis tests against the data, not here.
REQUIRED_KEYS = (
    "run.id", "run.started_at", "run.finished_at", "run.as_of", "run.status",
    "data.customers",
    *(f"data.tables.{t}.{c}" for t in ("customers", "touchpoints", "sales", "service_visits", "surveys", "referrals")
      for c in ("raw", "kept", "rejected")),
    *(f"journey.funnel.{s}" for s in ("awareness", "consideration", "purchase", "retention", "advocacy")),
    *(f"journey.conversion.{a}_to_{b}" for a, b in (("awareness", "consideration"), ("consideration", "purchase"),
                                                      ("purchase", "retention"), ("retention", "advocacy"))),
    *(f"journey.attribution.{m}" for m in ("first_touch", "last_touch", "linear", "time_decay", "markov")),
    *(f"time_to_purchase.purchase_probability.{d}" for d in ("30", "90", "180", "365")),
    "time_to_purchase.reference_channel", "time_to_purchase.hazard_ratios.test_drive",
    "time_to_purchase.concordance",
    "retention.eligible", "retention.churn_rate", "retention.reference_levels",
    *(f"retention.odds_ratios.{k}" for k in ("finance_type:lease", "finance_type:cash", "condition:used",
                                             "satisfaction:detractor")),
    "retention.auc", "retention.brier",
    "advocacy.nps.sales", "advocacy.nps.service", "advocacy.reference_satisfaction",
    "advocacy.referral_rate_ratios.satisfaction:promoter", "advocacy.referral_rate_ratios.satisfaction:detractor",
    "advocacy.k_factor",
    "changes.comparisons", "changes.flagged_count", "changes.flagged",
)


def to_jsonable(value):
    """numpy/pandas scalars and containers -> plain JSON values; NaN and inf -> None."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "isoformat"):  # pandas Timestamp
        return value.isoformat()
    if value is None or isinstance(value, (str, int)):
        return value
    raise TypeError(f"cannot record a value of type {type(value).__name__}: {value!r}")


def _split(key) -> list[str]:
    parts = list(key) if isinstance(key, (tuple, list)) else str(key).split(".")
    if not parts or any(p == "" for p in parts):
        raise ValueError(f"bad metrics key {key!r}")
    return [str(p) for p in parts]


def effect(estimate, ci_low, ci_high, p=None) -> dict:
    """An effect as metrics.json holds it: {"estimate", "ci_low", "ci_high"[, "p"]}."""
    out = {"estimate": to_jsonable(estimate), "ci_low": to_jsonable(ci_low), "ci_high": to_jsonable(ci_high)}
    if p is not None:
        out["p"] = to_jsonable(p)
    return out


class SectionMetrics:
    """The values of one section of metrics.json, built without any file or notebook.

    An analysis result's `metrics()` fills one and returns `values`; the notebook's
    `Results.record_all` takes that dictionary as it is.
    """

    def __init__(self):
        self.values: dict = {}

    def record(self, key, value) -> None:
        """Record a computed value at a dotted key (or a tuple of key parts) in this section.

        Returns nothing, so a notebook cell ending in a record() call shows nothing to reviewers.
        """
        parts = _split(key)
        node = self.values
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"metrics key {key!r} runs through a value already recorded")
        node[parts[-1]] = to_jsonable(value)

    def record_effect(self, key, estimate, ci_low, ci_high, p=None) -> None:
        self.record(key, effect(estimate, ci_low, ci_high, p))

    def record_missing(self, key, reason: str) -> None:
        """An estimate that could not be computed: null at `key`, the reason under `missing."<key>"`.

        For named, expected conditions only (no purchases, a constant covariate, ...);
        the reason is also added to `notes`, so the index shows it.
        """
        self.record(key, None)
        dotted = ".".join(_split(key))
        self.values.setdefault("missing", {})[dotted] = str(reason)
        self.note(reason)

    def note(self, sentence: str) -> None:
        """A plain sentence for reviewers (a pooled level, a fallback reference, a skipped section).

        Kept once each, in order, under `notes`; the run index shows them beside the notebook.
        """
        notes = self.values.setdefault("notes", [])
        if sentence not in notes:
            notes.append(str(sentence))

    def record_pooled(self, feature: str, levels) -> None:
        """The levels of `feature` pooled into `other` (or the reference) before fitting."""
        self.record(("levels_pooled", feature), sorted(str(level) for level in levels))

    def record_all(self, values: dict) -> None:
        """Merge a whole section (an analysis result's `metrics()`); a leaf recorded twice is an error.

        `notes` lists are joined (each sentence once), so a notebook may add its own notes too.
        """
        values = to_jsonable(values)
        notes = values.pop("notes", [])
        deep_merge(self.values, values)
        for sentence in notes:
            self.note(sentence)


class Results(SectionMetrics):
    """One notebook's results, under one top-level section of metrics.json."""

    def __init__(self, section: str, notebook: str, run_dir=None):
        super().__init__()
        self.section = section
        self.notebook = notebook
        self.run_dir = Path(run_dir) if run_dir not in (None, "") else None

    def as_dict(self) -> dict:
        return {self.section: self.values}

    def save(self) -> None:
        """Write the results file when running under `journey run` (nothing to show in the notebook)."""
        data = self.as_dict()
        if self.run_dir is not None:
            folder = self.run_dir / RESULTS_FOLDER
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{self.notebook}.json"
            path.write_text(json.dumps(data, indent=2, sort_keys=True, allow_nan=False), encoding="utf-8")


def deep_merge(into: dict, other: dict, where: str = "") -> dict:
    """Merge `other` into `into`; two notebooks writing the same leaf is an error."""
    for key, value in other.items():
        path = f"{where}.{key}" if where else key
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            deep_merge(into[key], value, path)
        elif key in into:
            raise ValueError(f"metrics key {path!r} recorded twice")
        else:
            into[key] = value
    return into


def merge_results(run_dir) -> dict:
    """Every notebook's results file in a run folder, merged (sorted by notebook name)."""
    merged: dict = {}
    folder = Path(run_dir) / RESULTS_FOLDER
    for path in sorted(folder.glob("*.json")):
        deep_merge(merged, json.loads(path.read_text(encoding="utf-8")))
    return merged


def get_key(metrics: dict, key):
    node = metrics
    for part in _split(key):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(key)
        node = node[part]
    return node


def missing_keys(metrics: dict, required=REQUIRED_KEYS) -> list[str]:
    """The required keys a metrics dictionary lacks (a key may name a ':'-part, so split on '.' only)."""
    missing = []
    for key in required:
        try:
            get_key(metrics, key)
        except KeyError:
            missing.append(key)
    return missing
