import pandas as pd
import pytest

from journeylib.buyers import buyer_table, price_band
from journeylib.segments import satisfaction_band

UTC = "UTC"


def ts(value):
    return pd.Timestamp(value, tz=UTC)


@pytest.fixture
def tables():
    journeys = pd.DataFrame({
        "customer_id": ["a", "b", "c"],
        "dealer_id": ["d1", "d2", "d1"],
        "acquisition_channel": ["website", "search", "walk_in"],
        "first_purchase_at": [ts("2024-01-10"), ts("2024-06-01"), pd.NaT],
        "purchased": [True, True, False],
        "days_to_purchase": [9.0, 30.0, 100.0],
    })
    sales = pd.DataFrame({
        "deal_id": ["s2", "s1", "s3"],
        "customer_id": ["a", "a", "b"],
        "sold_at": [ts("2024-01-10"), ts("2024-01-10"), ts("2024-06-01")],
        "dealer_id": ["d9", "d8", None],
        "vehicle_model": ["x", "y", "z"],
        "condition": ["used", "new", "cpo"],
        "finance_type": ["lease", "cash", "finance"],
        "price": [30000.0, 31000.0, None],
        "trade_in": [True, False, None],
    })
    surveys = pd.DataFrame({
        "response_id": ["r1", "r2", "r3", "r4"],
        "customer_id": ["a", "a", "b", "b"],
        "survey_type": ["sales", "sales", "service", "sales"],
        "responded_at": [ts("2024-01-20"), ts("2024-01-15"), ts("2024-06-05"), ts("2024-09-01")],
        "score": [3, 10, 9, 9],
    })
    return journeys, sales, surveys


def test_buyers_are_purchasers_with_first_sale_and_first_survey_in_window(tables):
    journeys, sales, surveys = tables
    buyers = buyer_table(journeys, sales, surveys, as_of=ts("2025-01-10"))
    assert list(buyers.index) == ["a", "b"]
    # tie on sold_at -> smallest deal_id (s1)
    assert buyers.loc["a", "condition"] == "new" and buyers.loc["a", "dealer_id"] == "d8"
    # first sales survey in the window is r2 (10), not r1 (3)
    assert buyers.loc["a", "sales_score"] == 10 and buyers.loc["a", "satisfaction"] == "promoter"
    # b's only sales survey is 92 days after purchase: outside the 60-day window; service survey ignored
    assert pd.isna(buyers.loc["b", "sales_score"]) and buyers.loc["b", "satisfaction"] == "no_response"
    # missing dealer on the sale falls back to the journey's dealer
    assert buyers.loc["b", "dealer_id"] == "d2"
    assert buyers.loc["a", "exposure_years"] == pytest.approx(366 / 365.25)


def test_satisfaction_band_edges():
    bands = satisfaction_band([0, 6, 7, 8, 9, 10, None])
    assert list(bands) == ["detractor", "detractor", "passive", "passive", "promoter", "promoter", "no_response"]


def test_price_band_quartiles_and_unknown():
    bands = price_band(pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, None]))
    assert list(bands[:8]) == ["low", "low", "mid_low", "mid_low", "mid_high", "mid_high", "high", "high"]
    assert bands.iloc[8] == "unknown"
