"""Where the project's folders are, without ever looking at the working directory.

papermill runs in the caller's directory, JupyterLab and nbval in the
notebook's, so a relative path would mean different things. Folders come from
an explicit argument, else an environment variable, else the project root (the
folder holding the installed-editable package).
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT_ENV = "JOURNEY_PROJECT_ROOT"
PROCESSED_ENV = "JOURNEY_PROCESSED_DIR"
RAW_ENV = "JOURNEY_RAW_DIR"
REPORTS_ENV = "JOURNEY_REPORTS_DIR"


def project_root() -> Path:
    """The project folder: $JOURNEY_PROJECT_ROOT, else the package's parent."""
    env = os.environ.get(PROJECT_ROOT_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return Path(__file__).resolve().parent.parent


def _resolve(explicit, env_name: str, default_relative: str) -> Path:
    if explicit not in (None, ""):
        return Path(explicit).expanduser().resolve()
    env = os.environ.get(env_name)
    if env:
        return Path(env).expanduser().resolve()
    return project_root() / default_relative


def raw_dir(explicit=None) -> Path:
    return _resolve(explicit, RAW_ENV, "data/raw")


def processed_dir(explicit=None) -> Path:
    return _resolve(explicit, PROCESSED_ENV, "data/processed")


def reports_dir(explicit=None) -> Path:
    return _resolve(explicit, REPORTS_ENV, "reports")


def notebooks_dir() -> Path:
    return project_root() / "notebooks"
