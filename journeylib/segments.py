"""Customer bands shared by several notebooks."""

from __future__ import annotations

import numpy as np
import pandas as pd

SATISFACTION_BANDS = ("promoter", "passive", "detractor", "no_response")


def satisfaction_band(score) -> pd.Series:
    """0-10 likelihood-to-recommend -> promoter (9-10), passive (7-8), detractor (0-6), no_response (missing)."""
    score = pd.Series(score, dtype="float64")
    band = np.select([score >= 9, score >= 7, score >= 0], ["promoter", "passive", "detractor"], "no_response")
    return pd.Series(pd.Categorical(band, categories=SATISFACTION_BANDS), index=score.index)
