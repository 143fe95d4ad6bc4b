"""What buyers do that others don't, or any two groups: the share of customers with each behaviour, side by side.

Behaviours: each event type, each step from one event type to another (the TOP_EVENT_TYPES most
frequent types, the rest pooled into 'other', repeats collapsed) and each channel, over events that
count for the journey. Buyers against non-buyers: a buyer's events strictly before the first purchase;
a non-buyer's events within the same time window, the buyers' median days from first touch to first
purchase counted from their own first touch. Any two groups (`groups`): every event up to the as-of date.

Per behaviour: the two shares, their difference with Newcombe's 95% interval and the score test's p
(`journeylib.stats.comparisons.proportion_change`), the family controlled by Benjamini-Hochberg at q
(`effects.benjamini_hochberg`). The customer-level flags are grouped in the engine; only counts per
(group, behaviour) come back.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pandas as pd

from journeylib.stats import comparisons as effects
from journeylib.journey_map.variants import TOP_EVENT_TYPES, ordered_steps

KINDS = {"event": "event", "step": "step", "channel": "channel"}  # the word after a behaviour's label
STEP_SEP = " → "


@dataclasses.dataclass
class GroupComparison:
    """`table_`: kind, behaviour, share_a, share_b, difference (a - b), ci_low, ci_high, p, q_value, flagged;
    flagged first, then by the size of the difference."""

    names: tuple  # (group a, group b) as a reviewer reads them
    sizes: tuple  # customers in each
    table_: pd.DataFrame
    q: float
    window_days: float | None  # buyers against non-buyers: the non-buyers' window
    detectable: float | None  # with nothing flagged: the smallest difference that could have been detected

    @property
    def flagged_(self) -> pd.DataFrame:
        return self.table_[self.table_["flagged"]]

    def sentences(self, top: int = 5) -> list[str]:
        """Plain sentences: the largest flagged differences, or the smallest detectable one."""
        a, b = self.names
        if min(self.sizes) == 0:
            return [f"There are no {a if not self.sizes[0] else b} to compare with, so no behaviour can be compared."]
        flagged = self.flagged_
        if flagged.empty:
            return [f"No behaviour differs between {a} ({self.sizes[0]:,}) and {b} ({self.sizes[1]:,}) beyond chance "
                    f"(Benjamini-Hochberg at q = {self.q:g}, {len(self.table_):,} behaviours compared); a difference "
                    f"in share of about {self.detectable:.0%} or more would probably have been seen."]
        out = [f"{len(flagged):,} of {len(self.table_):,} behaviours {'differs' if len(flagged) == 1 else 'differ'} between {a} ({self.sizes[0]:,}) and {b} "
               f"({self.sizes[1]:,}) beyond chance (Benjamini-Hochberg at q = {self.q:g}); the largest:"]
        for row in flagged.head(top).itertuples():
            what = behaviour_label(row.kind, row.behaviour)
            out.append(f"{what}: {row.share_a:.0%} of {a} against {row.share_b:.0%} of {b}, a difference of "
                       f"{100 * row.difference:+.0f} points (95% CI {100 * row.ci_low:+.0f} to {100 * row.ci_high:+.0f}).")
        return out


def behaviour_label(kind: str, behaviour: str) -> str:
    """A behaviour as the sentences and the figure name it: its label first, its kind after it in brackets
    ("Credit application (event)", "Walk-in (channel)", "Test drive → Deposit (step)")."""
    from journeylib.labels import label

    name = STEP_SEP.join(label(part) for part in behaviour.split(STEP_SEP)) if kind == "step" else label(behaviour)
    return f"{name} ({KINDS[kind]})"


def behaviour_counts(events, windows: pd.DataFrame, top_n: int = TOP_EVENT_TYPES, ordered=None) -> pd.DataFrame:
    """Customers per (group, kind, behaviour), in the engine. `windows`: customer_id, group, until (events strictly
    before `until` count; NaT: every event). `ordered`: `variants.ordered_steps(events, "event_type", top_n)`,
    already made (notebook 01 shares it with the event-type transitions).

    A step's previous event comes from the whole log's order: an event before `until` has its previous one
    before `until` too, so cutting the windows after the ordering changes nothing. Each customer's behaviours
    are set as bits (one grouping by customer, `customer_bits`) and counted per group from those; grouping
    every (customer, behaviour) pair instead took three times as long at a million customers.
    """
    import ibis

    t = ordered_steps(events, "event_type", top_n) if ordered is None else ordered
    frame = windows[["customer_id", "group", "until"]].assign(customer_id=lambda f: f["customer_id"].astype(str),
                                                              group=lambda f: f["group"].astype(str))
    far = pd.Timestamp("2262-01-01", tz="UTC")
    frame["until"] = pd.to_datetime(frame["until"], utc=True).fillna(far).astype("datetime64[us, UTC]")
    # a step: the previous event's type when it differs (repeats collapsed); matched as a pair, never concatenated
    t = t.mutate(_previous=(t._from != t._state).ifelse(t._from, ibis.null().cast("string")))
    kept = t.join(ibis.memtable(frame), "customer_id")
    kept = kept.filter(kept.occurred_at < kept.until)
    # the behaviours are listed from the whole log (no join): one seen only outside the windows counts 0 and goes
    return customer_bits(kept, {"event": "event_type", "channel": "channel", "step": ("_previous", "_state")},
                         listed_from=t)


BITS = 62  # behaviours per integer column (below the sign bit of a 64-bit integer on every engine)


def customer_bits(t, columns: dict, listed_from=None) -> pd.DataFrame:
    """Customers per (group, kind, behaviour) of table `t` (customer_id, group and, per kind in `columns`, its
    column or a tuple of columns: a step is (previous, next), its behaviour their values joined by STEP_SEP;
    a null is no behaviour); only behaviours someone has.

    Every behaviour gets a bit; each customer's bits are or-ed in one grouping by (customer, group), and the
    bits are counted here from that one row per customer. `listed_from`: a cheaper table holding at least
    every behaviour of `t` (its distinct values give the bits)."""
    import ibis

    columns = {kind: (column,) if isinstance(column, str) else tuple(column) for kind, column in columns.items()}
    source = t if listed_from is None else listed_from
    names, chunks = {}, {}
    for kind, parts in columns.items():
        found = source.select(**{f"_{kind}_{i}": source[c].cast("string") for i, c in enumerate(parts)})
        found = found.filter([found[f"_{kind}_{i}"].notnull() for i in range(len(parts))]).distinct()
        values = found.to_pandas().sort_values(list(found.columns), ignore_index=True)
        code = np.arange(len(values), dtype="int64")
        names[kind] = [STEP_SEP.join(row) for row in values.itertuples(index=False)]
        chunks[kind] = -(-len(code) // BITS)
        codes = ibis.memtable(values.assign(**{f"_{kind}_chunk": code // BITS, f"_{kind}_bit": 2 ** (code % BITS)}))
        t = t.left_join(codes, [t[c].cast("string") == codes[f"_{kind}_{i}"] for i, c in enumerate(parts)])
    bits = {f"_{kind}_bits_{chunk}": bit_or((t[f"_{kind}_chunk"] == chunk).ifelse(t[f"_{kind}_bit"], 0))
            for kind in columns for chunk in range(chunks[kind])}
    out = pd.DataFrame(columns=["group", "kind", "behaviour", "customers"])
    if bits:
        per_customer = t.group_by(["customer_id", "group"]).aggregate(**bits)
        per_customer = per_customer.drop("customer_id").to_pandas()
        rows = []
        for group, part in per_customer.groupby("group", sort=True):
            for kind in columns:
                for position, behaviour in enumerate(names[kind]):
                    column = part[f"_{kind}_bits_{position // BITS}"].fillna(0).to_numpy(dtype="int64")
                    rows.append((group, kind, behaviour, int(np.count_nonzero(column & (1 << (position % BITS))))))
        out = pd.DataFrame(rows, columns=["group", "kind", "behaviour", "customers"])
    return out[out["customers"] > 0].astype({"customers": "int64"}).reset_index(drop=True)


def bit_or(value):
    """The bitwise or of `value` over a group: the engine's own `bit_or` (DuckDB's and Spark's; Ibis's
    Spark compiler has no bit_or of its own)."""
    return _bit_or_function()(value)


@functools.cache
def _bit_or_function():
    import ibis

    @ibis.udf.agg.builtin(name="bit_or")
    def bit_or(value: int) -> int:
        """The engine's bit_or aggregate."""

    return bit_or


def compare(counts: pd.DataFrame, names: tuple, labels: tuple, sizes: tuple, q: float = 0.1,
            window_days: float | None = None) -> GroupComparison:
    """Each behaviour's share in group labels[0] against labels[1] (`counts` from `behaviour_counts`)."""
    wide = counts.pivot_table(index=["kind", "behaviour"], columns="group", values="customers", aggfunc="sum",
                              fill_value=0).reindex(columns=list(labels), fill_value=0)
    n_a, n_b = sizes
    rows = []
    if n_a and n_b:
        for (kind, behaviour), (k_a, k_b) in zip(wide.index, wide.to_numpy()):
            change = effects.proportion_change(int(k_a), n_a, int(k_b), n_b)
            rows.append({"kind": kind, "behaviour": behaviour, "share_a": k_a / n_a, "share_b": k_b / n_b,
                         "difference": change["estimate"], "ci_low": change["ci_low"], "ci_high": change["ci_high"],
                         "p": change["p"]})
    table = pd.DataFrame(rows, columns=["kind", "behaviour", "share_a", "share_b", "difference", "ci_low", "ci_high",
                                        "p"])
    table["flagged"], table["q_value"] = effects.benjamini_hochberg(table["p"], q)
    table["flagged"] = table["flagged"].astype(bool)
    table = table.assign(_size=table["difference"].abs()).sort_values(
        ["flagged", "_size", "kind", "behaviour"], ascending=[False, False, True, True]).drop(columns="_size")
    detectable = None
    if n_a and n_b and not table["flagged"].any():
        prevalence = float(np.median((table["share_a"] * n_a + table["share_b"] * n_b) / (n_a + n_b))) if len(table) \
            else 0.5
        detectable = effects.detectable_share(prevalence, n_a, n_b, q / max(len(table), 1))
    return GroupComparison(names, sizes, table.reset_index(drop=True), q, window_days, detectable)


def buyers_windows(journeys: pd.DataFrame) -> tuple[pd.DataFrame, float | None]:
    """Buyers (until their first purchase) and non-buyers (until first touch + the buyers' median days to
    purchase); returns the windows and that median."""
    bought = journeys["first_purchase_at"].notna()
    days = (journeys.loc[bought, "first_purchase_at"] - journeys.loc[bought, "first_touch_at"]).dt.total_seconds() / 86400
    median = float(days.median()) if days.notna().any() else None
    until = journeys["first_purchase_at"].where(bought, journeys["first_touch_at"] + pd.Timedelta(days=median or 0))
    frame = pd.DataFrame({"customer_id": journeys["customer_id"], "group": np.where(bought, "buyers", "others"),
                          "until": until})
    return frame[journeys["first_touch_at"].notna()], median


def buyers_against_others(events, journeys: pd.DataFrame, q: float = 0.1, ordered=None) -> GroupComparison:
    windows, median = buyers_windows(journeys)
    sizes = (int((windows["group"] == "buyers").sum()), int((windows["group"] == "others").sum()))
    counts = behaviour_counts(events, windows, ordered=ordered) if min(sizes) else pd.DataFrame(
        columns=["group", "kind", "behaviour", "customers"])
    return compare(counts, ("buyers", "non-buyers"), ("buyers", "others"), sizes, q, median)


def two_groups(events, journeys: pd.DataFrame, labels, a: str, b: str, q: float = 0.1,
               names: tuple | None = None, ordered=None) -> GroupComparison:
    """Customers labelled `a` against those labelled `b` (`labels` aligned with `journeys`), every event.

    A channel that every customer of its own group used, named like that group (two acquisition channels:
    each group's customers came in through it), is what defines the groups, not a behaviour: it is left out
    (otherwise "Channel Desk: 0% of Website against 100% of Desk" tops the list)."""
    labels = pd.Series(np.asarray(labels, dtype=object), index=journeys.index).astype(str)
    chosen = labels.isin([a, b])
    windows = pd.DataFrame({"customer_id": journeys.loc[chosen, "customer_id"], "group": labels[chosen],
                            "until": pd.NaT})
    sizes = (int((labels == a).sum()), int((labels == b).sum()))
    counts = behaviour_counts(events, windows, ordered=ordered) if min(sizes) else pd.DataFrame(
        columns=["group", "kind", "behaviour", "customers"])
    defining = [group for group, size in zip((a, b), sizes) if size and ((counts["group"] == group) & (
        counts["kind"] == "channel") & (counts["behaviour"] == group) & (counts["customers"] == size)).any()]
    counts = counts[~((counts["kind"] == "channel") & counts["behaviour"].isin(defining))]
    return compare(counts, names or (a, b), (a, b), sizes, q)
