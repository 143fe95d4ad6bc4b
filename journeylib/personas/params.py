"""Notebook 05's parameters: names and defaults as in its parameters cell; bad values raise ParameterError."""

from __future__ import annotations

import dataclasses

from journeylib.analysis import Params as BaseParams
from journeylib.analysis import whole_number
from journeylib.errors import ParameterError
from journeylib.derived.persona_model.features import MIN_LEVEL_CUSTOMERS


@dataclasses.dataclass(frozen=True)
class Params(BaseParams):
    """Notebook 05's parameters (names and defaults as in its parameters cell)."""

    seed: int = 0                 # the seed personas.parquet was built with (prepare uses 0)
    k_min: int = 2                # smallest number of personas considered
    k_max: int = 8                # largest number of personas considered
    stability_seeds: int = 5      # refits on 80% subsamples for the stability check
    quotes_per_theme: int = 2     # example quotes per pain point
    top_pain_points: int = 5      # pain points shown with quotes
    min_level_customers: int = MIN_LEVEL_CUSTOMERS  # rarer categories are pooled into "other"

    def check(self) -> None:
        for field in dataclasses.fields(self):
            whole_number(field.name, getattr(self, field.name))
        if self.k_min < 2:
            raise ParameterError("k_min", self.k_min, "a whole number >= 2")
        if self.k_max < self.k_min:
            raise ParameterError("k_max", self.k_max, f"a whole number >= k_min ({self.k_min})")
