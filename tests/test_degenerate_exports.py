"""Degenerate fits never take a report down (issue 21, item 5).

Hypothesis writes tiny exports in which what the models use does not vary (one channel, one dealer,
one finance type, one pay type, one score, everybody or nobody buying) and every analysis must still
return its metrics: named conditions become nulls with reasons, never exceptions.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeylib.headless import analyse_all
from journeylib.prepare.cache import prepare_data
from tests.support.tiny_export import HEADERS, tiny_export

CHANNELS = ["Website", "Google", "Walk-in", "Email"]
EVENTS = ["Web Lead", "Website Visit", "Test Drive", "Email Sent"]


def _export(folder, customers: int, channel: str, event: str, buyers: int, pay_type: str, score: int):
    rows = {
        "customers": [[f"C{i}", f"2024-01-{1 + i % 27:02d}T10:00:00Z", "", "", "", ""] for i in range(customers)],
        "touchpoints": [[f"E{i}-{k}", f"C{i}", f"2024-02-{1 + (i + k) % 27:02d}T09:00:00Z", event, channel]
                        for i in range(customers) for k in range(2)],
        "sales": [[f"S{i}", f"C{i}", f"2024-03-{1 + i % 27:02d}T12:00:00Z", "new", "lease", "30000"]
                  for i in range(buyers)],
        "service_visits": [[f"R{i}", f"C{i}", f"2024-0{4 + i % 5}-02T08:00:00Z", pay_type, "100"]
                           for i in range(buyers)],
        "surveys": [[f"Q{i}", f"C{i}", "sales", f"2024-03-{5 + i % 20:02d}T10:00:00Z", str(score), ""]
                    for i in range(buyers)],
        "referrals": [],
    }
    return tiny_export(folder, rows=rows, headers=HEADERS, config="default_timezone: UTC\n")


@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(customers=st.integers(3, 25), channel=st.sampled_from(CHANNELS), event=st.sampled_from(EVENTS),
       bought=st.floats(0, 1), pay_type=st.sampled_from(["customer", "warranty"]), score=st.integers(0, 10))
def test_every_analysis_finishes_on_a_tiny_export_with_constant_columns(tmp_path_factory, customers, channel, event,
                                                                        bought, pay_type, score):
    folder = tmp_path_factory.mktemp("degenerate")
    raw = _export(folder / "raw", customers, channel, event, round(bought * customers), pay_type, score)
    prepare_data(raw=raw, processed=folder / "processed", log=lambda *_: None)
    metrics = analyse_all(folder / "processed")
    assert {"journey", "time_to_purchase", "retention", "advocacy", "changes", "data_quality"} <= set(metrics)
    json.dumps(metrics)  # every value a plain number, string, null or container
