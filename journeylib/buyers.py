"""One row per buyer with what is known at or just after the first purchase.

Shared by the retention (03) and advocacy (04) notebooks, so that "satisfaction
band" or "finance type" means the same thing in both.
"""

from __future__ import annotations

import pandas as pd

from journeylib.segments import satisfaction_band
from journeylib.vocabulary import UNKNOWN

DAYS_PER_YEAR = 365.25
SURVEY_WINDOW_DAYS = 60
FIRST_SALE_COLUMNS = ["dealer_id", "vehicle_model", "condition", "finance_type", "price", "trade_in"]
PRICE_BANDS = ("low", "mid_low", "mid_high", "high")


def first_sales(sales: pd.DataFrame) -> pd.DataFrame:
    """Each customer's first sale (earliest sold_at; ties: smallest deal_id)."""
    ordered = sales.sort_values(["customer_id", "sold_at", "deal_id"])
    return ordered.drop_duplicates("customer_id", keep="first").set_index("customer_id")


def sales_survey_scores(surveys: pd.DataFrame, purchase_at: pd.Series,
                        window_days: int = SURVEY_WINDOW_DAYS) -> pd.Series:
    """The first sales-survey score given from the purchase day to `window_days` after it.

    Later answers are left out: they could reflect what happened after the sale
    (the retention model must not see the future).
    """
    sales_surveys = surveys[surveys["survey_type"] == "sales"]
    # merge on a column, not the right index: with no surveys pandas would carry customer_id as the index too
    purchases = purchase_at.rename("purchase_at").rename_axis("customer_id").reset_index()
    merged = sales_surveys.merge(purchases, on="customer_id").reset_index(drop=True)
    start = merged["purchase_at"].dt.normalize()
    in_window = (merged["responded_at"] >= start) & (
        merged["responded_at"] <= merged["purchase_at"] + pd.Timedelta(days=window_days))
    first = merged[in_window].sort_values(["customer_id", "responded_at", "response_id"])
    return first.drop_duplicates("customer_id").set_index("customer_id")["score"].reindex(purchase_at.index)


def price_band(price: pd.Series) -> pd.Series:
    """Quartile bands of price among buyers; missing prices are `unknown`, and so is every price when fewer
    than four distinct prices leave no quartiles to draw (one list price for every car)."""
    quartiles = price.notna().sum() >= 4 and price.nunique() >= 4
    bands = pd.qcut(price, 4, labels=PRICE_BANDS, duplicates="raise") if quartiles else pd.Series(pd.NA, index=price.index)
    return bands.astype("object").fillna(UNKNOWN).astype("category")


def buyer_table(journeys: pd.DataFrame, sales: pd.DataFrame, surveys: pd.DataFrame,
                as_of: pd.Timestamp, survey_window_days: int = SURVEY_WINDOW_DAYS) -> pd.DataFrame:
    """Buyers by the as-of date, one row each, indexed by customer_id.

    Columns: first_purchase_at, exposure_years, acquisition_channel,
    days_to_purchase, the first sale's dealer_id, vehicle_model, condition,
    finance_type, price, price_band, trade_in, sales_score and satisfaction.
    """
    bought = journeys[journeys["purchased"].fillna(False).astype(bool)].set_index("customer_id")
    buyers = pd.DataFrame(index=bought.index)
    buyers["first_purchase_at"] = bought["first_purchase_at"]
    buyers["exposure_years"] = (as_of - buyers["first_purchase_at"]).dt.total_seconds() / 86400 / DAYS_PER_YEAR
    buyers["acquisition_channel"] = bought["acquisition_channel"]
    buyers["days_to_purchase"] = bought["days_to_purchase"]
    sale = first_sales(sales).reindex(buyers.index)
    buyers[FIRST_SALE_COLUMNS] = sale[FIRST_SALE_COLUMNS]
    buyers["dealer_id"] = buyers["dealer_id"].fillna(bought["dealer_id"])
    buyers["price_band"] = price_band(buyers["price"])
    buyers["sales_score"] = sales_survey_scores(surveys, buyers["first_purchase_at"], survey_window_days)
    buyers["satisfaction"] = satisfaction_band(buyers["sales_score"]).values
    return buyers
