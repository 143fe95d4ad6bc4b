"""reports/trends.html and the index's front part (poster, what changed): offline, from metrics.json."""

from __future__ import annotations

import base64
import json
import re

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from journeylib.run import folders, render, trends

REMOTE = re.compile(r"""(src|href)\s*=\s*["']?(https?:)?//""", re.I)
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 20).decode()


def _metrics(run_id: str, customers: int, flagged: bool) -> dict:
    row = {"measure": "awareness_to_consideration", "group_by": "dealer_id", "group": "D01",
           "sentence": "Dealer D01: awareness → consideration within 90 days fell from 91% to 54% <b>x</b>"}
    series = [{"period": f"2026-0{m}", "n": 50, "estimate": 0.9, "ci_low": 0.8, "ci_high": 0.95} for m in (1, 2, 3)]
    return {"run": {"id": run_id, "status": "ok", "as_of": "2026-06-30"}, "data": {"customers": customers},
            "advocacy": {"nps": {"sales": {"estimate": 30.0, "ci_low": 20, "ci_high": 40}}},
            "changes": {"period": "month", "q": 0.1, "comparisons": 68, "flagged_count": int(flagged),
                        "flagged": [row] if flagged else [], "horizon_days": 90, "window_days": 180,
                        "latest_period": {"leads": "2026-03"},
                        "overall": {"lead_volume": {"estimate": 0.5, "ci_low": 0.3, "ci_high": 0.8, "p": 0.001,
                                                    "flagged": True, "latest_period": "2026-06"},
                                    "awareness_to_consideration": {
                                        "label": "awareness → consideration within 90 days", "kind": "share",
                                        "population": "leads", "estimate": -0.01, "flagged": False}},
                        "series": {"awareness_to_consideration": series, "unknown_measure": series}}}


def _run(reports, run_id, customers, flagged=False):
    folder = reports / run_id
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps(_metrics(run_id, customers, flagged)))
    return folder


def test_trends_page_shows_every_published_run_offline(tmp_path):
    _run(tmp_path, "2026-11-23T0315Z", 1880)
    _run(tmp_path, "2026-11-24T0315Z", 1900)
    _run(tmp_path, "2026-11-25T0315Z", 1934, flagged=True)
    unfinished = _run(tmp_path, "2026-11-26T0315Z", 5)
    (unfinished / folders.INCOMPLETE_MARKER).write_text("")
    experiment = _run(tmp_path, "2026-11-26T0415Z", 7)
    folders.mark_exploratory(experiment, "--only 03")
    path = trends.write_trends(tmp_path)
    page = path.read_text(encoding="utf-8")
    assert path == tmp_path / "trends.html"
    assert "3 complete runs, 2026-11-23T0315Z to 2026-11-25T0315Z" in page
    assert page.count("data:image/png;base64,") == 3  # customers and NPS over runs, one measure per period
    assert not REMOTE.search(page) and "<script" not in page
    assert render.SYNTHETIC_TEXT not in page
    values = trends.run_values(folders.published_runs(tmp_path))
    assert values["data.customers"] == [("2026-11-23T0315Z", 1880), ("2026-11-24T0315Z", 1900),
                                        ("2026-11-25T0315Z", 1934)]


def test_fewer_than_three_runs_show_the_monthly_view_and_a_sentence_not_dots(tmp_path):
    _run(tmp_path, "2026-11-24T0315Z", 1900)
    page = trends.write_trends(tmp_path).read_text(encoding="utf-8")
    assert "Only 1 complete run so far" in page and "Headline numbers, run by run" not in page
    assert page.count("data:image/png;base64,") == 1  # the one measure per month, no chart of one dot
    assert 'alt="Awareness' in page and "per month, latest run" in page
    _run(tmp_path, "2026-11-25T0315Z", 1934)
    page = trends.write_trends(tmp_path).read_text(encoding="utf-8")
    assert "Only 2 complete runs so far" in page and page.count("data:image/png;base64,") == 1


def test_trends_of_sample_runs_carry_the_synthetic_banner(tmp_path):
    folder = _run(tmp_path, "2026-11-24T0315Z", 1900)
    metrics = _metrics(folder.name, 1900, False)
    metrics["run"]["synthetic_data"] = True
    (folder / "metrics.json").write_text(json.dumps(metrics))
    page = trends.write_trends(tmp_path).read_text(encoding="utf-8")
    assert page.count(render.SYNTHETIC_TEXT) == 1 and page.index(render.SYNTHETIC_TEXT) < page.index("<h1>")


def test_no_run_no_page(tmp_path):
    assert trends.write_trends(tmp_path) is None and not (tmp_path / "trends.html").exists()


def test_index_opens_with_the_poster_and_the_flagged_changes(tmp_path):
    run_dir = _run(tmp_path, "2026-11-25T0315Z", 1934, flagged=True)
    cell = new_code_cell("draw.show(draw.draw_journey_map(result.map_table_))",
                         outputs=[new_output("display_data", data={"image/png": PNG})],
                         metadata={"tags": [render.POSTER_TAG]})
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1"), cell]), run_dir / "01_journey_map.ipynb")
    metrics = _metrics(run_dir.name, 1934, flagged=True)
    page = render.write_index(run_dir, metrics, [], None).read_text(encoding="utf-8")
    assert page.index(f"data:image/png;base64,{PNG}") < page.index("What changed") < page.index("Headline numbers")
    assert "1 change reported out of 68 comparisons" in page
    assert "fell from 91% to 54% &lt;b&gt;x&lt;/b&gt;" in page  # data text escaped
    assert 'href="../trends.html"' in page and 'href="changes.json"' in page
    assert "−50 pts" not in page and "rate ×0.50 in June 2026, flagged" in page  # customers row: lead volume
    assert not REMOTE.search(page)


def test_index_without_notebook_01_or_06_still_renders(tmp_path):
    run_dir = tmp_path / "2026-11-25T0315Z"
    run_dir.mkdir()
    page = render.write_index(run_dir, {"run": {"id": run_dir.name}}, [], None).read_text(encoding="utf-8")
    assert "What changed was not computed in this run." in page and "The journey map" not in page
