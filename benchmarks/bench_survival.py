"""Fit times of the time-to-purchase models at scale.

    python benchmarks/bench_survival.py                      # simulated journeys: 100k and 1M customers
    python benchmarks/bench_survival.py --customers 20000    # one size
    python benchmarks/bench_survival.py --processed benchmarks/work/big/processed   # a prepared folder

Reports, per size: rows in the start/stop table, seconds to build it, to fit the time-varying Cox
model (statsmodels PHReg with left-truncated entry, journeylib.survival.fit_time_varying_cox),
the same fit with lifelines' CoxTimeVaryingFitter for comparison (with --compare-lifelines; it
scans every row at every event time, so it is slow at scale), the naive baseline Cox fit (CoxPHFitter, batch mode), the proportional-hazards check on
`--max-rows` rows, and the time-varying concordance on the same subsample.
"""

from __future__ import annotations

import argparse
import time

import sys
from pathlib import Path

from journeylib.time_to_purchase import checks, coding, cox, leads, risksets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from survival_simulation import simulate_journeys  # noqa: E402  (the tests' simulator with known truth)


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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--processed", help="a processed folder to time instead of simulated journeys")
    parser.add_argument("--max-rows", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compare-lifelines", action="store_true",
                        help="also fit with lifelines' CoxTimeVaryingFitter (minutes at 100k customers)")
    args = parser.parse_args(argv)
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
