"""The attribution chain built journey by journey: the reference the aggregated form is checked against
(tests/journey_map/test_attribution.py) and the "before" of benchmarks/bench_journey_map.py.

The engine walks every customer's collapsed steps forwards and backwards; journeylib builds the same
chain from distinct paths with counts (journeylib.journey_map.attribution).
"""

from __future__ import annotations

import pandas as pd

from journeylib.journey_map import attribution
from journeylib.journey_map.engine import collapsed, order


def backwards(t):
    """`order` reversed: a customer's last event first."""
    return [t.occurred_at.desc(), t.event_id.desc()]


def per_journey_transitions(touches) -> pd.DataFrame:
    """The chain built journey by journey (the engine walks every customer's collapsed steps): the reference."""
    import ibis

    steps = collapsed(touches, "channel")
    forward = ibis.window(group_by=steps.customer_id, order_by=order(steps))
    back = ibis.window(group_by=steps.customer_id, order_by=backwards(steps))
    steps = steps.mutate(_from=steps.channel.lag().over(forward).fill_null(attribution.START),
                         _is_last=ibis.row_number().over(back) == 0)
    moves = steps.select(from_state=steps._from, to_state=steps.channel)
    ends = steps.filter(steps._is_last).select(
        from_state=steps.channel, to_state=ibis.ifelse(steps.bought, attribution.CONVERSION, attribution.NULL))
    both = moves.union(ends)
    return both.group_by(["from_state", "to_state"]).aggregate(count=both.count()).to_pandas()


def per_journey_first_last(touches) -> pd.DataFrame:
    import ibis

    b = touches.filter(touches.bought)
    b = b.mutate(_pos=ibis.row_number().over(ibis.window(group_by=b.customer_id, order_by=order(b))),
                 _back=ibis.row_number().over(ibis.window(group_by=b.customer_id, order_by=backwards(b))))
    out = b.group_by("channel").aggregate(first_touch=(b._pos == 0).cast("int64").sum(),
                                          last_touch=(b._back == 0).cast("int64").sum()).to_pandas()
    return out.set_index("channel").astype("float64").sort_index()
