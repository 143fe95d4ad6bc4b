"""Step 3: test records, one person per real customer, and every table's references remapped.

Customer records whose normalised email or phone match are one person:
connected components (A~B by email, B~C by phone => one person), found by
label propagation in the engine. The survivor is the record with the earliest
created_at (missing last), ties the smallest id.
"""

from __future__ import annotations

import ibis

from journeylib.prepare.clean import assign_reasons
from journeylib.prepare.engine import add_reason, joined, mark_duplicates, override_reason, store
from journeylib.prepare.load import ROW

MAX_ROUNDS = 100
TEST_MARK = "\x00test:"


def _content(t, columns):
    return joined([t[c] for c in columns if c in t.columns])


def _finish(run, table, t, key, stamp, what):
    """Duplicates last (among rows otherwise kept), then materialise as `final_<table>`."""
    data = [c for c in t.columns if not c.startswith("_")]
    order = [t[stamp].asc(nulls_first=False)] if stamp else []
    t = mark_duplicates(t, t[key], order + [_content(t, data), t[ROW]], what)
    return store(run.con, f"final_{table}", t)


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


def _propagate(run, nodes):
    """Each node's label becomes the smallest label reachable through shared emails or phones."""
    con = run.con
    for round_ in range(MAX_ROUNDS):
        by_email = nodes.filter(nodes.email_key.notnull()).group_by(ek=nodes.email_key).agg(le=nodes.label.min())
        by_phone = nodes.filter(nodes.phone_key.notnull()).group_by(pk=nodes.phone_key).agg(lp=nodes.label.min())
        j = nodes.left_join(by_email, nodes.email_key == by_email.ek).left_join(by_phone, nodes.phone_key == by_phone.pk)
        new = ibis.least(j.label, j.le.fill_null(j.label), j.lp.fill_null(j.label))
        step = j.select(*[c for c in nodes.columns if c != "label"], label=new)
        updated = store(con, f"id_nodes_{round_}", step)
        # labels only ever decrease, so an unchanged sum means nothing changed
        if con.execute(updated.label.sum()) == con.execute(nodes.label.sum()):
            return updated
        nodes = updated
    raise RuntimeError("identity resolution did not converge")


def resolve_people(run):
    """identity_map (source id -> surviving id) and one customers row per person."""
    c = run.work["customers"]
    kept = c.filter(c._reason.isnull())
    rank = ibis.row_number().over(order_by=[kept.created_at.asc(nulls_first=False), kept.customer_id])
    nodes = store(run.con, "id_nodes_start", kept.select("customer_id", "email_key", "phone_key", label=rank))
    nodes = _propagate(run, nodes)
    ranks = kept.select(survivor=kept.customer_id, survivor_rank=rank)
    emails = nodes.filter(nodes.email_key.notnull()).group_by(e=nodes.email_key).agg(n_email=ibis._.count())
    j = (nodes.join(ranks, nodes.label == ranks.survivor_rank)
         .left_join(emails, nodes.email_key == emails.e))
    matched = ibis.cases((j.customer_id == j.survivor, "self"), (j.n_email.fill_null(0) > 1, "email"), else_="phone")
    identity = store(run.con, 
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
    cookies = links.group_by("cookie").agg(n_people=links.person.nunique(), c_person=links.person.min())
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
    run.facts["test_ids"] = store(run.con, "test_ids", test_ids(run))
    run.work["customers"] = _customers(run)
    resolve_people(run)
    run.work["dealers"] = _dealers(run)
    run.work["sales"] = _sales(run)
    run.work["service_visits"] = _service_visits(run)
    run.work["surveys"] = _surveys(run)
    run.work["referrals"] = _referrals(run)
    run.work["touchpoints"] = _touchpoints(run)
    return run
