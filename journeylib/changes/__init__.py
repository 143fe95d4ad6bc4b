"""What changed, and is it real (notebook 06; definitions: docs/what_changed.md).

    result = analyse(ProcessedTables(processed_dir), Params(period="week"))
    result.flagged_      # the flagged comparisons, largest first, with their sentence
    result.metrics()     # the `changes` section of metrics.json (docs/metrics.md)

The latest complete period of each measure is compared with the pooled baseline
periods before it (and with the same period a year earlier), overall, per dealer and per acquisition
channel; every comparison has an effect with a 95% interval and a p-value, and the family is
controlled for false discoveries (Benjamini-Hochberg at q). A comparison is flagged when it is beyond
chance, at least a practical threshold and not seasonal (`screen`); a group's change that explains
others is reported once with them beneath it (`nesting`). Modules:
`cohorts` (units, periods, measures), `compare` (groups, sparse levels),
`effects` (the tests), `screen`, `nesting`, `sentences`, `result` (WhatChanged, its tables and metrics);
the figure is journeylib.figures.changes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd

from journeylib.errors import ParameterError
from journeylib.analysis import Params as BaseParams
from journeylib.analysis import flag, positive_int, share
from journeylib.changes import cohorts, effects, nesting, sentences
from journeylib.changes.cohorts import Measure, Population, check_period
from journeylib.changes.compare import ALL, YEAR_AGO_COLUMNS, YEAR_LAG, baseline_window, compare_measure
from journeylib.changes.screen import Thresholds, screen
from journeylib.changes.sentences import level_label
from journeylib.changes.result import COMPARISON_COLUMNS, NOTEBOOK, SECTION, WhatChanged
from journeylib.errors import NotEstimable



@dataclass(frozen=True)
class Params(BaseParams):
    """The notebook's parameters, refused with a message naming the parameter."""

    period: str = "month"  # "month" or "week" (Monday to Sunday, UTC)
    baseline_periods: int = 6  # complete periods before the latest one that form the baseline
    q: float = 0.1  # false-discovery rate controlled over all comparisons (Benjamini-Hochberg)
    horizon_days: int = 90  # leads and test drives: stages, test drive and purchase counted within this many days
    window_days: int = 180  # buyers: a service visit or a referral within this many days of the purchase
    min_latest: int = 10  # a group with fewer units than this in the latest period is pooled or left out
    min_baseline: int = 30  # ... and so is one with fewer than this in the baseline
    min_share_points: float = 3.0  # a share or rate is flagged only when it moved at least this many points
    min_volume_change: float = 0.10  # ... a volume only when it moved at least this much (0.10 = 10%)
    min_nps_points: float = 5.0  # ... an NPS only when it moved at least this many points
    year_over_year: bool = True  # shares and volumes must also differ from the same period a year earlier

    def check(self) -> None:
        check_period(self.period)
        for name in ("baseline_periods", "horizon_days", "window_days", "min_latest", "min_baseline"):
            positive_int(name, getattr(self, name), expected="a whole number >= 1")
        share("q", self.q, expected="a false-discovery rate between 0 and 1")
        for name, top in (("min_share_points", 100), ("min_volume_change", 10), ("min_nps_points", 200)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= top:
                raise ParameterError(name, value, f"a number from 0 to {top}")
        flag("year_over_year", self.year_over_year)

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(float(self.min_share_points), float(self.min_volume_change), float(self.min_nps_points))


def load_inputs(tables) -> dict:
    """The processed tables notebook 06 reads; surveys deduplicated and placed at a dealer as notebook 04 does."""
    from journeylib.derived.surveys import attach_dealer, dedupe_surveys

    journeys = tables.load("journeys")
    sales = tables.load("sales", columns=["customer_id", "sold_at", "dealer_id"])
    visits = tables.load("service_visits", columns=["customer_id", "opened_at", "dealer_id"])
    referrals = tables.load("referrals", columns=["referrer_customer_id", "referred_at"])
    surveys, _ = dedupe_surveys(tables.load("surveys"))
    surveys = attach_dealer(surveys, sales, visits, journeys)
    return {"journeys": journeys, "service_visits": visits, "referrals": referrals, "surveys": surveys,
            "funnel_steps": _funnel_steps(tables)}


def _funnel_steps(tables) -> dict:
    """{funnel: (steps, each customer's step times)} for the funnels notebook 01 draws (configured, else the
    dealer funnel); only the event rows a step names are read."""
    from journeylib.derived import funnel_steps
    from journeylib.taxonomy import matches_any

    defined = funnel_steps.configured(tables)
    patterns = funnel_steps.event_types(defined)
    kinds = tables.load("touchpoints", columns=["event_type"], categories=["event_type"])["event_type"].dropna().astype(str).unique()
    named = [kind for kind in kinds if matches_any(kind, patterns)]
    events = tables.load("touchpoints", columns=["customer_id", "occurred_at", "event_type"],
                         filters=[("event_type", "in", named or ["\x00"])])
    return {name: (steps, funnel_steps.step_times(events, steps, tables.as_of)) for name, steps in defined.items()}


def _populations(inputs: dict, as_of, period: str, horizon_days: int, window_days: int):
    journeys = inputs["journeys"]
    builders = {
        "leads": lambda: cohorts.leads(journeys, as_of, period, horizon_days, inputs.get("funnel_steps")),
        "new_leads": lambda: cohorts.new_leads(journeys, as_of, period),
        "test_drives": lambda: cohorts.test_drives(journeys, as_of, period, horizon_days),
        "buyers": lambda: cohorts.buyers(journeys, inputs["service_visits"], inputs["referrals"], as_of, period,
                                         window_days),
        "sales_surveys": lambda: cohorts.responses(inputs["surveys"], "sales", journeys, as_of, period),
        "service_surveys": lambda: cohorts.responses(inputs["surveys"], "service", journeys, as_of, period),
    }
    found, reasons = {}, {}
    for name, build in builders.items():
        try:
            found[name] = build()
        except NotEstimable as error:
            reasons[name] = error.reason
    return found, reasons


PLURAL = {"dealer_id": ("dealer", "dealers"), "acquisition_channel": ("channel", "channels")}


def _names(group_by: str, levels) -> str:
    """'channels Chat, Email and Walk-in', 'dealer D07'; a missing value last, as 'not recorded'."""
    names = sorted((level_label(group_by, v) for v in levels), key=lambda n: (n == "not recorded", n))
    one, many = PLURAL.get(group_by, (group_by, group_by))
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"{one if len(names) == 1 else many} {listed}"


def _skipped_sentences(skipped: dict, pop: Population, min_latest: int, min_baseline: int, window: list) -> list:
    """One sentence per kind of unit: the small groups compared together, and the groups not compared."""
    features = sorted({g for kind in skipped.values() for g, _ in kind})
    parts, missing = [], []
    for group_by in features:
        small = {lvl for kind in ("pooled", "left_out") for g, lvl in skipped[kind] if g == group_by}
        if small:
            parts.append(_names(group_by, small))
        latest_only = {lvl for g, lvl in skipped["only_latest"] if g == group_by}
        if latest_only:
            missing.append(f"{_names(group_by, latest_only)} (none in the baseline)")
        baseline_only = {lvl for g, lvl in skipped["only_baseline"] if g == group_by}
        if baseline_only:
            missing.append(f"{_names(group_by, baseline_only)} (none in {pop.latest})")
    unit = pop.unit[0].upper() + pop.unit[1:]
    text = []
    if parts:
        text.append(f"fewer than {min_latest} in {pop.latest} or {min_baseline} in the baseline for at least one "
                    f"measure, so compared together as 'other' (left out when even that is too small): "
                    f"{'; '.join(parts)}")
    if missing:
        text.append(f"not compared: {'; '.join(missing)}")
    if not text:
        return []
    return [f"{unit} ({pop.latest} against {window[0]} to {window[-1]}): {'. Also '.join(text)}."]


def what_changed(inputs: dict, as_of, period: str = "month", baseline_periods: int = 6, q: float = 0.1,
                 horizon_days: int = 90, window_days: int = 180, min_latest: int = 10,
                 min_baseline: int = 30, min_share_points: float = 3.0, min_volume_change: float = 0.10,
                 min_nps_points: float = 5.0, year_over_year: bool = True) -> WhatChanged:
    """Every comparison, the flags (beyond chance, above the thresholds, not seasonal), the changes that
    explain others, the sentences and what could not be compared."""
    params = Params(period, baseline_periods, q, horizon_days, window_days, min_latest, min_baseline,
                    min_share_points, min_volume_change, min_nps_points, year_over_year)  # refuses bad values
    thresholds = params.thresholds
    year_lag = YEAR_LAG[period] if year_over_year else None
    populations, reasons = _populations(inputs, as_of, period, horizon_days, window_days)
    channels = sorted(populations["new_leads"].frame["acquisition_channel"].unique()) \
        if "new_leads" in populations else []
    measure_list = cohorts.measures(horizon_days, window_days, channels, inputs.get("funnel_steps"))
    measures = {m.key: m for m in measure_list}
    rows, notes, missing, pooled = [], list(dict.fromkeys(reasons.values())), {}, {}
    skipped_by_pop: dict = {}
    for measure in measure_list:
        pop = populations.get(measure.population)
        if pop is None:
            missing[measure.key] = reasons[measure.population]
            continue
        window = baseline_window(pop, baseline_periods)
        label = measure.label[0].upper() + measure.label[1:]
        if not window:
            missing[measure.key] = (f"{label}: no complete {period} before {pop.latest} to compare with "
                                    f"(the {pop.unit} start in {pop.first}).")
            continue
        if len(window) < baseline_periods:
            notes.append(f"The baseline for {pop.unit} has only {len(window)} of the {baseline_periods} "
                         f"{period}s asked for ({window[0]} to {window[-1]}): the data starts in {pop.first}.")
        found, skipped = compare_measure(pop, measure, baseline_periods, min_latest, min_baseline, year_lag)
        if skipped["overall_small"]:
            n1, n0 = skipped["overall_small"][0]
            missing[measure.key] = (f"{label}: too little data to compare ({n1} {pop.unit} in {pop.latest}, "
                                    f"{n0} in the baseline; at least {min_latest} and {min_baseline} needed).")
        elif not any(r["group_by"] == ALL for r in found):
            missing[measure.key] = (f"{label}: no {pop.unit} in {pop.latest}, the latest complete {period} "
                                    "for it; nothing to compare.")
        rows += found
        merged = skipped_by_pop.setdefault(pop.name, {k: set() for k in skipped if k != "overall_small"})
        for kind, values in skipped.items():
            if kind != "overall_small":
                merged[kind] |= set(values)
    for name, skipped in skipped_by_pop.items():
        pop = populations[name]
        window = baseline_window(pop, baseline_periods)
        notes += _skipped_sentences(skipped, pop, min_latest, min_baseline, window)
        for group_by in {g for kind in ("pooled", "left_out") for g, _ in skipped[kind]}:
            pooled[f"{name}:{group_by}"] = sorted({lvl for kind in ("pooled", "left_out")
                                                   for g, lvl in skipped[kind] if g == group_by})
    notes += [reason for reason in missing.values() if reason not in notes]
    table = pd.DataFrame(rows)
    if table.empty:
        table = pd.DataFrame(columns=list(COMPARISON_COLUMNS))
    # an empty table (or one whose estimates are all None) must still have numeric columns
    for column in YEAR_AGO_COLUMNS:
        if column not in table:
            table[column] = None
    numeric = ["estimate", "ci_low", "ci_high", "p", "before", "after", "year_ago_before", "year_ago_estimate",
               "year_ago_p", "n_year_ago"]
    table[numeric] = table[numeric].apply(pd.to_numeric, errors="coerce").astype("float64")
    significant, adjusted = effects.benjamini_hochberg(table["p"], q)
    table["q_value"], table["significant"] = adjusted, significant.astype(bool)
    table = screen(table, thresholds)
    p_cut = float(table.loc[table["significant"], "p"].max()) if table["significant"].any() else 0.0
    flagged = table[table["flagged"]].copy()
    flagged["size"] = [sentences.size(r) for r in flagged.to_dict("records")]
    flagged = flagged.sort_values(["size", "p"], ascending=[False, True], ignore_index=True)
    flagged = nesting.nest(flagged, populations, measures, baseline_periods, p_cut, thresholds)
    by_key = {f"{r['group_by']}={r['group']}|{r['measure']}": r for r in flagged.to_dict("records")}
    flagged["sentence"] = [
        sentences.change_sentence(r, len(flagged), len(table), q) if r["explained_by"] is None else
        sentences.explained_sentence(r, by_key[f"{r['explained_by']}|{r['measure']}"])
        for r in flagged.to_dict("records")]
    result = WhatChanged(table, flagged, populations, measures, notes, missing, {}, pooled, q,
                         {"period": period, "baseline_periods": baseline_periods, "horizon_days": horizon_days,
                          "window_days": window_days, "min_latest": min_latest, "min_baseline": min_baseline,
                          "min_share_points": float(min_share_points), "min_volume_change": float(min_volume_change),
                          "min_nps_points": float(min_nps_points), "year_over_year": year_over_year},
                         pd.Timestamp(as_of), thresholds)
    result.detectable = _detectable(result)
    return result


def _detectable(result: WhatChanged) -> dict:
    """Per main measure, the smallest change its overall comparison could have detected (80% power).

    The level is q / comparisons: what a lone real change must reach to pass Benjamini-Hochberg.
    """
    alpha = result.q / max(len(result.comparisons_), 1)
    out = {}
    overall = result.comparisons_[result.comparisons_["group_by"] == ALL]
    for key, measure in result.measures.items():
        if not measure.main:
            continue
        match = overall[overall["measure"] == key]
        value = float("nan")
        if not match.empty:
            row = match.iloc[0]
            if measure.kind == "share":
                value = effects.detectable_share(row["before"], row["n_after"], row["n_before"], alpha)
            elif measure.kind == "nps":
                pop = result.populations[measure.population]
                base = pop.frame[pop.frame["period"].isin(baseline_window(pop, result.settings["baseline_periods"]))]
                pro, det, n0 = cohorts.nps_counts(base["score"])
                value = effects.detectable_nps(pro, det, n0, int(row["n_after"]), alpha)
            else:
                pop = result.populations[measure.population]
                window = baseline_window(pop, result.settings["baseline_periods"])
                value = effects.detectable_rate(int(row["n_before"]), cohorts.period_days(window),
                                                cohorts.period_days([pop.latest]), alpha)
        out[key] = {"label": measure.label, "kind": measure.kind, "value": value,
                    "sentence": sentences.detectable_sentence(measure.label[0].upper() + measure.label[1:], measure.kind, value)}
    return out


def analyse(tables, params: Params = Params()) -> WhatChanged:
    """Notebook 06 headless: the processed tables' latest complete period against its baseline."""
    return what_changed(load_inputs(tables), tables.as_of, **dataclasses.asdict(params))


__all__ = ["NOTEBOOK", "SECTION", "Measure", "Params", "Population", "WhatChanged", "analyse", "load_inputs",
           "what_changed", "effects", "cohorts", "sentences"]
