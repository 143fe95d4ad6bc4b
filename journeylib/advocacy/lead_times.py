"""Do referred leads buy faster? Notebook 02's lead table, referred leads against the others.

The lead table (`journeylib.derived.leads`) and the survival helpers (`journeylib.stats.survival`) are the
ones notebook 02 uses, shared below both analyses; lifelines is imported only when a curve or model is fitted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeylib.derived.leads import ID, customer_table, model_day
from journeylib.errors import NotEstimable
from journeylib.stats.survival import fit_cox, hazard_ratios, kaplan_meier, logrank

HORIZONS = (30, 90, 180, 365)
GROUPS = ("referred", "other")


def referred_lead_times(journeys: pd.DataFrame, referrals: pd.DataFrame) -> pd.DataFrame:
    """Notebook 02's lead table (`derived.leads.customer_table`: days from first touch to purchase or
    as-of, purchased, journey day, ...) indexed by customer_id, plus `referred`,
    `referred_after_first_touch` and `lead` ("referred" or "other").

    A lead is referred when a referral names them before their first purchase (any time, for
    leads who have not bought): like `referral_outcomes`, a referral logged after the purchase
    did not bring it. `referred_after_first_touch` flags referred leads whose referral was logged
    after their first touch (they count as referred from day 0; see docs/advocacy.md).
    """
    leads = customer_table(journeys).set_index(ID)
    known = journeys.set_index("customer_id")
    linked = referrals.dropna(subset=["referred_customer_id"])
    linked = linked[linked["referred_customer_id"].isin(leads.index)]
    earliest = linked.groupby("referred_customer_id")["referred_at"].min()
    purchase = known["first_purchase_at"].reindex(earliest.index)
    earliest = earliest[purchase.isna() | (earliest <= purchase)]
    leads["referred"] = leads.index.isin(earliest.index)
    first_touch = known["first_touch_at"].reindex(earliest.index)
    late = earliest.index[(earliest > first_touch).to_numpy()]
    leads["referred_after_first_touch"] = leads.index.isin(late)
    leads["lead"] = np.where(leads["referred"], *GROUPS)
    return leads


def referred_hazard_ratio(times: pd.DataFrame) -> dict:
    """Cox hazard ratio of purchase, referred leads against other leads (95% CI, p), and the log-rank p.

    Uses notebook 02's model time (`day`, whole journey days; Efron ties) through
    `stats.survival.fit_cox`; the log-rank test uses the exact days. NotEstimable without
    referred leads or without purchases.
    """
    if not times["referred"].any():
        raise NotEstimable("No referred lead in this export, so referred and other leads cannot be compared.")
    if times["referred"].all() or not times["purchased"].any():
        raise NotEstimable("No lead has bought yet, so how fast referred leads buy cannot be estimated.")
    data = pd.DataFrame({"day": model_day(times["days"]) if "day" not in times else times["day"],
                         "days": times["days"], "purchased": times["purchased"].astype(bool),
                         "referred": times["referred"].astype(int)})
    # Whole journey days have many ties: lifelines' batch mode is the fast path for them (same fit).
    ratio = hazard_ratios(fit_cox(data, "day", "purchased", ["referred"], batch_mode=True)).loc["referred"]
    _, _, logrank_p = logrank(data, "referred")
    return {"estimate": float(ratio["hazard_ratio"]), "ci_low": float(ratio["ci_low"]),
            "ci_high": float(ratio["ci_high"]), "p": float(ratio["p"]), "logrank_p": logrank_p}


def purchase_curves(times: pd.DataFrame) -> dict:
    """One Kaplan-Meier fit per lead group present (referred first), keyed by group."""
    return {group: kaplan_meier(times[times["lead"] == group], label=group)
            for group in GROUPS if (times["lead"] == group).any()}


def purchase_by_day(curves: dict, horizons=HORIZONS) -> pd.DataFrame:
    """P(purchase by day t) = 1 - S(t) per group (columns) and horizon (index `by day`).

    A horizon past a group's longest follow-up is left empty: its curve says nothing there.
    """
    columns = {}
    for group, km in curves.items():
        estimate = km.cumulative_density_at_times(list(horizons)).to_numpy(dtype=float)
        columns[group] = np.where(np.asarray(horizons) > float(km.durations.max()), np.nan, estimate)
    return pd.DataFrame(columns, index=pd.Index(list(horizons), name="by day"))
