"""Step 4: the journey log: raw touchpoints plus events derived from sales, service visits and referrals,
each tagged with its stage and whether it counts for the journey."""

from __future__ import annotations

import ibis
import pyarrow as pa

from journeylib import STAGES
from journeylib.prepare.engine import store

LOG_COLUMNS = ("event_id", "customer_id", "occurred_at", "event_type", "event_type_raw", "channel", "channel_raw",
               "source", "linked_by", "dealer_id", "campaign", "vehicle_model")


def kept(t):
    return t.filter(t._reason.isnull())


def _derived(t, event_id, occurred_at, event_type, channel, source, dealer_id, vehicle_model, customer_id="customer_id",
             event_type_raw=None, channel_raw=None):
    none = ibis.null("string")
    return t.select(
        event_id=event_id, customer_id=t[customer_id], occurred_at=t[occurred_at], event_type=ibis.literal(event_type),
        event_type_raw=none if event_type_raw is None else event_type_raw, channel=channel,
        channel_raw=none if channel_raw is None else channel_raw, source=ibis.literal(source),
        linked_by=t.linked_by if "linked_by" in t.columns else ibis.literal("customer_id"),
        dealer_id=dealer_id, campaign=none, vehicle_model=vehicle_model,
    )


def from_events(run) -> bool:
    """Whether the purchases were made from the event log (there is no sales export)."""
    return run.facts.get("purchases_from") in ("purchase_stage", "purchase_events")


def journey_log(run):
    """Every event of every kept customer, one schema."""
    tp, sales = kept(run.work["touchpoints"]), kept(run.work["sales"])
    visits, refs = kept(run.work["service_visits"]), kept(run.work["referrals"])
    none = ibis.null("string")
    if from_events(run):  # a purchase event is in the log once, as the purchase, with its own channel and labels
        tp = tp.anti_join(sales, tp.event_id == sales.deal_id)
        purchase = _derived(sales, "sale:" + sales.deal_id, "sold_at", "purchase", sales.channel, "sales",
                            sales.dealer_id, sales.vehicle_model, event_type_raw=sales.event_type_raw,
                            channel_raw=sales.channel_raw)
    else:
        purchase = _derived(sales, "sale:" + sales.deal_id, "sold_at", "purchase", ibis.literal("walk_in"), "sales",
                            sales.dealer_id, sales.vehicle_model)
    parts = [
        tp.select(*LOG_COLUMNS[:7], source=ibis.literal("touchpoints"), linked_by=tp.linked_by,
                  dealer_id=tp.dealer_id, campaign=tp.campaign, vehicle_model=tp.vehicle_model),
        purchase,
        _derived(visits, "ro:" + visits.ro_id, "opened_at", "service_visit", ibis.literal("walk_in"),
                 "service_visits", visits.dealer_id, none),
        _derived(refs, "ref:" + refs.referral_id, "referred_at", "referral_made", refs.channel.fill_null("referral"),
                 "referrals", none, none, customer_id="referrer_customer_id"),
    ]
    return ibis.union(*parts, distinct=False)


def stage_table(run):
    stages = run.config.taxonomy.stage_map(run.facts.get("event_types", ()))  # patterns resolved, e.g. {"*": ...}
    names = sorted(stages)
    return store(run.engine, "event_stages", pa.table({
        "s_event": names, "stage": [stages[n] for n in names],
        "stage_order": pa.array([STAGES.index(stages[n]) + 1 for n in names], pa.int8()),
    }))


def tag_stages(run):
    """Stage of each event; retention/advocacy count only from the first sale on."""
    log = journey_log(run)
    stages = stage_table(run)
    tagged = log.left_join(stages, log.event_type == stages.s_event).select(*log.columns, "stage", "stage_order")
    # a purchase is a row of sales (the contract), not a CRM label: the log's events from sales
    sales = kept(run.work["sales"])
    firsts = sales.group_by(fp_customer=sales.customer_id).agg(first_purchase_at=sales.sold_at.min())
    j = tagged.left_join(firsts, tagged.customer_id == firsts.fp_customer)
    counts = ibis.cases(
        (j.stage_order.isnull(), False),
        (j.stage_order <= 3, True),
        else_=(j.occurred_at >= j.first_purchase_at).fill_null(False),
    )
    columns = [c for c in tagged.columns]
    log = j.select(*columns, counts_for_journey=counts)
    # Not materialised: its two readers (journeys and touchpoints.parquet) each take one pass,
    # cheaper than writing it to the engine and reading it back.
    run.work["log"] = log
    t = run.work["log"]
    run.out["touchpoints"] = t.select(
        "event_id", "customer_id", "occurred_at", "event_type", "event_type_raw", "channel", "channel_raw",
        "stage", "stage_order", "counts_for_journey", "source", "linked_by", "dealer_id", "campaign", "vehicle_model",
    )
    return run
