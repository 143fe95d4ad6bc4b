"""Which comparisons are news: beyond chance, big enough to matter, and not the season.

A comparison is flagged when all three hold:
- beyond chance: its Benjamini-Hochberg adjusted p-value is at most q (the whole family, as before);
- big enough: its estimate is at least the practical threshold (`Thresholds`: points for shares and
  NPS, a relative change for volumes), so a tiny move in a huge group is not news;
- not seasonal: where the data reaches the same period a year earlier, the latest period also differs
  from that period by at least the threshold, in the same direction (shares and volumes; a size check,
  not a second test, so a small group's real change is not lost to a noisy single period).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Thresholds:
    """The smallest change a manager would act on."""

    share_points: float = 3.0  # shares and rates: percentage points
    volume_change: float = 0.10  # volumes: relative change (0.10 = 10% up or down)
    nps_points: float = 5.0  # NPS points

    def size(self, kind: str, estimate) -> float:
        """The change on the threshold's scale: points for shares and NPS, relative change for counts."""
        if estimate is None or (isinstance(estimate, float) and math.isnan(estimate)):
            return float("nan")
        if kind == "share":
            return 100 * float(estimate)
        if kind == "nps":
            return float(estimate)
        return float(estimate) - 1 if math.isfinite(estimate) else float("inf")

    def limit(self, kind: str) -> float:
        return {"share": self.share_points, "nps": self.nps_points}.get(kind, self.volume_change)

    def beyond(self, kind: str, estimate) -> bool:
        size = self.size(kind, estimate)
        return not math.isnan(size) and abs(size) >= self.limit(kind) - 1e-12

    def sentence(self) -> str:
        return (f"A change is flagged only when it is beyond chance and at least {self.share_points:g} percentage "
                f"points for shares and rates, {100 * self.volume_change:g}% for volumes and "
                f"{self.nps_points:g} points for NPS.")


def adjust(table: pd.DataFrame, q: float) -> pd.DataFrame:
    """`q_value` and `significant` columns: Benjamini-Hochberg over the whole family of comparisons."""
    from journeylib.stats.comparisons import benjamini_hochberg  # scipy, imported where it is used

    significant, adjusted = benjamini_hochberg(table["p"], q)
    return table.assign(q_value=adjusted, significant=significant.astype(bool))


def seasonal(row: dict, thresholds: Thresholds) -> bool:
    """The latest period is within the threshold of the same period a year earlier (or moved the other way)."""
    then = row.get("year_ago_estimate")
    if then is None or (isinstance(then, float) and math.isnan(then)):
        return False
    now = thresholds.size(row["kind"], row["estimate"])
    before = thresholds.size(row["kind"], then)
    return not (thresholds.beyond(row["kind"], then) and now * before > 0)


def screen(table: pd.DataFrame, thresholds: Thresholds) -> pd.DataFrame:
    """`significant` (BH), `material` (threshold), `seasonal` and `flagged` columns on the comparisons."""
    out = table.copy()
    records = out.to_dict("records")
    out["material"] = [thresholds.beyond(r["kind"], r["estimate"]) for r in records]
    out["seasonal"] = [seasonal(r, thresholds) for r in records]
    out["flagged"] = out["significant"] & out["material"] & ~out["seasonal"]
    return out
