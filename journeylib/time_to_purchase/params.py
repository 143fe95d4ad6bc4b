"""Notebook 02's parameters: names and defaults as in its parameters cell; bad values raise ParameterError."""

from __future__ import annotations

import dataclasses

from journeylib.analysis import Params as BaseParams
from journeylib.analysis import positive_int, positive_number
from journeylib.errors import ParameterError


@dataclasses.dataclass(frozen=True)
class Params(BaseParams):
    """Notebook 02's parameters (names and defaults as in its parameters cell)."""

    max_rows: int = 20000             # rows for the proportional-hazards check and the concordance
    rmst_horizon_days: float = 180    # restricted mean time to purchase within this many days
    scenario_share: float = 0.10      # share of the eligible leads who would additionally take a test drive
    scenario_window_days: int = 14    # ... within this many days of their first touch
    scenario_horizon_days: int = 90   # extra purchases counted up to this day
    seed: int = 0                     # subsampling and simulation draws
    min_level_customers: int = 20     # a channel or dealer with fewer leads (or no purchase) is pooled
    leads_to_call_top: int = 25       # leads per dealer on leads_to_call.csv (and on the backtest's call list)

    def check(self) -> None:
        for name in ("max_rows", "scenario_window_days", "scenario_horizon_days", "min_level_customers",
                     "leads_to_call_top"):
            positive_int(name, getattr(self, name))
        positive_number("rmst_horizon_days", self.rmst_horizon_days)
        if isinstance(self.scenario_share, bool) or not isinstance(self.scenario_share, float) \
                or not 0 < self.scenario_share <= 1:
            raise ParameterError("scenario_share", self.scenario_share, "a share in (0, 1]")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ParameterError("seed", self.seed, "a whole number")
        if self.scenario_window_days >= self.scenario_horizon_days:
            raise ParameterError("scenario_window_days", self.scenario_window_days,
                                 f"fewer days than scenario_horizon_days ({self.scenario_horizon_days})")
