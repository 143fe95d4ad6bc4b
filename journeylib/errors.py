"""Errors the command line turns into a one-line message and exit code 2."""


class InputError(Exception):
    """Bad input: a missing file or column, an unreadable file, a bad setting.

    The message names the file and column (and row where there is one) and
    fits on one line.
    """


class ConfigError(InputError):
    """A configuration value that is missing, of the wrong type or unknown."""
