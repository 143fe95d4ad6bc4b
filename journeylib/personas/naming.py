"""Moved to `journeylib.derived.persona_model.naming` (the derived layer, below prepare and the analyses); this old path is the same module.

Kept so that callers of `journeylib.personas.naming` keep working; new code imports `journeylib.derived.persona_model.naming`.
"""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("journeylib.derived.persona_model.naming")
