"""The words every part of journeylib shares: stages, tables, the catch-all levels, reference levels.

One place, so that a rename (a new stage, a different reference) is one edit and
every analysis, notebook and test agrees.
"""

from __future__ import annotations

# The journey, in order (docs/processed-tables.md: stage_order 1..5).
STAGES = ("awareness", "consideration", "purchase", "retention", "advocacy")

# The processed tables `journey prepare` writes (Parquet, one file each), and the optional ones.
TABLES = (
    "customers", "identity_map", "touchpoints", "sales", "service_visits", "surveys",
    "referrals", "dealers", "journeys", "rejects",
)
OPTIONAL_TABLES = ("personas",)
# The raw tables summary.json and metrics.json count (raw, kept, rejected).
COUNTED_TABLES = ("customers", "touchpoints", "sales", "service_visits", "surveys", "referrals")

# A label the taxonomy does not know, and the level sparse levels are pooled into.
UNKNOWN = "unknown"
OTHER_LEVEL = "other"

# Reference levels that metrics.json and the reviewers rely on. An analysis uses
# them when the export has enough customers at that level, else the largest level
# (said in the report). Time to purchase compares channels with the website.
REFERENCE_CHANNEL = "website"
RETENTION_REFERENCES = {"finance_type": "finance", "condition": "new", "satisfaction": "passive",
                        "acquisition_channel": REFERENCE_CHANNEL, "trade_in": "no", "price_band": "low"}
ADVOCACY_REFERENCES = {"satisfaction": "passive", "finance_type": "finance", "condition": "new",
                       "acquisition_channel": REFERENCE_CHANNEL}

# Where an export's purchases and customers came from (summary.json purchases_from / customers_from), in words.
PURCHASE_RULES = {
    "sales": "the rows of the sales export",
    "purchase_stage": "events of the purchase stage (there is no sales export)",
    "purchase_events": "the event types named by purchase_events in the configuration (there is no sales export)",
    "none": "none: there is neither a sales export nor an event log to take them from",
}
CUSTOMER_RULES = {
    "customers": "the rows of the customers export",
    "derived": "the distinct customer ids of the other exports, each created at their first row (there is "
               "no customers export)",
}
