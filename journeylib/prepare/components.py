"""Connected components inside the engine: for engines that do not run in this process (Spark).

Nothing that grows with the data leaves the engine. Each node starts as its own parent
(labels are whole numbers); each round, for every edge whose ends have different
parents, both ends and the larger parent itself take the smaller parent (hooking the
larger tree onto the smaller), then every node jumps to its parent's parent. Parents
only go down and always name a node of the same component, so when no edge has ends
with different parents every component carries one parent: its smallest label. The
jumps halve chains, so a chain of n matches takes about log2(n) rounds, not n.
"""

from __future__ import annotations

import ibis

from journeylib.prepare.engine import store

MAX_ROUNDS = 200


def min_labels(engine, labels, edges):
    """`engine`: a journeylib.engine.Engine; `labels`: a column of node labels (ints); `edges`: a table (a, b) of labels.

    Returns a stored table (n_label, c_label): each node's smallest label in its component.
    """
    parent = store(engine, "cc_parent", labels.name("n").as_table().select("n", p=ibis._.n))
    for _ in range(MAX_ROUNDS):
        other = parent.view()
        ends = edges.join(parent, edges.a == parent.n).join(other, edges.b == other.n)
        ends = ends.select(a=edges.a, b=edges.b, pa=parent.p, pb=other.p)
        apart = ends.filter(ends.pa != ends.pb)
        if int(engine.con.execute(apart.count())) == 0:
            break
        low, high = ibis.least(apart.pa, apart.pb), ibis.greatest(apart.pa, apart.pb)
        # both ends and the larger parent itself take the smaller parent
        offers = ibis.union(apart.select(node=apart.a, low=low), apart.select(node=apart.b, low=low),
                            apart.select(node=high, low=low), distinct=False)
        best = offers.group_by("node").agg(low=offers.low.min())
        hooked = parent.left_join(best, parent.n == best.node)
        hooked = hooked.select(n=hooked.n, p=ibis.least(hooked.p, hooked.low.fill_null(hooked.p)))
        hooked = store(engine, "cc_hooked", hooked)
        up = hooked.view()
        jumped = hooked.join(up, hooked.p == up.n).select(n=hooked.n, p=up.p)
        parent = store(engine, "cc_parent", jumped)
    else:
        raise RuntimeError(f"connected components did not settle in {MAX_ROUNDS} rounds")
    return parent.select(n_label=parent.n, c_label=parent.p)
