"""Configuration: defaults, YAML and TOML, lookup order, and one clear error per bad value."""

from __future__ import annotations

import pytest

from journeylib.config import Config, load_config
from journeylib.errors import ConfigError


def write(tmp_path, text, name="journey.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file(tmp_path):
    config = load_config(None, tmp_path)
    assert config == Config() and config.default_timezone == "UTC" and config.internal_domains == ()


def test_yaml_next_to_the_raw_files_is_picked_up(tmp_path):
    write(tmp_path, """
default_timezone: America/Chicago
internal_domains: [AutoGroup-Internal.com]
columns: {sales: {deal_id: DealNumber}}
timestamp_formats: {service_visits: "%m/%d/%Y %H:%M"}
taxonomy:
  channels: {Billboard: display}
  event_types: {Brochure Download: brochure_download}
  stages: {brochure_download: consideration}
""")
    config = load_config(None, tmp_path)
    assert config.default_timezone == "America/Chicago"
    assert config.internal_domains == ("autogroup-internal.com",)
    assert config.columns == {"sales": {"deal_id": "DealNumber"}}
    assert config.taxonomy.channel(" BILLBOARD ") == "display"
    assert config.taxonomy.event_type("brochure-download") == "brochure_download"
    assert config.taxonomy.stage("brochure_download") == "consideration"


def test_toml_and_explicit_path_win(tmp_path):
    write(tmp_path, "default_timezone: America/Chicago\n")
    toml = write(tmp_path, 'default_timezone = "Europe/Berlin"\n', "settings.toml")
    assert load_config(toml, tmp_path).default_timezone == "Europe/Berlin"


@pytest.mark.parametrize("text, expected", [
    ("colour: blue\n", "unknown key 'colour'"),
    ("default_timezone: Mars/Olympus\n", "default_timezone: unknown time zone 'Mars/Olympus'"),
    ("default_timezone: 5\n", "default_timezone: expected an IANA time zone name"),
    ("internal_domains: example.com\n", "internal_domains: expected a list"),
    ("columns: {shipments: {a: b}}\n", "columns: unknown key 'shipments'"),
    ("columns: {sales: {deal_number: X}}\n", "columns.sales: unknown key 'deal_number'"),
    ("columns: {sales: {deal_id: 7}}\n", "columns.sales.deal_id: expected a non-empty string"),
    ('timestamp_formats: {sales: "%Q"}\n', "timestamp_formats.sales: unsupported directive(s) %Q"),
    ('timestamp_formats: {sales: "%H:%M"}\n', "needs a year"),
    ("taxonomy: {stages: {test_drive: purchasing}}\n", "stage 'purchasing'"),
    ("taxonomy: {event_types: {Brochure: brochure_download}}\n", "'brochure_download' has no stage"),
    ("taxonomy: {colours: {}}\n", "taxonomy: unknown key 'colours'"),
    ("default_timezone: [unclosed\n", "invalid YAML at line"),
    ("- a\n- b\n", "expected a mapping"),
    ("max_rejected_share: 0\n", "max_rejected_share: expected a share above 0 and at most 1 (such as 0.5), got 0"),
    ("max_rejected_share: 1.5\n", "max_rejected_share: expected a share above 0 and at most 1"),
    ("max_rejected_share: half\n", "max_rejected_share: expected a share above 0 and at most 1"),
    ("purchase_events: {sold: yes}\n", "purchase_events: expected a list of event types"),
    ("purchase_events: [sold, 3]\n", "purchase_events: expected event type names, got 3"),
    ("purchase_price_column: [a]\n", "purchase_price_column: expected the name of a column of the event log"),
    # a key given twice is ambiguous (plain YAML keeps the last one silently): issue 12, item 8
    ("default_timezone: UTC\ninternal_domains: []\ndefault_timezone: America/Chicago\n",
     "key 'default_timezone' is given twice (lines 1 and 3)"),
    ("columns:\n  sales: {deal_id: DealNumber, deal_id: DealNo}\n", "key 'deal_id' is given twice (line 2)"),
    ("taxonomy:\n  channels:\n    Billboard: display\n    Billboard: other\n", "key 'Billboard' is given twice"),
    # two spellings that normalise alike but map to different values are the same ambiguity
    ("taxonomy: {channels: {Cars.com: third_party, cars com: website}}\n",
     "taxonomy: channels: 'Cars.com' and 'cars com' are the same spelling once normalised ('cars_com')"),
])
def test_bad_values_raise_one_line_errors_naming_the_file_and_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert expected in message and str(path) in message and "\n" not in message


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="unknown configuration format"):
        load_config(write(tmp_path, "{}", "settings.json"))


def test_a_duplicated_toml_key_is_an_error_with_its_line(tmp_path):
    path = write(tmp_path, 'default_timezone = "UTC"\ndefault_timezone = "America/Chicago"\n', "settings.toml")
    with pytest.raises(ConfigError, match=r"invalid TOML: .*line 2") as error:
        load_config(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_yaml_merge_keys_may_still_override_and_equal_spellings_may_repeat(tmp_path):
    path = write(tmp_path, """
taxonomy:
  <<: {channels: {Billboard: display}}
  channels: {Billboard: other, Cars.com: third_party, cars com: third_party}
""")
    config = load_config(path)
    assert config.taxonomy.channel("billboard") == "other" and config.taxonomy.channel("CARS.COM") == "third_party"


def test_purchase_settings_and_rejected_share(tmp_path):
    assert (Config().max_rejected_share, Config().purchase_events, Config().purchase_price_column) == (0.5, None, None)
    config = load_config(write(tmp_path, 'max_rejected_share: 1\npurchase_events: ["Sold*", deposit]\n'
                                         "purchase_price_column: Amount\n"))
    assert config.max_rejected_share == 1.0
    assert config.purchase_events == ("Sold*", "deposit") and config.purchase_price_column == "Amount"
    assert load_config(write(tmp_path, "purchase_events: sold\n")).purchase_events == ("sold",)


def test_the_readme_configuration_example_is_valid():
    """The settings the README shows a new user are accepted as written."""
    import re
    from pathlib import Path

    import yaml

    from journeylib.config import from_dict

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", readme, re.S).group(1)
    config = from_dict(yaml.safe_load(block), source="README.md")
    assert [step["step"] for step in config.funnels["showroom"]] == ["lead", "test_drive", "sold"]
    assert config.values["service_visits"]["pay_type"] == {"w": "warranty", "c": "customer"}
    assert config.taxonomy.event_type("T07 drive") == "test_drive" and config.taxonomy.event_type("flyer") == "flyer"
