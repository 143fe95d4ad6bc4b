"""HTML for a run: each executed notebook twice (analyst, reviewer) and the run's index.html.

Everything must open offline: nbconvert's lab template is used through
templates/offline_notebook.html.j2, which drops require.js, MathJax, Mermaid and
widget scripts fetched from the web; a last filter removes any remote script or
stylesheet an output might still carry. Figures are the notebooks' inline PNGs.
The index is rendered with autoescaping on, so error text and anything else
from a notebook shows as text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from journeylib.run.parameters import RUN_PARAMETERS  # the same for every notebook: not repeated per row

TEMPLATES = Path(__file__).resolve().parent / "templates"
NOTEBOOK_TEMPLATE = TEMPLATES / "offline_notebook.html.j2"
INDEX_TEMPLATE = "run_index.html.j2"
ERROR_ANCHOR = "papermill-error-cell"  # papermill marks the failing cell with this id

_REMOTE_SCRIPT = re.compile(r"<script\b[^>]*\bsrc\s*=\s*['\"]?(?:https?:)?//[^>]*>\s*</script>", re.I)
_REMOTE_LINK = re.compile(r"<link\b[^>]*\bhref\s*=\s*['\"]?(?:https?:)?//[^>]*>", re.I)
_CSS_IMPORT = re.compile(r"@import\s+url\(\s*['\"]?(?:https?:)?//[^)]*\)\s*;?", re.I)


# ---------------------------------------------------------------- notebooks

def strip_remote_assets(html: str) -> str:
    """Remove <script src=http...>, <link href=http...> and CSS @import of web URLs (offline reports)."""
    for pattern in (_REMOTE_SCRIPT, _REMOTE_LINK, _CSS_IMPORT):
        html = pattern.sub("", html)
    return html


CHECK_TAG = "nbval-check-output"  # cells whose printed summary tests compare; not for reviewers


def reviewer_notebook(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy for the reviewer page: no output of the tagged check cells and no printed output (stdout or
    stderr streams); figures, tables, Markdown and a failed cell's error stay. The analyst page keeps everything."""
    import copy

    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        if CHECK_TAG in cell.metadata.get("tags", []):
            cell.outputs = []
        else:
            cell.outputs = [o for o in cell.get("outputs", []) if o.get("output_type") != "stream"]
    return notebook


def notebook_html(notebook: nbformat.NotebookNode, with_code: bool) -> str:
    """The lab look without web assets; the reviewer version (with_code=False) is nbconvert --no-input
    on `reviewer_notebook` (no printouts)."""
    from nbconvert import HTMLExporter

    if not with_code:
        notebook = reviewer_notebook(notebook)
    exporter = HTMLExporter(template_name="lab", template_file=str(NOTEBOOK_TEMPLATE),
                            exclude_input=not with_code, exclude_input_prompt=not with_code,
                            exclude_output_prompt=not with_code)
    body, _ = exporter.from_notebook_node(notebook)
    return strip_remote_assets(body)


def render_notebook(run_dir: Path, outcome, log) -> dict:
    """<name>.html (with code) and <name>.reviewer.html (without) from the executed notebook."""
    executed = run_dir / f"{outcome.name}.ipynb"
    if not executed.exists():
        return {}
    files = {}
    try:
        notebook = nbformat.read(executed, as_version=4)
        for role, name, with_code in (("analyst", f"{outcome.name}.html", True),
                                      ("reviewer", f"{outcome.name}.reviewer.html", False)):
            (run_dir / name).write_text(notebook_html(notebook, with_code), encoding="utf-8")
            files[role] = name
    except Exception as error:  # noqa: BLE001 - a rendering problem must not stop the run
        log(f"{outcome.name}: HTML not rendered: {type(error).__name__}: {error}")
    return files


SYNTHETIC_TEXT = "Synthetic sample data"
SYNTHETIC_DETAIL = ("these reports are computed on the invented exports of `journey sample`, not on a "
                    "dealership's data; no number here describes real customers.")
SYNTHETIC_MARK = 'class="synthetic-banner"'  # present once per page; marking twice changes nothing
_BODY_OPEN = re.compile(r"<body\b[^>]*>", re.I)


def synthetic_banner() -> str:
    """The banner every page of a run on sample data opens with (inline style: pages stand alone)."""
    return (f'<div {SYNTHETIC_MARK} role="note" style="background:#fff3cd;color:#5c4400;border:2px solid #e0a800;'
            'padding:.6rem .9rem;margin:0 0 1rem 0;font-family:system-ui,sans-serif;font-size:1rem">'
            f'<strong>{SYNTHETIC_TEXT}</strong>: {SYNTHETIC_DETAIL}</div>')


def add_synthetic_banner(html: str) -> str:
    """The rendered page with the synthetic-data banner right after <body> (once)."""
    if SYNTHETIC_MARK in html:
        return html
    found = _BODY_OPEN.search(html)
    at = found.end() if found else 0
    return html[:at] + synthetic_banner() + html[at:]


def mark_synthetic_file(path: Path) -> None:
    """Add the synthetic-data banner to a rendered notebook page (the run on sample data calls it for
    each HTML page after rendering, so it sits on top of whatever the conversion produced)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    marked = add_synthetic_banner(text)
    if marked != text:
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(marked, encoding="utf-8")
        temporary.replace(path)


def notebook_title(path: Path, fallback: str) -> str:
    """The first Markdown heading of a notebook (its title), else the fallback."""
    try:
        notebook = nbformat.read(path, as_version=4)
    except (OSError, ValueError):
        return fallback
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip() or fallback
    return fallback


# ---------------------------------------------------------------- headline numbers

@dataclass(frozen=True)
class Headline:
    """A number on the index, compared with the previous complete run.

    kind: count | share (0-1, shown as %) | score | ratio. `change` names the measure of
    06_what_changed (metrics `changes.overall.<change>`) whose statistical result flags the row:
    two nightly runs share almost all their data, so a fixed threshold between runs says little.
    """

    label: str
    key: str
    kind: str
    change: str | None = None


HEADLINES = (
    Headline("Customers", "data.customers", "count", change="lead_volume"),
    Headline("Funnel: awareness", "journey.funnel.awareness", "count"),
    Headline("Funnel: consideration", "journey.funnel.consideration", "count", change="awareness_to_consideration"),
    Headline("Funnel: purchase", "journey.funnel.purchase", "count", change="consideration_to_purchase"),
    Headline("Funnel: retention", "journey.funnel.retention", "count", change="service_return"),
    Headline("Funnel: advocacy", "journey.funnel.advocacy", "count", change="referral_rate"),
    Headline("Purchase probability within 90 days", "time_to_purchase.purchase_probability.90", "share",
             change="purchase_within_horizon"),
    Headline("Churn rate", "retention.churn_rate", "share", change="service_return"),
    Headline("NPS, sales", "advocacy.nps.sales", "score", change="nps_sales"),
    Headline("NPS, service", "advocacy.nps.service", "score", change="nps_service"),
    Headline("Referral rate", "advocacy.referral_rate", "share", change="referral_rate"),
    Headline("Referral k-factor", "advocacy.k_factor", "ratio"),
)
MISSING = "—"


def metric_value(metrics: dict | None, key: str):
    """A finite number at a dotted key (an effect's estimate), else None; never raises."""
    node = metrics
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    if isinstance(node, dict):
        node = node.get("estimate")
    if isinstance(node, bool) or not isinstance(node, (int, float)) or not math.isfinite(node):
        return None
    return node


def format_value(value, kind: str) -> str:
    if value is None:
        return MISSING
    if kind == "count":
        return f"{value:,.0f}"
    if kind == "share":
        return f"{100 * value:.1f}%"
    if kind == "score":
        return f"{value:.1f}"
    return f"{value:.3f}"


def format_change(now, before, kind: str) -> str:
    if now is None or before is None:
        return MISSING
    delta = now - before
    if delta == 0:  # "+0 (+0.0%)" reads like a change
        return "no change"
    if kind == "share":
        text = f"{100 * delta:+.1f} pts"
    elif kind == "count":
        text = f"{delta:+,.0f}"
    elif kind == "score":
        text = f"{delta:+.1f}"
    else:
        text = f"{delta:+.3f}"
    if before:
        text += f" ({100 * delta / abs(before):+.1f}%)"
    return text


def overall_change(metrics: dict | None, headline: Headline) -> dict | None:
    """The 06_what_changed comparison behind a headline (`changes.overall.<measure>`), if it was made."""
    if headline.change is None or not isinstance(metrics, dict):
        return None
    found = ((metrics.get("changes") or {}).get("overall") or {}).get(headline.change)
    return found if isinstance(found, dict) and metric_value({"x": found}, "x") is not None else None


def is_flagged(metrics: dict | None, headline: Headline) -> bool:
    """Flagged when the headline's measure changed beyond chance in this run (Benjamini-Hochberg at q)."""
    found = overall_change(metrics, headline)
    return bool(found and found.get("flagged") is True)


def _statistical_reading(found: dict | None, kind: str) -> str:
    """'−37 pts in 2026-03, flagged': the latest complete period against its baseline."""
    if found is None:
        return MISSING
    estimate = found["estimate"]
    text = f"{100 * estimate:+.0f} pts" if kind == "share" else f"{estimate:+.0f} pts" if kind == "score" \
        else f"rate ×{estimate:.2f}"
    verdict = "flagged" if found.get("flagged") else "within chance"
    label = f"{found['label']}: " if isinstance(found.get("label"), str) else ""
    from journeylib.labels import period_text

    return f"{label}{text.replace('-', '−')} in {period_text(found.get('latest_period', '?'))}, {verdict}"


def _change_kind(measure: str | None) -> str:
    return "score" if measure in ("nps_sales", "nps_service") else "ratio" if measure == "lead_volume" else "share"


NOT_COMPARED = "not compared"


def headline_rows(metrics: dict, previous: dict | None, redefined: dict | None = None) -> list[dict]:
    """The headline table; `redefined` ({metrics section: why}) names sections whose numbers are defined
    differently in the two runs (other notebook parameters): their change is not computed."""
    redefined = redefined or {}
    rows = []
    for headline in HEADLINES:
        now, before = metric_value(metrics, headline.key), metric_value(previous, headline.key)
        found = overall_change(metrics, headline)
        measure_kind = _change_kind(headline.change)
        flagged = is_flagged(metrics, headline)
        why = redefined.get(headline.key.split(".")[0])
        rows.append({"label": headline.label, "key": headline.key, "now": format_value(now, headline.kind),
                     "before": format_value(before, headline.kind),
                     "change": NOT_COMPARED if why and now is not None and before is not None
                     else format_change(now, before, headline.kind),
                     "not_compared": why if now is not None and before is not None else None,
                     "reading": _statistical_reading(found, measure_kind),
                     "flagged": flagged,
                     "direction": "" if found is None else ("up" if found["estimate"] > (1 if measure_kind == "ratio"
                                                                                         else 0) else "down")})
    return rows


# ---------------------------------------------------------------- what changed, poster

POSTER_TAG = "journey-map-poster"  # the tag of the notebook 01 cell that draws the one-page journey map


def poster_image(run_dir: Path, notebook: str = "01_journey_map") -> str | None:
    """The journey-map poster as base64 PNG: the first image of the executed notebook 01 cell tagged POSTER_TAG."""
    path = run_dir / f"{notebook}.ipynb"
    if not path.exists():
        return None
    try:
        executed = nbformat.read(path, as_version=4)
    except (OSError, ValueError):
        return None
    for cell in executed.cells:
        if cell.cell_type == "code" and POSTER_TAG in cell.metadata.get("tags", []):
            for output in cell.get("outputs", []):
                image = (output.get("data") or {}).get("image/png")
                if image:
                    return "".join(image).replace("\n", "")
    return None


def change_summary(metrics: dict) -> dict:
    """What the index says about 06_what_changed: its flagged sentences, or why there are none."""
    changes = metrics.get("changes")
    if not isinstance(changes, dict) or "flagged" not in changes:
        return {"computed": False, "flagged": [], "sentence": "What changed was not computed in this run."}
    flagged = [row.get("sentence") for row in changes.get("flagged") or [] if row.get("sentence")]
    comparisons, q = changes.get("comparisons") or 0, changes.get("q")
    behind = changes.get("flagged_comparisons")  # comparisons flagged, the reported changes among them
    if flagged:
        reported = f"{len(flagged)} change{'s' if len(flagged) != 1 else ''} reported"
        rule = f"beyond chance at a false-discovery rate q = {q:g} and above the practical thresholds"
        sentence = (f"{reported} ({behind} of {comparisons} comparisons flagged: {rule})." if isinstance(behind, int)
                    else f"{reported} out of {comparisons} comparisons ({rule}).")
    elif comparisons:
        sentence = (f"Nothing changed beyond chance and the practical thresholds: none of the {comparisons} "
                    f"comparisons was flagged at q = {q:g}.")
    else:
        sentence = "No comparison could be made on this export (see the What changed report)."
    return {"computed": True, "flagged": flagged, "sentence": sentence}


# ---------------------------------------------------------------- index.html

def _read_metrics(run_dir: Path | None) -> dict | None:
    import json

    if run_dir is None:
        return None
    try:
        return json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _duration(seconds) -> str:
    seconds = float(seconds or 0)
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def notebook_notes(run_dir: Path, name: str) -> list[str]:
    """The plain sentences a notebook recorded: `<section>.notes` of its results files (`<name>.json`, and
    `<name>.<part>.json` for a notebook writing several sections), in order. None when it saved no results."""
    import json

    from journeylib.results import RESULTS_FOLDER

    folder = run_dir / RESULTS_FOLDER
    notes = []
    for path in [folder / f"{name}.json", *sorted(folder.glob(f"{name}.*.json"))]:
        try:
            sections = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a notebook that failed or did not run saved no results
        for values in sections.values():
            if isinstance(values, dict):
                notes += [str(note) for note in values.get("notes") or [] if str(note) not in notes]
    return notes


# ---------------------------------------------------------------- headline definitions

def section_notebooks(run_dir: Path | None) -> dict[str, str]:
    """{metrics section: the notebook that recorded it}, from a run folder's results files."""
    import json

    from journeylib.results import RESULTS_FOLDER

    found: dict[str, str] = {}
    if run_dir is None:
        return found
    for path in sorted((Path(run_dir) / RESULTS_FOLDER).glob("*.json")):
        try:
            sections = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(sections, dict):
            for section in sections:
                found.setdefault(section, path.name.split(".")[0])
    return found


def _overrides(parameters: dict | None) -> dict[str, dict]:
    return {name: {k: v for k, v in (values or {}).items() if k not in RUN_PARAMETERS}
            for name, values in (parameters or {}).items() if isinstance(values, dict)}


def _run_parameters(run_dir: Path | None) -> dict[str, dict]:
    """Each notebook's -p values in an earlier run (its manifest.json); {} when unknown."""
    import json

    if run_dir is None:
        return {}
    try:
        return _overrides(json.loads((Path(run_dir) / "manifest.json").read_text(encoding="utf-8"))["parameters"])
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _describe(values: dict) -> str:
    return ", ".join(f"{k} = {v}" for k, v in sorted(values.items())) or "the configured parameters"


def redefined_sections(run_dir: Path, parameters: dict, previous_dir: Path | None) -> dict[str, str]:
    """{metrics section: why} for the sections whose notebook ran with other parameters in the previous
    run: a churn rate with churn_after_days = 545 is another measure than with the default, so the two
    runs' numbers are not compared."""
    if previous_dir is None:
        return {}
    now, before = _overrides(parameters), _run_parameters(previous_dir)
    notebooks = {**section_notebooks(previous_dir), **section_notebooks(run_dir)}
    out = {}
    for section, notebook in notebooks.items():
        if notebook in now and notebook in before and now[notebook] != before[notebook]:
            out[section] = (f"defined differently: {_describe(now[notebook])} in this run, "
                            f"{_describe(before[notebook])} in the previous one")
    return out


# ---------------------------------------------------------------- the lists to call

def _number(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) else None


def _run_file(run_dir: Path, name) -> dict | None:
    """A file the metrics name, as {name, href}; href only for a plain name present in the run folder."""
    if not isinstance(name, str) or not name:
        return None
    plain = "/" not in name and "\\" not in name and name not in (".", "..")
    return {"name": name, "href": name if plain and (run_dir / name).is_file() else None}


def action_lists(run_dir: Path, metrics: dict) -> list[dict]:
    """The lists for the people who call (issue 24): open leads (`time_to_purchase.lead_scores`) and
    buyers for service (`retention.service_scores`), with their sizes, expected purchases and revenue at
    risk and links to their files. A list whose section is absent or null is left out."""
    out = []
    leads = ((metrics.get("time_to_purchase") or {}).get("lead_scores")
             if isinstance(metrics.get("time_to_purchase"), dict) else None)
    if isinstance(leads, dict):
        facts = []
        if _number(leads.get("leads")) is not None:
            facts.append(f"{format_value(leads['leads'], 'count')} open leads scored")
        if _number(leads.get("expected_purchases_30d")) is not None:
            facts.append(f"{leads['expected_purchases_30d']:,.1f} purchases expected among them in the next 30 days")
        out.append({"title": "Leads most likely to buy", "facts": facts, "rows": _number(leads.get("to_call_rows")),
                    "call": _run_file(run_dir, leads.get("to_call_file")), "all": _run_file(run_dir, leads.get("file")),
                    "who": "leads"})
    service = ((metrics.get("retention") or {}).get("service_scores")
               if isinstance(metrics.get("retention"), dict) else None)
    if isinstance(service, dict):
        facts = []
        if _number(service.get("buyers")) is not None:
            facts.append(f"{format_value(service['buyers'], 'count')} buyers scored")
        if _number(service.get("expected_customer_pay_12m")) is not None:
            facts.append(f"{service['expected_customer_pay_12m']:,.0f} expected in customer-pay service revenue "
                         "over the next 12 months")
        if _number(service.get("value_at_risk_12m")) is not None:
            facts.append(f"{service['value_at_risk_12m']:,.0f} of it at risk")
        out.append({"title": "Service customers slipping away", "facts": facts,
                    "rows": _number(service.get("to_call_rows")), "call": _run_file(run_dir, service.get("to_call_file")),
                    "all": _run_file(run_dir, service.get("file")), "who": "buyers"})
    return out


_POOLED = re.compile(r"^(?P<feature>[A-Z][A-Za-z ]*): (?P<levels>.+?) (?P<rest>(had|has) fewer than .*)$")
_QUOTED_CODE = re.compile(r"'([a-z][a-z0-9_]*|\(none\))'")
_SNAKE = re.compile(r"(?<![\w.])[a-z][a-z0-9]*(_[a-z0-9]+)+(?![\w.])")


def readable_note(note: str) -> str:
    """A notebook's note (metrics keep the codes) as the index shows it: pooled levels, quoted codes and
    snake_case codes as labels ("Acquisition channel: Text message, Unknown had fewer than 20 customers and are
    pooled into "Other"."), the rest as written."""
    from journeylib.labels import label

    found = _POOLED.match(note)
    if found:
        levels = ", ".join(level if level.startswith("(") and level != "(none)" else label(level)
                           for level in found["levels"].split(", "))
        note = f"{found['feature']}: {levels} {found['rest']}"
    note = _QUOTED_CODE.sub(lambda m: f'"{label(m.group(1))}"', note)
    return _SNAKE.sub(lambda m: label(m.group(0)), note)


def notes_summary(notes: list[str]) -> str:
    """The one line the index shows for a notebook's notes (the notes themselves fold out under it)."""
    if not notes:
        return ""
    first = notes[0] if len(notes[0]) <= 140 else notes[0][:137].rstrip() + "…"
    return first if len(notes) == 1 else f"{first} (and {len(notes) - 1} more)"


def run_dates(run: dict) -> dict:
    """The index's dates in words, in the configured time zone (`run.timezone`): the data's as-of date as a
    day ("31 October 2026", never an ISO instant) and the run's start and end as local times."""
    from journeylib.labels import date_text, time_text

    zone = run.get("timezone") or "UTC"
    return {"as_of": date_text(run.get("as_of"), zone), "started": time_text(run.get("started_at"), zone),
            "finished": time_text(run.get("finished_at"), zone)}


def write_index(run_dir: Path, metrics: dict, outcomes, previous_dir: Path | None) -> Path:
    """index.html: status, headline numbers against the previous complete run, notebooks and their links."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    environment = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                              autoescape=select_autoescape(default=True, default_for_string=True))
    previous_metrics = _read_metrics(previous_dir)
    notebooks = [{
        "name": o.name, "title": notebook_title(run_dir / f"{o.name}.ipynb", o.name), "status": o.status,
        "duration": _duration(o.seconds), "error": o.error, "error_cell": o.error_cell,
        "analyst": o.files.get("analyst"), "reviewer": o.files.get("reviewer"), "notebook": o.files.get("notebook"),
        "anchor": ERROR_ANCHOR,
        "overrides": {k: v for k, v in o.parameters.items() if k not in RUN_PARAMETERS},
        "notes": [readable_note(note) for note in notebook_notes(run_dir, o.name)],
    } for o in outcomes]
    for notebook in notebooks:
        notebook["notes_summary"] = notes_summary(notebook["notes"])
    redefined = redefined_sections(run_dir, {o.name: o.parameters for o in outcomes}, previous_dir)
    data = metrics.get("data") or {}
    from journeylib.labels import label

    environment.filters["label"] = label
    html = environment.get_template(INDEX_TEMPLATE).render(
        run=metrics.get("run") or {}, dates=run_dates(metrics.get("run") or {}), data=data, tables=sorted((data.get("tables") or {}).items()),
        headlines=headline_rows(metrics, previous_metrics, redefined), notebooks=notebooks,
        actions=action_lists(run_dir, metrics), synthetic_banner=synthetic_banner(),
        poster=poster_image(run_dir), changes=change_summary(metrics),
        changes_report=next((n["reviewer"] for n in notebooks if n["name"].startswith("06_") and n["reviewer"]), None),
        previous=previous_dir.name if previous_dir is not None else None, missing=MISSING,
        format_count=lambda v: format_value(v if isinstance(v, (int, float)) else None, "count"),
    )
    path = run_dir / "index.html"
    path.write_text(html, encoding="utf-8")
    return path
