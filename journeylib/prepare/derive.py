"""Tables an export may leave out, made from the tables it has (docs/prepare.md, "An event log is enough").

- No sales file: the purchases are events of the event log, those of the purchase stage or exactly the
  event types named by `purchase_events` (patterns allowed); `price` from `purchase_price_column`.
- No customers file: the customers are the distinct ids of the other tables, each created at their first
  usable row.

Both are built from the cleaned tables (`clean_<table>`) into the cleaned shape of the missing table, with
a raw twin (`run.raw`) so rows are accounted for and rejects name their values like any export's.
"""

from __future__ import annotations

import ibis

from journeylib.prepare.clean import EARLIEST, TIMESTAMP_COLUMNS, first_problem
from journeylib.prepare.engine import as_text, content_id, number, quoted, store
from journeylib.prepare.load import PRICE, ROW
from journeylib.taxonomy import matches_any
from journeylib.vocabulary import CUSTOMER_RULES, PURCHASE_RULES  # noqa: F401 - where they came from, in words

# The tables whose ids make customers when there is no customers file, with the column naming the customer.
ID_COLUMNS = {"touchpoints": "customer_id", "sales": "customer_id", "service_visits": "customer_id",
              "surveys": "customer_id", "referrals": "referrer_customer_id"}


def purchase_types(run) -> list[str]:
    """The canonical event types whose events are purchases (without a sales export)."""
    t = run.work["touchpoints"]
    types = [e for e in run.con.execute(t.select(e=t.event_type).distinct())["e"].dropna()]
    if run.config.purchase_events:
        return sorted(e for e in types if matches_any(e, run.config.purchase_events))
    return sorted(e for e in types if run.config.taxonomy.stage(e) == "purchase")


def sales_from_events(run):
    """The cleaned and raw sales tables made from the event log's purchase events; the deal id is the
    event's id (as identity resolution gives it), so a repeated event is one purchase."""
    tp, raw_tp = run.work["touchpoints"], run.raw["touchpoints"]
    picked = tp.filter(tp.event_type.isin(purchase_types(run) or [""]))
    deal = ibis.coalesce(picked.event_id, content_id(
        [picked.customer_id, picked.anonymous_id, picked.occurred_at, picked.event_type_raw, picked.channel_raw,
         picked.campaign, picked.dealer_id, picked.vehicle_model], "tp:"))
    price_text = picked[f"_{PRICE}"] if f"_{PRICE}" in picked.columns else ibis.null("string")
    price = number(price_text)
    none = ibis.null("string")
    sales = picked.select(
        ROW, deal_id=deal, customer_id=picked.customer_id, dealer_id=picked.dealer_id, vin=none,
        vehicle_model=picked.vehicle_model, condition=none, finance_type=none, price=price,
        trade_in=ibis.null("boolean"), sold_at=picked.occurred_at, _sold_at_text=picked._occurred_at_text,
        _missing=ibis.coalesce(picked._missing, first_problem(
            (picked.customer_id.isnull(), ibis.literal("customer_id: missing (a purchase needs a known customer)")))),
        _invalid=first_problem(
            (price_text.notnull() & price.isnull(), f"{PRICE}: " + quoted(price_text) + " is not a number"),
            (price < 0, f"{PRICE}: " + quoted(price_text) + " is negative")),
        _header=picked._header,
        # read by the journey log: the purchase keeps its event's channel and raw labels
        channel=picked.channel, event_type_raw=picked.event_type_raw.cast("string"),
        channel_raw=picked.channel_raw.cast("string"),
    )
    sales = store(run.engine, "clean_sales", sales)
    raw = raw_tp.semi_join(sales, raw_tp[ROW] == sales[ROW])
    raw = raw.select(ROW, deal_id=raw.event_id, customer_id=raw.customer_id, sold_at=raw.occurred_at,
                     dealer_id=raw.dealer_id, vehicle_model=raw.vehicle_model, event_type=raw.event_type,
                     channel=raw.channel, price=raw[PRICE] if PRICE in raw.columns else none)
    present = ["customer_id", "sold_at", "dealer_id", "vehicle_model", "event_type", "channel"]
    present += ["price"] if PRICE in raw_tp.columns else []
    return sales, store(run.engine, "raw_sales", raw), present


def customers_from_ids(run):
    """The cleaned and raw customers tables made from the ids of the other tables: one customer per id
    with a usable row (a timestamp that parses, no missing or invalid value), created at the first one."""
    parts = []
    for table, column in ID_COLUMNS.items():
        t, stamp = run.work[table], TIMESTAMP_COLUMNS[table]
        usable = (t[column].notnull() & t[stamp].notnull() & (t[stamp] >= EARLIEST) & t._missing.isnull()
                  & t._invalid.isnull() & ~t._header)
        t = t.filter(usable)
        parts.append(t.select(d_id=t[column], d_at=t[stamp]))
    ids = ibis.union(*parts, distinct=False)
    ids = ids.group_by("d_id").agg(d_at=ids.d_at.min())
    ids = ids.mutate(**{ROW: ibis.row_number().over(order_by=[ids.d_at, ids.d_id]) + 1})
    ids = store(run.engine, "derived_customer_ids", ids)
    none = ibis.null("string")
    customers = ids.select(
        ROW, customer_id=ids.d_id, email_key=none, phone_key=none, is_test=ibis.literal(False),
        postal_code=none, birth_year=ibis.null("int32"), birth_year_text=none, gender=none, income_band=none,
        dealer_id=none, created_at=ids.d_at, _created_at_text=as_text(ids.d_at), _missing=none, _invalid=none,
        _header=ibis.literal(False),
    )
    raw = ids.select(ROW, customer_id=ids.d_id, created_at=as_text(ids.d_at))
    raw = raw.mutate(**{c: none for c in ("email", "phone", "first_name", "last_name", "postal_code", "birth_year",
                                          "gender", "income_band", "dealer_id")})
    return store(run.engine, "clean_customers", customers), store(run.engine, "raw_customers", raw), ["customer_id",
                                                                                               "created_at"]


def derive_missing(run):
    """Fill in the tables the export left out (after cleaning, before the as-of date is settled)."""
    if "sales" in run.files:
        run.facts["purchases_from"] = "sales"
    elif "touchpoints" in run.files:
        run.facts["purchases_from"] = "purchase_events" if run.config.purchase_events else "purchase_stage"
        run.work["sales"], run.raw["sales"], run.facts["present"]["sales"] = sales_from_events(run)
    else:
        run.facts["purchases_from"] = "none"
    if "customers" in run.files:
        run.facts["customers_from"] = "customers"
    else:
        run.facts["customers_from"] = "derived"
        run.work["customers"], run.raw["customers"], run.facts["present"]["customers"] = customers_from_ids(run)
    return run
