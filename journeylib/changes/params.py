"""Notebook 06's parameters: names and defaults as in its parameters cell; bad values raise ParameterError."""

from __future__ import annotations

from dataclasses import dataclass

from journeylib.analysis import Params as BaseParams
from journeylib.analysis import flag, positive_int, share
from journeylib.changes.cohorts import check_period
from journeylib.changes.screen import Thresholds
from journeylib.errors import ParameterError


@dataclass(frozen=True)
class Params(BaseParams):
    """Notebook 06's parameters (names and defaults as in its parameters cell)."""

    period: str = "month"  # "month" or "week" (Monday to Sunday, UTC)
    baseline_periods: int = 6  # complete periods before the latest one that form the baseline
    q: float = 0.1  # false-discovery rate controlled over all comparisons (Benjamini-Hochberg)
    horizon_days: int = 90  # leads and test drives: stages, test drive and purchase counted within this many days
    window_days: int = 180  # buyers: a service visit or a referral within this many days of the purchase
    min_latest: int = 10  # a group with fewer units than this in the latest period is pooled or left out
    min_baseline: int = 30  # ... and so is one with fewer than this in the baseline
    min_share_points: float = 3.0  # a share or rate is flagged only when it moved at least this many points
    min_volume_change: float = 0.10  # ... a volume only when it moved at least this much (0.10 = 10%)
    min_nps_points: float = 5.0  # ... an NPS only when it moved at least this many points
    year_over_year: bool = True  # shares and volumes must also differ from the same period a year earlier

    def check(self) -> None:
        check_period(self.period)
        for name in ("baseline_periods", "horizon_days", "window_days", "min_latest", "min_baseline"):
            positive_int(name, getattr(self, name), expected="a whole number >= 1")
        share("q", self.q, expected="a false-discovery rate between 0 and 1")
        for name, top in (("min_share_points", 100), ("min_volume_change", 10), ("min_nps_points", 200)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= top:
                raise ParameterError(name, value, f"a number from 0 to {top}")
        flag("year_over_year", self.year_over_year)

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(float(self.min_share_points), float(self.min_volume_change), float(self.min_nps_points))

    @property
    def settings(self) -> dict:
        """The parameters metrics.json records at the top of `changes` (all but q, which follows them)."""
        return {"period": self.period, "baseline_periods": self.baseline_periods, "horizon_days": self.horizon_days,
                "window_days": self.window_days, "min_latest": self.min_latest, "min_baseline": self.min_baseline,
                "min_share_points": float(self.min_share_points), "min_volume_change": float(self.min_volume_change),
                "min_nps_points": float(self.min_nps_points), "year_over_year": self.year_over_year}
