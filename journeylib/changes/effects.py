"""The change statistics live in `journeylib.stats.effects` (shared with the journey map's group comparison)."""

from journeylib.stats.effects import *  # noqa: F401,F403
from journeylib.stats.effects import (  # noqa: F401
    benjamini_hochberg, detectable_nps, detectable_rate, detectable_share, nps_change, nps_parts,
    proportion_change, rate_change,
)
