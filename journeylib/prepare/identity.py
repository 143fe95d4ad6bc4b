"""Step 3: test records, one person per real customer, and every table's references remapped.

Customer records whose normalised email or phone match are one person:
connected components (A~B by email, B~C by phone => one person): match edges
built in the engine, components found exactly by scipy. The survivor is the record with the earliest
created_at (missing last), ties the smallest id.
"""

from __future__ import annotations

import ibis

from journeylib.prepare.clean import assign_reasons
from journeylib.prepare.components import min_labels
from journeylib.prepare.engine import add_reason, joined, override_reason, store
from journeylib.prepare.load import ROW

TEST_MARK = "\x00test:"
FINAL_EXTRA = {"sales": ("_raw_customer_id",), "customers": ("_cleared_created_at",)}  # read by later steps


def _content(t, columns):
    return joined([t[c] for c in columns if c in t.columns])


def _finish(run, table, t, key, stamp, what):
    """Duplicates last (among rows otherwise kept): `run.work[table]` for the table's final state.

    The rows with every other reason are materialised as `final_<table>` (only the
    columns later steps read). Among its rows not yet rejected that share `key`,
    the first by (timestamp, content, row) stays and the others are duplicates:
    only keys seen more than once are ranked (a few percent of rows), so the
    content key is built for those alone, and the duplicates' row numbers are a
    small table (`duplicates_<table>`). The result is `final_<table>` with the
    duplicate reason joined on, an expression: each table is written once.
    """
    keep = [c for c in t.columns if not c.startswith("_") or c in (ROW, "_reason", "_detail") + FINAL_EXTRA.get(table, ())]
    base = store(run.engine, f"final_{table}", t.select(*keep))
    data = [c for c in base.columns if not c.startswith("_")]
    cand = base.filter(base._reason.isnull() & base[key].notnull())
    repeated = cand.group_by(_k=cand[key]).agg(_n=cand.count())
    repeated = store(run.engine, f"repeated_{table}", repeated.filter(repeated._n > 1).select("_k"))
    pool = cand.semi_join(repeated, cand[key] == repeated._k)
    order = ([pool[stamp].asc(nulls_first=False)] if stamp else []) + [_content(pool, data), pool[ROW]]
    ranked = pool.select(_dup_row=pool[ROW], _rank=ibis.row_number().over(group_by=pool[key], order_by=order))
    dups = store(run.engine, f"duplicates_{table}", ranked.filter(ranked._rank > 0).select("_dup_row"))
    j = base.left_join(dups, base[ROW] == dups._dup_row)
    final = j.select(*base.columns, _dup=j._dup_row.notnull())
    return add_reason(final, final._dup, "duplicate", f"same {what} as a kept row").drop("_dup")


def test_ids(run):
    c = run.work["customers"]
    return c.filter(c.is_test & c.customer_id.notnull()).select(test_id=c.customer_id).distinct()


def _customers(run):
    t = assign_reasons(run, "customers")
    tests = run.facts["test_ids"]
    t = t.left_join(tests, t.customer_id == tests.test_id).select(*t.columns, _test=tests.test_id.notnull())
    t = override_reason(t, t._test, "test_record", "customer " + t.customer_id + " is a test or internal record")
    t = t.drop("_test")
    return _finish(run, "customers", t, "customer_id", "created_at", "customer_id")


def _components(run, nodes):
    """Each node's label becomes the smallest label of its connected component.

    The engine turns shared keys into edges (each record to the first record with
    the same email key, likewise phone: a star per key, at most two edges per
    record); scipy finds the connected components of that graph exactly, however
    long a chain of matches is. Labels are the ranks 0..n-1.
    """
    import numpy as np
    import pyarrow as pa
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    parts = []
    for key in ("email_key", "phone_key"):
        keyed = nodes.filter(nodes[key].notnull())
        star = keyed.select(a=keyed.label, b=keyed.label.min().over(group_by=keyed[key]))
        parts.append(star.filter(star.a != star.b))
    if not run.engine.in_process:  # the edges would grow with the data in this process: found in the engine
        labels = min_labels(run.engine, nodes.label, store(run.engine, "id_edges", ibis.union(*parts, distinct=False)))
        j = nodes.join(labels, nodes.label == labels.n_label)
        return store(run.engine, "id_nodes", j.select(*[c for c in nodes.columns if c != "label"], label=j.c_label))
    edges = run.con.to_pyarrow(ibis.union(*parts, distinct=False))
    n = int(run.con.execute(nodes.count()))
    a = edges.column("a").to_numpy().astype(np.int64)
    b = edges.column("b").to_numpy().astype(np.int64)
    graph = coo_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(n, n)).tocsr()
    _, component = connected_components(graph, directed=False)
    # nodes in label order: the first node seen of each component is its smallest label
    _, first = np.unique(component, return_index=True)
    labels = pa.table({"n_label": pa.array(np.arange(n, dtype=np.int64)),
                       "c_label": pa.array(first[component].astype(np.int64))})
    labels = store(run.engine, "id_components", labels)
    j = nodes.join(labels, nodes.label == labels.n_label)
    return store(run.engine, "id_nodes", j.select(*[c for c in nodes.columns if c != "label"], label=j.c_label))


def resolve_people(run):
    """identity_map (source id -> surviving id) and one customers row per person."""
    c = run.work["customers"]
    kept = c.filter(c._reason.isnull())
    rank = ibis.row_number().over(order_by=[kept.created_at.asc(nulls_first=False), kept.customer_id])
    nodes = store(run.engine, "id_nodes_start", kept.select("customer_id", "email_key", "phone_key", label=rank))
    nodes = _components(run, nodes)
    ranks = kept.select(survivor=kept.customer_id, survivor_rank=rank)
    emails = nodes.filter(nodes.email_key.notnull()).group_by(e=nodes.email_key).agg(n_email=ibis._.count())
    j = (nodes.join(ranks, nodes.label == ranks.survivor_rank)
         .left_join(emails, nodes.email_key == emails.e))
    matched = ibis.cases((j.customer_id == j.survivor, "self"), (j.n_email.fill_null(0) > 1, "email"), else_="phone")
    identity = store(run.engine, 
        "identity_map",
        j.select(source_customer_id=j.customer_id, customer_id=j.survivor, matched_on=matched))
    sizes = identity.group_by(person=identity.customer_id).agg(source_ids=ibis._.count().cast("int32"))
    people = kept.join(sizes, kept.customer_id == sizes.person)
    run.out["customers"] = people.select(
        "customer_id", "created_at", "postal_code", "birth_year", "gender", "income_band", "dealer_id", "source_ids",
    )
    run.out["identity_map"] = identity
    run.facts["identity"] = identity
    run.facts["customers_merged"] = int(run.con.execute(identity.count())) - int(run.con.execute(sizes.count()))
    return identity


def _remap_column(run, t, column):
    """Map a reference column to surviving ids; returns (table with mapped `column`, raw, test flag)."""
    m, tests = run.facts["identity"], run.facts["test_ids"]
    m = m.select(_src=m.source_customer_id, _person=m.customer_id)
    j = t.left_join(m, t[column] == m._src).left_join(tests, t[column] == tests.test_id)
    return j.select(*[c for c in t.columns if c != column], **{column: j._person},
                    **{f"_raw_{column}": t[column], f"_test_{column}": j.test_id.notnull()})


def remap(run, t, column="customer_id", required=True):
    t = _remap_column(run, t, column)
    raw, test = t[f"_raw_{column}"], t[f"_test_{column}"]
    t = override_reason(t, test, "test_record", f"{column} " + raw + " is a test or internal record")
    if required:
        t = add_reason(t, raw.notnull() & t[column].isnull(), "unknown_customer", f"{column}: " + raw + " is not in customers")
    return t


def _sales(run):
    t = remap(run, assign_reasons(run, "sales")).mutate(linked_by=ibis.literal("customer_id"))
    return _finish(run, "sales", t, "deal_id", "sold_at", "deal_id")


def _service_visits(run):
    t = remap(run, assign_reasons(run, "service_visits"))
    # VIN-only rows: the customer of the latest sale of that VIN on or before the visit.
    s = run.work["sales"]
    sold = s.filter((s._reason.isnull() | (s._reason == "test_record")) & s.vin.notnull() & s.sold_at.notnull())
    sold = sold.select(s_vin=sold.vin, s_at=sold.sold_at, s_deal=sold.deal_id,
                       s_person=ibis.cases((sold._reason == "test_record", TEST_MARK + sold._raw_customer_id),
                                           else_=sold.customer_id))
    vin_only = t._raw_customer_id.isnull() & t.vin.notnull() & t.opened_at.notnull()
    cand = t.filter(vin_only).select(ROW, "vin", "opened_at")
    pairs = cand.join(sold, [cand.vin == sold.s_vin, sold.s_at <= cand.opened_at])
    pick = ibis.row_number().over(group_by=pairs[ROW], order_by=[pairs.s_at.desc(), pairs.s_deal.desc()])
    best = pairs.mutate(_pick=pick).filter(ibis._._pick == 0).select(v_row=ibis._[ROW], v_person=ibis._.s_person)
    best = store(run.engine, "vin_links", best)  # small; materialised so the visits are read once per query
    j = t.left_join(best, t[ROW] == best.v_row)
    t = j.select(*t.columns, _v_person=j.v_person)
    linked_test = t._v_person.startswith(TEST_MARK)
    t = t.mutate(
        customer_id=ibis.cases((t._raw_customer_id.isnull() & ~linked_test.fill_null(False), t._v_person),
                               else_=t.customer_id),
        linked_by=ibis.cases((t._raw_customer_id.isnull(), "vin"), else_="customer_id"),
    )
    t = override_reason(t, linked_test, "test_record", "vin " + t.vin + " was sold to a test or internal record")
    t = add_reason(t, t._raw_customer_id.isnull() & t.customer_id.isnull(), "unresolved_identity",
                   "customer_id: missing and vin " + t.vin.fill_null("") + " has no sale on or before the visit")
    return _finish(run, "service_visits", t.drop("_v_person"), "ro_id", "opened_at", "ro_id")


def _surveys(run):
    t = remap(run, assign_reasons(run, "surveys"))
    return _finish(run, "surveys", t, "response_id", "responded_at", "response_id")


def _referrals(run):
    t = remap(run, assign_reasons(run, "referrals"), "referrer_customer_id")
    t = _remap_column(run, t, "referred_customer_id")  # optional: null unless a (real) customer
    return _finish(run, "referrals", t, "referral_id", "referred_at", "referral_id")


def _touchpoints(run):
    t = remap(run, assign_reasons(run, "touchpoints"))
    # Cookies: the person(s) that rows with both ids link each anonymous_id to.
    links = t.filter(t.anonymous_id.notnull() & t._raw_customer_id.notnull()
                     & (t.customer_id.notnull() | t._test_customer_id))
    person = ibis.cases((links._test_customer_id, TEST_MARK + links._raw_customer_id), else_=links.customer_id)
    links = links.select(cookie=links.anonymous_id, person=person)
    cookies = store(run.engine, "cookies",  # small; materialised so the rows below are read once per query
                    links.group_by("cookie").agg(n_people=links.person.nunique(), c_person=links.person.min()))
    anonymous = t._raw_customer_id.isnull()
    j = t.left_join(cookies, (t.anonymous_id == cookies.cookie) & anonymous)
    t = j.select(*t.columns, _n=j.n_people.fill_null(0), _c=j.c_person)
    single = t._n == 1
    test_cookie = single & t._c.startswith(TEST_MARK)
    t = t.mutate(
        customer_id=ibis.cases((anonymous & single & ~test_cookie, t._c), else_=t.customer_id),
        linked_by=ibis.cases((anonymous, "anonymous_id"), else_="customer_id"),
    )
    t = override_reason(t, anonymous & test_cookie, "test_record",
                        "anonymous_id " + t.anonymous_id + " belongs to a test or internal record")
    t = add_reason(t, anonymous & (t._n == 0), "unresolved_identity",
                   "anonymous_id " + t.anonymous_id.fill_null("") + " is not linked to any customer")
    t = add_reason(t, anonymous & (t._n > 1), "unresolved_identity",
                   "anonymous_id " + t.anonymous_id.fill_null("") + " is linked to more than one person")
    t = t.drop("_n", "_c")
    # Raw rows without event_id get an id from their content (timestamps normalised).
    from journeylib.prepare.engine import content_id

    content = content_id([t._raw_customer_id, t.anonymous_id, t.occurred_at, t.event_type_raw, t.channel_raw,
                          t.campaign, t.dealer_id, t.vehicle_model], "tp:")
    t = t.mutate(event_id=ibis.coalesce(t.event_id, content))
    return _finish(run, "touchpoints", t, "event_id", "occurred_at", "event_id")


def _dealers(run):
    t = assign_reasons(run, "dealers")
    return _finish(run, "dealers", t, "dealer_id", None, "dealer_id")


def resolve_identities(run):
    """Test records, duplicate customers, people, then every table remapped (in dependency order)."""
    run.facts["test_ids"] = store(run.engine, "test_ids", test_ids(run))
    run.work["customers"] = _customers(run)
    resolve_people(run)
    run.work["dealers"] = _dealers(run)
    run.work["sales"] = _sales(run)
    run.work["service_visits"] = _service_visits(run)
    run.work["surveys"] = _surveys(run)
    run.work["referrals"] = _referrals(run)
    run.work["touchpoints"] = _touchpoints(run)
    return run
