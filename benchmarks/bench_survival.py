"""Fit times of the time-to-purchase models at scale.

    python benchmarks/bench_survival.py                      # simulated journeys: 100k and 1M customers
    python benchmarks/bench_survival.py --customers 20000    # one size
    python benchmarks/bench_survival.py --processed benchmarks/work/big/processed   # a prepared folder

Reports, per size: rows in the start/stop table, seconds to build it, to fit the time-varying Cox
model (Efron ties with whole-array risk sets, journeylib.time_to_purchase.cox.fit_time_varying_cox),
the same fit with lifelines' CoxTimeVaryingFitter for comparison (with --compare-lifelines; it
scans every row at every event time, so it is slow at scale), the naive baseline Cox fit (CoxPHFitter, batch mode), the proportional-hazards check on
`--max-rows` rows, and the time-varying concordance on the same subsample.

    python benchmarks/bench_survival.py --analyse /tmp/proc100k --before 582c1dd

times notebook 02's whole computation on a prepared folder, side by side in one run: `before`, the
notebook's cells of revision REV on that revision's journeylib/survival.py (figures left out), and
`after`, `journeylib.time_to_purchase.analyse`; per step, with the headline numbers of both.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import subprocess
import tempfile
import time
import warnings

import sys
from pathlib import Path

from journeylib.time_to_purchase import checks, coding, cox, leads, risksets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.survival_simulation import simulate_journeys  # noqa: E402  (the tests' simulator with known truth)


def _timed(function, *args, **kwargs):
    started = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - started


def _lifelines_fit(long, covariates):
    from lifelines import CoxTimeVaryingFitter

    columns = [leads.ID, leads.START, leads.STOP, leads.EVENT, *covariates]
    return CoxTimeVaryingFitter().fit(long[columns], id_col=leads.ID, event_col=leads.EVENT, start_col=leads.START,
                                      stop_col=leads.STOP)


def bench(customers, max_rows: int, compare_lifelines: bool = False) -> dict:
    design, prep_s = _timed(coding.dummy_code, customers)
    long, long_s = _timed(leads.long_format, design.frame, design.covariates)
    covariates = ["test_drive", *design.covariates]
    fitter, cox_s = _timed(cox.fit_time_varying_cox, long, covariates)
    _, naive_s = _timed(cox.naive_model, customers, design)
    _, ph_s = _timed(checks.schoenfeld_test, long, covariates, max_rows=max_rows)
    concordance, c_s = _timed(risksets.time_varying_concordance, long, fitter.params_, max_rows=max_rows)
    hr = cox.hazard_ratios(fitter).loc["test_drive"]
    extra = {}
    if compare_lifelines:
        theirs, lifelines_s = _timed(_lifelines_fit, long, covariates)
        extra = {"lifelines_tv_s": lifelines_s, "lifelines_over_ours": round(lifelines_s / cox_s, 1),
                 "max_coef_difference": float(abs(theirs.params_ - fitter.params_).max())}
    return {"customers": len(customers), "rows": len(long), "event_days": int(long.loc[long.event, "stop"].nunique()),
            "prepare_s": prep_s + long_s, "cox_tv_s": cox_s, "naive_cox_s": naive_s, "ph_check_s": ph_s,
            "concordance_s": c_s, "test_drive_hr": f"{hr.hazard_ratio:.3f} ({hr.ci_low:.3f}-{hr.ci_high:.3f})",
            "concordance": round(concordance, 3), **extra}


STEPS = {  # step -> the functions of journeylib.time_to_purchase.analyse (the module) it covers
    "lead table": ["customer_table", "choose_levels"], "curves": ["kaplan_meier", "curves_by_level"],
    "log-rank": ["logrank"], "cox model": ["_model"], "naive": ["_naive"], "ph check": ["_ph_check", "_remedies"],
    "weibull": ["_aft"], "medians + means": ["_medians", "restricted_mean"], "scenario": ["_scenario"],
}


def _old_module(revision: str):
    """journeylib/survival.py as it was at `revision`, imported under another name."""
    source = subprocess.run(["git", "show", f"{revision}:journeylib/survival.py"], check=True, capture_output=True,
                            text=True, cwd=Path(__file__).resolve().parents[1]).stdout
    path = Path(tempfile.mkdtemp(prefix="bench_survival_")) / "old_survival.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_survival", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_survival"] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def before(sv, processed) -> tuple[dict, dict]:
    """Notebook 02's cells before issue 13, without drawing: the same fits in the same order."""
    from journeylib import tables

    seconds: dict = {}

    @contextlib.contextmanager
    def step(name):
        started = time.perf_counter()
        yield
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - started

    with step("lead table"):
        customers = sv.customer_table(tables.load("journeys", processed))
        levels = sv.choose_levels(customers)
    pooled, reference = levels.customers, levels.reference_channel
    with step("curves"):
        overall = sv.kaplan_meier(customers, label="all leads")
        sv.km_by_group(pooled, "acquisition_channel", max_groups=6, first=reference)
        sv.km_by_group(pooled, "dealer_id", max_groups=6)
    with step("log-rank"):
        for feature in ("acquisition_channel", "dealer_id"):
            sv.logrank(pooled, feature)
    sv.purchase_probability(overall)
    with step("cox model"), warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        model = sv.purchase_model(levels, concordance_rows=20_000, seed=0)
    terms = [t for t in model.hazard_ratios.index if t != "test_drive"]
    with step("naive"):
        naive = sv.hazard_ratios(sv.naive_model(pooled, model.design, terms)).loc["ever_test_drove"]
    with step("ph check"):
        covariates = list(model.fitter.params_.index)
        ph = sv.schoenfeld_test(model.long, covariates, max_rows=20_000, seed=0,
                                fitter=None if model.penalised else model.fitter)
        violated = list(ph.index[ph["p"] < 0.05])
        if "test_drive" in violated:
            split, names = sv.period_interaction(model.long, [30, 90])
            sv.fit_time_varying_cox(split, [*names, *[c for c in covariates if c != "test_drive"]])
        if [c for c in violated if c != "test_drive"]:
            sv.stratified_refit(model, [c for c in violated if c != "test_drive"])
    with step("weibull"):
        aft = sv.cross_check_aft(model.design, terms)
    with step("medians + means"):
        for channel in levels.channels():
            sv.median_days(sv.kaplan_meier(pooled.loc[pooled["acquisition_channel"] == channel], label=channel))
        sv.aft_median_by_channel(aft.fitter, model.design, aft.covariates)
        for channel in levels.channels():
            km = sv.kaplan_meier(pooled.loc[pooled["acquisition_channel"] == channel], label=channel)
            sv.restricted_mean(km, 180)
    with step("scenario"):
        scenario = sv.test_drive_scenario(model, share=0.10, window_days=14, horizon_days=90, seed=0)
    td = model.hazard_ratios.loc["test_drive"]
    return seconds, {"test_drive_hr": td["hazard_ratio"], "concordance": model.concordance,
                     "naive_hr": naive["hazard_ratio"], "extra_purchases": scenario.extra_purchases,
                     "scenario_ci_high": scenario.ci_high}


def after(processed) -> tuple[dict, dict]:
    """journeylib.time_to_purchase.analyse, with the time of the functions behind each step."""
    from journeylib.tables import ProcessedTables

    module = importlib.import_module("journeylib.time_to_purchase.analyse")  # the module; the package's `analyse` is the function

    seconds: dict = {}
    saved = {}
    for name, functions in STEPS.items():
        for function in functions:
            saved[function] = original = getattr(module, function)

            def timed(*args, _original=original, _name=name, **kwargs):
                started = time.perf_counter()
                try:
                    return _original(*args, **kwargs)
                finally:
                    seconds[_name] = seconds.get(_name, 0.0) + time.perf_counter() - started
            setattr(module, function, timed)
    try:
        result = module.analyse(ProcessedTables(processed))
    finally:
        for function, original in saved.items():
            setattr(module, function, original)
    metrics = result.metrics()
    return seconds, {"test_drive_hr": metrics["hazard_ratios"]["test_drive"]["estimate"],
                     "concordance": metrics["concordance"],
                     "naive_hr": metrics["naive_test_drive_hazard_ratio"]["estimate"],
                     "extra_purchases": metrics["scenario"]["extra_purchases"]["estimate"],
                     "scenario_ci_high": metrics["scenario"]["extra_purchases"]["ci_high"]}


def side_by_side(processed, revision: str) -> None:
    old = _old_module(revision)
    started = time.perf_counter()
    old_steps, old_numbers = before(old, processed)
    old_total = time.perf_counter() - started
    started = time.perf_counter()
    new_steps, new_numbers = after(processed)
    new_total = time.perf_counter() - started
    print(f"{'step':18s} {'before (' + revision + ')':>18s} {'after':>10s}")
    for name in STEPS:
        print(f"{name:18s} {old_steps.get(name, 0.0):16.1f} s {new_steps.get(name, 0.0):8.1f} s")
    print(f"{'total':18s} {old_total:16.1f} s {new_total:8.1f} s")
    print("(before: 'lead table' includes reading the journeys table; after reads it outside the steps)")
    for key, value in old_numbers.items():
        new = new_numbers[key]
        print(f"{key:18s} {float(value)!r:>20} {float(new)!r:>20}  {'identical' if value == new else 'DIFFERENT'}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--processed", help="a processed folder to time instead of simulated journeys")
    parser.add_argument("--max-rows", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compare-lifelines", action="store_true",
                        help="also fit with lifelines' CoxTimeVaryingFitter (minutes at 100k customers)")
    parser.add_argument("--analyse", metavar="PROCESSED", help="time notebook 02's computation on a prepared folder")
    parser.add_argument("--before", metavar="REV", default="582c1dd",
                        help="with --analyse: the revision whose notebook 02 and survival.py are `before`")
    args = parser.parse_args(argv)
    if args.analyse:
        side_by_side(args.analyse, args.before)
        return 0
    if args.processed:
        from journeylib import tables

        sizes = [("processed", leads.customer_table(tables.load("journeys", args.processed)))]
    else:
        sizes = [(n, None) for n in args.customers]
    for label, customers in sizes:
        if customers is None:
            journeys, sim_s = _timed(simulate_journeys, label, seed=args.seed)
            customers = leads.customer_table(journeys)
            print(f"simulated {label:,} customers in {sim_s:.1f} s", flush=True)
        result = bench(customers, args.max_rows, args.compare_lifelines)
        print("  ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()),
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
