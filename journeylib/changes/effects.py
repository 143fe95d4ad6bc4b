"""The tests of a comparison (latest period against the baseline), kept in `journeylib.stats.comparisons`
below every analysis so notebook 01's group comparison shares them; re-exported here under the old name."""

from journeylib.stats.comparisons import (POWER_Z, Z95, benjamini_hochberg, detectable_nps,  # noqa: F401
                                          detectable_rate, detectable_share, nps_change, nps_parts,
                                          proportion_change, rate_change)
