"""The takeaways and reviewer tables notebook 03 shows, as methods of its result.

`retention.result.Result` inherits these. `takeaways(section)` returns the sentences of one report section
(a list; where the section has nothing to compute, the reason why), `tables(section)` its reviewer
tables as (text frame, title) pairs (none when there is nothing to show), and every number they
show is in `metrics()` (`record_shown` adds those not recorded before). Codes pass through
`journeylib.labels`, p-values through `labels.p_value`.
"""

from __future__ import annotations

import pandas as pd

from journeylib.labels import MISSING, date_text, label, number, p_value, percent
from journeylib.retention.model import MAIN_TERMS
from journeylib.stats import level_notes
from journeylib.vocabulary import OTHER_LEVEL

SIGNIFICANCE = 0.05  # an odds ratio with a Wald p below this is reported as raising or lowering churn
PER_DOUBLING = "per doubling"  # the reference of days to purchase, a numeric term
NO_RUN_FOLDER = "Not written (no run folder outside `journey run`)."


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


class Sentences:
    """Takeaway sentences and reviewer tables of a retention `Result` (attributes as there)."""

    # ------------------------------------------------------------------ entry points

    def takeaways(self, section: str) -> list[str]:
        """The takeaway sentences of one report section, in order (see SECTIONS)."""
        return list(getattr(self, SECTIONS[section])())

    def tables(self, section: str) -> list[dict]:
        """The reviewer tables of one report section, each the keywords of `report.table` (frame, title and
        formats that keep the text as built here: an empty note stays empty); none when there is nothing to show."""
        return [{"frame": frame, "title": title, "formats": dict.fromkeys(frame.columns, str)}
                for frame, title in getattr(self, TABLES[section])()]

    # ------------------------------------------------------------------ takeaways, in the notebook's order

    def overall_sentences(self) -> list[str]:
        if self.churn_rate_ is None:
            return [self.no_rate]
        overall, days = self.churn_rate_.iloc[0], self.params.churn_after_days
        return [f"{overall['churn_rate']:.0%} of the {self.eligible} eligible buyers had no service visit in the last "
                f"{days} days (95% interval {overall['ci_low']:.0%} to {overall['ci_high']:.0%}); "
                f"{self.buyers - self.eligible} more recent buyers have not had a full window yet."]

    def rate_sentences(self) -> list[str]:
        if self.churn_rate_ is None:
            return [self.no_rate]
        out = [_pooled_words(feature, pooled, [OTHER_LEVEL], self.params.min_level_customers)
               for feature, pooled in self.rate_levels_pooled_.items()]
        extremes = self.rate_extremes()
        if extremes is not None:
            high, low = extremes
            out.append(f"Among groups of at least {self.params.min_level_customers} buyers, churn is highest for "
                       f"{_group(high)} ({high['churn_rate']:.0%}, n={high['buyers']}) and lowest for {_group(low)} "
                       f"({low['churn_rate']:.0%}, n={low['buyers']}).")
        return out

    def curve_sentences(self) -> list[str]:
        curve, months = self.curve_, self.params.window_months
        if curve.empty:
            return [f"No buyer has had a complete {months}-month window since purchase by the as-of date, "
                    "so there is no retention curve yet."]
        first, last = curve.iloc[0], curve.iloc[-1]
        return [f"{first['share']:.0%} of buyers came for service in the first {months} months; in the "
                f"{last['window']} window {last['share']:.0%} did (n={last['buyers']}, the oldest buyers only)."]

    def lapse_sentences(self) -> list[str]:
        if self.lapses_ is None:
            return [self.no_rate]
        days = self.params.churn_after_days
        first_year, by_two = self.not_lapsed_.loc[days], self.not_lapsed_.loc[2 * days]
        start = (f"{1 - first_year['estimate']:.0%} of buyers never came for service in their first {days} days; "
                 if pd.notna(first_year["estimate"]) else f"No buyer has been followed for {days} days yet; ")
        end = (f"by day {2 * days}, {1 - by_two['estimate']:.0%} have lapsed at least once "
               f"(95% interval {1 - by_two['ci_high']:.0%} to {1 - by_two['ci_low']:.0%})."
               if pd.notna(by_two["estimate"]) else f"the follow-up does not reach day {2 * days}.")
        return [start + end]

    def model_sentences(self) -> list[str]:
        """Why there is no model, or what its level plan changed, its reference levels and fit notes."""
        if self.model_ is None:
            return [self.no_model]
        plan, pooled = self.model_.plan, level_notes.pooled_levels(self.model_.plan)
        worded = [_pooled_words(feature, merged, sorted({str(plan.mapping[feature][level]) for level in merged}),
                                self.params.min_level_customers) for feature, merged in pooled.items()]
        references = "; ".join(f"{label(f)} = {label(r)}" for f, r in self.reference_levels_.items())
        return [*worded, *self.plan_sentences[len(pooled):], f"Reference levels: {references}.",
                *self.notes_]

    def significance_sentences(self) -> list[str]:
        if self.model_ is None:
            return []
        raising, lowering, tested = self.significant_odds(SIGNIFICANCE)

        def describe(table):
            return ", ".join(f"{_term(r.term, r.reference)} ({r.odds_ratio:.2f})" for r in table.itertuples()) or "none"
        return [f"At p < {SIGNIFICANCE}, raising the odds of churn: {describe(raising)}; lowering them: "
                f"{describe(lowering)} ({tested} odds ratios tested, so about {SIGNIFICANCE * tested:.1f} false alarms "
                "are expected by chance)."]

    def sensitivity_sentences(self) -> list[str]:
        sens = self.sensitivity_
        if not sens["churn_rate"].notna().any():
            return ["No churn window leaves any eligible buyer at this as-of date, so there is no sensitivity check."]
        stable, windows = self.stable_terms, ", ".join(map(str, self.params.sensitivity_days))
        names = f" ({', '.join(map(label, stable))})." if stable else "."
        return [f"Across {windows}-day windows the churn rate ranges from {sens['churn_rate'].min():.0%} to "
                f"{sens['churn_rate'].max():.0%}; {len(stable)} of {len(MAIN_TERMS)} main odds ratios keep their "
                f"direction in every window{names}"]

    def holdout_sentences(self) -> list[str]:
        if self.holdout_ is None:
            return [f"No holdout validation: {_lower_first(self.no_validation)}"]
        if self.holdout_.missing:
            return list(dict.fromkeys(self.holdout_.missing.values()))
        m, lift = self.holdout_.metrics, self.holdout_.lift
        return [f"On buyers the model never saw, AUC is {m['auc']:.2f} (guessing: 0.50) and the Brier score "
                f"{m['brier']:.3f} against {m['baseline_brier']:.3f} without a model; the riskiest 20% of buyers hold "
                f"{self.holdout_.top_fifth_share:.0%} of the churned ones (top decile lift {lift.loc[0, 'lift']:.1f})."]

    def at_risk_sentences(self) -> list[str]:
        if self.at_risk_ is None:
            return [f"No at-risk list: {_lower_first(self.service_.no_scores)}"]
        at_risk, factors = self.at_risk_, self.factor_counts_
        common = label(factors.index[0]) if len(factors) else "none"
        path = self.written_.get("at_risk")
        return [f"The {len(at_risk)} riskiest of {self.active_buyers} active buyers have a mean risk of no service "
                f"visit in the next 12 months of {at_risk['risk'].mean():.0%}, against {self.mean_risk_all_active_:.0%} "
                f"for all active buyers; the most common factor of the sale is {common}. "
                + (f"Written to {path.name} in the run folder." if path else NO_RUN_FOLDER)]

    def service_sentences(self) -> list[str]:
        service = self.service_
        if service.scores_ is None:
            return [service.no_scores]
        out = [service.sentence()]
        if service.no_revenue is not None:
            out.append(f"{service.no_revenue} The list is ranked by the visits at risk instead.")
        from journeylib.retention.service_list import SCORES_FILE  # the service models import scipy: on use

        if service.to_call_ is not None:
            top, listed = self.params.service_to_call_top, len(service.to_call_)
            at_risk = "value at risk" if service.no_revenue is None else "visits at risk"
            out.append(f"The list to call holds the {top} buyer{'' if top == 1 else 's'} per dealer with the most "
                       f"{at_risk} ({listed:,} buyer{'' if listed == 1 else 's'} in all).")
        path = self.written_.get("to_call")
        out.append(f"Written to {path.name} and {SCORES_FILE} in the run folder." if path else NO_RUN_FOLDER)
        return out

    def backtest_sentences(self) -> list[str]:
        checked = self.service_.backtest
        if checked is None:
            return [self.service_.no_backtest]
        return [checked.sentence(), checked.quality_sentence()]

    # ------------------------------------------------------------------ reviewer tables (text, no index column)

    def lapse_tables(self):
        if self.not_lapsed_ is None:
            return
        table = self.not_lapsed_
        yield (pd.DataFrame({"Days since purchase": [number(day) for day in table.index],
                             "Share not yet lapsed": table["estimate"].map(_share).to_numpy(),
                             "95% interval, low": table["ci_low"].map(_share).to_numpy(),
                             "95% interval, high": table["ci_high"].map(_share).to_numpy()}),
               "Share of buyers not yet lapsed (Kaplan-Meier, 95% interval; — past the longest follow-up)")

    def model_tables(self):
        if self.model_ is None:
            return
        odds = self.odds_ratios_
        yield (pd.DataFrame({
            "Factor": [_term(term, reference) for term, reference in zip(odds["term"], odds["reference"])],
            "Reference": [MISSING if r == PER_DOUBLING else label(r) for r in odds["reference"]],
            "Odds ratio": odds["odds_ratio"].map(_ratio).to_numpy(),
            "95% interval, low": odds["ci_low"].map(_ratio).to_numpy(),
            "95% interval, high": odds["ci_high"].map(_ratio).to_numpy(),
            "p-value": [p_value(p) if pd.notna(p) else MISSING for p in odds["p"]],
            "Buyers": odds["buyers"].map(number).to_numpy(),
            "Note": odds["note"].fillna("").to_numpy()}), "Odds ratios (p-values from Wald tests)")

    def sensitivity_tables(self):
        sens = self.sensitivity_
        table = pd.DataFrame({"Churn after days": sens["churn_after_days"].map(number).to_numpy(),
                              "Eligible buyers": sens["eligible"].map(number).to_numpy(),
                              "Churn rate": sens["churn_rate"].map(_share).to_numpy()})
        for term in MAIN_TERMS:
            table[f"Odds ratio: {label(term)}"] = sens[f"OR {term}"].map(_ratio).to_numpy()
            interval = sens[f"CI {term}"].fillna("").str.replace("-", " to ")  # "0.45-1.13" -> "0.45 to 1.13"
            table[f"95% interval: {label(term)}"] = interval.replace("", MISSING).to_numpy()
        if "note" in sens:
            table["Note"] = sens["note"].fillna("").to_numpy()
        yield table, "Churn rate and main odds ratios by churn window (95% intervals)"

    def holdout_tables(self):
        if self.holdout_ is None:
            return
        m, comparison = self.holdout_.metrics, self.holdout_.comparison
        table = pd.DataFrame({"Measure": [label(name) for name in comparison.index]})
        for column, header in (("model", "Model"), ("no-model baseline", "No-model baseline")):
            table[header] = comparison[column].map(lambda v: number(v, 3, missing="not defined")).to_numpy()
        yield (table, f"Temporal holdout: trained on {m['train_buyers']} buyers who bought by "
                      f"{date_text(m['train_until'])}, tested on {m['test_buyers']} who bought from {date_text(m['test_from'])}")

    def at_risk_tables(self):
        if self.at_risk_ is None:
            return
        at_risk, factors = self.at_risk_, self.factor_counts_.head(8)
        if len(factors):
            yield (pd.DataFrame({"Risk factor": [label(f) for f in factors.index],
                                 "Listed buyers": factors.map(number).to_numpy()}),
                   f"Most common risk factors among the {len(at_risk)} listed buyers")
        top = at_risk.head(10)
        yield (pd.DataFrame({"Customer": top["customer_id"].to_numpy(),
                             "Risk of no visit in 12 months": top["risk"].map(lambda v: percent(v, 0)).to_numpy(),
                             "First factor": [label(f) if f else "" for f in top["factor_1"]],
                             "Second factor": [label(f) if f else "" for f in top["factor_2"]]}),
               "The ten highest-risk active buyers")

    def service_tables(self):
        service = self.service_
        if service.scores_ is None:
            return
        title = (f"Top of the list: the buyers with the most at risk (of {len(service.to_call_)} listed, up to "
                 f"{self.params.service_to_call_top} per dealer)")
        yield service.to_call_view(15), title

    # ------------------------------------------------------------------ titles that depend on the data

    def rate_title(self) -> str:
        return (f"Churn rate ({self.params.churn_after_days} days without a service visit) among {self.eligible} "
                "eligible buyers")

    def odds_title(self) -> str:
        errors = "cluster-robust by dealer" if self.params.cluster_by_dealer else "model-based"
        return f"Odds ratios of churn, 95% intervals ({errors} standard errors)"

    # ------------------------------------------------------------------ metrics of what is shown

    def record_shown(self, out) -> None:
        """Into `out` (the result's `metrics()`): the numbers these sentences and tables show beyond the
        section's earlier keys: the significance count, the stable terms, the at-risk factors, the holdout's
        top-fifth share and the expected returners of the service sentence."""
        if self.model_ is not None:
            raising, lowering, tested = self.significant_odds(SIGNIFICANCE)
            out.record("significant_odds", {"alpha": SIGNIFICANCE, "raising": list(raising["term"]),
                                            "lowering": list(lowering["term"]), "tested": tested,
                                            "expected_false_alarms": SIGNIFICANCE * tested})
        if self.sensitivity_["churn_rate"].notna().any():
            out.record("stable_terms", list(self.stable_terms))
        if self.holdout_ is not None and not self.holdout_.missing:
            out.record("holdout_top_fifth_share", self.holdout_.top_fifth_share)
        if self.at_risk_ is not None:
            out.record("at_risk_factors", {str(k): int(v) for k, v in self.factor_counts_.head(8).items()})
        if self.service_ is not None and self.service_.scores_ is not None:
            out.record("expected_returners_12m", float(self.service_.scores_["p_return_12m"].sum()))

    # ------------------------------------------------------------------ files for the service team

    def write_lists(self, run_dir) -> dict:
        """Write the at-risk list, the service scores and the to-call list into the run folder (nothing outside
        a run); {name: path} of what was written, kept for the sentences that say so."""
        from journeylib.retention.at_risk import write_at_risk
        from journeylib.retention.service_list import write_scores, write_to_call

        written = {}
        if self.at_risk_ is not None:
            written["at_risk"] = write_at_risk(self.at_risk_, run_dir)
        if self.service_ is not None and self.service_.scores_ is not None:
            write_scores(self.service_.scores_, run_dir)
            written["to_call"] = write_to_call(self.service_.to_call_, run_dir)
        self.written_ = {name: path for name, path in written.items() if path is not None}
        return self.written_


def _pooled_words(feature: str, merged, targets, min_count: int) -> str:
    """Levels pooled before fitting or drawing, as a reviewer reads them (metrics' `notes` keep the analyst's
    wording, `pooled into 'Low'`)."""
    names = ", ".join(label(level) for level in merged)
    joined = " / ".join("the other small ones ('Other')" if t == OTHER_LEVEL else f"{label(feature).lower()} {label(t)}"
                        for t in targets)
    verb = "is" if len(merged) == 1 else "are"
    return (f"{label(feature)}: {names} had fewer than {min_count} buyers (or too few churned or retained ones) and "
            f"{verb} counted with {joined}.")


def _term(term: str, reference) -> str:
    if reference == PER_DOUBLING:
        return f"{label(term.split(':')[0])} (per doubling of 1 + days)"
    return label(term)


def _group(row) -> str:
    return f"{label(row['feature'])} = {label(row['level'])}"


def _share(value) -> str:
    return percent(value, 1)


def _ratio(value) -> str:
    return number(value, 2)


SECTIONS = {
    "overall": "overall_sentences", "rates": "rate_sentences", "curve": "curve_sentences",
    "lapses": "lapse_sentences", "model": "model_sentences", "significance": "significance_sentences",
    "sensitivity": "sensitivity_sentences", "holdout": "holdout_sentences", "at_risk": "at_risk_sentences",
    "service": "service_sentences", "backtest": "backtest_sentences",
}
TABLES = {
    "lapses": "lapse_tables", "model": "model_tables", "sensitivity": "sensitivity_tables",
    "holdout": "holdout_tables", "at_risk": "at_risk_tables", "service": "service_tables",
}
