"""Notebook 06's result: every comparison, the flagged ones, and the `changes` section of metrics.json.

Built by keyword in `analyse.py`. A measure with no overall comparison has its reason in `missing_`
(measure -> sentence); `notes_` holds what could not be compared, in sentences. The headline and the
thresholds sentence are properties `Result` inherits from `changes.sentences.Sentences`; the flagged
changes carry their own sentence (`flagged_["sentence"]`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from journeylib.analysis import Result as BaseResult
from journeylib.changes import sentences
from journeylib.changes.compare import ALL, baseline_window, series
from journeylib.changes.screen import Thresholds
from journeylib.results import SectionMetrics

SERIES_PERIODS = 24  # periods kept per main measure for the trend page
FLAGGED_FIELDS = ("measure", "label", "kind", "group_by", "group", "members", "latest_period", "baseline_from",
                  "baseline_to", "before", "after", "n_before", "n_after", "estimate", "ci_low", "ci_high", "p",
                  "q_value", "year_ago_period", "year_ago_before", "year_ago_estimate", "year_ago_p", "explained_by",
                  "rest_estimate", "related_to", "sentence")
# Older attribute names (before the `_` rule) -> the attribute now; kept for callers.
OLD_NAMES = {"populations": "populations_", "measures": "measures_", "notes": "notes_", "missing": "missing_",
             "detectable": "detectable_", "pooled": "levels_pooled_"}


@dataclass(kw_only=True)
class Result(sentences.Sentences, BaseResult):
    """Notebook 06's comparisons and flags."""

    params: object                   # journeylib.changes.Params
    as_of: pd.Timestamp
    populations_: dict               # name -> cohorts.Population (the units compared, by period)
    measures_: dict                  # key -> cohorts.Measure
    comparisons_: pd.DataFrame       # every comparison made: compare.COMPARISON_COLUMNS, year_ago columns, q_value,
    #                                  significant, material, seasonal, flagged
    flagged_: pd.DataFrame           # the flagged ones as reported: each change largest first, those it explains
    #                                  beneath it (`explained_by` set), then the same group's other measures in
    #                                  that period (`related_to` set) each with those it explains; size, sentence
    detectable_: dict                # main measure -> smallest detectable change (detectable.detectable)
    levels_pooled_: dict             # "<population>:<feature>" -> levels pooled or left out
    missing_: dict                   # measure -> why it has no overall comparison
    notes_: list                     # what could not be compared, in sentences

    section = "changes"

    def __getattr__(self, name: str):
        if name in OLD_NAMES:
            return getattr(self, OLD_NAMES[name])
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def q(self) -> float:
        return self.params.q

    @property
    def thresholds(self) -> Thresholds:
        return self.params.thresholds

    @property
    def settings(self) -> dict:
        return self.params.settings

    @property
    def reported_(self) -> pd.DataFrame:
        """The flagged changes reported on their own (not explained by a larger one, not related to a bigger
        change of the same group in the same period), largest first."""
        return self.flagged_[self.flagged_["explained_by"].isna() & self.flagged_["related_to"].isna()]

    def related(self, row: dict) -> pd.DataFrame:
        """The same group's other flagged measures in the same period, listed beneath a reported change
        (`nesting.relate`); each may have comparisons it explains (`beneath`)."""
        f = self.flagged_
        return f[(f["related_to"] == row["measure"]) & (f["group_by"] == row["group_by"])
                 & (f["group"] == row["group"]) & (f["latest_period"] == row["latest_period"])]

    def beneath(self, row: dict) -> pd.DataFrame:
        """The flagged comparisons a reported change explains."""
        key = f"{row['group_by']}={row['group']}"
        return self.flagged_[(self.flagged_["explained_by"] == key) & (self.flagged_["measure"] == row["measure"])]

    def listed(self, row: dict) -> pd.DataFrame:
        """Everything listed beneath a reported change, in order: the comparisons it explains, then each
        related measure followed by the comparisons that one explains."""
        related = self.related(row)
        parts = [self.beneath(row)]
        for position, measure in zip(related.index, related["measure"]):
            parts += [related.loc[[position]], self.beneath(related.loc[position].to_dict())]
        return pd.concat(parts)

    def series(self, row: dict, periods: int | None = None) -> pd.DataFrame:
        """The flagged (or any) comparison's measure per period: baseline periods and the latest."""
        pop = self.populations_[row["population"]]
        window = baseline_window(pop, self.params.baseline_periods)
        shown = window + [pop.latest]
        if periods:
            shown = [pop.latest - i for i in range(periods - 1, -1, -1) if pop.latest - i >= pop.first]
        return series(pop, self.measures_[row["measure"]], row["group_by"], row["members"], shown)

    def closest_calls(self, n: int = 12) -> pd.DataFrame:
        """The n comparisons with the smallest p-values, flagged or not, for reviewers: human labels, shares
        and their changes in percent (points), NPS in points, lead volume as a change in percent; no NaN."""
        from journeylib import labels

        table = self.comparisons_.sort_values("p").head(n)
        records = table.to_dict("records")

        def change(r):
            if r["kind"] == "share":
                return f"{labels.points(r['estimate'], 1)} ({labels.number_range(100 * r['ci_low'], 100 * r['ci_high'])})"
            if r["kind"] == "nps":
                return f"{labels.number(r['estimate'], 1)} NPS points ({labels.number_range(r['ci_low'], r['ci_high'])})"
            if not all(map(labels._finite, (r["estimate"], r["ci_low"], r["ci_high"]))):
                return labels.MISSING
            return (f"{labels.number(100 * (r['estimate'] - 1), 0)}% "
                    f"({labels.number_range(100 * (r['ci_low'] - 1), 100 * (r['ci_high'] - 1))})")

        def verdict(r):
            if r["flagged"]:
                return "flagged"
            if not r["significant"]:
                return "within chance"
            return "seasonal" if r["material"] and r["seasonal"] else "below threshold"

        return pd.DataFrame({
            "Measure": [r["label"][:1].upper() + r["label"][1:] for r in records],
            "Group": [sentences.group_label(r) for r in records],
            "Latest period": table["latest_period"].to_list(),
            "Units, latest": [labels.number(v) for v in table["n_after"]],
            "Units, baseline": [labels.number(v) for v in table["n_before"]],
            "Change (95% interval)": [change(r) for r in records],
            "p-value": [labels.p_value(p) for p in table["p"]],
            "Reading": [verdict(r) for r in records]})

    def _explained_by(self, row) -> str | None:
        match = self.flagged_[(self.flagged_["measure"] == row["measure"]) & (self.flagged_["group_by"] == ALL)]
        return None if match.empty else match.iloc[0]["explained_by"]

    def metrics(self) -> dict:
        """The `changes` section of metrics.json (docs/metrics.md)."""
        out = SectionMetrics()
        for key, value in self.settings.items():
            out.record(key, value)
        out.record("q", self.q)
        for name, pop in self.populations_.items():
            out.record(("latest_period", name), str(pop.latest))
        out.record("comparisons", len(self.comparisons_))
        table = self.comparisons_
        out.record("significant_count", int(table["significant"].sum()))
        out.record("below_threshold_count", int((table["significant"] & ~table["material"]).sum()))
        out.record("seasonal_count", int((table["significant"] & table["material"] & table["seasonal"]).sum()))
        out.record("flagged_comparisons", len(self.flagged_))
        out.record("flagged_count", len(self.reported_))
        def item(r: dict) -> dict:
            return {**{k: r.get(k) for k in FLAGGED_FIELDS},
                    "beneath": [{k: b.get(k) for k in FLAGGED_FIELDS} for b in self.beneath(r).to_dict("records")]}

        out.record("flagged", [{**item(r), "related": [item(m) for m in self.related(r).to_dict("records")]}
                               for r in self.reported_.to_dict("records")])
        overall = self.comparisons_[self.comparisons_["group_by"] == ALL]
        for key, measure in self.measures_.items():
            if key.startswith("funnel:"):  # a funnel step's conversion: changes.funnels.<funnel>.<step>
                match = overall[overall["measure"] == key]
                where = ("funnels", *key.split(":", 2)[1:])
                if match.empty:
                    out.record_missing(where, self.missing_.get(key, "not compared"))
                else:
                    row = match.iloc[0]
                    out.record(where, {"label": measure.label, "estimate": row["estimate"], "ci_low": row["ci_low"],
                                       "ci_high": row["ci_high"], "p": row["p"], "q_value": row["q_value"],
                                       "flagged": bool(row["flagged"]), "before": row["before"],
                                       "after": row["after"], "latest_period": row["latest_period"]})
            if not measure.main:
                continue
            match = overall[overall["measure"] == key]
            if match.empty:
                out.record_missing(("overall", key), self.missing_.get(key, "not compared"))
            else:
                row = match.iloc[0]
                out.record(("overall", key), {
                    "label": measure.label, "kind": measure.kind, "population": measure.population,
                    "estimate": row["estimate"], "ci_low": row["ci_low"], "ci_high": row["ci_high"], "p": row["p"],
                    "q_value": row["q_value"], "flagged": bool(row["flagged"]), "before": row["before"],
                    "after": row["after"], "latest_period": row["latest_period"],
                    "beyond_threshold": bool(row["material"]), "seasonal": bool(row["seasonal"]),
                    "year_ago_period": row["year_ago_period"], "year_ago_estimate": row["year_ago_estimate"],
                    "explained_by": self._explained_by(row)})
            out.record(("detectable", key), self.detectable_[key]["value"])
            pop = self.populations_.get(measure.population)
            if pop is not None and len(pop.frame):
                frame = self.series({"population": pop.name, "measure": key, "group_by": ALL, "members": [ALL]},
                                    periods=SERIES_PERIODS)
                out.record(("series", key), frame.to_dict("records"))
        for feature, levels in self.levels_pooled_.items():
            out.record_pooled(feature, levels)
        for sentence in self.notes_:
            out.note(sentence)
        return out.values
