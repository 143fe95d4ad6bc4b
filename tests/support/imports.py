"""What importing a journeylib module loads, seen from a fresh Python on this checkout."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]


def loaded_by_import(module: str, candidates) -> list[str]:
    """Which of `candidates` (top-level package names) are in sys.modules after `import module` alone."""
    code = f"import sys, {module}; print(sorted(m for m in {tuple(candidates)!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=CHECKOUT).stdout.strip()  # this checkout's journeylib
    return ast.literal_eval(out)
