"""The older home of notebook 05's `Params`, `analyse` and result (`PersonasResult`): kept for callers.

New code imports them from `journeylib.personas` (files: params, analyse, result).
"""

from journeylib.personas.analyse import analyse  # noqa: F401
from journeylib.personas.params import Params  # noqa: F401
from journeylib.personas.result import Result as PersonasResult  # noqa: F401
