"""Which notebooks a run executes: `notebooks/NN_name.ipynb` in name order, narrowed by --only."""

from __future__ import annotations

import re
from pathlib import Path

from journeylib.errors import InputError

NOTEBOOK_NAME = re.compile(r"^(\d\d)_[A-Za-z0-9_-]+$")


def find_notebooks(folder) -> list[Path]:
    """Every `NN_name.ipynb` in the folder, in name order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: notebooks folder not found")
    found = sorted(p for p in folder.glob("*.ipynb") if NOTEBOOK_NAME.match(p.stem))
    if not found:
        raise InputError(f"{folder}: no notebooks named NN_name.ipynb")
    return found


def matches(token: str, notebook: Path) -> bool:
    """`01`, `01_journey_map` or `01_journey_map.ipynb` names the notebook."""
    token = token.removesuffix(".ipynb")
    return token == notebook.stem or token == notebook.stem[:2]


def select_notebooks(notebooks: list[Path], only) -> list[Path]:
    """The notebooks named by --only (`01` or `01_journey_map`), in run order; all without --only."""
    if not only:
        return list(notebooks)
    for token in only:
        if not any(matches(token, nb) for nb in notebooks):
            names = ", ".join(nb.stem for nb in notebooks)
            raise InputError(f"--only {token}: no such notebook (available: {names})")
    return [nb for nb in notebooks if any(matches(token, nb) for token in only)]
