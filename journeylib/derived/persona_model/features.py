"""Per-customer features the personas are built on (definitions: docs/personas_and_feedback.md).

One row per customer: who they are (age, income, gender, dealer region), how they shop (first channel,
channels used, channel shares and research counts of their shopping events, test drive, days to purchase,
how they paid) and what they complain about (one pain_<theme> flag per feedback theme).
"""

from __future__ import annotations

import pandas as pd

from journeylib.derived import feedback
from journeylib.stats import levels
from journeylib.tables import ProcessedTables

UNCLASSIFIED = "unclassified"  # the persona of customers with no events
MIN_LEVEL_CUSTOMERS = 20  # a category with fewer customers is pooled into "other" before clustering

# Feature blocks (columns of `customer_features`).
NUMERIC_FEATURES = ("age", "channels", "digital_share", "social_share", "in_person_share",
                    "vdp_views", "build_and_price", "price_tools", "days_to_purchase")
FLAG_FEATURES = ("test_drive",)  # plus one pain_<theme> flag per feedback theme
CATEGORICAL_FEATURES = ("income_band", "gender", "region", "acquisition_channel", "finance_type")
# Counts with long right tails are clustered on log(1 + x) so a few heavy users do not make their own cluster.
LOG_FEATURES = ("vdp_views", "build_and_price", "price_tools", "days_to_purchase")
# Research counts: events of these types while shopping (price_tools: the deal-hunting tools).
RESEARCH_EVENTS = {"vdp_views": ("vdp_view",), "build_and_price": ("build_and_price",),
                   "price_tools": ("trade_in_estimate", "finance_calculator")}

# Channel groups for the "channels used" shares (shares of shopping events before purchase).
DIGITAL_CHANNELS = ("website", "search", "third_party", "display", "email", "sms", "chat")
SOCIAL_CHANNELS = ("social",)
IN_PERSON_CHANNELS = ("walk_in", "phone", "referral")
SHOPPING_STAGES = ("awareness", "consideration")


def _age(customers: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    age = as_of.year - pd.to_numeric(customers["birth_year"], errors="coerce")
    return age.where(age.between(16, 100)).astype("float64")  # implausible ages are missing, not outliers


def _channel_shares(shopping: pd.DataFrame) -> pd.DataFrame:
    groups = {"digital_share": DIGITAL_CHANNELS, "social_share": SOCIAL_CHANNELS,
              "in_person_share": IN_PERSON_CHANNELS}
    flags = pd.DataFrame({name: shopping["channel"].isin(channels) for name, channels in groups.items()})
    flags["customer_id"] = shopping["customer_id"].to_numpy()
    return _by_text_id(flags.groupby("customer_id", observed=True).mean())


def _by_text_id(grouped):
    """A per-customer result indexed by the id as text (the key may have been read as a Categorical)."""
    grouped.index = grouped.index.astype(str)
    return grouped


def customer_features(customers, journeys, touchpoints, sales, surveys, as_of, taxonomy=None,
                      dealers=None, min_level_customers: int = MIN_LEVEL_CUSTOMERS, scored=None) -> pd.DataFrame:
    """One row per customer (index customer_id): the interpretable features the personas are built on.

    Also carries `touchpoints` (who can be classified) and `purchased` (conversion, shown on the
    cards but not a clustering feature: a persona is how people shop, not whether they bought yet).
    Categories with fewer than `min_level_customers` customers are pooled into `other`
    (`pool_categories`; the pooled levels are in `attrs["levels_pooled"]`). `scored`: the surveys'
    `feedback.score_comments`, when already computed (sentiment is the slow part).
    """
    as_of = pd.Timestamp(as_of)
    index = pd.Index(customers["customer_id"].astype(str), name="customer_id")
    out = pd.DataFrame(index=index)
    cust = customers.set_index(customers["customer_id"].astype(str))
    out["age"] = _age(cust, as_of)
    for column in ("income_band", "gender"):
        values = cust[column] if column in cust else pd.Series(index=index, dtype="object")
        out[column] = values.astype("object").where(values.notna(), "missing")

    jour = journeys.set_index(journeys["customer_id"].astype(str)).reindex(index)
    out["region"] = _region(cust, jour, dealers, index)
    out["touchpoints"] = jour["touchpoints"].fillna(0).astype("int64")
    out["acquisition_channel"] = jour["acquisition_channel"].astype("object").where(
        jour["acquisition_channel"].notna(), "none")
    out["channels"] = jour["channels"].fillna(0).astype("float64")
    out["purchased"] = jour["purchased"].fillna(False).astype(bool)
    # Time to purchase for buyers only; non-buyers are imputed (neutral), their censored time is not a choice.
    out["days_to_purchase"] = jour["days_to_purchase"].where(out["purchased"]).astype("float64")
    out["test_drive"] = jour["first_test_drive_at"].notna().astype("float64")

    shopping = touchpoints[touchpoints["stage"].isin(SHOPPING_STAGES) & (touchpoints["source"] == "touchpoints")]
    out = out.join(_channel_shares(shopping))
    for column, events in RESEARCH_EVENTS.items():
        counts = _by_text_id(shopping[shopping["event_type"].isin(events)].groupby("customer_id", observed=True).size())
        out[column] = counts.reindex(index).fillna(0).astype("float64")

    first_sales = sales.sort_values(["sold_at", "deal_id"]).drop_duplicates("customer_id")
    finance = first_sales.set_index(first_sales["customer_id"].astype(str))["finance_type"].reindex(index)
    out["finance_type"] = finance.astype("object").where(finance.notna(), "none")

    pains = feedback.customer_pain_points(surveys, taxonomy, scored)
    for theme in feedback.load_taxonomy(taxonomy):
        column = pains[theme] if theme in pains else pd.Series(dtype="float64")
        out[f"pain_{theme}"] = column.reindex(index).fillna(0.0).astype("float64")
    return pool_categories(out, min_level_customers)


def pool_categories(features: pd.DataFrame, min_count: int) -> pd.DataFrame:
    """Categories with fewer than `min_count` customers become `other` (a one-customer channel would
    otherwise get its own one-hot column); the pooled levels per feature go to `attrs["levels_pooled"]`.
    The placeholders `none` (no first touch, no purchase) and `missing` are kept: they are not levels."""
    out = features.copy()
    pooled = {}
    for column in CATEGORICAL_FEATURES:
        out[column], rare = levels.pool_rare(out[column], min_count, keep=("none", "missing"))
        if rare:
            pooled[column] = rare
    out.attrs["levels_pooled"] = pooled
    return out


def _region(customers: pd.DataFrame, journeys: pd.DataFrame, dealers, index) -> pd.Series:
    """The region of the customer's dealer (their own, else their journey's); 'missing' where unknown."""
    dealer = customers["dealer_id"].reindex(index) if "dealer_id" in customers else pd.Series(index=index)
    if "dealer_id" in journeys:
        dealer = dealer.fillna(journeys["dealer_id"])
    regions = {} if dealers is None or "region" not in dealers else \
        dealers.dropna(subset=["region"]).set_index("dealer_id")["region"].to_dict()
    return dealer.map(regions).astype("object").fillna("missing")


# Only the shopping events are read from the touchpoints (the largest table), and only these columns.
TOUCHPOINT_COLUMNS = ["customer_id", "stage", "source", "channel", "event_type"]


def load_features(tables: ProcessedTables, taxonomy=None, min_level_customers: int = MIN_LEVEL_CUSTOMERS,
                  scored=None) -> pd.DataFrame:
    """`customer_features` for the processed tables, at the as-of date they were prepared with."""
    data = {name: tables.load(name) for name in ("customers", "journeys", "sales", "surveys", "dealers")}
    data["touchpoints"] = tables.load("touchpoints", columns=TOUCHPOINT_COLUMNS, filters=[
        ("stage", "in", list(SHOPPING_STAGES)), ("source", "==", "touchpoints")], categories=TOUCHPOINT_COLUMNS)
    return customer_features(**data, as_of=tables.as_of, taxonomy=taxonomy,
                             min_level_customers=min_level_customers, scored=scored)


def classifiable(features: pd.DataFrame) -> pd.Series:
    """Customers with at least one event: the rest have no behaviour to segment on (persona 'unclassified')."""
    return features["touchpoints"] > 0


def pain_columns(features: pd.DataFrame) -> list[str]:
    return [c for c in features.columns if c.startswith("pain_")]


def known_median(values: pd.Series) -> float:
    """The median of the known values; NaN, without numpy's empty-slice warning, when none is known
    (a group without ages, an export without buyers)."""
    return values.median() if values.notna().any() else float("nan")
