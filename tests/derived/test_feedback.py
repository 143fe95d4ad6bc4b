"""Survey comment themes, sentiment, pain points and quotes (journeylib.personas.feedback)."""

import numpy as np
import pandas as pd
import pytest

from journeylib import report
from journeylib.personas import feedback

TAXONOMY = {"price": ["price", "negotiat*", "hidden fee*"], "wait": ["wait*", "paperwork"], "f_and_i": ["f&i"]}


def _surveys(comments, scores=None, types=None):
    n = len(comments)
    return pd.DataFrame({
        "response_id": [f"r{i:03d}" for i in range(n)],
        "customer_id": [f"c{i:03d}" for i in range(n)],
        "survey_type": types or ["sales"] * n,
        "score": scores or [8] * n,  # passive: sentiment alone decides what is negative
        "comment": comments,
    })


def test_default_taxonomy_is_packaged_and_has_the_issue_themes():
    taxonomy = feedback.load_taxonomy()
    for theme in ("price", "financing", "salesperson", "vehicle", "delivery", "service_quality"):
        assert taxonomy[theme], theme


@pytest.mark.parametrize("comment, themes", [
    ("Long wait for paperwork and financing approval.", {"financing"}),
    ("The salesperson was pushy and did not listen.", {"salesperson"}),
    ("Felt overcharged, the price was way above online quotes.", {"price"}),
    ("Delivery was delayed twice.", {"delivery"}),
    ("Service advisor never called back.", {"service_quality", "communication"}),
    ("The vehicle had a warning light on.", {"vehicle"}),
    ("Friendly people, we waited a bit.", set()),  # generic words belong to no theme
])
def test_default_taxonomy_tags_typical_comments(comment, themes):
    tagged = feedback.tag_themes([comment], feedback.load_taxonomy()).iloc[0]
    assert set(tagged[tagged].index) == themes


def test_taxonomy_from_a_yaml_file(tmp_path):
    path = tmp_path / "themes.yaml"
    path.write_text("parking:\n  - parking lot\n  - park*\n", encoding="utf-8")
    taxonomy = feedback.load_taxonomy(path)
    assert taxonomy == {"parking": ["parking lot", "park*"]}
    assert feedback.tag_themes(["No PARKING  lot space", "we parked", "a car park", "spark plug"],
                               taxonomy)["parking"].tolist() == [True, True, True, False]


@pytest.mark.parametrize("bad", [{}, {"price": []}, {"a.b": ["x"]}, ["price"]])
def test_bad_taxonomy_is_refused(bad):
    with pytest.raises(ValueError):
        feedback.load_taxonomy(bad)


def test_keywords_match_whole_words_and_prefixes_case_insensitively():
    comments = ["The PRICE was fair", "priceless experience", "they would not negotiate", "Negotiation took ages",
                "hidden fees everywhere", "waiting for paperwork", "the F&I office", None]
    tagged = feedback.tag_themes(comments, TAXONOMY)
    assert tagged["price"].tolist() == [True, False, True, True, True, False, False, False]
    assert tagged["wait"].tolist() == [False, False, False, False, False, True, False, False]
    assert tagged["f_and_i"].tolist() == [False] * 6 + [True, False]


def test_planted_theme_frequency_is_found_exactly():
    rng = np.random.default_rng(3)
    n, planted_price, planted_wait = 200, 37, 58
    comments = np.array(["Nice people, clean showroom."] * n, dtype=object)
    price_rows = rng.choice(n, planted_price, replace=False)
    wait_rows = rng.choice(n, planted_wait, replace=False)  # overlaps price rows by chance: both themes count
    comments[price_rows] = "The price was too high."
    for row in wait_rows:
        comments[row] = comments[row] + " Long wait for the paperwork."
    scored = feedback.score_comments(_surveys(list(comments)), TAXONOMY)
    summary = feedback.theme_summary(scored, list(TAXONOMY))
    assert summary.loc["price", "mentions"] == planted_price
    assert summary.loc["wait", "mentions"] == planted_wait
    assert summary.loc["f_and_i", "mentions"] == 0
    assert summary.loc["price", "share"] == pytest.approx(planted_price / n)


def test_sentiment_from_the_packaged_lexicon_has_the_right_sign():
    scores = feedback.sentiment(["Terrible, rude and slow. Awful experience.", "Great, friendly and helpful!",
                                 None, "   "])
    assert scores[0] < -0.5 and scores[1] > 0.5
    assert np.isnan(scores[2]) and np.isnan(scores[3])


def test_score_comments_keeps_commented_rows_and_bands_them():
    surveys = _surveys(["great price", None, "", "slow paperwork wait"], scores=[10, 3, 7, 2])
    scored = feedback.score_comments(surveys, TAXONOMY)
    assert scored["response_id"].tolist() == ["r000", "r003"]
    assert scored["band"].tolist() == ["promoter", "detractor"]


def test_themes_by_stage_are_shares_within_each_stage():
    surveys = _surveys(["price was high", "price ok", "waiting forever", "fine"],
                       types=["sales", "sales", "service", "service"])
    by_stage = feedback.themes_by(feedback.score_comments(surveys, TAXONOMY), list(TAXONOMY), "survey_type")
    assert by_stage.loc["price", "sales"] == 1.0 and by_stage.loc["price", "service"] == 0.0
    assert by_stage.loc["wait", "service"] == 0.5


def test_pain_points_rank_negative_mentions():
    comments = ["The price was terrible"] * 3 + ["Horrible wait, awful paperwork"] * 5 + ["Great price, love it"] * 9
    scored = feedback.score_comments(_surveys(comments), TAXONOMY)
    pains = feedback.pain_points(scored, list(TAXONOMY), top=5)
    assert pains.index.tolist() == ["wait", "price"]  # price has more mentions, but fewer negative ones
    assert pains["negative_mentions"].tolist() == [5, 3]
    assert pains.loc["price", "mentions"] == 12


def test_a_detractors_plainly_worded_complaint_counts_as_negative():
    comments = ["The price was too high.", "The price was too high."]
    scored = feedback.score_comments(_surveys(comments, scores=[3, 8]), TAXONOMY)
    assert scored["sentiment"].tolist() == [0.0, 0.0]  # VADER sees no sentiment words here
    assert feedback.is_negative(scored).tolist() == [True, False]
    assert feedback.theme_summary(scored, ["price"]).loc["price", "negative_mentions"] == 1


def test_quotes_are_redacted_shortened_and_escape_markup():
    comments = [
        "Terrible price! Email me at john.doe@example.com or call 555-123-4567, <script>alert(1)</script>",
        "Awful price, bad bad bad " + "really " * 60 + "bad",
        "Great price",
    ]
    scored = feedback.score_comments(_surveys(comments), TAXONOMY)
    quotes = feedback.example_quotes(scored, "price", n=5, max_chars=120)
    assert len(quotes) == 2  # the positive comment is not a pain point
    joined = " ".join(quotes)
    assert "@" not in joined and "555" not in joined and "4567" not in joined
    assert "[email]" in joined and "[phone]" in joined
    assert all(len(q) <= 120 for q in quotes) and any(q.endswith("…") for q in quotes)
    shown = " ".join(report.escape_text(q) for q in quotes)
    assert "<script>" not in shown and "&lt;script&gt;" in shown


def test_quotes_are_the_most_negative_first_and_deduplicated():
    comments = ["bad price", "bad price", "Horrible, disgusting price, worst ever", "ok price"]
    scored = feedback.score_comments(_surveys(comments), TAXONOMY)
    assert feedback.example_quotes(scored, "price", n=3) == ["Horrible, disgusting price, worst ever", "bad price"]


def test_customer_pain_points_flag_themes_in_negative_comments_only():
    surveys = _surveys(["Terrible price", "Great price", "awful wait"])
    surveys["customer_id"] = ["a", "b", "a"]
    flags = feedback.customer_pain_points(surveys, TAXONOMY)
    assert flags.loc["a", "price"] == 1.0 and flags.loc["a", "wait"] == 1.0
    assert "b" not in flags.index


def test_shorten_cuts_on_a_word_boundary():
    assert feedback.shorten("one two three four", 12) == "one two…"
    assert feedback.shorten("  short\n text ", 50) == "short text"


class _RecordingAnalyzer:
    """Stands in for VADER: records how much text each call is handed."""

    def __init__(self):
        self.lengths = []

    def polarity_scores(self, text):
        self.lengths.append(len(text))
        return {"compound": 0.0}


def test_a_one_megabyte_comment_hands_vader_a_bounded_prefix(monkeypatch):
    recorder = _RecordingAnalyzer()
    monkeypatch.setattr(feedback, "_analyzer", lambda: recorder)
    huge = "The wait was terrible and the price was too high. " * 21000  # about 1 MB
    ordinary = "Great, friendly and helpful!"
    feedback.sentiment([huge, ordinary])
    assert len(huge) > 1_000_000
    assert recorder.lengths[0] <= feedback.MAX_SENTIMENT_CHARS
    assert recorder.lengths[1] == len(ordinary)  # ordinary comments are scored whole


def test_a_long_comment_is_scored_on_its_start_cut_at_a_word():
    text = "Awful service. " * 1000
    head = feedback.sentiment_text(text)
    assert len(head) <= feedback.MAX_SENTIMENT_CHARS and text.startswith(head) and head.endswith("service.")
    assert feedback.sentiment([text])[0] == feedback.sentiment([head])[0] < 0
    short = "Terrible, rude and slow."
    assert feedback.sentiment_text(short) == short
    assert feedback.sentiment([short])[0] == feedback._analyzer().polarity_scores(short)["compound"]


def test_a_huge_comment_still_has_its_themes_tagged_on_the_whole_text():
    comment = "fine " * 300_000 + "hidden fees at the end"
    scored = feedback.score_comments(_surveys([comment]), TAXONOMY)
    assert bool(scored.loc[0, "price"])


def test_each_distinct_comment_is_scored_once_and_spread_to_its_rows(monkeypatch):
    recorder = _RecordingAnalyzer()
    monkeypatch.setattr(feedback, "_analyzer", lambda: recorder)
    comments = ["Great service", "ok", None, "Great service", "ok", "  ", "Great service"]
    scores = feedback.sentiment(comments)
    assert recorder.lengths == [len("Great service"), len("ok")]
    assert scores.isna().tolist() == [False, False, True, False, False, True, False]


def test_repeated_comments_score_and_tag_as_if_each_were_scored_alone():
    comments = ["Terrible price, awful", "Long wait for paperwork", "Terrible price, awful", None, "Great"]
    scored = feedback.sentiment(comments)
    alone = [feedback.sentiment([c])[0] for c in comments]
    np.testing.assert_array_equal(scored.to_numpy(), np.array(alone))
    tagged = feedback.tag_themes(comments, TAXONOMY)
    assert tagged["price"].tolist() == [True, False, True, False, False]
    assert tagged["wait"].tolist() == [False, True, False, False, False]
