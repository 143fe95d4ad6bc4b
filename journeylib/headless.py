"""Every notebook's section of metrics.json, computed without papermill.

`analyse_all(processed_dir)` runs each analysis' `analyse(tables, Params())` and
merges the sections their `metrics()` return, plus the runner's `data` section.
A test holds it equal to the metrics.json of a `journey run` on the same data
(apart from the `run` section: ids, timings, statuses), so the notebooks and the
package cannot drift apart.
"""

from __future__ import annotations

import importlib

from journeylib.results import deep_merge, to_jsonable
from journeylib.tables import ProcessedTables

# The analysis behind each notebook, in notebook order.
ANALYSES = (
    "journeylib.data_quality", "journeylib.journey_map", "journeylib.time_to_purchase", "journeylib.retention",
    "journeylib.advocacy", "journeylib.personas", "journeylib.changes",
)


def analysis_modules():
    return [importlib.import_module(name) for name in ANALYSES]


def sections(module) -> tuple[str, ...]:
    return module.SECTION if isinstance(module.SECTION, tuple) else (module.SECTION,)


def analyse_all(processed_dir=None, as_of=None, parameters: dict | None = None) -> dict:
    """metrics.json without the `run` section. `parameters`: {notebook name: {parameter: value}} overrides."""
    from journeylib.run.manifest import data_section

    tables = ProcessedTables(processed_dir, as_of)
    metrics = {"data": data_section(tables.summary(), tables.folder)}
    for module in analysis_modules():
        params = module.Params.from_values((parameters or {}).get(module.NOTEBOOK, {}))
        values = module.analyse(tables, params).metrics()
        names = sections(module)
        deep_merge(metrics, to_jsonable(values if len(names) > 1 else {names[0]: values}))
    return metrics
