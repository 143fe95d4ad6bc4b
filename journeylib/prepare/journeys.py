"""Step 5: one row per customer: first touch, when each stage was reached, time to purchase."""

from __future__ import annotations

import ibis

from journeylib import STAGES
from journeylib.vocabulary import UNKNOWN

MICROSECONDS_PER_DAY = 86_400_000_000


def build_journeys(run):
    log = run.work["log"]
    counted = log.counts_for_journey
    firsts = {
        f"{stage}_at": log.occurred_at.min(where=counted & (log.stage_order >= i + 1))
        for i, stage in enumerate(STAGES)
    }
    # the first touch: the earliest event that counts for the journey (ties: smallest event_id); a window,
    # not an ordered aggregate (`first(order_by=...)`), which not every engine has
    touches = log.filter(counted)
    touches = touches.mutate(_n=ibis.row_number().over(group_by=touches.customer_id,
                                                        order_by=[touches.occurred_at, touches.event_id]))
    touches = touches.filter(touches._n == 0)
    first = touches.select(f_customer=touches.customer_id, acquisition_channel=touches.channel,
                           first_touch_dealer=touches.dealer_id)
    per_customer = log.group_by(j_customer=log.customer_id).agg(
        first_touch_at=log.occurred_at.min(where=counted),
        **firsts,
        touchpoints=log.count().cast("int32"),
        channels=log.channel.nunique(where=log.channel != UNKNOWN).cast("int32"),
        first_test_drive_at=log.occurred_at.min(where=log.event_type == "test_drive"),
        first_purchase_at=log.occurred_at.min(where=log.source == "sales"),
    )
    customers = run.out["customers"]
    j = customers.left_join(per_customer, customers.customer_id == per_customer.j_customer)
    j = j.left_join(first, j.customer_id == first.f_customer)
    furthest = ibis.cases(*[(j[f"{stage}_at"].notnull(), stage) for stage in reversed(STAGES)],
                          else_=ibis.null("string"))
    as_of = ibis.literal(run.as_of).cast("timestamp('UTC')")
    purchased = j.first_purchase_at.notnull()
    end = ibis.cases((purchased, j.first_purchase_at), else_=as_of)
    days = end.delta(j.first_touch_at, unit="microsecond")
    journeys = j.select(
        "customer_id",
        dealer_id=ibis.coalesce(j.dealer_id, j.first_touch_dealer),
        first_touch_at=j.first_touch_at,
        acquisition_channel=j.acquisition_channel,
        **{f"{stage}_at": j[f"{stage}_at"] for stage in STAGES},
        furthest_stage=furthest,
        touchpoints=j.touchpoints.fill_null(0),
        channels=j.channels.fill_null(0),
        first_test_drive_at=j.first_test_drive_at,
        first_purchase_at=j.first_purchase_at,
        purchased=purchased,
        days_to_purchase=days.cast("float64") / MICROSECONDS_PER_DAY,
        censored=~purchased,
    )
    run.out["journeys"] = journeys
    return run
