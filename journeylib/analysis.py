"""The shape every analysis shares: validated parameters in, one result object out.

Each analysis package (`journey_map`, `time_to_purchase`, `retention`, `advocacy`,
`personas`, ...) exposes

    params = Params(...)              # a small dataclass; bad values raise errors.ParameterError
    result = analyse(tables, params)  # tables: journeylib.tables.ProcessedTables
    result.metrics()                  # exactly that notebook's section of metrics.json

A result holds its tables as DataFrames with fixed columns, attributes ending in
`_` like a fitted lifelines or scikit-learn object. Notebooks draw figures from
those tables and write `results.record_all(result.metrics())`; nothing a
metric depends on is computed in a notebook. `journeylib.headless.analyse_all`
runs every analysis without papermill.
"""

from __future__ import annotations

import dataclasses
import math

from journeylib.errors import ParameterError


def positive_int(name: str, value, expected: str = "a positive whole number") -> int:
    """A count parameter: a whole number above 0 (True/False are not counts)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ParameterError(name, value, expected)
    return value


def whole_number(name: str, value, low: int = 0, expected: str | None = None) -> int:
    """A whole number at least `low` (True/False are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ParameterError(name, value, expected or (f"a whole number >= {low}" if low else "a non-negative integer"))
    return value


def positive_ints(name: str, values, expected: str = "a positive whole number") -> list[int]:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ParameterError(name, values, "a list of positive whole numbers")
    return [positive_int(name, value, expected) for value in values]


def positive_number(name: str, value, expected: str = "a positive number") -> float:
    """A finite number above 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ParameterError(name, value, expected)
    return float(value)


def share(name: str, value, expected: str = "a share between 0 and 1") -> float:
    """A proportion strictly between 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 < value < 1:
        raise ParameterError(name, value, expected)
    return float(value)


def flag(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise ParameterError(name, value, "True or False")
    return value


def one_of(name: str, value, choices) -> str:
    if value not in choices:
        raise ParameterError(name, value, f"one of {', '.join(map(str, choices))}")
    return value


class Params:
    """Base for an analysis' parameters: a dataclass whose `check()` refuses bad values.

    Subclasses are `@dataclasses.dataclass(frozen=True)`; field names are the notebook
    parameter names, defaults the notebook defaults.
    """

    def __post_init__(self):
        self.check()

    def check(self) -> None:  # pragma: no cover - every subclass checks its own fields
        pass

    @classmethod
    def from_values(cls, values: dict):
        """The parameters among `values` (a notebook's globals, a run's overrides); other names are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


class Result:
    """Base for an analysis' result: its tables and `metrics()`, the notebook's section of metrics.json."""

    section: str = ""

    def metrics(self) -> dict:  # pragma: no cover - every analysis builds its own section
        raise NotImplementedError


def lazy_names(package: str, old_names: dict):
    """An analysis package's module `__getattr__`: its older names (name -> (module, attribute); a module
    without a dot is the package's own) and its modules not imported yet, loaded on first use, so that
    importing the package stays light."""
    import importlib

    def __getattr__(name: str):
        if name in old_names:
            module, attribute = old_names[name]
            return getattr(importlib.import_module(module if "." in module else f"{package}.{module}"), attribute)
        try:
            return importlib.import_module(f"{package}.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"{package}.{name}":
                raise
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None

    return __getattr__
