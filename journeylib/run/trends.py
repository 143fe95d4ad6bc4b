"""reports/trends.html: the headline numbers over every published run, and the latest one's measures per period.

Rebuilt at the end of every published run (journeylib.run._write_trends); exploratory runs (--only, -p)
are not in it. With fewer than MIN_RUNS_FOR_CHARTS runs the run-by-run charts would be a dot or two:
the page says so in a sentence and shows the measures per period only. Static PNG figures embedded
in the page, no scripts, so it opens offline and can be mailed on its own.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

TEMPLATE = "trends.html.j2"
TRENDS_FILE = "trends.html"
MAX_RUNS = 90  # about three months of nightly runs
MIN_RUNS_FOR_CHARTS = 3


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    # fixed margins (_chart) rather than bbox_inches="tight", which draws every chart twice
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _read(run_dir: Path) -> dict | None:
    try:
        return json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run_values(runs: list[Path]) -> dict:
    """{headline key: [(run id, value or None), ...]} for every headline on the index."""
    from journeylib.run.render import HEADLINES, metric_value

    metrics = [(run.name, _read(run)) for run in runs]
    return {h.key: [(name, metric_value(m, h.key)) for name, m in metrics] for h in HEADLINES}


def _chart():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 2.4))
    fig.subplots_adjust(left=0.14, right=0.98, top=0.88, bottom=0.3)  # room for the slanted run ids
    return fig, ax


def _run_chart(label: str, kind: str, points: list):
    fig, ax = _chart()
    names = [name for name, _ in points]
    scale = 100 if kind == "share" else 1
    values = [None if v is None else v * scale for _, v in points]
    x = [i for i, v in enumerate(values) if v is not None]
    ax.plot(x, [values[i] for i in x], marker="o", color="#0b69a3")
    step = max(1, len(names) // 8)
    ax.set_xticks(range(0, len(names), step), names[::step], rotation=30, ha="right", fontsize=7)
    ax.set_title(label + (" (%)" if kind == "share" else ""), fontsize=10, loc="left")
    ax.grid(alpha=0.3)
    return fig


def _period_chart(label: str, kind: str, rows: list, latest: str | None):
    import numpy as np

    scale = 100 if kind == "share" else 1
    fig, ax = _chart()
    est = np.array([np.nan if r["estimate"] is None else r["estimate"] * scale for r in rows], float)
    low = np.array([np.nan if r["ci_low"] is None else r["ci_low"] * scale for r in rows], float)
    high = np.array([np.nan if r["ci_high"] is None else r["ci_high"] * scale for r in rows], float)
    x = np.arange(len(rows))
    ok = np.isfinite(est)
    ax.errorbar(x[ok], est[ok], yerr=[np.fmax(est[ok] - low[ok], 0), np.fmax(high[ok] - est[ok], 0)], fmt="o-",
                color="#52606d", capsize=2, markersize=4)
    periods = [r["period"] for r in rows]
    if latest in periods:
        i = periods.index(latest)
        if ok[i]:
            ax.plot([i], [est[i]], "o", color="#c0392b", markersize=7)
    step = max(1, len(periods) // 8)
    ax.set_xticks(x[::step], periods[::step], rotation=30, ha="right", fontsize=7)
    unit = {"share": " (%)", "count": " (per period)"}.get(kind, "")
    ax.set_title(label + unit, fontsize=10, loc="left")
    ax.grid(alpha=0.3)
    return fig


def period_series(metrics: dict) -> list[dict]:
    """The latest run's main measures per calendar period (metrics `changes.series`), described by
    `changes.overall.<measure>` (label, kind, population): the runner reads metrics.json, not the analysis."""
    changes = (metrics or {}).get("changes") or {}
    found = changes.get("series") or {}
    overall = changes.get("overall") or {}
    latest = changes.get("latest_period") or {}
    out = []
    for key, rows in found.items():
        about = overall.get(key)
        if not isinstance(about, dict) or not about.get("label") or not rows:
            continue
        label = about["label"]
        out.append({"key": key, "label": label[0].upper() + label[1:], "kind": about.get("kind", "share"),
                    "rows": rows, "latest": latest.get(about.get("population"))})
    return out


def write_trends(reports) -> Path | None:
    """Write reports/trends.html from every complete run; None when there is none yet."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from journeylib.run.render import HEADLINES, TEMPLATES, synthetic_banner
    from journeylib.run.folders import published_runs

    reports = Path(reports)
    runs = published_runs(reports)[-MAX_RUNS:]
    if not runs:
        return None
    headline_charts = []
    if len(runs) >= MIN_RUNS_FOR_CHARTS:
        values = run_values(runs)
        headline_charts = [{"label": h.label, "key": h.key,
                            "image": _png(_run_chart(h.label, h.kind, values[h.key]))}
                           for h in HEADLINES if any(v is not None for _, v in values[h.key])]
    metrics = [_read(run) or {} for run in runs]
    synthetic = [run.name for run, m in zip(runs, metrics) if (m.get("run") or {}).get("synthetic_data") is True]
    latest = metrics[-1]
    period_charts = [{"label": s["label"], "key": s["key"],
                      "image": _png(_period_chart(s["label"], s["kind"], s["rows"], s["latest"]))}
                     for s in period_series(latest)]
    environment = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                              autoescape=select_autoescape(default=True, default_for_string=True))
    html = environment.get_template(TEMPLATE).render(
        runs=[r.name for r in runs], latest=runs[-1].name, headline_charts=headline_charts,
        too_few_runs=len(runs) < MIN_RUNS_FOR_CHARTS, min_runs=MIN_RUNS_FOR_CHARTS,
        synthetic=synthetic, synthetic_banner=synthetic_banner(),
        period_charts=period_charts, period=((latest.get("changes") or {}).get("period") or "month"))
    path = reports / TRENDS_FILE
    temporary = reports / f".{TRENDS_FILE}.tmp"
    temporary.write_text(html, encoding="utf-8")
    temporary.replace(path)
    return path
