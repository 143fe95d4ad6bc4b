"""The tables notebook 04 shows reviewers, as properties of its result: labelled, no codes, no NaN.

Derived from the fitted tables (`nps_`, `rate_ratios_`, ...), which keep their codes for
code and tests; these views pass codes and column names through `journeylib.labels.label`.
"""

from __future__ import annotations

import pandas as pd

from journeylib.labels import MISSING, label, number, p_value


def reviewer_table(frame: pd.DataFrame, index: str | list | None = None, codes=(), digits: int = 3, percents=()):
    """`frame` with code columns and column names labelled, `index` as row labels, '—' for a missing value;
    the `percents` columns (shares of 0 to 1) as percentages."""
    out = frame.reset_index() if frame.index.name or isinstance(frame.index, pd.MultiIndex) else frame.copy()
    for column in codes:
        out[column] = out[column].map(label)
    if index is not None:
        out = out.set_index(index)
        out.index.names = [label(name) for name in out.index.names]
    out.columns = [label(column) for column in out.columns]
    formats = _readable_formats(out, digits)
    formats.update({label(column): "{:.1%}" for column in percents})
    return out.style.format(formats, na_rep=MISSING)


def _readable_formats(frame: pd.DataFrame, digits: int) -> dict:
    """Per numeric column, numbers as a reader reads them: thousands separators, one number of decimals per
    column (at most `digits`; whole numbers none), never `9267.036` or `0.000` for a column of zeros."""
    from journeylib.labels import column_digits

    formats = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            continue
        if column == label("p"):  # p-values as `p < 0.001`, never `0.000`
            formats[column] = p_value
            continue
        shown = min(digits, column_digits(values)) if pd.api.types.is_float_dtype(values) else 0
        formats[column] = (lambda places: lambda v: number(v, places))(shown)
    return formats


class Views:
    """Reviewer tables of an advocacy `Result` (attributes as there)."""

    @property
    def nps_table(self):
        return reviewer_table(self.nps_, "survey_type", codes=["survey_type"], digits=1)

    @property
    def nps_latest_table(self):
        return reviewer_table(self.nps_latest_, self.nps_latest_.index.name or None, digits=1)

    @property
    def nps_by_dealer_table(self):
        return reviewer_table(self.nps_by_dealer_, ["survey_type", "dealer_id"], codes=["survey_type"], digits=1)

    @property
    def band_rate_table(self):
        return reviewer_table(self.rates_by_band_, "satisfaction", codes=["satisfaction"])

    @property
    def dispersion_table(self):
        from journeylib.advocacy.count_models import dispersion_table

        return dispersion_table(self.dispersion_).style.format(precision=4, na_rep="")

    @property
    def labelled_rate_ratios_table(self) -> pd.DataFrame:
        """`rate_ratios_` with each term labelled (`Acquisition channel: Walk-in`), for the forest plot."""
        return self.rate_ratios_.assign(term=self.rate_ratios_["term"].map(label))

    @property
    def rate_ratio_table(self):
        ratios = self.rate_ratios_.drop(columns=["feature", "level", "reference"])
        ratios = ratios.drop(columns=["note"]) if (ratios["note"] == "").all() else ratios
        return reviewer_table(ratios, "term", codes=["term"])

    @property
    def forest_title(self) -> str:
        references = ", ".join(f"{label(f).lower()} {label(r).lower()}" for f, r in self.models_.plan.references.items())
        return f"Referral rate ratios, NB2 (reference: {references})"

    @property
    def poisson_against_nb2_table(self):
        from journeylib.advocacy.count_models import compare_fits

        return reviewer_table(compare_fits(self.poisson_rate_ratios_, self.rate_ratios_), "term", codes=["term"])

    @property
    def funnel_table(self):
        return reviewer_table(self.funnel_, "step", codes=["step"])

    @property
    def purchase_by_day_table(self):
        table = self.purchase_by_day_.rename(columns=label)
        table.index.name = "By day"
        return table.style.format("{:.1%}", na_rep="n/a")

    @property
    def reviews_table(self):
        return reviewer_table(self.advocacy_by_band_, ["event", "satisfaction"], codes=["event", "satisfaction"],
                              percents=["share", "ci_low", "ci_high"])
