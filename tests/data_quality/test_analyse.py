"""journeylib.data_quality (notebook 00) headless, on small known inputs."""

from __future__ import annotations

import pandas as pd
import pytest

from journeylib import data_quality
from journeylib.data_quality import Params, analyse

AS_OF = pd.Timestamp("2026-06-30 23:59", tz="UTC")


class FakeTables:
    """The three tables and the summary notebook 00 reads, as ProcessedTables serves them."""

    def __init__(self, summary, frames):
        self.as_of, self._summary, self._frames = AS_OF, summary, frames

    def summary(self):
        return self._summary

    def load(self, name, columns=None, filters=None):
        frame = self._frames[name]
        return frame[columns] if columns else frame


def _tables(touchpoints=None, sales_kept=3, dealers_raw=2, unknown=None):
    summary = {
        "tables": {
            "customers": {"raw": 5, "kept": 4, "rejected": {"duplicate": 1}},
            "touchpoints": {"raw": 10, "kept": 8, "rejected": {"test_record": 1, "unparseable_timestamp": 1}},
            "sales": {"raw": sales_kept, "kept": sales_kept, "rejected": {}},
            "dealers": {"raw": dealers_raw, "kept": dealers_raw, "rejected": {}},
        },
        "customers_merged": 1,
        "unknown_values": unknown if unknown is not None else {"channel": {"fax": 1}, "event_type": {}},
    }
    if touchpoints is None:
        stamps = pd.to_datetime(["2026-04-02", "2026-04-20", "2026-05-03", "2026-05-04", "2026-05-30",
                                 "2026-06-01", "2026-06-10", "2026-06-20"], utc=True)
        touchpoints = pd.DataFrame({"occurred_at": stamps, "dealer_id": ["D1", "D1", "D2", None, "D1", "D2", "D3", "D1"],
                                    "source": ["crm", "web", "crm", "crm", "web", "crm", "crm", "web"]})
    frames = {
        "identity_map": pd.DataFrame({"customer_id": ["C1", "C1", "C2", "C3"],
                                      "matched_on": ["self", "email", "self", "self"]}),
        "customers": pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "source_ids": [2, 1, 1]}),
        "touchpoints": touchpoints,
    }
    return FakeTables(summary, frames)


def test_rows_are_accounted_per_table_and_reason():
    result = analyse(_tables(), Params())
    assert result.accounting_.loc["touchpoints", ["raw", "kept", "rejected"]].tolist() == [10, 8, 2]
    assert result.reason_columns == ["duplicate", "test_record", "unparseable_timestamp"]  # prepare's order
    assert bool(result.accounting_["balanced"].all())
    metrics = result.metrics()
    assert metrics["rows"] == {"raw": 20, "rejected": 3, "rejected_share": 3 / 20}
    assert metrics["tables"]["touchpoints"]["rejected_by_reason"] == {"test_record": 1, "unparseable_timestamp": 1}
    assert metrics["tables"]["sales"]["rejected_by_reason"] == {}
    assert "3 of 20 exported rows (15.0%) were set aside" in result.rows_sentence()
    assert result.rejects_sentence() == ""  # rows were set aside: the table of offending values speaks


def test_identity_events_and_coverage():
    result = analyse(_tables(), Params(top_dealers=2))
    metrics = result.metrics()
    assert metrics["identity"] == {"records": 4, "customers": 3, "customers_merged": 1, "customers_with_merges": 1,
                                   "matched_on": {"self": 3, "email": 1, "phone": 0}}
    assert metrics["events"] == {"total": 8, "months": 3, "dealers": 3, "without_dealer": 1}
    assert result.events_by_dealer_.to_dict() == {"D1": 4, "D2": 2, "2 other dealers": 2}
    assert metrics["coverage"]["days"] == 79 and metrics["coverage"]["events_after_as_of"] == 0
    assert metrics["as_of"] == AS_OF.isoformat()
    assert metrics["unknown_values"] == {"channel": {"labels": 1, "rows": 1}, "event_type": {"labels": 0, "rows": 0}}
    assert "12.5% of the touchpoints carry a channel label" in " ".join(metrics["notes"])  # 1 of 8 kept


def test_what_the_exports_lack_is_said_in_notes():
    result = analyse(_tables(sales_kept=0, dealers_raw=0, unknown={}), Params())
    notes = result.metrics()["notes"]
    assert notes[0].startswith("There are no sales in this export")
    assert notes[1].startswith("There is no dealers export")
    assert len(notes) == 2 and result.lacking_sentence() == " ".join(notes)
    assert result.unknown_sentence() == "Every event type and channel in the exports is known to the taxonomy."


def test_an_empty_journey_log_is_said_not_failed():
    empty = pd.DataFrame({"occurred_at": pd.to_datetime([], utc=True), "dealer_id": pd.Series([], dtype=object),
                          "source": pd.Series([], dtype=object)})
    result = analyse(_tables(touchpoints=empty), Params())
    metrics = result.metrics()
    assert metrics["coverage"] == {"first_event": None, "last_event": None, "days": 0, "events_after_as_of": 0,
                                   "future_outliers": 0}
    assert metrics["events"]["months"] == 0
    assert result.events_sentence() == "The journey log holds no events." and result.coverage_sentence() is None
    assert list(result.missing_) == ["coverage"] and "no events" in result.missing_["coverage"]


@pytest.mark.parametrize("values, message", [
    ({"top_unknown": 0}, "parameter top_unknown=0: expected a positive whole number"),
    ({"top_dealers": 2.5}, "parameter top_dealers=2.5: expected a positive whole number"),
    ({"top_dealers": True}, "parameter top_dealers=True: expected a positive whole number"),
])
def test_params_refuse_bad_values(values, message):
    with pytest.raises(ValueError, match="^" + message.replace(".", r"\.") + "$"):
        Params(**values)


def test_the_front_door():
    from pathlib import Path

    assert (data_quality.SECTION, data_quality.NOTEBOOK) == ("data_quality", "00_data_quality")
    assert data_quality.__all__ == ["Params", "analyse", "Result", "SECTION", "NOTEBOOK"]
    files = {path.name for path in Path(data_quality.__file__).parent.glob("*.py")}
    assert {"__init__.py", "params.py", "inputs.py", "analyse.py", "result.py", "sentences.py"} <= files


def test_the_result_follows_the_template_and_keeps_its_older_names():
    result = analyse(_tables(), Params())
    assert isinstance(result, data_quality.Result) and data_quality.DataQuality is data_quality.Result
    assert result.missing_ == {} and result.notes_ == result.metrics()["notes"]
    # attributes analyse filled end in `_`; the names notebooks used before still read them
    assert (result.events_, result.customers_, result.identity_records_) == (8, 3, 4)
    assert (result.events, result.customers, result.notes) == (result.events_, result.customers_, result.notes_)
    with pytest.raises(AttributeError, match="no_such_count"):
        result.no_such_count


def test_shares_in_sentences_are_formatted_below_the_notebook_helpers():
    from journeylib import labels, report

    assert report.pct is labels.pct  # data_quality reads labels, never the notebook helper report
    assert (labels.pct(0.125), labels.pct(1 / 3, 0), labels.pct(12.5)) == ("12.5%", "33%", "1250.0%")
