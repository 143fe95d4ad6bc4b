"""Text from the data renders as the same text in the reviewer HTML: no markup, no mangled characters."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from journeylib import report


def visible_text(markdown: str) -> str:
    """What a reader sees: nbconvert's Markdown rendering without tags (and without heading anchors)."""
    rendered = markdown2html_mistune(markdown)
    rendered = re.sub(r'<a class="anchor-link".*?</a>', "", rendered)
    assert "<em>" not in rendered and "<strong>" not in rendered.replace("<strong>Takeaway:</strong>", "")
    return html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip()


@pytest.mark.parametrize("text", ["the customer's car", 'a "quoted" word', "50% off # 1 *deal* [link](x) _x_",
                                  "<b>great</b> & <script>alert(1)</script>"])
def test_data_text_shows_exactly_as_written(text):
    assert visible_text(f"### {report.escape_text(text)}") == text
    assert visible_text(f"**Takeaway:** {report.escape_text(text)}") == f"Takeaway: {text}"
    assert visible_text(f"> {report.escape_text(text)}") == text


def test_markup_in_data_never_becomes_markup():
    rendered = markdown2html_mistune("> " + report.escape_text("<script>alert(1)</script> <b>great</b>"))
    assert "<script>" not in rendered and "<b>" not in rendered


def test_the_run_index_shows_each_notebooks_notes_escaped(tmp_path):
    """Notes recorded by Results.note (every section of the notebook's results file) show under its row, as text."""
    import json

    from journeylib.run import render
    from journeylib.results import Results
    from journeylib.run.execute import Outcome

    churn = Results("retention", notebook="03_retention_churn", run_dir=tmp_path)
    churn.record_missing("churn_rate", "Nobody bought at least 365 days before the as-of date: no churn rate.")
    churn.note("Dealers <D11> & D12 have too few buyers: pooled into 'other'.")
    churn.save()
    personas = Results("personas", notebook="05_personas_and_feedback", run_dir=tmp_path)
    personas.note("Only 40 customers: personas are not split.")
    personas.save()
    feedback = Results("feedback", notebook="05_personas_and_feedback.feedback", run_dir=tmp_path)
    feedback.note("No survey comments: no themes.")
    feedback.save()
    outcomes = [Outcome("02_time_to_purchase", status="ok"), Outcome("03_retention_churn", status="ok"),
                Outcome("05_personas_and_feedback", status="ok"), Outcome("04_advocacy_referrals", status="failed",
                                                                          error="ValueError: boom")]
    metrics = {"run": {"id": "r1", "status": "failed"}, "data": {}}
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    index = render.write_index(tmp_path, metrics, outcomes, None).read_text(encoding="utf-8")

    rows = index.split("<tr")
    row_of = {o.name: next(i for i, r in enumerate(rows) if o.name in r) for o in outcomes}
    notes_of = {name: rows[i + 1] for name, i in row_of.items()}
    assert "Nobody bought at least 365 days before the as-of date: no churn rate." in notes_of["03_retention_churn"]
    assert "Dealers &lt;D11&gt; &amp; D12 have too few buyers: pooled into &#34;Other&#34;." in \
        notes_of["03_retention_churn"]
    assert "<D11>" not in index
    assert "Only 40 customers: personas are not split." in notes_of["05_personas_and_feedback"]
    assert "No survey comments: no themes." in notes_of["05_personas_and_feedback"]
    assert 'class="notes"' not in notes_of["02_time_to_purchase"]      # nothing noted: no notes row
    assert 'class="notes"' not in notes_of["04_advocacy_referrals"]    # failed: no results, its error shows instead
    assert index.count('<tr class="notes">') == 2


def test_a_scheduled_run_turns_autoreload_off_and_an_interactive_session_keeps_it(monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    from journeylib import report

    shell = InteractiveShell.instance()
    try:
        monkeypatch.setattr(report, "_in_ipython", lambda: shell)
        monkeypatch.setattr(shell, "enable_matplotlib", lambda gui=None: (gui, gui))  # no GUI in a plain shell
        shell.run_line_magic("load_ext", "autoreload")
        shell.run_line_magic("autoreload", "2")
        reloader = shell.magics_manager.registry["AutoreloadMagics"]._reloader

        monkeypatch.delenv("JOURNEY_SCHEDULED", raising=False)
        report.setup()
        assert reloader.enabled  # JupyterLab: edits to journeylib still reload

        monkeypatch.setenv("JOURNEY_SCHEDULED", "1")
        report.setup()
        assert not reloader.enabled  # papermill: nothing is edited, no module scan before each cell
    finally:
        InteractiveShell.clear_instance()


def test_a_reviewer_table_has_no_index_human_headers_and_no_nan():
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({"channel": ["walk_in", "third_party", None], "share": [0.1234, np.nan, 0.5],
                          "ci_low": [0.1, 0.2, np.nan], "median_days": [12.0, np.nan, 1.0], "p": [4.4e-49, 0.03, None],
                          "leads": [1200, 35, 7], "Revenue": [125000.4, np.nan, 0.0]},
                         index=pd.Index([5, 6, 7], name="row"))
    shown = report.reviewer_frame(frame, headers={"median_days": "Median time to purchase"},
                                  formats={"channel": "label", "share": "percent", "ci_low": "percent",
                                           "median_days": "days", "p": "p", "Revenue": "money"})
    assert list(shown.columns) == ["Channel", "Share", "95% interval, low", "Median time to purchase", "p-value",
                                   "Leads", "Revenue"]
    assert shown.to_dict("list") == {
        "Channel": ["Walk-in", "Third-party sites", "—"], "Share": ["12.3%", "—", "50.0%"],
        "95% interval, low": ["10.0%", "20.0%", "—"], "Median time to purchase": ["12 days", "—", "1 day"],
        "p-value": ["p < 0.001", "p = 0.03", "—"], "Leads": ["1,200", "35", "7"], "Revenue": ["125,000", "—", "0"]}
    assert list(shown.index) == [0, 1, 2]
    with_index = report.reviewer_frame(frame, index=True)
    assert list(with_index.columns)[0] == "Row" and with_index.iloc[0, 0] == "5"


def test_a_reviewer_table_renders_without_index_or_nan(monkeypatch):
    import numpy as np
    import pandas as pd

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    report.table(pd.DataFrame({"ci_high": [np.nan, 0.5], "group": ["<b>D01</b>", "D02"]}))
    html_text = shown[-1].data
    assert "NaN" not in html_text and "—" in html_text and "<th></th>" not in html_text
    assert "95% interval, high" in html_text and "&lt;b&gt;D01&lt;/b&gt;" in html_text
    assert "<tbody>\n    <tr>\n      <th>" not in html_text  # no index cells


def test_show_table_keeps_a_meaningful_index_as_a_column_and_reads_codes_as_words(monkeypatch):
    import numpy as np
    import pandas as pd

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    by_channel = pd.DataFrame({"share": [0.0031, np.nan], "term": ["channel:third_party", "D01"],
                               "path": ["site_visit > vdp_view", "walk in > 2 visits"]},
                              index=pd.Index(["walk_in", "website"], name="channel"))
    report.show_table(by_channel)
    page = shown[-1].data
    assert "Walk-in" in page and "Channel: Third-party sites" in page and "0.003" in page and "D01" in page
    assert "Site visit &gt; Vehicle page view" in page and "walk in &gt; 2 visits" in page
    assert "NaN" not in page and "walk_in" not in page and "third_party" not in page
    report.show_table(pd.DataFrame({"leads": [3, 4]}))
    assert ">0<" not in shown[-1].data and ">1<" not in shown[-1].data  # a plain 0..n-1 index is dropped


def test_show_table_shows_a_styler_as_styled_without_its_plain_index(monkeypatch):
    import pandas as pd

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    report.show_table(pd.DataFrame({"share": [0.25, 0.5]}).style.format({"share": "{:.0%}"}))
    page = shown[-1].to_html()
    assert "25%" in page and "50%" in page and ">0<" not in page


def test_quote_sections_put_each_heading_above_its_quotes_and_a_takeaway_with_nothing_to_say_writes_nothing(
        monkeypatch):
    written = []
    monkeypatch.setattr(report, "_markdown", written.append)
    report.quote_sections([("Waiting times", ["Took <b>ages</b>", ""]), ("Price", [])])
    report.takeaway("")
    assert written == ["#### Waiting times", "- Took ages", "#### Price"]


def test_an_empty_table_and_an_empty_heading_write_nothing(monkeypatch):
    written = []
    monkeypatch.setattr(report, "_markdown", written.append)
    report.show_table(pd.DataFrame({"column": []}), "Most frequent offending values per reason")
    report.heading("")
    assert written == []
