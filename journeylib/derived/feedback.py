"""Voice of the customer: themes and sentiment in survey comments.

Themes come from a keyword taxonomy (theme -> keywords, packaged default in
`feedback_themes.yaml`, replaceable by the user's own file or dictionary).
Sentiment is VADER's compound score (-1..1) from the lexicon that ships inside
the vaderSentiment package: nothing is downloaded at run time. Survey comments
repeat a lot (stock phrases, "ok", "great service"), so each distinct comment is
scored and tagged once and the result spread back to its rows.

Quotes leave this module only through `example_quotes`, which redacts emails
and phone numbers again (the processed comments already are: defence in depth)
and shortens them; the notebook shows them with `report.quote`, which escapes markup.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from journeylib.privacy import redact
from journeylib.segments import satisfaction_band

DEFAULT_TAXONOMY_FILE = "feedback_themes.yaml"
# VADER's own convention: compound <= -0.05 is negative, >= 0.05 positive.
NEGATIVE_BELOW = -0.05
POSITIVE_ABOVE = 0.05
# VADER's work grows with the square of the text length (a 1 MB comment took most of an hour), so it
# scores at most this many characters of a comment: every ordinary comment whole, a huge one by its start.
MAX_SENTIMENT_CHARS = 2000


def load_taxonomy(source=None) -> dict[str, list[str]]:
    """The theme taxonomy: None = the packaged default, a path to a YAML file, or a dict."""
    if source is None:
        text = resources.files("journeylib.derived").joinpath(DEFAULT_TAXONOMY_FILE).read_text(encoding="utf-8")
        raw = yaml.safe_load(text)
    elif isinstance(source, dict):
        raw = source
    elif isinstance(source, (str, Path)):
        raw = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
    else:
        raw = None
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"theme taxonomy {source!r}: expected a mapping of theme -> list of keywords")
    taxonomy = {}
    for theme, keywords in raw.items():
        if isinstance(keywords, str):
            keywords = [keywords]
        if not keywords or not all(isinstance(k, str) and k.strip() for k in keywords):
            raise ValueError(f"theme taxonomy: theme {theme!r} needs a non-empty list of keywords")
        if "." in str(theme):
            raise ValueError(f"theme taxonomy: theme {theme!r} may not contain '.' (it becomes a metrics key)")
        taxonomy[str(theme)] = [k.strip() for k in keywords]
    return taxonomy


def _keyword_pattern(keyword: str) -> str:
    prefix = keyword.endswith("*")
    body = re.escape(keyword.rstrip("*").lower()).replace(r"\ ", r"\s+")
    # Word boundaries only where the keyword starts/ends with a word character ("f&i" has none inside).
    start = r"\b" if re.match(r"\w", keyword) else ""
    end = r"\w*" if prefix else (r"\b" if re.search(r"\w$", keyword.rstrip("*")) else "")
    return start + body + end


def theme_patterns(taxonomy: dict[str, list[str]]) -> dict[str, re.Pattern]:
    return {theme: re.compile("|".join(_keyword_pattern(k) for k in keywords), re.IGNORECASE)
            for theme, keywords in taxonomy.items()}


def tag_themes(comments, taxonomy: dict[str, list[str]]) -> pd.DataFrame:
    """One boolean column per theme: does the comment mention it? Missing comments mention nothing."""
    comments = pd.Series(comments, dtype="object")
    codes, distinct = pd.factorize(comments.fillna("").astype(str))
    distinct = pd.Series(distinct, dtype="object")
    return pd.DataFrame({theme: distinct.str.contains(pattern, regex=True).to_numpy(dtype=bool)[codes]
                         for theme, pattern in theme_patterns(taxonomy).items()}, index=comments.index)


@lru_cache(maxsize=1)
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()  # reads vader_lexicon.txt from inside the package


def sentiment_text(comment: str, max_chars: int = MAX_SENTIMENT_CHARS) -> str:
    """The part of a comment VADER scores: all of it up to `max_chars` characters, else the first
    `max_chars` cut back to the last whitespace (no half word), so the work per comment is bounded."""
    if len(comment) <= max_chars:
        return comment
    head = comment[:max_chars]
    cut = head.rsplit(None, 1)[0]
    return cut if cut.strip() else head


def sentiment(comments) -> pd.Series:
    """VADER compound score per comment (-1 very negative .. 1 very positive); NaN without a comment.

    A comment longer than MAX_SENTIMENT_CHARS is scored on its first MAX_SENTIMENT_CHARS characters
    (`sentiment_text`); themes are still tagged on the whole text.
    """
    comments = pd.Series(comments, dtype="object")
    scorable = comments.map(lambda c: isinstance(c, str) and bool(c.strip())).astype(bool)
    analyzer = _analyzer()
    scores = {c: analyzer.polarity_scores(sentiment_text(c))["compound"] for c in pd.unique(comments[scorable])}
    return comments.where(scorable).map(scores).astype("float64")


def score_comments(surveys: pd.DataFrame, taxonomy=None) -> pd.DataFrame:
    """Survey rows that carry a comment, with sentiment, satisfaction band and one column per theme."""
    taxonomy = load_taxonomy(taxonomy)
    has_comment = surveys["comment"].notna() & surveys["comment"].astype(str).str.strip().ne("")
    scored = surveys.loc[has_comment].reset_index(drop=True).copy()
    scored["sentiment"] = sentiment(scored["comment"])
    scored["band"] = satisfaction_band(scored["score"]).astype(str)
    themes = tag_themes(scored["comment"], taxonomy)
    return pd.concat([scored, themes], axis=1)


def is_negative(scored: pd.DataFrame) -> pd.Series:
    """A complaint: negative sentiment, or a detractor's comment (plain words like "too high" score neutral)."""
    return (scored["sentiment"] <= NEGATIVE_BELOW) | (scored["band"] == "detractor")


def theme_summary(scored: pd.DataFrame, themes: list[str]) -> pd.DataFrame:
    """Per theme: comments mentioning it, share of comments, mean sentiment, negative mentions (`is_negative`)."""
    rows = []
    negative = is_negative(scored)
    for theme in themes:
        mentioned = scored[theme]
        sentiments = scored.loc[mentioned, "sentiment"]
        rows.append({
            "theme": theme,
            "mentions": int(mentioned.sum()),
            "share": float(mentioned.mean()) if len(scored) else float("nan"),
            "mean_sentiment": float(sentiments.mean()) if len(sentiments) else float("nan"),
            "negative_mentions": int((mentioned & negative).sum()),
        })
    return pd.DataFrame(rows).set_index("theme")


def themes_by(scored: pd.DataFrame, themes: list[str], by: str) -> pd.DataFrame:
    """Share of comments mentioning each theme within each group of `by` (rows: themes, columns: groups)."""
    if scored.empty:
        return pd.DataFrame(index=themes, dtype="float64")
    return scored.groupby(by, observed=True)[themes].mean().T


def pain_points(scored: pd.DataFrame, themes: list[str], top: int = 5) -> pd.DataFrame:
    """Themes ranked by negative mentions (see `is_negative`); ties by theme name."""
    summary = theme_summary(scored, themes).reset_index()
    summary = summary[summary["negative_mentions"] > 0]
    return (summary.sort_values(["negative_mentions", "theme"], ascending=[False, True])
            .head(top).set_index("theme"))


def shorten(text: str, max_chars: int = 160) -> str:
    """At most `max_chars` characters, cut at a word boundary with an ellipsis."""
    text = " ".join(str(text).split())
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1].rsplit(" ", 1)[0] or text[: max_chars - 1]
    return cut + "…"


def example_quotes(scored: pd.DataFrame, theme: str, n: int = 2, max_chars: int = 160) -> list[str]:
    """The `n` most negative complaints (`is_negative`) mentioning `theme`, redacted and shortened (ties: response_id)."""
    mentions = scored[scored[theme] & is_negative(scored)]
    mentions = mentions.sort_values(["sentiment", "response_id"])
    quotes, seen = [], set()
    for comment in mentions["comment"]:
        # Redact before shortening, so a cut can never leave half an email address behind.
        quote = shorten(redact(comment), max_chars)
        if quote not in seen:
            seen.add(quote)
            quotes.append(quote)
        if len(quotes) == n:
            break
    return quotes


def customer_pain_points(surveys: pd.DataFrame, taxonomy=None, scored: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per customer, 1.0 for each theme mentioned in a complaint of theirs (`is_negative`), else 0.0 (persona features).

    `scored`: the surveys' `score_comments` when already computed (the notebook scores them once).
    """
    taxonomy = load_taxonomy(taxonomy)
    themes = list(taxonomy)
    scored = score_comments(surveys, taxonomy) if scored is None else scored
    negative = scored[is_negative(scored)]
    if negative.empty:
        return pd.DataFrame(columns=themes, dtype="float64")
    return negative.groupby("customer_id")[themes].any().astype("float64")
