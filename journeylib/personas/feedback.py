"""Moved to `journeylib.derived.feedback` (the derived layer, below prepare and the analyses); this old path is the same module.

Kept so that callers of `journeylib.personas.feedback` keep working; new code imports `journeylib.derived.feedback`.
"""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("journeylib.derived.feedback")
