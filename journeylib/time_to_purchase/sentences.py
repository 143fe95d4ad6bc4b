"""The takeaways and reviewer tables notebook 02 shows, as methods of its result.

`time_to_purchase.result.Result` inherits these. Each takeaway method returns the sentences of one report
section (a list, empty where the section has nothing to say; why is in `notes_for(section)`), and
every number in them is in `metrics()` (`record_shown` adds those not recorded before). Codes pass through `journeylib.labels`, p-values through
`labels.p_value`, and every time measure is in days.
"""

from __future__ import annotations

import pandas as pd

from journeylib.labels import MISSING, label, number, number_range, p_value, percent
from journeylib.stats import levels
from journeylib.time_to_purchase.coding import FEATURE_WORDS
from journeylib.time_to_purchase.leads import NO_DEALER, TEST_DRIVE
from journeylib.vocabulary import OTHER_LEVEL

SIGNIFICANCE = 0.05  # a log-rank or proportional-hazards p below this is reported as a difference


class Sentences:
    """Takeaway sentences and reviewer tables of a time-to-purchase `Result` (attributes as there)."""

    # ------------------------------------------------------------------ takeaways, in the notebook's order

    def takeaways(self, section: str) -> list[str]:
        """The takeaway sentences of one report section, in order (see SECTIONS)."""
        return list(getattr(self, SECTIONS[section])())

    def level_notes(self) -> list[str]:
        """The levels section's notes as a reviewer reads them: a pooled level by its label and what it joined
        (metrics' `notes` keep the analyst's wording, `pooled into 'D01'`)."""
        worded = {}
        for feature, merged in self.levels_.pooled.items():
            word, target = FEATURE_WORDS[feature], self.levels_.targets[feature]
            raw = ["(no dealer recorded)" if name == NO_DEALER else name for name in merged]
            said = levels.pooled_sentence(word, raw, self.params.min_level_customers, target=target,
                                          events="purchases", units="leads")
            names = [NO_DEALER_WORDS if name == NO_DEALER else label(name) for name in merged]
            joined = "the other small ones ('Other')" if target == OTHER_LEVEL else f"{word} {label(target)}"
            worded[said] = (f"{'These' if len(names) > 1 else 'This'} {word}{'s' if len(names) > 1 else ''} had fewer "
                            f"than {self.params.min_level_customers} leads or no purchase and "
                            f"{'are' if len(names) > 1 else 'is'} counted with {joined}: {', '.join(names)}.")
        return [worded.get(sentence, sentence) for sentence in self.notes_for("levels")]

    def censoring_sentences(self) -> list[str]:
        text = (f"{self.leads_ - self.bought_:,} of {self.leads_:,} leads have not bought yet; they are followed for a "
                f"median of {self.follow_up_median_days_:.0f} days and count as censored, not as lost.")
        if not self.bought_:
            text += " No lead has bought yet, so the comparisons below cannot be made."
        return [text]

    def logrank_sentences(self, feature: str) -> list[str]:
        statistic, df, p = self.logrank_.loc[feature]
        if pd.isna(p):
            return []
        words = FEATURE_WORDS[feature] + "s"
        verdict = "differ" if p < SIGNIFICANCE else "do not differ detectably"
        return [f"Log-rank test across all {int(df) + 1} {words}: chi-square {statistic:.1f} on {int(df)} degrees of "
                f"freedom, {p_value(p)}: purchase curves across {words} {verdict}."]

    def channel_logrank_sentences(self) -> list[str]:
        return self.logrank_sentences("acquisition_channel")

    def dealer_logrank_sentences(self) -> list[str]:
        return self.logrank_sentences("dealer_id")

    def probability_sentences(self) -> list[str]:
        p90 = self.purchase_probability_.loc[90]
        if pd.isna(p90["estimate"]):
            return ["No lead has been followed for 90 days yet, so the share buying within 90 days is not known."]
        if p90["ci_high"] == 0:
            return ["None of the leads bought within 90 days of first touch."]
        return [f"{p90['estimate']:.0%} of leads buy within 90 days of first touch "
                f"(95% interval {p90['ci_low']:.0%} to {p90['ci_high']:.0%})."]

    def model_sentences(self) -> list[str]:
        if self.model_ is None:
            return []
        ranks = (f"The model ranks which of two leads buys first correctly {self.model_.concordance:.0%} of the time "
                 "(concordance).")
        td = self.test_drive_
        if td is None:
            return [ranks]
        return [f"Once a lead has test-driven, purchases come {td['hazard_ratio']:.1f} times as fast per day as for "
                f"comparable leads who have not (95% interval {number_range(td['ci_low'], td['ci_high'], 1)}). {ranks}"]

    def naive_sentences(self) -> list[str]:
        if self.naive_ is None or self.test_drive_ is None:
            return []
        return [f"The naive coding gives {self.naive_['hazard_ratio']:.2f} against {self.test_drive_['hazard_ratio']:.2f} "
                "for the correct one."]

    def ph_sentences(self) -> list[str]:
        if self.ph_test_ is None:
            return []
        if not self.ph_violated_:
            return ["No factor shows evidence against proportional hazards (every p-value at least 0.05)."]
        return [f"Proportional hazards look doubtful (p < 0.05) for: {', '.join(map(label, self.ph_violated_))}; remedy "
                f"below. With {len(self.ph_test_)} tests, about {SIGNIFICANCE * len(self.ph_test_):.1f} false alarms are "
                "expected by chance."]

    def remedy_sentences(self) -> list[str]:
        out = []
        if self.by_period_ is not None:
            out.append("The effect of the test drive differs across the journey: "
                       + "; ".join(f"{period_words(name)}: {row.hazard_ratio:.2f}"
                                   for name, row in self.by_period_.iterrows())
                       + ". The single hazard ratio above is an average over these periods.")
        if self.stratified_ is not None and self.test_drive_ is not None:
            s = self.stratified_
            out.append(f"Stratifying by {', '.join(map(label, self.strata_))} (each level gets its own baseline curve) "
                       f"gives a test drive hazard ratio of {s['hazard_ratio']:.2f} "
                       f"({number_range(s['ci_low'], s['ci_high'], 2)}), against "
                       f"{self.test_drive_['hazard_ratio']:.2f} in the main model.")
        if self.ph_test_ is not None and not self.ph_violated_:
            out.append("No remedy needed: the main model stands as fitted.")
        return out

    def aft_sentences(self) -> list[str]:
        agree, both = self.channel_agreement()
        if self.aft_ is None or not both:
            return []
        return [f"For {agree} of {both} channels the Weibull time ratio points the same way as the Cox hazard ratio "
                "(faster buying = time ratio below 1 = hazard ratio above 1)."]

    def rmst_sentences(self) -> list[str]:
        horizon, mean = self.params.rmst_horizon_days, self.rmst_["estimate"]
        if len(mean) > 1:
            fastest, slowest = self.fastest_channel_, self.slowest_channel_
            return [f"Within the first {horizon:g} days, {label(fastest)} leads shop {mean[fastest]:.0f} days on "
                    f"average and {label(slowest)} leads {mean[slowest]:.0f} days."]
        return [f"Within the first {horizon:g} days, leads shop {mean.iloc[0]:.0f} days on average."]

    def scenario_sentences(self) -> list[str]:
        s, p = self.scenario_, self.params
        if s is None:
            return []
        return [f"{s.eligible:,} leads had neither bought nor test-driven by day {p.scenario_window_days}. If "
                f"{p.scenario_share:.0%} of them (about {s.extra_test_drives:.0f} leads) took a test drive on day "
                f"{p.scenario_window_days}, the model expects about {s.extra_purchases:.0f} extra purchases by day "
                f"{p.scenario_horizon_days} (95% interval {number_range(s.ci_low, s.ci_high)}): the chance of buying in "
                f"that period rises from {s.p_without:.0%} to {s.p_with:.0%} on average for each such lead."]

    def lead_sentences(self) -> list[str]:
        return [] if self.lead_scores_ is None else [self.lead_takeaway()]

    def backtest_sentences(self) -> list[str]:
        return [] if self.lead_backtest_ is None else [self.backtest_takeaway()]

    def lead_takeaway(self) -> str:
        """What the scores say, in one sentence (requires scores)."""
        scores, calls = self.lead_scores_, self.leads_to_call_
        return (f"{self.open_leads_:,} leads are still shopping; the model expects about {scores.expected_30d:.0f} "
                f"of them to buy within 30 days and {scores.expected_90d:.0f} within 90 days. The call list holds the "
                f"{self.params.leads_to_call_top} most likely per dealer ({len(calls):,} leads).")

    def backtest_takeaway(self) -> str:
        """The backtest's plain sentence, then the totals and the ranking (requires the backtest)."""
        test = self.lead_backtest_
        totals = test.totals()
        text = (f"{test.sentence()} Across all {test.leads:,} leads open then, the model expected "
                f"{totals['expected_90d']:.0f} purchases within 90 days and {totals['observed_90d']} happened "
                f"({totals['expected_30d']:.0f} expected and {totals['observed_30d']} happened within 30 days).")
        if test.auc_90d is not None:
            text += (f" It ranks a lead who bought within 90 days above one who did not {test.auc_90d:.0%} of the "
                     "time (AUC).")
        return text

    # ------------------------------------------------------------------ the numbers shown, in metrics

    def record_shown(self, out) -> None:
        """Into `out` (the result's `metrics()`): every number these sentences and tables show beyond the
        section's earlier keys (issue 23): counts, tests and tables."""
        out.record("leads", self.leads_)
        out.record("bought", self.bought_)
        out.record("test_drives", self.test_drives_)
        out.record("follow_up_median_days", self.follow_up_median_days_)
        out.record("logrank", {feature: {"statistic": row["statistic"], "df": row["df"], "p": row["p"]}
                               for feature, row in self.logrank_.iterrows()})
        if self.model_ is not None:
            out.record("dealer_hazard_ratios", {
                name: {"estimate": row["hazard_ratio"], "ci_low": row["ci_low"], "ci_high": row["ci_high"],
                       "p": row["p"]}
                for name, row in self.model_.hazard_ratios.iterrows() if name.startswith("dealer:")})
        if self.ph_test_ is not None:
            out.record("proportional_hazards", {
                "rows_used": self.ph_test_.attrs.get("rows_used"), "violated": list(self.ph_violated_),
                "tests": {name: {"statistic": row["test_statistic"], "p": row["p"]}
                          for name, row in self.ph_test_.iterrows()}})
        if self.by_period_ is not None:
            out.record("test_drive_by_period", {str(name): {"estimate": row["hazard_ratio"], "ci_low": row["ci_low"],
                                                            "ci_high": row["ci_high"]}
                                                for name, row in self.by_period_.iterrows()})
        if self.stratified_ is not None:
            out.record_effect("stratified_test_drive_hazard_ratio", self.stratified_["hazard_ratio"],
                              self.stratified_["ci_low"], self.stratified_["ci_high"])
            out.record("strata", list(self.strata_))
        if self.time_ratios_ is not None:
            out.record("time_ratios", {name: {"estimate": row["time_ratio"], "ci_low": row["ci_low"],
                                              "ci_high": row["ci_high"], "p": row["p"]}
                                       for name, row in self.time_ratios_.iterrows()})
            agree, both = self.channel_agreement()
            out.record("channel_agreement", {"agree": agree, "channels": both})
        out.record("median_days", {channel: {MEDIAN_KEYS.get(k, k): v for k, v in row.items()}
                                   for channel, row in self.medians_.iterrows()})
        if self.scenario_ is not None:
            s = self.scenario_
            out.record("scenario_detail", {"extra_test_drives": s.extra_test_drives, "p_without": s.p_without,
                                           "p_with": s.p_with})

    # ------------------------------------------------------------------ titles and alt text that depend on the data

    def channel_panel_title(self) -> str:
        reference = self.levels_.reference_channel
        first = f"{label(reference)} and the five largest others" if reference else "the six largest"
        return f"Share bought by acquisition channel ({first})"

    def backtest_title(self) -> str:
        as_of = self.lead_backtest_.as_of
        return f"Backtest: leads open on {as_of.day} {as_of:%B %Y}, predicted and actual purchases within 90 days"

    # ------------------------------------------------------------------ reviewer tables (text, no index column)

    def probability_table(self) -> pd.DataFrame:
        table = self.purchase_probability_
        return pd.DataFrame({"By day": [str(days) for days in table.index],
                             "Share bought": table["estimate"].map(percent).to_numpy(),
                             **_interval(table, percent)})

    def hazard_ratio_table(self) -> pd.DataFrame | None:
        return _ratio_table(self.hazard_ratios_, "hazard_ratio", "Hazard ratio")

    def codings_table(self) -> pd.DataFrame | None:
        codings = self.codings_
        if codings is None:
            return None
        return pd.DataFrame({"Coding": ["Naive: 'ever test-drove' from the first touch",
                                        "Correct: test-driven from the test drive on"],
                             "Hazard ratio": codings["hazard ratio"].map(_ratio).to_numpy(),
                             **_interval(codings.rename(columns={"95% low": "ci_low", "95% high": "ci_high"}),
                                         _ratio)})

    def ph_table(self) -> pd.DataFrame | None:
        if self.ph_test_ is None:
            return None
        return pd.DataFrame({"Factor": [label(term) for term in self.ph_test_.index],
                             "Test statistic": self.ph_test_["test_statistic"].map(lambda v: number(v, 2)).to_numpy(),
                             "p-value": self.ph_test_["p"].map(p_value).to_numpy()})

    def ph_title(self) -> str:
        return f"Proportional-hazards test ({self.ph_test_.attrs['rows_used']:,} rows)"

    def ph_residuals(self) -> tuple:
        """(residuals, term, the model's coefficient) of the term drawn: the test drive where the model has it."""
        term = TEST_DRIVE if TEST_DRIVE in self.ph_test_.index else self.ph_test_.index[0]
        return self.ph_test_.attrs["residuals"], term, self.model_.fitter.params_[term]

    def references(self) -> tuple:
        """(reference channel, reference dealer) of the Cox model, as its forest plot names them."""
        return self.model_.design.reference_channel, self.model_.design.reference_dealer

    def by_period_table(self) -> pd.DataFrame | None:
        table = self.by_period_
        if table is None:
            return None
        return pd.DataFrame({"Period of the journey": [period_words(name) for name in table.index],
                             "Hazard ratio": table["hazard_ratio"].map(_ratio).to_numpy(), **_interval(table, _ratio)})

    def time_ratio_table(self) -> pd.DataFrame | None:
        return _ratio_table(self.time_ratios_, "time_ratio", "Time ratio")

    def median_table(self) -> pd.DataFrame:
        """Median days to purchase per channel; a median not reached reads 'not reached', never NaN."""
        medians = self.medians_
        out = pd.DataFrame({"Channel": [label(c) for c in medians.index],
                            "Leads": medians["leads"].map(number).to_numpy()})
        for column in medians.columns.drop("leads"):
            out[MEDIAN_HEADERS.get(column, column)] = medians[column].map(lambda v: number(v, 0, missing=NOT_REACHED)).to_numpy()
        return out

    def call_table(self, rows: int = 15) -> pd.DataFrame | None:
        """The top of the call list: the `rows` open leads most likely to buy within 30 days."""
        calls = self.leads_to_call_
        if calls is None:
            return None
        top = calls.sort_values("p_purchase_30d", ascending=False).head(rows)
        return pd.DataFrame({
            "Lead": top["customer_id"].to_numpy(), "Dealer": top["dealer_id"].map(label).to_numpy(),
            "Chance of buying within 30 days": top["p_purchase_30d"].map(lambda v: percent(v, 0)).to_numpy(),
            "Within 90 days": top["p_purchase_90d"].map(lambda v: percent(v, 0)).to_numpy(),
            "Last touch": top["last_touch_at"].dt.strftime("%d %b %Y").fillna("none").to_numpy(),
            "Why": top["reason_1"].fillna(MISSING).to_numpy(), "And": top["reason_2"].fillna(MISSING).to_numpy()})


def period_words(term: str) -> str:
    """A period term of the remedy as words: `test_drive[30-90]` -> 'days 30 to 90', `test_drive[90+]` -> 'day 90 on'."""
    period = str(term).rsplit("[", 1)[-1].rstrip("]")
    if period.endswith("+"):
        return f"day {period[:-1]} on"
    low, _, high = period.partition("-")
    return f"days {low} to {high}" if high else period


def _ratio(value) -> str:
    return number(value, 2)


def _interval(table: pd.DataFrame, fmt) -> dict:
    return {"95% interval, low": table["ci_low"].map(fmt).to_numpy(),
            "95% interval, high": table["ci_high"].map(fmt).to_numpy()}


def _ratio_table(ratios: pd.DataFrame | None, column: str, header: str) -> pd.DataFrame | None:
    if ratios is None:
        return None
    return pd.DataFrame({"Factor": [label(term) for term in ratios.index], header: ratios[column].map(_ratio).to_numpy(),
                         **_interval(ratios, _ratio), "p-value": ratios["p"].map(p_value).to_numpy()})


NOT_REACHED = "not reached"
NO_DEALER_WORDS = "no dealer recorded"
MEDIAN_KEYS = {"KM median days": "km_median", "95% low": "km_ci_low", "95% high": "km_ci_high",
                "Weibull median days (reference dealer)": "weibull_median"}
MEDIAN_HEADERS = {"KM median days": "Median days (Kaplan-Meier)", "95% low": "95% interval, low",
                  "95% high": "95% interval, high", "Weibull median days (reference dealer)":
                  "Median days (Weibull, reference dealer)"}

SECTIONS = {
    "censoring": "censoring_sentences", "logrank:acquisition_channel": "channel_logrank_sentences",
    "logrank:dealer_id": "dealer_logrank_sentences", "probability": "probability_sentences",
    "model": "model_sentences", "naive": "naive_sentences", "ph": "ph_sentences", "remedy": "remedy_sentences",
    "aft": "aft_sentences", "rmst": "rmst_sentences", "scenario": "scenario_sentences", "leads": "lead_sentences",
    "backtest": "backtest_sentences",
}
