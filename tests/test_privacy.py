"""Redaction: emails and phone numbers go, dates, timestamps, ids and decimals stay (issue 12, item 9)."""

from __future__ import annotations

import pandas
import pytest

from journeylib.privacy import check_shareable, redact


@pytest.mark.parametrize("text, expected", [
    ("call me at 312-555-0101 or ann@example.com", "call me at [phone] or [email]"),
    ("(312) 555-0101", "[phone]"),
    ("+1 312 555 0202", "[phone]"),
    ("312.555.0202", "[phone]"),
    ("3125550101", "[phone]"),
    ("+44 (0)20 7946 0958", "[phone]"),
    ("call 312-555-0101.", "call [phone]."),
    ("tel:3125550101", "tel:[phone]"),
    ("ext: 312-555-0101x123", "ext: [phone]x123"),
    ("1.312.555.0101", "[phone]"),
    ("555 0199, thanks", "[phone], thanks"),
    ("mail ann@example.com.", "mail [email]."),
    ("a.b+tag@sub.example.co.uk!", "[email]!"),
    ("ANN@Example.COM", "[email]"),
    ("x@foo@bar.com", "x@[email]"),
    ("visited 2024-06-05, call 3125550101", "visited 2024-06-05, call [phone]"),
    ("3125550101 2024-06-05", "[phone] 2024-06-05"),
])
def test_emails_and_phone_numbers_are_redacted(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "as_of=2026-06-30T23:59:00+00:00",                    # the example (index.html, run.log)
    "as_of 2026-06-30 23:59:00.123456789+00:00",
    "2024-06-05T10:00:00Z and 20240605T100000Z",
    "reports/2026-11-30T0315Z/run.log",
    "serviced 30.06.2026, 06-30-2026 and 2026.06.30",
    "took 00:00:01.2345678",
    "customer C1234567, vin 1HGCM82633A004352, event tp:1234567890abcdef1234",
    "uuid 123e4567-e89b-12d3-a456-426614174000",
    "p = 0.123456789, pi 3.14159265",
    "price 1,234,567 and 12 2024-06-05",
    "no contact details here (ok)",
    "ann@localhost",
])
def test_dates_timestamps_ids_and_decimals_are_kept(text):
    assert redact(text) == text


def test_missing_stays_missing_and_other_values_become_text():
    assert redact(None) is None
    assert redact(3125550101) == "[phone]"


def test_a_long_run_is_redacted_whole():
    # one pass over a long value: an address or a phone number at the end of a long run is still found
    text = "a." * 5000 + " ann@example.com " + "1 " * 3 + "x" * 10000 + " 312 555 0101"
    assert redact(text) == "a." * 5000 + " [email] " + "1 " * 3 + "x" * 10000 + " [phone]"


@pytest.mark.parametrize("text", [
    "ordered 20240625, delivered 20240701.",              # basic ISO dates (issue 22, item 5)
    "epoch 1719331200 and 1719331200",                    # epoch seconds: ten digits from 1 (no area code starts with 1)
    "ZIP 60614-1234, Chicago IL 60614-1234",              # ZIP+4 codes
])
def test_basic_dates_epoch_seconds_and_zip_plus_four_are_kept(text):
    assert redact(text) == text


@pytest.mark.parametrize("text, expected", [
    ("20240625 1234", "[phone]"),                        # a date-like run followed by more digits may be a phone
    ("2024062512", "[phone]"),                           # ten digits from 2: a North American number
    ("13125550101", "[phone]"),                          # eleven digits from 1: country code and number
    ("60614-1234-5", "[phone]"),                         # more digits after a ZIP+4 shape
    ("zip 60614-1234, call 312-555-0101", "zip 60614-1234, call [phone]"),
    ("on 20240625 call 3125550101", "on 20240625 call [phone]"),
])
def test_phone_numbers_next_to_those_shapes_are_still_redacted(text, expected):
    assert redact(text) == expected


def test_an_email_among_many_ids_stops_the_lists():
    ids = pandas.DataFrame({"customer_id": [f"C{i}" for i in range(1000)] + ["jane.doe@example.com"]})
    with pytest.raises(ValueError, match="email"):
        check_shareable(ids, ["customer_id"], "lead lists")
    check_shareable(ids.iloc[:1000].assign(customer_id=lambda f: f["customer_id"] + "@x"), ["customer_id"], "ok")
