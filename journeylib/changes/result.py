"""Notebook 06's result: every comparison, the flagged ones, and the `changes` section of metrics.json."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from journeylib.analysis import Result
from journeylib.changes import sentences
from journeylib.changes.compare import ALL, baseline_window, series
from journeylib.results import SectionMetrics

SECTION = "changes"
NOTEBOOK = "06_what_changed"
SERIES_PERIODS = 24  # periods kept per main measure for the trend page
COMPARISON_COLUMNS = ("measure", "label", "kind", "population", "group_by", "group", "members", "estimate", "ci_low",
                      "ci_high", "p", "before", "after", "n_before", "n_after", "latest_period", "baseline_from",
                      "baseline_to", "main")
FLAGGED_FIELDS = ("measure", "label", "kind", "group_by", "group", "members", "latest_period", "baseline_from",
                  "baseline_to", "before", "after", "n_before", "n_after", "estimate", "ci_low", "ci_high", "p",
                  "q_value", "sentence")


@dataclass
class WhatChanged(Result):
    section = SECTION
    comparisons_: pd.DataFrame  # every comparison made, with q_value and flagged (COMPARISON_COLUMNS + q_value, flagged)
    flagged_: pd.DataFrame  # the flagged ones, largest first, with their size and sentence
    populations: dict
    measures: dict
    notes: list = field(default_factory=list)
    missing: dict = field(default_factory=dict)  # measure -> why it has no overall comparison
    detectable: dict = field(default_factory=dict)  # main measure -> smallest detectable change
    pooled: dict = field(default_factory=dict)  # "<population>:<feature>" -> levels pooled or left out
    q: float = 0.1
    settings: dict = field(default_factory=dict)
    as_of: pd.Timestamp | None = None

    @property
    def summary(self) -> str:
        """The headline sentence: how many comparisons, how many flagged."""
        if self.flagged_.empty:
            return sentences.nothing_flagged(len(self.comparisons_), self.q)
        return (f"{len(self.flagged_)} of {len(self.comparisons_)} comparisons flagged at a false-discovery rate "
                f"q = {self.q:g}.")

    def series(self, row: dict, periods: int | None = None) -> pd.DataFrame:
        """The flagged (or any) comparison's measure per period: baseline periods and the latest."""
        pop = self.populations[row["population"]]
        window = baseline_window(pop, self.settings["baseline_periods"])
        shown = window + [pop.latest]
        if periods:
            shown = [pop.latest - i for i in range(periods - 1, -1, -1) if pop.latest - i >= pop.first]
        return series(pop, self.measures[row["measure"]], row["group_by"], row["members"], shown)

    def closest_calls(self, n: int = 12) -> pd.DataFrame:
        """The n comparisons with the smallest p-values, flagged or not, formatted for reviewers
        (shares and their changes in percent, NPS in points, lead volume as a rate ratio)."""
        table = self.comparisons_.sort_values("p").head(n)
        records = table.to_dict("records")
        return pd.DataFrame({
            "measure": table["label"], "group": [sentences.group_label(r) for r in records],
            "latest": table["latest_period"], "n latest": table["n_after"], "n baseline": table["n_before"],
            "change": table["estimate"].where(table["kind"] != "share", 100 * table["estimate"]).round(1),
            "95% CI": [f"{100 * r['ci_low']:.0f} to {100 * r['ci_high']:.0f}" if r["kind"] == "share"
                       else f"{r['ci_low']:.2f} to {r['ci_high']:.2f}" for r in records],
            "p": ["< 0.0001" if p < 0.0001 else f"{p:.4f}" for p in table["p"]],
            "q value": table["q_value"].round(3), "flagged": table["flagged"].map({True: "yes", False: ""})})

    def metrics(self) -> dict:
        """The `changes` section of metrics.json (docs/metrics.md)."""
        out = SectionMetrics()
        for key, value in self.settings.items():
            out.record(key, value)
        out.record("q", self.q)
        for name, pop in self.populations.items():
            out.record(("latest_period", name), str(pop.latest))
        out.record("comparisons", len(self.comparisons_))
        out.record("flagged_count", len(self.flagged_))
        out.record("flagged", [{k: r.get(k) for k in FLAGGED_FIELDS} for r in self.flagged_.to_dict("records")])
        overall = self.comparisons_[self.comparisons_["group_by"] == ALL]
        for key, measure in self.measures.items():
            if not measure.main:
                continue
            match = overall[overall["measure"] == key]
            if match.empty:
                out.record_missing(("overall", key), self.missing.get(key, "not compared"))
            else:
                row = match.iloc[0]
                out.record(("overall", key), {
                    "label": measure.label,
                    "estimate": row["estimate"], "ci_low": row["ci_low"], "ci_high": row["ci_high"], "p": row["p"],
                    "q_value": row["q_value"], "flagged": bool(row["flagged"]), "before": row["before"],
                    "after": row["after"], "latest_period": row["latest_period"]})
            out.record(("detectable", key), self.detectable[key]["value"])
            pop = self.populations.get(measure.population)
            if pop is not None and len(pop.frame):
                frame = self.series({"population": pop.name, "measure": key, "group_by": ALL, "members": [ALL]},
                                    periods=SERIES_PERIODS)
                out.record(("series", key), frame.to_dict("records"))
        for feature, levels in self.pooled.items():
            out.record_pooled(feature, levels)
        for sentence in self.notes:
            out.note(sentence)
        return out.values
