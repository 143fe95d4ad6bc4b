"""Treatment coding for the models: the sparse-level plan, the reference levels, the dummy columns."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from journeylib.labels import label
from journeylib.stats import levels
from journeylib.time_to_purchase.leads import NO_DEALER
from journeylib.vocabulary import OTHER_LEVEL, REFERENCE_CHANNEL


MIN_LEVEL_CUSTOMERS = 20
LEVEL_FEATURES = ("acquisition_channel", "dealer_id")
FEATURE_WORDS = {"acquisition_channel": "acquisition channel", "dealer_id": "dealer"}


def check_reference_channel(channels, reference: str = REFERENCE_CHANNEL) -> str:
    """The reference channel must be in the data: another silent choice would change every hazard ratio's meaning."""
    present = sorted(set(pd.Series(channels).dropna().astype(str)))
    if reference not in present:
        raise ValueError(f"reference channel {reference!r} is not in the data (channels present: {present}); "
                         "hazard ratios are defined against it, so set another reference explicitly")
    return reference


def reference_dealer(dealers) -> str:
    """The dealer with the most customers (ties: first in sorted order): the most precise baseline."""
    counts = pd.Series(dealers).astype(str).value_counts()
    top = counts[counts == counts.max()].index
    return sorted(top)[0]


@dataclass
class Design:
    """Dummy-coded covariates and the levels they were coded against."""
    frame: pd.DataFrame
    covariates: list[str]
    reference_channel: str
    reference_dealer: str | None
    channels: list[str] = field(default_factory=list)
    dealers: list[str] = field(default_factory=list)


def dummy_code(frame: pd.DataFrame, reference_channel: str = REFERENCE_CHANNEL, reference_dealer_id=None,
               use_dealer: bool = True, use_channel: bool = True) -> Design:
    """Add `channel:<c>` and `dealer:<d>` indicator columns (reference levels left out)."""
    if use_channel:
        reference_channel = check_reference_channel(frame["acquisition_channel"], reference_channel)
        channels = sorted(c for c in frame["acquisition_channel"].unique() if c != reference_channel)
    else:
        reference_channel, channels = None, []
    out = frame.copy()
    covariates = _add_indicators(out, "acquisition_channel", "channel", channels)
    dealers: list[str] = []
    if use_dealer and frame["dealer_id"].nunique() > 1:
        reference_dealer_id = reference_dealer_id or reference_dealer(frame["dealer_id"])
        dealers = sorted(d for d in frame["dealer_id"].unique() if d != reference_dealer_id)
        covariates += _add_indicators(out, "dealer_id", "dealer", dealers)
    else:
        reference_dealer_id = None
    return Design(out, covariates, reference_channel, reference_dealer_id, channels, dealers)


def _add_indicators(frame: pd.DataFrame, column: str, prefix: str, levels) -> list[str]:
    """A `<prefix>:<level>` 0/1 column per level of `column`; returns their names."""
    names = [f"{prefix}:{level}" for level in levels]
    for name, level in zip(names, levels):
        frame[name] = (frame[column] == level).astype("int8")
    return names


@dataclass
class LevelChoice:
    """Acquisition channel and dealer after pooling sparse levels: the table every model and panel uses.

    `pooled`: feature -> raw levels pooled (into `targets[feature]`); `in_model`: feature -> whether
    the feature still has two or more levels for the models; `sentences`: what the report says.
    """
    customers: pd.DataFrame
    pooled: dict
    targets: dict
    in_model: dict
    reference_channel: str | None
    reference_dealer: str | None
    sentences: list = field(default_factory=list)

    def channels(self) -> list[str]:
        """Channel levels after pooling: the reference first, then by leads (ties by name)."""
        sizes = self.customers["acquisition_channel"].value_counts()
        return sorted(sizes.index, key=lambda c: (c != self.reference_channel, -sizes[c], c))


def choose_levels(customers: pd.DataFrame, min_level_customers: int = MIN_LEVEL_CUSTOMERS,
                  reference_channel: str = REFERENCE_CHANNEL) -> LevelChoice:
    """One rule for every model and panel of notebook 02 (journeylib.stats.levels).

    A channel or dealer with fewer than `min_level_customers` leads, or with no purchase, is pooled
    into `other` (an `other` still too thin goes into the reference). The channel reference is
    `reference_channel` when it survives, else the largest channel; the dealer reference is the
    largest dealer. A feature left with one level stays out of the models; its panels then pool by
    size only.
    """
    if isinstance(min_level_customers, bool) or not isinstance(min_level_customers, int) or min_level_customers < 1:
        raise ValueError(f"min_level_customers={min_level_customers!r}: expected a whole number >= 1")

    def is_sparse(rows: pd.DataFrame) -> bool:
        return len(rows) < min_level_customers or not rows["purchased"].any()

    plan = levels.plan_levels(customers, LEVEL_FEATURES, is_sparse, {"acquisition_channel": reference_channel})
    out = plan.apply(customers)
    pooled, targets, in_model, sentences = {}, {}, {}, []
    for feature in LEVEL_FEATURES:
        word = FEATURE_WORDS[feature]
        raw = customers[feature]
        in_model[feature] = feature in plan.levels
        if in_model[feature]:
            mapping = plan.mapping[feature]
            merged = sorted(str(level) for level, target in mapping.items() if target != level)
            target, events = (mapping[merged[0]] if merged else OTHER_LEVEL), "purchases"
        else:  # out of the models: the panels still pool small groups, by size only
            out[feature], merged = levels.pool_rare(raw, min_level_customers)
            target = OTHER_LEVEL
            if customers["purchased"].any():  # without purchases the notebook says so once instead
                kept = [level for level, rows in customers.groupby(feature) if not is_sparse(rows)]
                sentences.append(_left_out_sentence(word, raw, kept, min_level_customers))
        if merged:
            pooled[feature], targets[feature] = merged, target
            if in_model[feature]:
                names = ["(no dealer recorded)" if name == NO_DEALER else name for name in merged]
                sentences.append(levels.pooled_sentence(word, names, min_level_customers, target=target,
                                                        events="purchases", units="leads"))
    channel_ref = plan.references.get("acquisition_channel")
    if channel_ref is not None and channel_ref != reference_channel:
        why = "is not in this export" if reference_channel not in set(customers["acquisition_channel"]) else \
            f"has fewer than {min_level_customers} leads or no purchase"
        sentences.append(f"The usual reference channel '{label(reference_channel)}' {why}, so hazard ratios compare "
                         f"each channel with the largest one, '{label(channel_ref)}'.")
    return LevelChoice(out, pooled, targets, in_model, channel_ref, plan.references.get("dealer_id"), sentences)


def _left_out_sentence(word: str, raw: pd.Series, kept, min_count: int) -> str:
    present = raw.unique()
    if len(present) == 1:
        return f"Every lead has the same {word} ({present[0]}), so {word} is left out of the models."
    if len(kept) == 1:
        return (f"Only one {word} ({kept[0]}) has at least {min_count} leads and a purchase, so {word} is left "
                "out of the models.")
    return f"No {word} has at least {min_count} leads and a purchase, so {word} is left out of the models."
