"""Notebook 01's parameters, refused with the notebook's messages when out of range or of the wrong type."""

from __future__ import annotations

import dataclasses

from journeylib import analysis
from journeylib.journey_map.groups import MIN_SEGMENT_CUSTOMERS, SEGMENTS


def _whole(name: str, value, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"parameter {name}={value!r}: expected a whole number >= {low}")


@dataclasses.dataclass(frozen=True)
class Params(analysis.Params):
    segment_by: str = "acquisition_channel"  # segments for part 8: acquisition_channel, dealer_id or persona
    half_life_days: float = 7.0  # time-decay attribution: a touch this many days before the purchase counts half
    cohort_horizon_days: int = 90  # cohort funnel: progress counted within this many days of the first touch
    top_n: int = 10  # rows in the top-variants and top-sequences tables
    segment_maps: int = 3  # journey maps drawn for the largest segments
    min_level_customers: int = MIN_SEGMENT_CUSTOMERS  # smaller channels, dealers and segments pooled into 'other'

    def check(self) -> None:
        if self.segment_by not in SEGMENTS:
            raise ValueError(f"parameter segment_by={self.segment_by!r}: expected one of {SEGMENTS}")
        days = self.half_life_days
        if isinstance(days, bool) or not isinstance(days, (int, float)) or not days > 0:
            raise ValueError(f"parameter half_life_days={days!r}: expected a positive number of days")
        _whole("cohort_horizon_days", self.cohort_horizon_days, 1)
        _whole("top_n", self.top_n, 1)
        _whole("segment_maps", self.segment_maps, 0)
        _whole("min_level_customers", self.min_level_customers, 1)
