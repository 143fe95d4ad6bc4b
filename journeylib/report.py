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

from journeylib import labels, tables
from journeylib.labels import column_digits, pct  # noqa: F401 - report.pct, as notebooks and figures call it

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
    """A one-line reading of a figure or table, computed from the numbers by the caller; nothing for no sentence
    (a reason already given above is not repeated)."""
    if not sentence:
        return
    _markdown(f"**Takeaway:** {escape_text(sentence)}")


def heading(text: str, level: int = 3) -> None:
    """A heading; nothing for no text (a section with nothing to show has no heading either)."""
    if not text:
        return
    _markdown(f"{'#' * level} {escape_text(text)}")


_MARKUP_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(\s[^<>]*)?/?>")


def customer_words(text) -> str:
    """A customer's comment as a reader should see it: markup tags a web form let through (`<b>Great</b>`)
    removed, nothing else changed (the text is still escaped when shown)."""
    return " ".join(_MARKUP_TAG.sub("", str(text)).split())


def quote(text) -> None:
    """A customer's words, without markup tags and escaped: shown as text, never rendered."""
    _markdown("> " + escape_text(customer_words(text)))


def quotes(texts) -> None:
    """Customers' words as a bulleted list (`quote`'s rules); nothing at all for no text."""
    bullets([customer_words(text) for text in texts if text])


def quote_sections(sections) -> None:
    """(heading, customers' words) pairs: each heading at level 4 with its quotes beneath it."""
    for text, texts in sections:
        heading(text, level=4)
        quotes(texts)


def bullets(sentences) -> None:
    """Sentences as a bulleted list, each escaped; nothing at all for no sentence."""
    sentences = [sentence for sentence in sentences if sentence]
    if not sentences:
        return
    _markdown("\n".join(f"- {escape_text(sentence)}" for sentence in sentences))


def open_tables(processed_dir=None, as_of=None) -> tables.ProcessedTables:
    """The processed tables a notebook reads; when a run samples whole customers
    ($JOURNEY_MAX_CUSTOMERS), the report says so in one sentence before any figure."""
    opened = tables.ProcessedTables(processed_dir, as_of)
    if opened.sample_note:
        _markdown(f"**Sample:** {escape_text(opened.sample_note)}")
    return opened


def show_table(frame: pd.DataFrame, title: str | None = None) -> None:
    """`table` with default formats (a pandas Styler is shown as styled): a meaningful index (named, or not 0..n-1) becomes the first column,
    a plain 0..n-1 index is dropped; codes in text cells read as labels, missing values as '—'."""
    from pandas.io.formats.style import Styler

    data = frame.data if isinstance(frame, Styler) else frame
    if data.empty:  # an empty table is headers only: the sentence beside it says why, never a bare grid
        return
    plain_index = isinstance(data.index, pd.RangeIndex) and data.index.name is None
    if isinstance(frame, Styler):  # the caller formatted it: shown as styled, without a 0..n-1 index
        from IPython.display import display

        if title:
            heading(title, level=4)
        display(frame.hide(axis="index") if plain_index else frame)
        return
    table(frame, title, index=not plain_index)


FORMATS = {
    "percent": labels.percent, "points": labels.points, "days": labels.days, "p": labels.p_value,
    "count": lambda v: labels.number(v, 0), "money": lambda v: labels.number(v, 0),
    "number": lambda v: labels.number(v, 1), "ratio": lambda v: labels.number(v, 2), "label": labels.label,
}


def reviewer_frame(frame: pd.DataFrame, headers: dict | None = None, formats: dict | None = None,
                   index: bool = False) -> pd.DataFrame:
    """The table a reviewer reads, as text: the index dropped (or made a first column with `index=True`),
    headers through `labels.label` unless `headers` names them, each column formatted by `formats`
    (column -> "percent" | "points" | "days" | "p" | "count" | "money" | "number" | "ratio" | "label"
    or a function of one value), numbers with thousands separators, and every missing value '—'."""
    if index and frame.index.nlevels == 1 and frame.index.name is None:
        frame = frame.rename_axis(" ")  # an unnamed index (labels of the rows): a blank header
    table = frame.reset_index() if index else frame.reset_index(drop=True)
    formats = formats or {}
    out = {}
    for column in table.columns:
        how = formats.get(column)
        fmt = FORMATS[how] if isinstance(how, str) else how
        values = table[column]
        if fmt is None:
            fmt = _default_format(values)
        out[column] = [labels.MISSING if _missing(v) else fmt(v) for v in values]
    headers = headers or {}
    return pd.DataFrame(out, columns=list(table.columns)).rename(
        columns={c: headers.get(c, _header(c)) for c in table.columns})


def _header(column) -> str:
    """A code (`ci_low`, `walk_in`, `leads`) as its label; a header already in words stays as written."""
    text = str(column)
    coded = text in labels.LABELS or "_" in text or ":" in text or (text.isidentifier() and text.islower())
    return labels.label(text) if coded else text


def _missing(value) -> bool:
    if value is None or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and other containers
        return False


_CODE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)+|[a-z][a-z0-9_]*:[a-z0-9_]+|\(none\)")


def _default_format(values: pd.Series):
    """Whole numbers with separators; other floats with one number of decimals per column (`column_digits`);
    text cells that are codes (`walk_in`, `channel:third_party`, a known label) as words; the rest as written."""
    if pd.api.types.is_bool_dtype(values):
        return lambda v: "Yes" if v else "No"
    if pd.api.types.is_integer_dtype(values):
        return lambda v: labels.number(v, 0)
    if pd.api.types.is_float_dtype(values):
        digits = column_digits(values)
        return lambda v: labels.number(v, digits)
    return _text


_PATH = re.compile(r"\s+(>|→)\s+")  # a path of codes: site_visit > vdp_view


def _is_code(text: str) -> bool:
    return text in labels.LABELS or bool(_CODE.fullmatch(text))


def _text(value) -> str:
    if isinstance(value, str) and _is_code(value):
        return labels.label(value)
    if isinstance(value, str) and _PATH.search(value):
        parts = _PATH.split(value)  # codes and separators in turn
        if all(_is_code(part) or part == "..." for part in parts[::2]):
            return "".join(labels.label(p) if i % 2 == 0 and p != "..." else f" {p} " if i % 2 else p
                           for i, p in enumerate(parts))
    if isinstance(value, float):
        return labels.number(value, 3)
    return str(value)


def table(frame: pd.DataFrame, title: str | None = None, headers: dict | None = None,
          formats: dict | None = None, index: bool = False) -> None:
    """A DataFrame shown to reviewers (see `reviewer_frame`): no index column, human headers, '—' for missing,
    percentages, days and p-values formatted; cell text escaped."""
    from IPython.display import HTML, display

    if title:
        heading(title, level=4)
    shown = reviewer_frame(frame, headers, formats, index)
    display(HTML(shown.to_html(index=False, escape=True, na_rep=labels.MISSING, classes="dataframe")))


def check_as_of(as_of, processed_dir=None) -> pd.Timestamp:
    """The processed data's as-of date; a different `as_of` parameter is an error, not a silent mix."""
    return tables.ProcessedTables(processed_dir, as_of).as_of
