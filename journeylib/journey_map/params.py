"""Notebook 01's parameters, refused with the notebook's messages when out of range or of the wrong type."""

from __future__ import annotations

import dataclasses

from journeylib.errors import ParameterError
from journeylib import analysis
from journeylib.journey_map.groups import MIN_SEGMENT_CUSTOMERS, SEGMENTS


def _whole(name: str, value, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ParameterError(name, value, f"a whole number >= {low}")


@dataclasses.dataclass(frozen=True)
class Params(analysis.Params):
    segment_by: str = "acquisition_channel"  # segments for part 8: acquisition_channel, dealer_id or persona
    half_life_days: float = 7.0  # time-decay attribution: a touch this many days before the purchase counts half
    cohort_horizon_days: int = 90  # cohort funnel: progress counted within this many days of the first touch
    top_n: int = 10  # rows in the top-variants and top-sequences tables
    segment_maps: int = 3  # journey maps drawn for the largest segments
    min_level_customers: int = MIN_SEGMENT_CUSTOMERS  # smaller channels, dealers and segments pooled into 'other'
    attribution_markov_order: int = 0  # Markov attribution of order k (1-3); 0: chosen among 1-3 by held-out paths
    compare: str = "buyers"  # part 5's comparison: "buyers" (against non-buyers) or "<grouping>:<a>,<b>"
    compare_q: float = 0.1  # false-discovery rate over the compared behaviours (Benjamini-Hochberg)

    def check(self) -> None:
        if self.segment_by not in SEGMENTS:
            raise ParameterError("segment_by", self.segment_by, f"one of {SEGMENTS}")
        days = self.half_life_days
        if isinstance(days, bool) or not isinstance(days, (int, float)) or not days > 0:
            raise ParameterError("half_life_days", days, "a positive number of days")
        _whole("cohort_horizon_days", self.cohort_horizon_days, 1)
        _whole("top_n", self.top_n, 1)
        _whole("segment_maps", self.segment_maps, 0)
        _whole("min_level_customers", self.min_level_customers, 1)
        self.compared_groups()
        order = self.attribution_markov_order
        if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= 3:
            raise ParameterError("attribution_markov_order", order, "1, 2, 3 or 0 (chosen among them)")
        q = self.compare_q
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 < q < 1:
            raise ParameterError("compare_q", q, "a number between 0 and 1")

    def compared_groups(self) -> tuple[str, str, str] | None:
        """(grouping, a, b) from `compare`, or None for buyers against non-buyers."""
        text = self.compare
        if text == "buyers":
            return None
        message = (f"parameter compare={text!r}: expected 'buyers' or '<grouping>:<a>,<b>' with a grouping among "
                   f"{SEGMENTS} (e.g. 'dealer_id:D01,D02')")
        if not isinstance(text, str) or ":" not in text:
            raise ValueError(message)
        grouping, _, pair = text.partition(":")
        parts = [p.strip() for p in pair.split(",")]
        if grouping.strip() not in SEGMENTS or len(parts) != 2 or not all(parts) or parts[0] == parts[1]:
            raise ValueError(message)
        return grouping.strip(), parts[0], parts[1]
