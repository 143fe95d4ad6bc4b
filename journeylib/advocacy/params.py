"""Notebook 04's parameters: names and defaults as in its parameters cell; bad values raise ParameterError."""

from __future__ import annotations

import dataclasses

from journeylib.analysis import Params as BaseParams
from journeylib.analysis import positive_int


@dataclasses.dataclass(frozen=True)
class Params(BaseParams):
    """Notebook 04's parameters (names and defaults as in its parameters cell)."""

    min_level_customers: int = 20   # a model level (e.g. a channel) with fewer buyers is pooled into "other"
    min_referrals: int = 3          # ... and so is one whose buyers made fewer referrals than this
    min_group_responses: int = 30   # NPS by dealer or quarter: groups with fewer responses are shown but marked

    def check(self) -> None:
        for name in ("min_level_customers", "min_referrals", "min_group_responses"):
            positive_int(name, getattr(self, name), expected="a positive integer")
