import pandas as pd

from journeylib.stats.level_notes import plan_sentences
from journeylib.stats.levels import plan_levels


def test_the_plan_is_said_with_labels_not_codes():
    frame = pd.DataFrame({"acquisition_channel": ["walk_in"] * 30 + ["third_party"] * 25 + ["sms"] * 3,
                          "satisfaction": ["no_response"] * 58})
    plan = plan_levels(frame, ["acquisition_channel", "satisfaction"], lambda rows: len(rows) < 20,
                       {"acquisition_channel": "website"})
    assert plan_sentences(plan, ["acquisition_channel", "satisfaction"], {"acquisition_channel": "website"}, 20) == [
        "Acquisition channel: Text message had fewer than 20 customers (or no events) and is pooled into 'Walk-in'.",
        "Acquisition channel: the usual reference 'Website' is absent or too rare in this export, so estimates "
        "compare with 'Walk-in', the largest group.",
        "Satisfaction: fewer than two levels with enough customers and events, so it is left out of the model."]
