"""Errors the command line turns into a one-line message and exit code 2."""


class InputError(Exception):
    """Bad input: a missing file or column, an unreadable file, a bad setting.

    The message names the file and column (and row where there is one) and
    fits on one line.
    """


class ConfigError(InputError):
    """A configuration value that is missing, of the wrong type or unknown."""


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
