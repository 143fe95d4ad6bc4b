"""Taxonomy keys as shell-style patterns, `keep`, and stage patterns (issue 21, item 3): in Python and in prepare."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from journeylib.config import load_config
from journeylib.errors import ConfigError
from journeylib.prepare.cache import prepare_data
from journeylib.taxonomy import UNKNOWN, Taxonomy
from tests.support.tiny_export import tiny_export


def test_an_exact_key_wins_over_a_pattern_and_a_longer_pattern_over_a_shorter_one():
    taxonomy = Taxonomy().with_overrides(channels={"t07*": "website", "t07_adv*": "email", "T07 Advice": "phone"})
    assert taxonomy.channel(" T07-ADVICE ") == "phone"          # exact (normalised) key
    assert taxonomy.channel("t07 advice desk") == "email"       # 't07_adv*' is longer than 't07*'
    assert taxonomy.channel("T07 other") == "website"
    assert taxonomy.channel("Google") == "search"               # a default exact key beats no pattern
    assert taxonomy.channel("x07") == UNKNOWN


def test_of_two_patterns_of_one_length_the_first_configured_wins():
    taxonomy = Taxonomy().with_overrides(channels={"*ab*": "email", "ab*x": "phone"})
    assert taxonomy.channel("ab_x") == "email"
    assert Taxonomy().with_overrides(channels={"ab*x": "phone", "*ab*": "email"}).channel("ab_x") == "phone"


def test_keep_keeps_the_normalised_label_and_stage_patterns_give_it_a_stage():
    taxonomy = Taxonomy().with_overrides(event_types={"*": "keep", "*advice*": "advice"},
                                         stages={"advice": "consideration", "*": "awareness", "t09*": "retention"})
    assert taxonomy.event_type("Strange  Thing!") == "strange_thing"
    assert taxonomy.event_type("Need advice now") == "advice" and taxonomy.stage("advice") == "consideration"
    assert taxonomy.event_type("Web Lead") == "lead_form"       # the default synonyms still apply first
    assert taxonomy.stage("strange_thing") == "awareness"
    assert taxonomy.stage("t09_repair") == "retention"          # longer pattern
    assert taxonomy.stage("test_drive") == "consideration"     # an exact stage wins over '*'
    assert taxonomy.stage(UNKNOWN) is None


def test_lookup_resolves_the_labels_of_the_data_and_says_when_it_needs_them():
    assert not Taxonomy().needs_labels("event_types")
    taxonomy = Taxonomy().with_overrides(event_types={"Odd": "keep"}, channels={"radio*": "display"})
    assert taxonomy.needs_labels("event_types") and taxonomy.needs_labels("channels")
    assert taxonomy.lookup("event_types")["odd"] == "odd"
    channels = taxonomy.lookup("channels", ["radio_ad", "tv"])
    assert (channels["radio_ad"], channels["tv"], channels["google"]) == ("display", UNKNOWN, "search")


@pytest.mark.parametrize("text, expected", [
    ("taxonomy: {event_types: {'*advice*': advice}}\n",
     "taxonomy: event type 'advice' has no stage; add it under taxonomy.stages"),
    ("taxonomy: {channels: {'T07 - *': website, 't07 *': email}}\n",
     "taxonomy: channels: 'T07 - *' and 't07 *' are the same pattern once normalised ('t07_*') but map to 'website' "
     "and 'email'"),
    ("taxonomy: {stages: {'*': keep}}\n", "taxonomy: stage 'keep' for event type '*' is not one of"),
])
def test_bad_patterns_are_one_line_errors(tmp_path, text, expected):
    path = tmp_path / "journey.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value).startswith(f"{path}: {expected}") and "\n" not in str(error.value)


def test_a_stage_pattern_covers_a_configured_event_type():
    taxonomy = Taxonomy().with_overrides(event_types={"*advice*": "advice_call"}, stages={"advice*": "consideration"})
    assert taxonomy.stage(taxonomy.event_type("advice please")) == "consideration"


CONFIG = """
taxonomy:
  channels: {"t07*": website, "t07 adv*": email, "T07 Advice": phone, "*": keep}
  event_types: {"*": keep, "*advice*": advice}
  stages: {advice: consideration, "*": awareness}
"""


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("patterns")
    rows = {"touchpoints": [
        ["E1", "C1", "2024-02-01T09:00:00Z", "Web Lead", "T07 Advice"],
        ["E2", "C1", "2024-02-02T09:00:00Z", "Need Advice", "t07 adv desk"],
        ["E3", "C2", "2024-02-03T09:00:00Z", "Strange Thing", "T07 other"],
        ["E4", "C3", "2024-02-04T09:00:00Z", "Test Drive", "Carrier Pigeon"],
    ]}
    raw = tiny_export(tmp / "raw", rows=rows, config=CONFIG)
    summary = prepare_data(raw=raw, processed=tmp / "processed", log=lambda *_: None)
    return tmp / "processed", summary


def test_patterns_keep_and_stages_through_prepare(prepared):
    folder, summary = prepared
    tp = pd.read_parquet(folder / "touchpoints.parquet").set_index("event_id")
    assert tp.loc[["E1", "E2", "E3", "E4"], "channel"].tolist() == ["phone", "email", "website", "carrier_pigeon"]
    assert tp.loc[["E1", "E2", "E3", "E4"], "event_type"].tolist() == ["lead_form", "advice", "strange_thing",
                                                                        "test_drive"]
    assert tp.loc[["E1", "E2", "E3", "E4"], "stage"].tolist() == ["consideration", "consideration", "awareness",
                                                                   "consideration"]
    assert tp.loc["E3", "counts_for_journey"]           # a kept label with a stage counts like any event
    assert summary["unknown_values"] == {"event_type": {}, "channel": {}}
    assert json.loads((folder / "summary.json").read_text())["tables"]["touchpoints"]["kept"] == 4


def test_without_keep_unknown_labels_are_still_counted(tmp_path):
    rows = {"touchpoints": [["E1", "C1", "2024-02-01T09:00:00Z", "Odd One", "t07 x"],
                            ["E2", "C2", "2024-02-02T09:00:00Z", "Odd One", "Carrier Pigeon"]]}
    raw = tiny_export(tmp_path / "raw", rows=rows, config='taxonomy: {channels: {"t07*": website}}\n')
    summary = prepare_data(raw=raw, processed=tmp_path / "processed", log=lambda *_: None)
    assert summary["unknown_values"] == {"event_type": {"Odd One": 2}, "channel": {"Carrier Pigeon": 1}}
    tp = pd.read_parquet(tmp_path / "processed" / "touchpoints.parquet").set_index("event_id")
    assert tp.loc["E1", "channel"] == "website" and tp.loc["E2", "channel"] == UNKNOWN
