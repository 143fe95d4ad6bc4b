"""The reviewer pages of a sample run read like a report: no NaN, no printouts (<pre>), no snake_case code
from the taxonomy, no developer line, and every image described (issue 22, item 6).

One `journey run` on the default sample (module fixture, in tmp); each notebook's reviewer HTML is one test.
Notebooks whose owners clean them after the merge are marked xfail (not strict) until then.
"""

from __future__ import annotations

import re
import subprocess
import sys

import nbformat
import pytest
from bs4 import BeautifulSoup

from journeylib import taxonomy
from journeylib.run import render

PLACEHOLDER_ALT = "No description has been provided for this image"
DEVELOPER_LINES = ("saved results:", "Traceback (most recent call last)", "journeylib.", "journey run`")
# dates in words; run ids (2026-12-07T1424Z) are names, and a value quoted from the data ('1900-01-01') stays as it was
ISO_INSTANT = re.compile(r"(?<!')\b\d{4}-\d{2}-\d{2}(?![\dT])|(?<!')\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
TOO_PRECISE = re.compile(r"(?<![\d.,])\d[\d,]{3,}\.\d{3,}\b")  # 9267.036: a large number with 3+ decimals
ONE_PLURAL = re.compile(r"(?<![\d.,])1 (buyers|customers|leads|days|referrals|responses|visits|dealers|rows|runs)\b")
SNAKE_CODES = sorted({code for code in (*taxonomy.CHANNELS, *taxonomy.STAGES,
                                        *(e for events in taxonomy.EVENT_STAGES.values() for e in events))
                      if "_" in code})
NOTEBOOKS = ("00_data_quality", "01_journey_map", "02_time_to_purchase", "03_retention_churn",
             "04_advocacy_referrals", "05_personas_and_feedback", "06_what_changed")
OWNED_HERE = {"00_data_quality", "01_journey_map", "02_time_to_purchase", "03_retention_churn", "04_advocacy_referrals",
              "05_personas_and_feedback", "06_what_changed"}
CLEANED_AFTER_MERGE = "reviewer page cleaned by the notebook's owner (issue 22 item 6); drop the mark on merge"


def notebook_parameters() -> set[str]:
    """The names of every notebook's parameters (its `parameters` cell): reviewer text never shows them."""
    from pathlib import Path

    names = set()
    for path in sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if "parameters" in cell.metadata.get("tags", []):
                names |= set(re.findall(r"^([a-z_][a-z0-9_]*)\s*=", cell.source, re.M))
    return {name for name in names if "_" in name}  # one-word names (as_of is a phrase too) are plain words


PARAMETERS = sorted(notebook_parameters())


def page_problems(page: str) -> list[str]:
    """What keeps a reviewer page from reading like a report, one line each (empty: none)."""
    soup = BeautifulSoup(page, "html.parser")
    problems = []
    body = soup.body or soup
    if body.find("pre") is not None:
        problems.append(f"<pre> block: {body.find('pre').get_text()[:80]!r}")
    for image in body.find_all("img"):
        alt = (image.get("alt") or "").strip()
        if not alt or alt == PLACEHOLDER_ALT:
            problems.append(f"image without a description (alt={alt!r})")
    for hidden in body.find_all(["script", "style"]):
        hidden.decompose()
    text = body.get_text(" ")
    nan = re.search(r"\bNaN\b", text)
    if nan:
        problems.append(f"NaN in: {_around(text, nan.start())!r}")
    for code in SNAKE_CODES:
        found = re.search(rf"(?<![A-Za-z0-9]){re.escape(code)}(?![A-Za-z0-9])", text)
        if found:
            problems.append(f"code {code!r} in: {_around(text, found.start())!r}")
    for line in DEVELOPER_LINES:
        if line in text:
            problems.append(f"developer line {line!r}")
    for name in PARAMETERS:
        found = re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text)
        if found:
            problems.append(f"parameter name {name!r} in: {_around(text, found.start())!r}")
    for pattern, what in ((ISO_INSTANT, "date as a code"), (TOO_PRECISE, "number with too many digits"),
                          (ONE_PLURAL, "'1' with a plural"), (re.compile(r"\bn/a\b"), "'n/a'")):
        found = pattern.search(text)
        if found:
            problems.append(f"{what} in: {_around(text, found.start())!r}")
    return problems


def _around(text: str, at: int) -> str:
    return " ".join(text[max(0, at - 40):at + 40].split())


# ---------------------------------------------------------------- the checks themselves

def test_the_checks_find_each_artefact():
    clean = ('<html><body><p>Walk-in leads: 12 days; 1 buyer, 21 buyers, 9,267.0 buyer-years, p = 0.031 as of '
             '31 October 2026 (run 2026-12-07T1424Z)</p><img src="x.png" alt="Chart. Leads per month."></body></html>')
    assert page_problems(clean) == []
    for bad in ("<pre>by day 30: 0.03</pre>", "<p>estimate NaN</p>", "<p>channel:third_party</p>",
                "<td>walk_in</td>", "<p>saved results: journey.funnel</p>", '<img src="x.png">',
                f'<img src="x.png" alt="{PLACEHOLDER_ALT}">', "<p>data as of 2026-10-31T23:59:59.999999+00:00</p>", "<p>bought by 2025-02-28</p>",
                "<td>9267.036</td>", "<p>1 buyers</p>", "<p>Median time: n/a</p>",
                "<p>the top <code>service_to_call_top</code> buyers</p>", "<p>rules in journeylib.personas</p>"):
        assert page_problems(f"<html><body>{bad}</body></html>"), bad


def test_the_reviewer_copy_drops_check_cells_and_printouts_and_keeps_figures():
    notebook = nbformat.v4.new_notebook()
    checked = nbformat.v4.new_code_cell("print(1)", metadata={"tags": ["nbval-check-output", "keep_output"]})
    checked.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "1"}, execution_count=1)]
    printed = nbformat.v4.new_code_cell("figure()")
    printed.outputs = [nbformat.v4.new_output("stream", name="stdout", text="saved results: x\n"),
                       nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="},
                                              metadata={"image/png": {"alt": "Chart. Leads per month."}})]
    notebook.cells = [checked, printed]
    reviewer = render.reviewer_notebook(notebook)
    assert reviewer.cells[0].outputs == [] and [o.output_type for o in reviewer.cells[1].outputs] == ["display_data"]
    assert len(notebook.cells[1].outputs) == 2  # the analyst's notebook is untouched
    page = render.notebook_html(notebook, with_code=False)
    assert page_problems(page) == []
    assert 'alt="Chart. Leads per month."' in page
    analyst = render.notebook_html(notebook, with_code=True)
    assert "saved results: x" in analyst


# ---------------------------------------------------------------- a sample run

@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("reviewer_pages")
    journey = [sys.executable, "-m", "journeylib.cli"]
    subprocess.run([*journey, "sample", "--out", str(root / "raw")], check=True, capture_output=True)
    done = subprocess.run([*journey, "run", "--raw", str(root / "raw"), "--processed", str(root / "proc"),
                           "--reports", str(root / "rep")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return root / "rep" / "latest"


@pytest.mark.parametrize("name", [
    name if name in OWNED_HERE else pytest.param(name, marks=pytest.mark.xfail(strict=False,
                                                                               reason=CLEANED_AFTER_MERGE))
    for name in NOTEBOOKS])
def test_every_reviewer_page_reads_like_a_report(sample_run, name):
    page = (sample_run / f"{name}.reviewer.html").read_text(encoding="utf-8")
    assert page_problems(page) == []


def test_the_index_and_trends_pages_read_like_a_report(sample_run):
    """The index opens with the as-of date in words (in the configured zone), never an ISO instant."""
    import json

    index = (sample_run / "index.html").read_text(encoding="utf-8")
    assert page_problems(index) == []
    run = json.loads((sample_run / "metrics.json").read_text(encoding="utf-8"))["run"]
    assert f"data as of {render.run_dates(run)['as_of']}" in index
    assert re.search(r"data as of \d{1,2} [A-Z][a-z]+ \d{4}", index)
    trends = (sample_run.parent / "trends.html").read_text(encoding="utf-8")
    assert page_problems(trends) == []


def test_the_service_list_is_described_by_its_size_not_by_a_parameter(sample_run):
    text = BeautifulSoup((sample_run / "03_retention_churn.reviewer.html").read_text(encoding="utf-8"),
                         "html.parser").get_text(" ")
    assert re.search(r"The list to call holds the 25 buyers per dealer with the most value at risk \([\d,]+ buyers in all\)",
                     " ".join(text.split()))


# ---------------------------------------------------------------- each artefact at its source

def test_dates_read_as_dates_in_the_configured_zone():
    from journeylib.labels import date_text, time_text

    assert date_text("2026-10-31T23:59:59.999999+00:00") == "31 October 2026"
    assert date_text("2026-11-01T04:59:59.999999+00:00", "America/Chicago") == "31 October 2026"
    assert time_text("2026-12-07T14:24:00Z", "America/Chicago") == "7 December 2026, 08:24 CST"
    assert date_text(None) == date_text("not a date") == "—"
    dates = render.run_dates({"as_of": "2026-06-30T23:59:00+00:00", "started_at": "2026-12-07T14:24:00Z",
                              "finished_at": "2026-12-07T14:31:00Z", "timezone": "UTC"})
    assert dates == {"as_of": "30 June 2026", "started": "7 December 2026, 14:24 UTC",
                     "finished": "7 December 2026, 14:31 UTC"}


def test_the_poster_shows_labels_and_says_why_a_number_is_missing():
    import numpy as np

    from journeylib.figures.journey import _stage_text

    row = {"stage": "consideration", "reach": 302, "reach_share": 1.0, "conversion": 0.49, "ci_low": 0.44,
           "ci_high": 0.55, "median_days_to_next": np.nan, "top_touchpoints": ["vdp_view", "srp_view", "site_visit"],
           "top_channels": ["walk_in", "third_party", "unknown"], "survey_responses": np.nan, "mean_score": np.nan,
           "nps": np.nan, "pain_points": []}
    text = _stage_text(row)
    for shown in ("Vehicle page view", "Search results view", "Site visit", "Walk-in", "Third-party sites", "Unknown",
                  "reached together"):
        assert shown in text
    assert "_" not in text and "n/a" not in text and "walk in" not in text
    assert "nobody moved on yet" in _stage_text({**row, "conversion": 0.0})


def test_figures_show_labels_not_codes():
    import matplotlib.pyplot as plt
    import pandas as pd

    from journeylib.figures import journey as draw

    mix = pd.DataFrame([[0.5, 0.5], [0.9, 0.1]], index=["awareness", "consideration"], columns=["walk_in", "third_party"])
    fig = draw.channel_mix(mix)
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels() + fig.axes[0].get_yticklabels()]
    assert ticks == ["Walk-in", "Third-party sites", "Awareness", "Consideration"]
    shares = pd.DataFrame({"segment": ["walk_in", "other"], "share_of_segment": [0.7, 0.3], "ci_low": [0.6, 0.1],
                           "ci_high": [0.8, 0.5]})
    fig = draw.purchase_share_panels({"acquisition_channel": shares})
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["Walk-in", "Other"]
    assert fig.axes[0].get_title() == "Share who bought, by acquisition channel"
    segments = pd.DataFrame({"segment": ["third_party"] * 2, "stage": ["awareness", "purchase"],
                             "share_of_segment": [1.0, 0.4]})
    fig = draw.segment_funnel(segments, ["third_party"], "acquisition_channel")
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["Third-party sites"]
    assert draw._step_name("awareness → consideration") == "Awareness → consideration"
    plt.close("all")


def test_a_column_of_numbers_keeps_one_number_of_decimals():
    import pandas as pd

    from journeylib import report

    assert report.column_digits(pd.Series([202.9, 7.503, 0.0])) == 1
    assert report.column_digits(pd.Series([7.503, 0.4])) == 2
    assert report.column_digits(pd.Series([0.0123, None])) == 3
    assert report.column_digits(pd.Series([0.0, 0.0])) == report.column_digits(pd.Series([12.0, 3.0])) == 0
    shown = report.reviewer_frame(pd.DataFrame({"Linear": [202.9, 7.503, 0.0], "Markov": [0.195, 6.559, 147.8]}))
    assert shown.to_dict("list") == {"Linear": ["202.9", "7.5", "0.0"], "Markov": ["0.2", "6.6", "147.8"]}


def test_an_export_without_referrals_gets_a_sentence_and_no_empty_chart():
    import pandas as pd

    from journeylib import advocacy
    from journeylib.advocacy.views import reviewer_table

    result = object.__new__(advocacy.Result)
    result.params = advocacy.Params()
    result.model_frame_ = pd.DataFrame({"referrals": [0, 0, 0], "exposure_years": [4000.5, 3000.25, 2266.286]})
    result.referral_rate_ = {"estimate": 0.0, "ci_low": 0.0, "ci_high": 0.4, "referrers": 0, "buyers": 3}
    assert not result.shows_referral_figures()
    assert result.referral_rate_sentence() == (
        "None of the 3 buyers has referred anyone in 9,267 buyer-years since their purchase: the export holds no "
        "referral made by a buyer, so there is nothing to compare between satisfaction bands.")
    result.model_frame_.loc[0, "referrals"] = 2
    assert result.shows_referral_figures()
    rates = pd.DataFrame({"satisfaction": ["promoter", "no_response"], "buyers": [1200, 35],
                          "exposure_years": [9267.036, 12.5], "per_buyer_year": [0.0, 0.0123], "p": [4e-9, 0.2]})
    data = reviewer_table(rates, "satisfaction", codes=["satisfaction"]).to_html()
    for shown in ("9,267.0", "12.5", "1,200", "0.000", "0.012", "p < 0.001", "p = 0.20", "No response"):
        assert shown in data, shown
    assert "9267.036" not in data


def test_customer_words_lose_markup_but_keep_their_text():
    from journeylib import report

    assert report.customer_words("Price was fair. <b>Great</b> people!<br/>") == "Price was fair. Great people!"
    assert report.customer_words("2 < 3 and a <-- arrow") == "2 < 3 and a <-- arrow"
    assert report.escape_text(report.customer_words("<script>x</script>")) == "x"


def test_the_index_words_notes_periods_and_table_names():
    from journeylib.labels import period_text

    assert render.readable_note("Acquisition channel: sms, unknown had fewer than 20 customers and are pooled into "
                                "'other'.") == ('Acquisition channel: Text message, Unknown had fewer than 20 customers '
                                                'and are pooled into "Other".')
    assert render.readable_note("Dealer: (no dealer recorded), D07 had fewer than 20 customers and are pooled into "
                                "'other'.").startswith("Dealer: (no dealer recorded), D07 had fewer")
    assert render.readable_note("price_band: levels merged") == "Price band: levels merged"
    assert (period_text("2026-03"), period_text("2026Q1"), period_text("2025-09 to 2026-02")) == (
        "March 2026", "Q1 2026", "2025-09 to 2026-02")
    found = {"estimate": -0.05, "flagged": False, "latest_period": "2026-03", "label": "service visit"}
    assert render._statistical_reading(found, "share") == "service visit: −5 pts in March 2026, within chance"


def test_an_export_without_referred_customers_draws_no_empty_curves_or_chains():
    import pandas as pd

    from journeylib import advocacy
    from journeylib.labels import label

    result = object.__new__(advocacy.Result)
    result.chain_depth_, result.customers_ = pd.Series([], dtype="int64"), 2150
    result.depth_table_ = pd.DataFrame({"depth": pd.Series([], dtype="int64"), "customers": pd.Series([], dtype="int64")})
    result.purchase_curves_ = {"other": object()}
    assert not result.shows_chain_figure() and not result.shows_referred_curves()
    assert result.chain_sentence() == "No customer came through a referral, so there are no referral chains."
    result.chain_depth_ = pd.Series([1, 2])
    result.purchase_curves_ = {"referred": object(), "other": object()}
    assert result.shows_chain_figure() and result.shows_referred_curves()
    assert label("rate_ci_low") == "Rate, 95% interval, low" and label("ci_high") == "95% interval, high"


def test_log_axis_ticks_never_overprint():
    from journeylib.figures.style import log_ticks

    ticks = log_ticks(0.2, 10)
    assert 1 in ticks and all(b / a >= 1.5 for a, b in zip(ticks, ticks[1:]))
    assert log_ticks(0.5, 2) == [0.5, 1, 2]
