"""The results helper: computed values in, plain JSON out, merged per run without silent overwrites."""

from __future__ import annotations

import json

import numpy as np
import pytest

from journeylib.results import Results, effect, merge_results, missing_keys


def test_recording_returns_nothing_so_a_cell_ending_in_it_displays_nothing(tmp_path):
    results = Results("journey", notebook="01_journey_map", run_dir=tmp_path)
    assert results.record("funnel.awareness", np.int64(12)) is None
    assert results.record_effect("conversion.a_to_b", 0.5, 0.4, 0.6) is None
    assert results.save() is None
    saved = json.loads((tmp_path / "results" / "01_journey_map.json").read_text())
    assert saved == {"journey": {"funnel": {"awareness": 12},
                                 "conversion": {"a_to_b": {"estimate": 0.5, "ci_low": 0.4, "ci_high": 0.6}}}}


def test_outside_a_run_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    results = Results("journey", notebook="01_journey_map")
    results.record(("odds_ratios", "finance_type:lease"), effect(0.6, 0.5, 0.7, p=np.float64(0.01)))
    results.save()
    assert list(tmp_path.iterdir()) == []
    assert results.as_dict()["journey"]["odds_ratios"]["finance_type:lease"]["p"] == 0.01


def test_nan_becomes_null_and_odd_types_are_refused():
    results = Results("x", notebook="00_x")
    results.record("a", float("nan"))
    assert results.values == {"a": None}
    with pytest.raises(TypeError):
        results.record("b", object())
    with pytest.raises(ValueError):
        results.record("a.c", 1)  # "a" already holds a value


def test_two_notebooks_writing_one_key_fail_the_merge(tmp_path):
    for name in ("01_a", "02_b"):
        results = Results("journey", notebook=name, run_dir=tmp_path)
        results.record("funnel.awareness", 1)
        results.save()
    with pytest.raises(ValueError, match="recorded twice"):
        merge_results(tmp_path)


def test_missing_keys_names_what_a_run_lacks():
    assert "advocacy.k_factor" in missing_keys({})
    assert "run.id" not in missing_keys({"run": {"id": "2026-11-25T0315Z"}})


def test_record_missing_keeps_the_key_null_with_its_reason_and_a_note():
    results = Results("time_to_purchase", notebook="02_time_to_purchase")
    results.record_missing("hazard_ratios.test_drive", "No test drives in this export.")
    results.record_pooled("acquisition_channel", ["sms", "display"])
    values = results.as_dict()["time_to_purchase"]
    assert values["hazard_ratios"] == {"test_drive": None}
    assert values["missing"] == {"hazard_ratios.test_drive": "No test drives in this export."}
    assert values["notes"] == ["No test drives in this export."]
    assert values["levels_pooled"] == {"acquisition_channel": ["display", "sms"]}


def test_record_all_merges_a_section_and_joins_notes_once():
    from journeylib.results import Results, SectionMetrics

    section = SectionMetrics()
    section.record("churn_rate", 0.25)
    section.record_missing("auc", "Nobody is churn-eligible.")
    results = Results("retention", notebook="03")
    results.note("Nobody is churn-eligible.")
    results.record_all(section.values)
    assert results.values["churn_rate"] == 0.25 and results.values["auc"] is None
    assert results.values["notes"] == ["Nobody is churn-eligible."]
    with pytest.raises(ValueError, match="recorded twice"):
        results.record_all({"churn_rate": 0.3})


def test_parameter_checks_refuse_bad_values_with_the_notebook_message():
    from journeylib import analysis

    assert analysis.positive_int("at_risk_top", 5) == 5
    with pytest.raises(ValueError, match=r"parameter at_risk_top=True: expected a positive whole number"):
        analysis.positive_int("at_risk_top", True)
    with pytest.raises(ValueError, match="between 0 and 1"):
        analysis.share("holdout_share", 1.0)
    with pytest.raises(ValueError, match="True or False"):
        analysis.flag("cluster_by_dealer", "yes")
    with pytest.raises(ValueError, match="list of positive"):
        analysis.positive_ints("sensitivity_days", 365)


def test_parameter_errors_are_input_errors_naming_parameter_value_and_expectation():
    from journeylib import analysis
    from journeylib.errors import InputError, ParameterError

    with pytest.raises(ParameterError) as caught:
        analysis.positive_int("top_dealers", 0)
    error = caught.value
    assert isinstance(error, InputError) and isinstance(error, ValueError)  # exit 2; old `except ValueError` holds
    assert (error.name, error.value, error.expected) == ("top_dealers", 0, "a positive whole number")
    assert str(error) == "parameter top_dealers=0: expected a positive whole number"
    assert analysis.whole_number("seed", 0) == 0
    with pytest.raises(ParameterError, match=r"^parameter seed=-1: expected a non-negative integer$"):
        analysis.whole_number("seed", -1)
    with pytest.raises(ParameterError, match=r"^parameter k_min=1: expected a whole number >= 2$"):
        analysis.whole_number("k_min", 1, low=2)
    assert analysis.positive_number("half_life_days", 2) == 2.0
    for bad in (0, -1.5, float("nan"), float("inf"), True, "3"):
        with pytest.raises(ParameterError, match="expected a positive number"):
            analysis.positive_number("half_life_days", bad)
    with pytest.raises(ParameterError, match=r"expected one of a, b$"):
        analysis.one_of("segment_by", "c", ("a", "b"))


def test_not_converged_is_a_named_not_estimable_reason():
    from journeylib.errors import NotConverged, NotEstimable

    error = NotConverged("the NB2 model did not converge")
    assert isinstance(error, NotEstimable) and error.reason == "the NB2 model did not converge"


def test_top_level_analyse_all_is_imported_on_first_use():
    import subprocess
    import sys

    code = ("import sys, journeylib; assert 'journeylib.headless' not in sys.modules; "
            "from journeylib import analyse_all; import journeylib.headless as h; "
            "assert analyse_all is h.analyse_all; assert 'analyse_all' in dir(journeylib)")
    subprocess.run([sys.executable, "-c", code], check=True)
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        import journeylib
        journeylib.nothing_here
