"""dealers.csv: the dealer reference table, clean (it gets no mess)."""

from __future__ import annotations

from journeylib.sample import _spec as S
from journeylib.sample._tables import Writer, pool

MESS = ()


def build(writer: Writer) -> None:
    writer.write("dealers", {
        "dealer_id": pool(S.DEALER_IDS),
        "name": pool([d[1] for d in S.DEALERS]),
        "region": pool([d[2] for d in S.DEALERS]),
        "timezone": pool([d[3] for d in S.DEALERS]),
    })
