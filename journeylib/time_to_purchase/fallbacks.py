"""What the models fall back to when a fit does not converge: the same term group left out, in the same order."""

from __future__ import annotations

from journeylib.errors import NotEstimable
from journeylib.time_to_purchase.leads import TEST_DRIVE


class NotConverged(NotEstimable, RuntimeError):
    """A model fit that does not converge (separation) or has a singular design; also a RuntimeError."""


def term_groups(terms, test_drive: bool = True) -> dict:
    """A model's terms by factor, in the order the fallbacks try leaving them out: dealer, channel, test drive."""
    groups = {"dealer": [t for t in terms if t.startswith("dealer:")],
              "acquisition channel": [t for t in terms if t.startswith("channel:")]}
    if test_drive:
        groups["test drive"] = [TEST_DRIVE]
    return groups


def fit_without_a_group(fit, terms, groups: dict):
    """The first fit that converges with one group of `terms` left out: (fitted, group name, terms kept).

    `fit(terms)` raises NotConverged when it fails; a group that would leave nothing, or that has
    no term in `terms`, is skipped. None when no group's removal helps.
    """
    terms = list(terms)
    for name, group in groups.items():
        rest = [t for t in terms if t not in group]
        if not rest or len(rest) == len(terms):
            continue
        try:
            return fit(rest), name, rest
        except NotConverged:
            continue
    return None
