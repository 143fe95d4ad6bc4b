"""Notebook 00's parameters: names and defaults as in its parameters cell; bad values raise ParameterError."""

from __future__ import annotations

import dataclasses

from journeylib.analysis import Params as BaseParams
from journeylib.analysis import positive_int


@dataclasses.dataclass(frozen=True)
class Params(BaseParams):
    """Notebook 00's parameters (names and defaults as in its parameters cell)."""

    top_unknown: int = 10  # unknown raw labels listed per column
    top_dealers: int = 15  # dealers shown in the events-by-dealer chart (the rest are grouped)

    def check(self) -> None:
        positive_int("top_unknown", self.top_unknown)
        positive_int("top_dealers", self.top_dealers)
