"""Step 6: the processed tables, rejects and summary.json.

`write_tables` fills one fresh folder; `write` (the step on its own) makes that folder a new version of
the processed folder, published only when complete (journeylib.prepare.store)."""

from __future__ import annotations

import json
from pathlib import Path

import ibis

from journeylib.config import CONTRACT
from journeylib.engine.files import write_parquet
from journeylib.prepare.engine import json_object, redacted
from journeylib.prepare.load import ROW
from journeylib.prepare.store import checkpoint
from journeylib.privacy import PERSONAL_COLUMNS
from journeylib.vocabulary import UNKNOWN

SORT_KEYS = {
    "customers": ["customer_id"], "identity_map": ["source_customer_id"],
    "touchpoints": ["customer_id", "occurred_at", "event_id"], "sales": ["deal_id"], "service_visits": ["ro_id"],
    "surveys": ["response_id"], "referrals": ["referral_id"], "dealers": ["dealer_id"], "journeys": ["customer_id"],
}
OUTPUT_COLUMNS = {
    "sales": ["deal_id", "customer_id", "sold_at", "dealer_id", "vin", "vehicle_model", "condition", "finance_type",
              "price", "trade_in"],
    "service_visits": ["ro_id", "customer_id", "opened_at", "vin", "dealer_id", "pay_type", "amount", "mileage",
                       "linked_by"],
    "surveys": ["response_id", "customer_id", "survey_type", "responded_at", "score", "comment"],
    "referrals": ["referral_id", "referrer_customer_id", "referred_at", "referred_customer_id", "channel"],
    "dealers": ["dealer_id", "timezone", "name", "region"],  # empty when there is no dealers file
}
FREE_TEXT = {"comment"}
TABLE_ORDER = tuple(CONTRACT)


def kept_tables(run):
    for table, columns in OUTPUT_COLUMNS.items():
        t = run.work[table]
        run.out[table] = t.filter(t._reason.isnull()).select(*columns)
    return run


def _write(run, name, expr, folder: Path):
    if name == "surveys":  # free text is redacted on its way out (journeylib.privacy, in the engine)
        expr = expr.mutate(comment=redacted(expr.comment))
    write_parquet(run.engine, expr.order_by(SORT_KEYS[name]), folder / f"{name}.parquet")


def write_rejects(run, path: Path):
    """One row per rejected raw row: table, row, reason, detail and the raw values as JSON without the
    personal columns (free text redacted), built in the engine and written by it, in table and row order."""
    parts = []
    for table in TABLE_ORDER:
        if table not in run.work:
            continue
        t, raw = run.work[table], run.raw[table]
        columns = [c for c in run.facts["present"][table] if c not in PERSONAL_COLUMNS]
        rejected = t.filter(t._reason.notnull()).select(r_row=t[ROW], reason=t._reason, detail=t._detail)
        j = rejected.join(raw, rejected.r_row == raw[ROW])
        values = json_object(j, columns, lambda column, value: redacted(value) if column in FREE_TEXT else value)
        parts.append(j.select(table=ibis.literal(table), row=j.r_row.cast("int64"), reason=j.reason.cast("string"),
                              detail=j.detail.cast("string"), raw=values))
    rows = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
    rank = ibis.cases(*[(rows.table == name, i) for i, name in enumerate(TABLE_ORDER)], else_=len(TABLE_ORDER))
    write_parquet(run.engine, rows.order_by([rank, rows.row]), path)


def table_counts(run) -> dict:
    counts = {}
    for table in TABLE_ORDER:
        if table not in run.work:
            continue
        t = run.work[table]
        by_reason = run.con.to_pyarrow(t.group_by(reason=t._reason).agg(n=t.count())).to_pylist()
        rejected = {r["reason"]: int(r["n"]) for r in by_reason if r["reason"] is not None}
        kept = sum(int(r["n"]) for r in by_reason if r["reason"] is None)
        counts[table] = {"raw": int(run.con.execute(run.raw[table].count())), "kept": kept,
                         "rejected": dict(sorted(rejected.items()))}
    return counts


def unknown_values(run) -> dict:
    def count(t, canonical, raw):
        t = t.filter(t._reason.isnull() & (t[canonical] == UNKNOWN))
        rows = run.con.to_pyarrow(t.group_by(value=t[raw]).agg(n=t.count())).to_pylist()
        return {r["value"]: int(r["n"]) for r in rows}

    tp, refs = run.work["touchpoints"], run.work["referrals"]
    channels = count(tp, "channel", "channel_raw")
    for value, n in count(refs, "channel", "channel_raw").items():
        channels[value] = channels.get(value, 0) + n
    return {"event_type": dict(sorted(count(tp, "event_type", "event_type_raw").items())),
            "channel": dict(sorted(channels.items()))}


def cleared_values(run) -> dict:
    c = run.work["customers"]
    kept = c.filter(c._reason.isnull())
    return {
        "customers.created_at": int(run.con.execute(kept._cleared_created_at.sum().fill_null(0))),
        "customers.birth_year": int(run.con.execute((kept.birth_year_text.notnull() & kept.birth_year.isnull()).sum().fill_null(0))),
    }


LOG_SOURCES = ("referrals", "sales", "service_visits", "touchpoints")


def derived_events(counts: dict, purchases_from: str = "sales") -> dict:
    """Events in the journey log by source: the log is every kept row of these four tables (a purchase made
    from an event is in the log once, as a sale)."""
    events = {source: counts[source]["kept"] for source in LOG_SOURCES}
    if purchases_from in ("purchase_stage", "purchase_events"):
        events["touchpoints"] -= events["sales"]
    return {source: n for source, n in events.items() if n}


REJECT_EXAMPLES = 3  # the most frequent offending values named per table and reason


def reject_examples(run) -> dict:
    """Per table and reject reason, the column and the most frequent details (each naming the offending
    value; personal values are redacted where they are shown, journeylib.data_quality)."""
    out = {}
    for table in TABLE_ORDER:
        if table not in run.work:
            continue
        t = run.work[table]
        t = t.filter(t._reason.notnull())
        grouped = t.group_by(reason=t._reason, detail=t._detail).agg(n=t.count())
        ranked = grouped.mutate(_k=ibis.row_number().over(group_by=grouped.reason,
                                                          order_by=[grouped.n.desc(), grouped.detail]))
        rows = run.con.to_pyarrow(ranked.filter(ranked._k < REJECT_EXAMPLES).order_by(["reason", "_k"])).to_pylist()
        for row in rows:
            out.setdefault(table, {}).setdefault(row["reason"], []).append(
                {"detail": row["detail"] or "", "rows": int(row["n"])})
    return out


def summary(run) -> dict:
    from journeylib.prepare.values import cleared_labels

    counts = run.facts.get("counts") or table_counts(run)
    labels = cleared_labels(run)  # optional categorical spellings no vocabulary knows: kept rows, value missing
    return {
        "as_of": run.as_of.isoformat(),
        "default_timezone": run.config.default_timezone,  # the zone an as-of date is read in (journeylib.asof)
        "engine": run.engine.name,  # the engine that made the tables (both give the same)
        "inputs": dict(sorted(run.inputs.items())),
        "customers_merged": run.facts["customers_merged"],
        "unknown_values": unknown_values(run),
        "tables": counts,
        "cleared_values": {**cleared_values(run), **{k: sum(v.values()) for k, v in labels.items()}},
        "cleared_labels": labels,
        "journey_log": derived_events(counts, run.facts.get("purchases_from", "sales")),
        "absent_files": [table for table in TABLE_ORDER if table not in run.files],
        "customers_from": run.facts.get("customers_from", "customers"),
        "purchases_from": run.facts.get("purchases_from", "sales"),
        "as_of_outliers": run.facts.get("as_of_outliers"),
        "reject_examples": reject_examples(run),
        # the configured funnels, for the journey map (absent: its default funnel)
        **({"funnels": run.config.funnels} if run.config.funnels is not None else {}),
    }


def write_tables(run, folder: Path) -> dict:
    """Every processed table, rejects and summary.json into `folder` (a fresh, unpublished version)."""
    folder = Path(folder)
    kept_tables(run)
    for name in SORT_KEYS:
        _write(run, name, run.out[name], folder)
        checkpoint(f"write.{name}")
    write_rejects(run, folder / "rejects.parquet")
    result = summary(run)
    (folder / "summary.json").write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    checkpoint("write.summary")
    return result


def write(run, out) -> dict:
    """The step on its own: the tables as a new version of the processed folder `out` (no personas or
    fingerprint.json, so `journey run` on that folder prepares again)."""
    from journeylib import paths
    from journeylib.prepare import store

    with store.writing(paths.processed_root(out)) as writer, store.new_version(writer) as folder:
        return write_tables(run, folder)
