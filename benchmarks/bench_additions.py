"""Time what issues 22, 24 and 25 added to notebooks 01, 02, 03 and 06, inside the analyses as the notebooks call them.

    python benchmarks/bench_additions.py --data /tmp/bench1m --sizes 100000,1000000 [--notebooks]
    python benchmarks/bench_additions.py --one /tmp/bench1m/proc-100000 --raw /tmp/bench1m/raw-100000 --json out.json

The raw exports (`raw-N`, from `journey sample --customers N`) and their processed folders (`proc-N`, from
`journey prepare`) are made once in `--data` and reused. Each size runs in a fresh Python (`--one`), one
after the other, so one size's memory never weighs on the next.

In that process each notebook's `analyse` runs once, as its notebook calls it, with the steps the issues
added wrapped by a clock (the module attribute the analysis looks up is replaced for the run): wall seconds
(`time.perf_counter`) and CPU seconds of the process (`time.process_time`: every thread, DuckDB's too),
side by side, so a busy shared machine shows as wall well above CPU. Wrapped:

- notebook 01 (`journey_map.analyse`): the configured funnels (`funnels.configured`, `funnels.funnel_tables`);
  revenue credit (`revenue.purchase_values`, `revenue.revenue_credits` inside attribution, `revenue.revenue_by`
  for channels and campaigns, `revenue.first_campaigns`); `markov_k.fit` (order choice and credit intervals);
  `compare.buyers_against_others` (buyers against the rest);
- notebook 02 (`time_to_purchase.analyse`): `_lead_scores` whole (reading the event log, history, scores,
  backtest), with `lead_history.history`, the scores at the as-of date and the backtest beneath it; then
  `write_lead_lists` and the calibration figure, as the notebook does after analyse;
- notebook 03 (`retention.analyse`): `analyse_service` whole, with each model's backtest and the to-call list
  beneath it (the scores at the as-of date are the rest); then `write_lists` and the backtest figure;
- notebook 06 (`changes.analyse`): the funnel-step inputs (`inputs.load_funnel_steps`), the screen (`screen`) and the
  nesting (`nesting.nest`); the flag counts against the sample's planted shift (truth.json `recent_shift`).

The backtest figures (lead and service: AUC, expected against observed) come from the results' metrics,
and the scores at the as-of date are checked against the sample's own future (truth.json `future`). On the
default sample the lead scores cannot meet that future as their backtest says (the open leads' journeys are
written up to the as-of date, not to their purchase: docs/time_to_purchase.md, "Lead scores");
`--consistent-future` makes and uses samples whose exports are consistent with it (raw-N-consistent).
`--notebooks` also times the four notebooks under `journey run --only 01,02,03,06 --publish` (papermill, on
the same processed folder: `journey run` reuses it), as benchmarks/bench_run.py does.

Writes benchmarks/results/additions.json and additions.md (with the growth between the two largest sizes).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
NOTEBOOK_GOALS = {"02_time_to_purchase": 15.0, "03_retention_churn": 15.0, "01_journey_map": 20.0}


class Clock:
    """Wall and CPU seconds per label of the functions it wraps (module attributes replaced until `restore`)."""

    def __init__(self):
        self.rows: dict[str, dict] = {}
        self._undo = []

    def add(self, label: str, wall: float, cpu: float) -> None:
        row = self.rows.setdefault(label, {"seconds": 0.0, "cpu_seconds": 0.0, "calls": 0})
        row["seconds"] += wall
        row["cpu_seconds"] += cpu
        row["calls"] += 1

    def wrap(self, module, name: str, label) -> None:
        """Replace `module.name`; `label`: a string, or a function of the call's (args, kwargs) giving one."""
        original = getattr(module, name)

        def timed(*args, **kwargs):
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.add(label(args, kwargs) if callable(label) else label,
                         time.perf_counter() - wall, time.process_time() - cpu)

        setattr(module, name, timed)
        self._undo.append((module, name, original))

    def run(self, label: str, function, *args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            self.add(label, time.perf_counter() - wall, time.process_time() - cpu)

    def restore(self) -> None:
        for module, name, original in reversed(self._undo):
            setattr(module, name, original)
        self._undo.clear()

    def table(self) -> dict:
        return {k: {"seconds": round(v["seconds"], 2), "cpu_seconds": round(v["cpu_seconds"], 2), "calls": v["calls"]}
                for k, v in self.rows.items()}


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _auc(score, outcome) -> float | None:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(outcome, score)) if len(set(outcome)) == 2 else None


def notebook_01(tables, clock: Clock) -> dict:
    from journeylib import journey_map as jm
    from journeylib.journey_map import attribution, compare, funnels, markov_k, revenue

    clock.wrap(funnels, "configured", "01 funnels")
    clock.wrap(funnels, "funnel_tables", "01 funnels")
    clock.wrap(revenue, "purchase_values", "01 revenue credit")
    clock.wrap(revenue, "revenue_credits", "01 revenue credit")
    clock.wrap(revenue, "revenue_by", "01 revenue credit")
    clock.wrap(revenue, "first_campaigns", "01 revenue credit")
    clock.wrap(markov_k, "fit", "01 Markov order k (choice, credit intervals)")
    clock.wrap(compare, "buyers_against_others", "01 buyers against others")
    clock.wrap(compare, "two_groups", "01 two groups compared")
    clock.wrap(attribution, "attribute", "01 (context) attribution, all models, revenue credit inside")
    from journeylib.engine import tables as engine_tables

    # the event log ordered once, kept for the event-type transitions and the comparisons (the window both need)
    clock.wrap(engine_tables, "store", "01 (context) the event log ordered once, for transitions and comparisons")
    result = clock.run("01 analyse, whole", jm.analyse, tables, jm.Params())
    clock.restore()
    metrics = result.metrics()
    higher = result.markov_k_
    return {"markov_order": getattr(higher, "order", None),
            "funnels": None if result.funnels_ is None else _jsonable(result.funnels_.to_dict("records")),
            "buyers_compared_flagged": _flagged(result.buyers_compared_),
            "metrics_keys": len(json.dumps(metrics, default=str))}


def _flagged(compared) -> int | None:
    table = getattr(compared, "table_", None)
    if table is None:
        table = getattr(compared, "differences_", None)
    if table is None or "flagged" not in getattr(table, "columns", []):
        return None
    return int(table["flagged"].sum())


def notebook_02(tables, clock: Clock, run_dir: Path) -> dict:
    from journeylib import time_to_purchase
    from journeylib.figures import leads as lead_figures
    from journeylib.time_to_purchase import lead_history

    ttp = importlib.import_module("journeylib.time_to_purchase.analyse")  # the module (the package exports the function)

    clock.wrap(ttp, "_lead_scores", "02 lead list: all (read events, history, scores, backtest)")
    clock.wrap(lead_history, "history", "02   history at the as-of date")
    clock.wrap(ttp, "score", "02   scores at the as-of date (fits, scoring, reasons)")
    clock.wrap(ttp, "backtest", "02   backtest 90 days earlier (cut, fits, scoring)")
    result = clock.run("02 analyse, whole", time_to_purchase.analyse, tables, time_to_purchase.Params())
    clock.restore()
    clock.run("02 lead list: write the two files", result.write_lead_lists, run_dir)
    if result.lead_backtest_ is not None:
        import matplotlib.pyplot as plt

        figure = clock.run("02 lead list: calibration figure", lambda: lead_figures.calibration(
            result.lead_backtest_.calibration(90), result.backtest_title()))
        plt.close("all")
        del figure
    out = {"lead_scores": _jsonable(result.lead_metrics())}
    out["lead_future"] = _lead_future(result, tables)
    return out


def _lead_future(result, tables) -> dict | None:
    """The scores at the as-of date against the sample's own future (truth.json `future`)."""
    truth = getattr(tables, "_bench_truth", None)
    if not truth or "future" not in truth or result.lead_scores_ is None:
        return None
    future = truth["future"]
    table = result.lead_scores_.table
    out = {"open_leads_scored": len(table), "open_leads_truth": future.get("open_leads")}
    for days in (30, 90):
        bought = table["customer_id"].astype(str).isin(set(future[f"purchases_{days}d"]))
        out[f"auc_{days}d"] = _auc(table[f"p_purchase_{days}d"].to_numpy(), bought.to_numpy())
        out[f"expected_{days}d"] = round(float(table[f"p_purchase_{days}d"].sum()), 1)
        out[f"observed_{days}d"] = int(bought.sum())
        out[f"observed_{days}d_truth"] = len(future[f"purchases_{days}d"])
        # the true hazard's own chance (channel, test drive, lead age): the bar on the default sample
        out[f"hazard_auc_{days}d"] = future.get(f"hazard_auc_{days}d")
        out[f"hazard_expected_{days}d"] = future.get(f"hazard_expected_{days}d")
    out["journeys_to_purchase"] = bool(future.get("journeys_to_purchase"))
    return out


def notebook_03(tables, clock: Clock, run_dir: Path) -> dict:
    import journeylib.retention as retention
    from journeylib.figures import retention as figures
    from journeylib.retention import service

    retention_analyse = importlib.import_module("journeylib.retention.analyse")  # the module (the package exports the function)
    clock.wrap(service, "analyse_service", "03 service list: all (both backtests, scores, list)")
    clock.wrap(service, "backtest", lambda a, k: f"03   backtest a year earlier, {k.get('model', 'mbg_nbd')}")
    clock.wrap(service, "year_before", "03   backtest inputs a year earlier (shared by both models)")
    clock.wrap(service, "to_call", "03   the to-call list")
    clock.wrap(retention_analyse, "_at_risk", "03 at-risk list ranked by the service model")
    result = clock.run("03 analyse, whole", retention.analyse, tables, retention.Params())
    clock.restore()
    clock.run("03 service list: write the lists (at-risk, scores, to-call)", result.write_lists, run_dir)
    import matplotlib.pyplot as plt

    clock.run("03 service list: backtest figure", figures.service_backtest, result)
    plt.close("all")
    svc = result.service
    values, missing = svc.metrics() if svc is not None else ({}, {})
    return {"service_scores": _jsonable(values), "service_missing": missing,
            "service_future": _service_future(svc, tables)}


def _service_future(svc, tables) -> dict | None:
    truth = getattr(tables, "_bench_truth", None)
    if not truth or "future" not in truth or svc is None or svc.scores_ is None:
        return None
    from scipy.stats import spearmanr

    per_buyer = truth["future"]["service_12m"]
    s = svc.scores_
    ids = s["customer_id"].astype(str)
    known = ids.isin(per_buyer.keys()).to_numpy()
    s, ids = s[known], ids[known]
    visits = ids.map(lambda c: per_buyer[c][0]).to_numpy()
    pay = ids.map(lambda c: per_buyer[c][1]).to_numpy()
    return {"buyers_scored": int(len(svc.scores_)), "buyers_matched": int(known.sum()),
            "buyers_truth": truth["future"].get("buyers"),
            "auc_return_12m": _auc(s["p_return_12m"].to_numpy(), visits > 0),
            "expected_visits_12m": round(float(s["expected_visits_12m"].sum()), 1),
            "observed_visits_12m": int(visits.sum()),
            "expected_customer_pay_12m": round(float(s["expected_customer_pay_12m"].sum()), 0),
            "observed_customer_pay_12m": round(float(pay.sum()), 0),
            "spearman_customer_pay": float(spearmanr(s["expected_customer_pay_12m"], pay).statistic)}


def notebook_06(tables, clock: Clock) -> dict:
    import journeylib.changes as changes
    from journeylib.changes import nesting

    changes_analyse = importlib.import_module("journeylib.changes.analyse")
    from journeylib.changes import inputs as changes_inputs

    clock.wrap(changes_inputs, "load_funnel_steps", "06 funnel-step inputs (issue 25's measures)")
    clock.wrap(changes_analyse, "load_inputs", "06 (context) all inputs read")
    clock.wrap(changes_analyse, "screen", "06 screen (thresholds, seasonality)")
    clock.wrap(nesting, "nest", "06 nesting (a group's change explains its sub-groups')")
    result = clock.run("06 analyse, whole", changes.analyse, tables, changes.Params())
    clock.restore()
    table = result.comparisons_
    shift = (getattr(tables, "_bench_truth", None) or {}).get("recent_shift") or {}
    reported = result.reported_
    out = {"comparisons": len(table), "significant": int(table["significant"].sum()),
           "below_threshold": int((table["significant"] & ~table["material"]).sum()),
           "seasonal": int((table["significant"] & table["material"] & table["seasonal"]).sum()),
           "flagged": len(result.flagged_), "reported": len(reported),
           "reported_rows": [{k: _plain(r.get(k)) for k in ("measure", "group_by", "group", "latest_period",
                                                             "estimate", "ci_low", "ci_high", "p")}
                             for r in reported.to_dict("records")],
           "planted": shift}
    if shift.get("planted"):
        hit = reported[(reported["group"].astype(str) == shift["dealer_id"])
                       & (reported["measure"].astype(str).str.contains(shift["measure"]))]
        out["planted_found"] = bool(len(hit))
        out["planted_estimate"] = _plain(hit.iloc[0]["estimate"]) if len(hit) else None
        # the planted shift removed journey events and test drives of that dealer's leads in that month: the
        # same dealer's other measures in the same period move with it (true changes, not false flags)
        same = (reported["group"].astype(str) == shift["dealer_id"]) \
            & (reported["latest_period"].astype(str) == shift["period"])
        out["same_dealer_other_measures"] = int(same.sum()) - len(hit)
        out["unrelated_reported"] = int((~same).sum())
    return out


def _plain(value):
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
    except ImportError:
        pass
    return value if isinstance(value, (int, float, str, type(None))) else str(value)


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


def one(processed: Path, raw: Path | None, only: list[str], partial: Path | None = None) -> dict:
    """Every notebook's analysis on one processed folder, in this process."""
    import matplotlib

    matplotlib.use("Agg")
    warnings.simplefilter("ignore")
    from journeylib.tables import ProcessedTables

    tables = ProcessedTables(processed)
    truth_file = raw / "truth.json" if raw else None
    tables._bench_truth = json.loads(truth_file.read_text()) if truth_file and truth_file.exists() else None
    clock, out = Clock(), {"processed": str(processed), "as_of": str(tables.as_of)}
    customers = len(tables.load("journeys", columns=["customer_id"]))
    out["customers"] = customers
    run_dir = Path(tempfile.mkdtemp(prefix="bench-additions-"))
    try:
        steps = {"01": lambda: notebook_01(tables, clock), "02": lambda: notebook_02(tables, clock, run_dir),
                 "03": lambda: notebook_03(tables, clock, run_dir), "06": lambda: notebook_06(tables, clock)}
        for name in only:
            print(f"{customers:,}: notebook {name}", file=sys.stderr, flush=True)
            out[f"notebook_{name}"] = steps[name]()
            out[f"peak_mb_after_{name}"] = _peak_mb()
            if partial:  # what is measured so far, should a later notebook fail or the run be stopped
                partial.write_text(json.dumps({**out, "steps": clock.table(), "partial": True}, indent=2, default=str))
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    out["steps"] = clock.table()
    out["peak_mb"] = _peak_mb()
    return out


def ensure(data: Path, customers: int, consistent: bool = False) -> tuple[Path, Path]:
    """raw-N and proc-N in `data`, made once (raw-N-consistent, proc-N-consistent: `--consistent-future`)."""
    tail = "-consistent" if consistent else ""
    raw, processed = data / f"raw-{customers}{tail}", data / f"proc-{customers}{tail}"
    cli = [sys.executable, "-m", "journeylib.cli"]
    if not (raw / "truth.json").exists():
        shutil.rmtree(raw, ignore_errors=True)
        extra = ["--consistent-future"] if consistent else []
        subprocess.run([*cli, "sample", "--out", raw, "--customers", str(customers), *extra], check=True)
    if not (processed / "summary.json").exists():
        subprocess.run([*cli, "prepare", "--raw", raw, "--processed", processed], check=True)
    return raw, processed


def notebooks(raw: Path, processed: Path, customers: int, data: Path) -> dict:
    """The four notebooks under `journey run --only` (papermill), their times from the run's manifest."""
    reports = data / f"reports-additions-{customers}"
    shutil.rmtree(reports, ignore_errors=True)
    command = [sys.executable, "-m", "journeylib.cli", "run", "--raw", raw, "--processed", processed,
               "--reports", reports, "--jobs", "1", "--only", "01", "02", "03", "06", "--publish"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    code = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          cwd=tempfile.gettempdir()).returncode
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = {"exit_code": code, "seconds": round(time.perf_counter() - start, 2),
           "cpu_seconds": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2)}
    try:
        manifest = json.loads((reports / "latest" / "manifest.json").read_text())
        out["notebooks"] = manifest.get("timings", {}).get("notebooks", {})
        out["prepare_seconds"] = manifest.get("timings", {}).get("prepare_seconds")
    except (OSError, ValueError) as error:
        out["note"] = str(error)
    return out


LABEL_ORDER = ["01 analyse, whole", "01 funnels", "01 revenue credit", "01 buyers against others",
               "01 added: funnels + revenue credit + compare (issue 25's goal)",
               "01 Markov order k (choice, credit intervals)",
               "01 (context) attribution, all models, revenue credit inside",
               "01 (context) the event log ordered once, for transitions and comparisons",
               "02 analyse, whole", "02 lead list: all (read events, history, scores, backtest)",
               "02   history at the as-of date", "02   scores at the as-of date (fits, scoring, reasons)",
               "02   backtest 90 days earlier (cut, fits, scoring)", "02 lead list: write the two files",
               "02 lead list: calibration figure", "02 added: the lead list",
               "03 analyse, whole", "03 service list: all (both backtests, scores, list)",
               "03   backtest a year earlier, mbg_nbd", "03   backtest a year earlier, landmark",
               "03   the to-call list", "03 at-risk list ranked by the service model",
               "03 service list: write the lists (at-risk, scores, to-call)", "03 service list: backtest figure",
               "03 added: the service list",
               "06 analyse, whole", "06 (context) all inputs read", "06 funnel-step inputs (issue 25's measures)",
               "06 screen (thresholds, seasonality)", "06 nesting (a group's change explains its sub-groups')"]
# the issue's goal for notebook 01 names the funnels, the revenue credit and the group comparison
ADDED = {"01 added: funnels + revenue credit + compare (issue 25's goal)": ["01 funnels", "01 revenue credit",
                                                                            "01 buyers against others"],
         "02 added: the lead list": ["02 lead list: all (read events, history, scores, backtest)",
                                     "02 lead list: write the two files", "02 lead list: calibration figure"],
         "03 added: the service list": ["03 service list: all (both backtests, scores, list)",
                                        "03 service list: write the lists (at-risk, scores, to-call)",
                                        "03 service list: backtest figure"]}


def with_totals(steps: dict) -> dict:
    steps = dict(steps)
    for total, parts in ADDED.items():
        found = [steps[p] for p in parts if p in steps]
        if found:
            steps[total] = {"seconds": round(sum(f["seconds"] for f in found), 2),
                            "cpu_seconds": round(sum(f["cpu_seconds"] for f in found), 2)}
    return steps


def markdown(results: list[dict]) -> str:
    sizes = [r["customers"] for r in results]
    steps = [with_totals(r["steps"]) for r in results]
    labels = [k for k in LABEL_ORDER if any(k in s for s in steps)]
    labels += [k for k in dict.fromkeys(k for s in steps for k in s) if k not in labels]
    head = "| step | " + " | ".join(f"{n:,}: wall s | CPU s" for n in sizes)
    grow = len(sizes) > 1
    head += f" | growth (CPU) {sizes[-2]:,} -> {sizes[-1]:,} |" if grow else " |"
    lines = [head, "|---|" + "---:|---:|" * len(sizes) + ("---:|" if grow else "")]
    for label in labels:
        cells = []
        for s in steps:
            row = s.get(label)
            cells += [f"{row['seconds']:.2f}", f"{row['cpu_seconds']:.2f}"] if row else ["", ""]
        if grow:
            a, b = steps[-2].get(label), steps[-1].get(label)
            ok = a and b and a["cpu_seconds"] > 0.05
            cells.append(f"{b['cpu_seconds'] / a['cpu_seconds']:.1f}x" if ok else "")
        name = f"**{label}**" if " added: " in label else label.replace("  ", "&nbsp;&nbsp;")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    counts = ", ".join(f"{r['customers']:,}" for r in results)
    peaks = ", ".join(f"{r['peak_mb']:,.0f} MB" for r in results)
    lines += ["", f"Customers (journeys) {counts}; peak memory of the benchmark process {peaks}."
              + (f" Growth: CPU seconds at the larger size over the smaller (the customer ratio is "
                 f"{sizes[-1] / sizes[-2]:.1f}x)." if grow else "")]
    for r in results:
        lines += ["", f"**{r['customers']:,} customers**", ""]
        lead = (r.get("notebook_02") or {}).get("lead_scores") or {}
        bt = lead.get("backtest") or {}
        if bt:
            lines.append(f"- Lead backtest as of {str(bt.get('as_of'))[:10]}: {bt.get('leads'):,} open leads, AUC 30 d "
                         f"{_f(bt.get('auc_30d'))}, 90 d {_f(bt.get('auc_90d'))}; expected / observed 30 d "
                         f"{_f(bt.get('expected_30d'), 0)} / {bt.get('observed_30d')}, 90 d "
                         f"{_f(bt.get('expected_90d'), 0)} / {bt.get('observed_90d')}; precision of the top "
                         f"{bt.get('top_n')}: {_f(bt.get('precision_top_n'))}.")
        fut = (r.get("notebook_02") or {}).get("lead_future")
        if fut:
            lines.append(f"- Lead scores at the as-of date against the sample's future: {fut['open_leads_scored']:,} "
                         f"scored ({fut['open_leads_truth']:,} open in truth.json); AUC 30 d {_f(fut['auc_30d'])}, "
                         f"90 d {_f(fut['auc_90d'])}; expected / observed 30 d {_f(fut['expected_30d'], 0)} / "
                         f"{fut['observed_30d']}, 90 d {_f(fut['expected_90d'], 0)} / {fut['observed_90d']}"
                         + (f"; the true hazard's own chance: AUC {_f(fut['hazard_auc_30d'])} / "
                            f"{_f(fut['hazard_auc_90d'])}, expected {_f(fut['hazard_expected_30d'], 0)} / "
                            f"{_f(fut['hazard_expected_90d'], 0)}" if fut.get("hazard_auc_30d") is not None else "")
                         + (" (--consistent-future sample)." if fut.get("journeys_to_purchase") else "."))
        svc = (r.get("notebook_03") or {}).get("service_scores") or {}
        sbt = svc.get("backtest") or {}
        if sbt:
            lines.append(f"- Service backtest ({svc.get('model')}) as of {str(sbt.get('as_of'))[:10]}: "
                         f"{sbt.get('buyers'):,} buyers, AUC {_f(sbt.get('auc_return_12m'))}; "
                         + "; ".join(f"{k} {_f(v, 3 if isinstance(v, float) and abs(v) < 10 else 0)}"
                                     for k, v in sbt.items()
                                     if k not in ("as_of", "buyers", "auc_return_12m") and isinstance(v, (int, float)))
                         + ".")
            for name, check in (svc.get("model_backtest") or {}).items():
                if check:
                    lines.append(f"  - {name}: AUC {_f(check.get('auc_return_12m'))}, Spearman customer pay "
                                 f"{_f(check.get('spearman_customer_pay'))}, customer-pay ratio "
                                 f"{_f(check.get('customer_pay_ratio'))}")
        sfut = (r.get("notebook_03") or {}).get("service_future")
        if sfut:
            lines.append(f"- Service scores at the as-of date against the sample's future: {sfut['buyers_scored']:,} "
                         f"scored ({sfut['buyers_truth']:,} buyers in truth.json, {sfut['buyers_matched']:,} matched); "
                         f"AUC {_f(sfut['auc_return_12m'])}; visits expected / observed "
                         f"{_f(sfut['expected_visits_12m'], 0)} / {sfut['observed_visits_12m']:,}; customer pay "
                         f"{_f(sfut['expected_customer_pay_12m'], 0)} / {_f(sfut['observed_customer_pay_12m'], 0)}; "
                         f"Spearman {_f(sfut['spearman_customer_pay'])}.")
        ch = r.get("notebook_06")
        if ch:
            planted = ch.get("planted") or {}
            lines.append(f"- What changed: {ch['comparisons']} comparisons, {ch['significant']} beyond chance, "
                         f"{ch['below_threshold']} below the practical thresholds, {ch['seasonal']} seasonal; "
                         f"{ch['flagged']} flagged, {ch['reported']} reported. Planted: dealer "
                         f"{planted.get('dealer_id')} {planted.get('measure')} in {planted.get('period')} "
                         f"({_f(planted.get('effect'))}): " + ("found" if ch.get("planted_found") else "NOT found")
                         + (f" (estimate {_f(ch.get('planted_estimate'))})" if ch.get("planted_found") else "")
                         + f"; the same dealer's other measures in that period (moved by the planted shift): "
                         f"{ch.get('same_dealer_other_measures')}; unrelated changes reported: "
                         f"{ch.get('unrelated_reported')}.")
            for row in ch["reported_rows"]:
                lines.append(f"  - {row['measure']} / {row['group_by']} = {row['group']} in {row['latest_period']}: "
                             f"{_f(row['estimate'])} [{_f(row['ci_low'])}, {_f(row['ci_high'])}]")
        nb = r.get("notebooks")
        if nb:
            lines.append(f"- Notebooks under `journey run --only 01 02 03 06 --jobs 1` (papermill; exit "
                         f"{nb['exit_code']}; {nb['seconds']:.0f} s wall, {nb['cpu_seconds']:.0f} s CPU in all): "
                         + ", ".join(f"{k} {v:.1f} s" for k, v in (nb.get("notebooks") or {}).items()) + ".")
    return "\n".join(lines)


def _f(value, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}" if isinstance(value, (int, float)) else str(value)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="/tmp/bench-additions", help="where raw-N and proc-N are made once")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--only", default="01,02,03,06", help="notebooks whose analyses are timed")
    parser.add_argument("--notebooks", action="store_true", help="also time the notebooks under journey run")
    parser.add_argument("--results", default=str(RESULTS))
    parser.add_argument("--name", default="additions", help="results file name (NAME.json, NAME.md)")
    parser.add_argument("--reuse", action="store_true",
                        help="keep a size's earlier measurement (DATA/additions-N.json) instead of measuring it again")
    parser.add_argument("--consistent-future", action="store_true",
                        help="samples from `journey sample --consistent-future` (raw-N-consistent): the open leads' "
                             "journeys written from their purchase times, so the lead scores meet the future fairly")
    parser.add_argument("--one", help="(internal) a processed folder: time it in this process")
    parser.add_argument("--raw", help="(with --one) its raw folder, for truth.json")
    parser.add_argument("--json", help="(with --one) where to write its result")
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    if args.one:
        out = one(Path(args.one), Path(args.raw) if args.raw else None, only, Path(args.json))
        Path(args.json).write_text(json.dumps(out, indent=2, default=str))
        return out
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    started = datetime.now(timezone.utc)
    results = []
    for customers in [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]:
        raw, processed = ensure(data, customers, args.consistent_future)
        part = data / f"additions-{customers}{'-consistent' if args.consistent_future else ''}.json"
        if args.reuse and part.exists():
            print(f"{customers:,}: reusing {part}", file=sys.stderr, flush=True)
            results.append(json.loads(part.read_text()))
            continue
        command = [sys.executable, __file__, "--one", str(processed), "--raw", str(raw), "--json", str(part),
                   "--only", ",".join(only)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        entry = json.loads(part.read_text())
        entry["process"] = {"seconds": round(time.perf_counter() - start, 2),
                            "cpu_seconds": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2)}
        if args.notebooks:
            print(f"{customers:,}: notebooks under journey run", file=sys.stderr, flush=True)
            entry["notebooks"] = notebooks(raw, processed, customers, data)
        part.write_text(json.dumps(entry, indent=2, default=str))
        results.append(entry)
    record = {"started_at": started.isoformat(timespec="seconds"),
              "machine": {"cores": os.cpu_count(), "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
              "goals_added_seconds": NOTEBOOK_GOALS, "results": results}
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
    text = markdown(results)
    (out / f"{args.name}.md").write_text(text + "\n")
    print(text)
    return record


if __name__ == "__main__":
    main()
