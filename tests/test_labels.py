"""The reviewer's words: plain labels for codes, p-values and intervals as a report prints them."""

import math

from journeylib.labels import label, number_range, p_value


def test_codes_read_as_words():
    assert label("walk_in") == "Walk-in"
    assert label("third_party") == "Third-party sites"
    assert label("acquisition_channel:third_party") == "Acquisition channel: Third-party sites"
    assert label('C(channel, Treatment("website"))[T.walk_in]') == "Channel: Walk-in"
    assert label("brochure_download") == "Brochure download"  # an export's own label, kept
    assert label(None) == label(math.nan) == "Not recorded"


def test_p_values_and_ranges():
    assert p_value(4.4e-49) == "p < 0.001"
    assert p_value(0.0042) == "p = 0.004"
    assert p_value(0.41) == "p = 0.41"
    assert p_value(None) == "p not available"
    assert number_range(-0.2, 21) == "0 to 21"
    assert number_range(-1.6, 2.04, digits=1) == "-1.6 to 2.0"


def test_patterns_normalise_like_labels_and_keep_wildcards():
    from journeylib.taxonomy import is_pattern, matches_any, normalise_pattern

    assert normalise_pattern(" T07* ") == "t07*"
    assert normalise_pattern("*Advice*") == "*advice*"
    assert normalise_pattern("Phone Call - *") == "phone_call_*"
    assert matches_any("Phone Call - Inbound", ["phone call*"])
    assert matches_any("test_drive", ["*drive"]) and not matches_any("test_drive", ["quote*"])
    assert not matches_any(None, ["*"])
    assert is_pattern("t07*") and not is_pattern("test_drive")


def test_missing_levels_numbers_and_units_read_as_words():
    from journeylib.labels import days, number, percent, points

    assert label("(none)") == label(None) == "Not recorded"
    assert number(-0.2) == "0" and number(12345.678, 1) == "12,345.7" and number(math.nan) == "—"
    assert percent(0.1234) == "12.3%" and percent(None) == "—" and percent(float("inf")) == "—"
    assert points(-0.016) == "-1.6 pts" and points(0.02, 0) == "+2 pts" and points(-0.0001) == "0.0 pts"
    assert days(1) == "1 day" and days(12.4) == "12 days" and days(math.nan, missing="not reached") == "not reached"
