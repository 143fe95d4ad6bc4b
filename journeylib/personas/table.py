"""Moved to `journeylib.derived.persona_model.table` (the derived layer, below prepare and the analyses); this old path is the same module.

Kept so that callers of `journeylib.personas.table` keep working; new code imports `journeylib.derived.persona_model.table`.
"""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("journeylib.derived.persona_model.table")
