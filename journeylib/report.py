"""What every notebook does to look the same and be safe to read.

Reviewers read the rendered HTML without code, so figures are static PNGs,
takeaways are sentences computed from the numbers, and any text that came
from the data (survey comments, raw labels) is escaped before display.
"""

from __future__ import annotations

import html
import os
import re

import pandas as pd

from journeylib import tables

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def setup() -> None:
    """Static PNG figures, one seaborn theme, quiet progress bars under a scheduler."""
    import matplotlib

    if os.environ.get("MPLBACKEND") is None and not _in_ipython():
        matplotlib.use("Agg")
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook", palette="colorblind")
    matplotlib.rcParams.update({"figure.figsize": (9, 4.5), "figure.dpi": 100, "savefig.bbox": "tight",
                                "axes.titleweight": "bold"})
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 140)
    pd.set_option("display.precision", 3)
    ipython = _in_ipython()
    if ipython is not None:
        # The runner's kernel has MPLBACKEND=Agg, under which plt.show() would draw nothing into the notebook.
        ipython.run_line_magic("matplotlib", "inline")
        ipython.run_line_magic("config", "InlineBackend.figure_formats = ['png']")
    if os.environ.get("JOURNEY_SCHEDULED"):
        os.environ.setdefault("TQDM_DISABLE", "1")
        if ipython is not None and ipython.find_line_magic("autoreload") is not None:
            # no code is edited during a scheduled run: skip autoreload's scan of every module before each cell
            ipython.run_line_magic("autoreload", "0")


def _in_ipython():
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with ipykernel
        return None
    return get_ipython()


def escape_text(text) -> str:
    """Data text made safe for Markdown/HTML: markup shows as text, never renders."""
    # quote=False: quotes are harmless in text, and an entity like &#x27; would have its '#' escaped below
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False))


def _markdown(text: str) -> None:
    from IPython.display import Markdown, display

    display(Markdown(text))


def takeaway(sentence: str) -> None:
    """A one-line reading of a figure or table, computed from the numbers by the caller."""
    _markdown(f"**Takeaway:** {escape_text(sentence)}")


def heading(text: str, level: int = 3) -> None:
    _markdown(f"{'#' * level} {escape_text(text)}")


def quote(text) -> None:
    """A customer's words, escaped: shown as text even when they contain markup."""
    _markdown("> " + escape_text(text).replace("\n", " "))


def bullets(sentences) -> None:
    """Sentences as a bulleted list, each escaped."""
    _markdown("\n".join(f"- {escape_text(sentence)}" for sentence in sentences))


def open_tables(processed_dir=None, as_of=None) -> tables.ProcessedTables:
    """The processed tables a notebook reads; when a run samples whole customers
    ($JOURNEY_MAX_CUSTOMERS), the report says so in one sentence before any figure."""
    opened = tables.ProcessedTables(processed_dir, as_of)
    if opened.sample_note:
        _markdown(f"**Sample:** {escape_text(opened.sample_note)}")
    return opened


def show_table(frame: pd.DataFrame, title: str | None = None) -> None:
    """A table for reviewers; pandas' HTML repr escapes cell text."""
    from IPython.display import display

    if title:
        heading(title, level=4)
    display(frame)


def check_as_of(as_of, processed_dir=None) -> pd.Timestamp:
    """The processed data's as-of date; a different `as_of` parameter is an error, not a silent mix."""
    return tables.ProcessedTables(processed_dir, as_of).as_of


def pct(value: float, digits: int = 1) -> str:
    return f"{100 * value:.{digits}f}%"
