"""The package's error vocabulary.

`InputError` (and its kinds `ConfigError`, `ParameterError`): bad input the command
line turns into a one-line message and exit code 2. `NotEstimable` (and `NotConverged`):
a named, expected reason an estimate is null in the report. Anything else is a bug.
"""


class InputError(Exception):
    """Bad input: a missing file or column, an unreadable file, a bad setting.

    The message names the file and column (and row where there is one) and
    fits on one line.
    """


class ConfigError(InputError):
    """A configuration value that is missing, of the wrong type or unknown."""


class ParameterError(InputError, ValueError):
    """An analysis parameter refused by its `Params`: `parameter name=value: expected ...`.

    An `InputError`, so `journey run -p` exits 2; also a `ValueError`, as the
    parameter checks raised before (callers catching ValueError keep working).
    """

    def __init__(self, name: str, value, expected: str):
        super().__init__(f"parameter {name}={value!r}: expected {expected}")
        self.name, self.value, self.expected = name, value, expected


class NotEstimable(Exception):
    """A named, expected reason an analysis cannot be computed on this export.

    No purchases, no surveys, a constant covariate, nobody eligible yet: the
    notebook shows `reason` as a plain sentence, records the estimate as null
    with that reason (`Results.record_missing`) and goes on. Anything else (a
    KeyError, a wrong column) is a bug and must not be caught as this.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class NotConverged(NotEstimable, RuntimeError):
    """A model fit that did not converge (separation, a singular design): the estimate is null with `reason`."""
