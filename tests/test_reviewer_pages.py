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
DEVELOPER_LINES = ("saved results:", "Traceback (most recent call last)")
SNAKE_CODES = sorted({code for code in (*taxonomy.CHANNELS, *taxonomy.STAGES,
                                        *(e for events in taxonomy.EVENT_STAGES.values() for e in events))
                      if "_" in code})
NOTEBOOKS = ("00_data_quality", "01_journey_map", "02_time_to_purchase", "03_retention_churn",
             "04_advocacy_referrals", "05_personas_and_feedback", "06_what_changed")
OWNED_HERE = {"00_data_quality", "01_journey_map", "02_time_to_purchase", "03_retention_churn", "04_advocacy_referrals",
              "05_personas_and_feedback", "06_what_changed"}
CLEANED_AFTER_MERGE = "reviewer page cleaned by the notebook's owner (issue 22 item 6); drop the mark on merge"


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
    return problems


def _around(text: str, at: int) -> str:
    return " ".join(text[max(0, at - 40):at + 40].split())


# ---------------------------------------------------------------- the checks themselves

def test_the_checks_find_each_artefact():
    clean = '<html><body><p>Walk-in leads: 12 days</p><img src="x.png" alt="Chart. Leads per month."></body></html>'
    assert page_problems(clean) == []
    for bad in ("<pre>by day 30: 0.03</pre>", "<p>estimate NaN</p>", "<p>channel:third_party</p>",
                "<td>walk_in</td>", "<p>saved results: journey.funnel</p>", '<img src="x.png">',
                f'<img src="x.png" alt="{PLACEHOLDER_ALT}">'):
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
