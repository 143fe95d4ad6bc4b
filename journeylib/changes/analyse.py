"""Notebook 06 headless: `analyse(tables, Params()) -> Result`, the topic functions in notebook order.

`what_changed(inputs, as_of, **params)` is the same analysis on tables already loaded (the tests'
simulated leads).
"""

from __future__ import annotations

import pandas as pd

from journeylib.changes import cohorts, nesting, sentences
from journeylib.changes.compare import ALL, YEAR_LAG, baseline_window, compare_measure, comparison_table
from journeylib.changes.detectable import detectable
from journeylib.changes.inputs import Inputs, load_inputs
from journeylib.changes.params import Params
from journeylib.changes.result import Result
from journeylib.changes.screen import adjust, screen


def analyse(tables, params: Params | None = None) -> Result:
    """Notebook 06: the processed tables' latest complete period against its baseline."""
    return what_changed(load_inputs(tables), tables.as_of, Params() if params is None else params)


def what_changed(inputs, as_of, params: Params | None = None, **values) -> Result:
    """Every comparison, the flags (beyond chance, above the thresholds, not seasonal), the changes that
    explain others, the sentences and what could not be compared.

    `inputs`: an `Inputs` or a dict of its fields; `params`, or the parameters by name (`period="week"`).
    """
    params = Params(**values) if params is None else params  # refuses bad values
    data = inputs if isinstance(inputs, Inputs) else Inputs(**inputs)
    # who is compared: the units of each kind, by the period they started in
    populations, reasons = cohorts.populations(data.journeys, data.service_visits, data.referrals, data.surveys,
                                               as_of, params.period, params.horizon_days, params.window_days,
                                               data.funnel_steps)
    channels = sorted(populations["new_leads"].frame["acquisition_channel"].unique()) \
        if "new_leads" in populations else []
    measures = {m.key: m for m in cohorts.measures(params.horizon_days, params.window_days, channels,
                                                   data.funnel_steps)}
    # every comparison, beyond chance (Benjamini-Hochberg), big enough and not seasonal
    rows, missing, notes, pooled = _compare(populations, reasons, measures, params)
    table = screen(adjust(comparison_table(rows), params.q), params.thresholds)
    # what changed: each change once, those it explains beneath it, with their sentences
    flagged = _flagged(table, populations, measures, params)
    return Result(params=params, as_of=pd.Timestamp(as_of), populations_=populations, measures_=measures,
                  comparisons_=table, flagged_=flagged,
                  detectable_=detectable(table, populations, measures, params.q, params.baseline_periods),
                  levels_pooled_=pooled, missing_=missing, notes_=notes)


def _compare(populations: dict, reasons: dict, measures: dict, params: Params) -> tuple[list, dict, list, dict]:
    """(comparison rows, measure -> why not compared, notes, "<population>:<feature>" -> levels pooled)."""
    period, wanted = params.period, params.baseline_periods
    year_lag = YEAR_LAG[period] if params.year_over_year else None
    rows, notes, missing, pooled = [], list(dict.fromkeys(reasons.values())), {}, {}
    skipped_by_pop: dict = {}
    for measure in measures.values():
        pop = populations.get(measure.population)
        if pop is None:
            missing[measure.key] = reasons[measure.population]
            continue
        window = baseline_window(pop, wanted)
        label = measure.label[0].upper() + measure.label[1:]
        if not window:
            missing[measure.key] = (f"{label}: no complete {period} before {pop.latest} to compare with "
                                    f"(the {pop.unit} start in {pop.first}).")
            continue
        if len(window) < wanted:
            notes.append(f"The baseline for {pop.unit} has only {len(window)} of the {wanted} "
                         f"{period}s asked for ({window[0]} to {window[-1]}): the data starts in {pop.first}.")
        found, skipped = compare_measure(pop, measure, wanted, params.min_latest, params.min_baseline, year_lag)
        if skipped["overall_small"]:
            n1, n0 = skipped["overall_small"][0]
            missing[measure.key] = (f"{label}: too little data to compare ({n1} {pop.unit} in {pop.latest}, "
                                    f"{n0} in the baseline; at least {params.min_latest} and {params.min_baseline} "
                                    "needed).")
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
        notes += sentences.skipped_sentences(skipped, pop, params.min_latest, params.min_baseline,
                                             baseline_window(pop, wanted))
        for group_by in {g for kind in ("pooled", "left_out") for g, _ in skipped[kind]}:
            pooled[f"{name}:{group_by}"] = sorted({lvl for kind in ("pooled", "left_out")
                                                   for g, lvl in skipped[kind] if g == group_by})
    notes += [reason for reason in missing.values() if reason not in notes]
    return rows, missing, notes, pooled


def _flagged(table: pd.DataFrame, populations: dict, measures: dict, params: Params) -> pd.DataFrame:
    """The flagged comparisons largest first, nested and related (`nesting`), each with its size and sentence."""
    p_cut = float(table.loc[table["significant"], "p"].max()) if table["significant"].any() else 0.0
    flagged = table[table["flagged"]].copy()
    flagged["size"] = [sentences.size(r) for r in flagged.to_dict("records")]
    flagged = flagged.sort_values(["size", "p"], ascending=[False, True], ignore_index=True)
    flagged = nesting.nest(flagged, populations, measures, params.baseline_periods, p_cut, params.thresholds)
    flagged = nesting.relate(flagged)
    flagged["sentence"] = sentences.flagged_sentences(flagged, len(table), params.q)
    return flagged
