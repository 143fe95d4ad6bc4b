"""Text from the data renders as the same text in the reviewer HTML: no markup, no mangled characters."""

from __future__ import annotations

import html
import re

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
