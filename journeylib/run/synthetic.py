"""Is a run on synthetic data? The raw folder holds the `truth.json` that `journey sample` writes.

`journey sample` writes the seven tables, its `journey.yaml` and `truth.json` (the effects the analyses
should recover) side by side. Real exports have no reason to hold a file of that name with the sample's
keys, so the run decides from it: `truth.json` in the raw folder whose JSON object holds the sample's
`seed`, `identity` and `funnel` sections. The raw folder is the one the processed tables were made from
(its files, truth.json included, are in the fingerprint: unchanged files are what reuse means), so the
answer holds for a reused preparation too. A run on sample data records `run.synthetic_data: true` in
metrics.json and shows a "Synthetic sample data" banner on every page (index, notebooks, trends).
"""

from __future__ import annotations

import json
from pathlib import Path

TRUTH_FILE = "truth.json"  # journeylib.sample.TRUTH_NAME (not imported: the sample imports numpy and more)
SAMPLE_KEYS = ("seed", "identity", "funnel")


def is_sample(raw) -> bool:
    """True when the raw folder holds the sample's truth.json (see the module text)."""
    try:
        truth = json.loads((Path(raw) / TRUTH_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(truth, dict) and all(key in truth for key in SAMPLE_KEYS)
