"""Referral chains: who was referred by someone who had been referred in turn."""

from __future__ import annotations

import numpy as np
import pandas as pd


def chain_depth(referrals: pd.DataFrame, max_depth: int = 50) -> pd.Series:
    """Depth of every referred customer: 1 when referred by a customer who was not referred, 2 when the
    referrer was referred by a depth-1 customer, and so on (index: referred customer_id).

    A customer referred more than once takes their earliest referral. A cycle
    (A refers B refers A, a data error) stops at `max_depth`.
    """
    linked = referrals.dropna(subset=["referred_customer_id"]).sort_values(["referred_at", "referral_id"])
    first = linked.drop_duplicates("referred_customer_id")
    parent = dict(zip(first["referred_customer_id"], first["referrer_customer_id"]))
    depth = {}
    for child, referrer in parent.items():
        level = 1
        while referrer in parent and level < max_depth:
            referrer, level = parent[referrer], level + 1
        depth[child] = level
    return pd.Series(depth, dtype=int).rename("depth")


def depth_table(depth: pd.Series, customers: int) -> pd.DataFrame:
    """Customers per chain depth (0 = not referred), out of all `customers`: depth, customers, share."""
    counts = depth.value_counts().sort_index()
    rows = [{"depth": 0, "customers": int(customers - counts.sum())}]
    rows += [{"depth": int(d), "customers": int(n)} for d, n in counts.items()]
    table = pd.DataFrame(rows)
    table["share"] = table["customers"] / customers if customers else np.nan
    return table
