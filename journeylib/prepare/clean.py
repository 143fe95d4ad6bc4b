"""Step 2: clean every table: missing markers, text, numbers, vocabularies and UTC timestamps.

Each table becomes `clean_<table>` in the engine: `_row`, the cleaned columns,
and the row-level problems found so far (`_missing`, `_invalid`: a detail or
null; the timestamp's cleaned text to tell unparseable from missing). Reject
reasons are assigned once the as-of date is known (`assign_reasons`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ibis
import pyarrow as pa

from journeylib.config import TIMESTAMP_COLUMNS
from journeylib.prepare import timestamps
from journeylib.prepare.engine import label, number, quoted, store, text
from journeylib.prepare.load import ROW

EARLIEST = datetime(1990, 1, 1, tzinfo=timezone.utc)

CONDITIONS = {"new": ["new"], "used": ["used", "pre_owned", "preowned"],
              "cpo": ["cpo", "certified", "certified_pre_owned", "certified_used"]}
FINANCE_TYPES = {"cash": ["cash"], "finance": ["finance", "financed", "loan"], "lease": ["lease", "leased", "leasing"]}
PAY_TYPES = {"customer": ["customer", "customer_pay", "cp"], "warranty": ["warranty"], "internal": ["internal"]}
SURVEY_TYPES = {"sales": ["sales", "sale"], "service": ["service"]}
BOOLEANS = {True: ["true", "yes", "y", "1", "t"], False: ["false", "no", "n", "0", "f"]}


def enum(value, synonyms: dict):
    key = label(value)
    return ibis.cases(*[(key.isin(raws), ibis.literal(canon)) for canon, raws in synonyms.items()],
                      else_=ibis.null("string"))


def boolean(value):
    key = label(value)
    return ibis.cases((key.isin(BOOLEANS[True]), True), (key.isin(BOOLEANS[False]), False), else_=ibis.null("boolean"))


def first_problem(*checks):
    """The detail of the first check that holds, else null: checks are (condition, detail expr)."""
    return ibis.cases(*[(cond.fill_null(False), detail) for cond, detail in checks], else_=ibis.null("string"))


def missing(table, *columns):
    return [(table[c].isnull(), ibis.literal(f"{c.removeprefix('_').removesuffix('_text')}: missing")) for c in columns]


def bad_enum(raw, clean, column):
    return (raw.notnull() & clean.isnull(), ibis.literal(f"{column}: ") + quoted(raw) + " is not a known value")


def clean_dealers(run):
    """Dealers are few: validated in Python (IANA zones), then handed to the engine."""
    rows = run.raw["dealers"].to_pyarrow().to_pylist() if "dealers" in run.raw else []
    out = {ROW: [], "dealer_id": [], "timezone": [], "_missing": [], "_invalid": []}
    for row in rows:
        dealer, zone = (_text(row["dealer_id"]), _text(row["timezone"]))
        problem = invalid = None
        if dealer is None or zone is None:
            problem = f"{'dealer_id' if dealer is None else 'timezone'}: missing"
        else:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                invalid = f"timezone: '{zone}' is not an IANA time zone"
        for key, value in ((ROW, row[ROW]), ("dealer_id", dealer), ("timezone", zone),
                           ("_missing", problem), ("_invalid", invalid)):
            out[key].append(value)
    schema = pa.schema([(ROW, pa.int64()), ("dealer_id", pa.string()), ("timezone", pa.string()),
                        ("_missing", pa.string()), ("_invalid", pa.string())])
    return store(run.con, "clean_dealers", pa.table(out, schema=schema))


def _text(value):
    if value is None:
        return None
    value = str(value).strip()
    return None if value.upper() in ("", "NULL", "N/A") else value


def dealer_zones(run):
    """dealer_id -> zone for valid dealers (the first row of a repeated dealer_id by content)."""
    d = run.work["dealers"]
    valid = d.filter(d._missing.isnull() & d._invalid.isnull())
    return valid.group_by(zone_dealer=valid.dealer_id).agg(zone=valid.timezone.min())


def _parse(run, table, t, column):
    zones = run.facts["zones"]
    default = ibis.literal(run.config.default_timezone)
    if "dealer_id" in t.columns:
        t = t.left_join(zones, t.dealer_id == zones.zone_dealer).select(*t.columns, zone=zones.zone)
        zone = ibis.coalesce(t.zone, default)
    else:
        zone = default
    fmt = run.config.timestamp_formats.get(table)
    parsed = timestamps.parse_column(t, column, zone, run.facts["offsets"], fmt)
    return parsed.drop("zone") if "zone" in parsed.columns else parsed


def _customers(run, r):
    email = text(r.email).lower()
    domain = email.re_extract(r"@([^@\s]+)$", 1).nullif("")
    domains = list(run.config.internal_domains)
    internal = ibis.literal(False)
    for d in domains:
        internal = internal | (domain == d) | domain.endswith("." + d)
    phone_digits = text(r.phone).re_replace(r"[^0-9]", "")
    phone_key = ibis.cases((phone_digits.length() >= 7, phone_digits.right(10)), else_=ibis.null("string"))
    email_key = ibis.cases((email.re_search(r"^[^@\s]+@[^@\s]+$"), email), else_=ibis.null("string"))
    is_test = (label(text(r.first_name)) == "test") | (label(text(r.last_name)) == "test") | internal
    birth = number(r.birth_year)
    t = r.select(
        ROW, customer_id=text(r.customer_id), created_at=text(r.created_at), email_key=email_key,
        phone_key=phone_key, is_test=is_test.fill_null(False), postal_code=text(r.postal_code),
        birth_year=ibis.cases(((birth >= 1900) & (birth <= 2100) & (birth == birth.floor()), birth.cast("int32")),
                              else_=ibis.null("int32")),
        birth_year_text=text(r.birth_year), gender=text(r.gender).lower(), income_band=text(r.income_band),
        dealer_id=text(r.dealer_id),
    )
    t = _parse(run, "customers", t, "created_at")
    return t.mutate(_missing=first_problem(*missing(t, "customer_id")), _invalid=ibis.null("string"))


def _lookup_table(run, name, mapping):
    keys = sorted(mapping)
    return store(run.con, name, pa.table({"key": keys, "canonical": [mapping[k] for k in keys]}))


def _touchpoints(run, r):
    events = _lookup_table(run, "lookup_event_types", run.config.taxonomy.event_lookup)
    channels = _lookup_table(run, "lookup_channels", run.config.taxonomy.channel_lookup)
    t = r.select(
        ROW, event_id=text(r.event_id), customer_id=text(r.customer_id), anonymous_id=text(r.anonymous_id),
        occurred_at=text(r.occurred_at), event_type_raw=r.event_type, channel_raw=r.channel,
        event_key=label(text(r.event_type)), channel_key=label(text(r.channel)),
        campaign=text(r.campaign), dealer_id=text(r.dealer_id), vehicle_model=text(r.vehicle_model),
    )
    t = t.left_join(events, t.event_key == events.key).select(*t.columns, event_type=events.canonical)
    t = t.left_join(channels, t.channel_key == channels.key).select(*t.columns, channel=channels.canonical)
    t = t.mutate(
        event_type=ibis.cases((t.event_key.notnull(), t.event_type.fill_null("unknown")), else_=ibis.null("string")),
        channel=ibis.cases((t.channel_key.notnull(), t.channel.fill_null("unknown")), else_=ibis.null("string")),
    ).drop("event_key", "channel_key")
    t = _parse(run, "touchpoints", t, "occurred_at")
    return t.mutate(
        _missing=first_problem(
            *missing(t, "_occurred_at_text", "event_type", "channel"),
            (t.customer_id.isnull() & t.anonymous_id.isnull(), ibis.literal("customer_id: missing (and no anonymous_id)")),
        ),
        _invalid=ibis.null("string"),
    )


def _sales(run, r):
    price = number(r.price)
    t = r.select(
        ROW, deal_id=text(r.deal_id), customer_id=text(r.customer_id), sold_at=text(r.sold_at),
        dealer_id=text(r.dealer_id), vin=text(r.vin).upper(), vehicle_model=text(r.vehicle_model),
        condition=enum(text(r.condition), CONDITIONS), finance_type=enum(text(r.finance_type), FINANCE_TYPES),
        price=price, trade_in=boolean(text(r.trade_in)),
        _condition=text(r.condition), _finance_type=text(r.finance_type), _price=text(r.price),
        _trade_in=text(r.trade_in),
    )
    t = _parse(run, "sales", t, "sold_at")
    t = t.mutate(
        _missing=first_problem(*missing(t, "deal_id", "customer_id", "_sold_at_text")),
        _invalid=first_problem(
            (t._price.notnull() & t.price.isnull(), "price: " + quoted(t._price) + " is not a number"),
            (t.price < 0, "price: " + quoted(t._price) + " is negative"),
            bad_enum(t._condition, t.condition, "condition"),
            bad_enum(t._finance_type, t.finance_type, "finance_type"),
            bad_enum(t._trade_in, t.trade_in.cast("string"), "trade_in"),
        ),
    )
    return t.drop("_condition", "_finance_type", "_price", "_trade_in")


def _service_visits(run, r):
    t = r.select(
        ROW, ro_id=text(r.ro_id), customer_id=text(r.customer_id), opened_at=text(r.opened_at),
        vin=text(r.vin).upper(), dealer_id=text(r.dealer_id), pay_type=enum(text(r.pay_type), PAY_TYPES),
        amount=number(r.amount), mileage=number(r.mileage),
        _pay_type=text(r.pay_type), _amount=text(r.amount), _mileage=text(r.mileage),
    )
    t = _parse(run, "service_visits", t, "opened_at")
    checks = []
    for column in ("amount", "mileage"):
        raw = t[f"_{column}"]
        checks += [(raw.notnull() & t[column].isnull(), f"{column}: " + quoted(raw) + " is not a number"),
                   (t[column] < 0, f"{column}: " + quoted(raw) + " is negative")]
    t = t.mutate(
        _missing=first_problem(
            *missing(t, "ro_id", "_opened_at_text"),
            (t.customer_id.isnull() & t.vin.isnull(), ibis.literal("customer_id: missing (and no vin)")),
        ),
        _invalid=first_problem(*checks, bad_enum(t._pay_type, t.pay_type, "pay_type")),
    )
    return t.drop("_pay_type", "_amount", "_mileage")


def _surveys(run, r):
    score = number(r.score)
    t = r.select(
        ROW, response_id=text(r.response_id), customer_id=text(r.customer_id),
        survey_type=enum(text(r.survey_type), SURVEY_TYPES), responded_at=text(r.responded_at),
        score=ibis.cases(((score >= 0) & (score <= 10) & (score == score.floor()), score.cast("int8")),
                         else_=ibis.null("int8")),
        comment=r.comment, _survey_type=text(r.survey_type), _score=text(r.score),
    )
    t = t.mutate(comment=ibis.cases((text(t.comment).isnull(), ibis.null("string")), else_=t.comment))
    t = _parse(run, "surveys", t, "responded_at")
    t = t.mutate(
        _missing=first_problem(*missing(t, "response_id", "customer_id", "_survey_type", "_responded_at_text", "_score")),
        _invalid=first_problem(
            (t.score.isnull(), "score: " + quoted(t._score) + " is not a whole number from 0 to 10"),
            bad_enum(t._survey_type, t.survey_type, "survey_type"),
        ),
    )
    return t.drop("_survey_type", "_score")


def _referrals(run, r):
    channels = run.con.table("lookup_channels")
    t = r.select(
        ROW, referral_id=text(r.referral_id), referrer_customer_id=text(r.referrer_customer_id),
        referred_at=text(r.referred_at), referred_customer_id=text(r.referred_customer_id),
        channel_raw=text(r.channel), channel_key=label(text(r.channel)),
    )
    t = t.left_join(channels, t.channel_key == channels.key).select(*t.columns, channel=channels.canonical)
    t = t.mutate(channel=ibis.cases((t.channel_key.notnull(), t.channel.fill_null("unknown")),
                                    else_=ibis.null("string"))).drop("channel_key")
    t = _parse(run, "referrals", t, "referred_at")
    return t.mutate(
        _missing=first_problem(*missing(t, "referral_id", "referrer_customer_id", "_referred_at_text")),
        _invalid=ibis.null("string"),
    )


CLEANERS = {"customers": _customers, "touchpoints": _touchpoints, "sales": _sales,
            "service_visits": _service_visits, "surveys": _surveys, "referrals": _referrals}


def latest_valid(run, now):
    """The default as-of: the latest timestamp that parses, is from 1990 on and not in the future."""
    latest = None
    for table, column in TIMESTAMP_COLUMNS.items():
        t = run.work[table]
        ok = t[column].notnull() & (t[column] >= EARLIEST) & (t[column] <= now)
        value = run.con.execute(t[column].max(where=ok))
        if value is not None and not (value != value):  # NaT
            value = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
            value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
            latest = value if latest is None or value > latest else latest
    return latest


def clean(run, as_of=None, now=None):
    """Clean every table into `clean_<table>`, then settle the as-of date."""
    run.work["dealers"] = clean_dealers(run)
    run.facts["zones"] = dealer_zones(run)
    zone_names = set(run.con.execute(run.facts["zones"].zone).dropna()) | {run.config.default_timezone}
    run.facts["offsets"] = store(run.con, "tz_offsets", timestamps.offsets_table(zone_names))
    for table, cleaner in CLEANERS.items():
        run.work[table] = store(run.con, f"clean_{table}", cleaner(run, run.raw[table]))
    now = now or datetime.now(timezone.utc)
    run.as_of = resolve_as_of(as_of, run.config.default_timezone) if as_of is not None else latest_valid(run, now)
    if run.as_of is None:
        run.as_of = now.replace(microsecond=0)
    return run


def resolve_as_of(value, default_zone: str) -> datetime:
    """--as-of: an ISO timestamp (naive = default zone) or a date (the end of that local day)."""
    from journeylib.errors import InputError
    import pandas as pd

    if isinstance(value, datetime):
        stamp = pd.Timestamp(value)
    else:
        try:
            stamp = pd.Timestamp(str(value).strip())
        except (ValueError, TypeError):
            raise InputError(f"--as-of: {value!r} is not an ISO date or timestamp")
        if len(str(value).strip()) == 10:  # a date: everything on that local day is included
            stamp = stamp + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    if stamp is pd.NaT:
        raise InputError(f"--as-of: {value!r} is not an ISO date or timestamp")
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(default_zone, ambiguous=True, nonexistent="shift_forward")
    return stamp.tz_convert("UTC").to_pydatetime()


def assign_reasons(run, table):
    """The row-level reason, in order: missing_required, unparseable_timestamp, out_of_range_timestamp, invalid_value."""
    t = run.work[table]
    if table == "dealers":
        return t.mutate(
            _reason=ibis.cases((t._missing.notnull(), "missing_required"), (t._invalid.notnull(), "invalid_value"),
                               else_=ibis.null("string")),
            _detail=ibis.coalesce(t._missing, t._invalid),
        )
    column = TIMESTAMP_COLUMNS[table]
    stamp, raw = t[column], t[f"_{column}_text"]
    unparseable = raw.notnull() & stamp.isnull()
    out_of_range = (stamp < EARLIEST) | (stamp > run.as_of)
    if table == "customers":  # identity data, not an event: a bad created_at is cleared, the person kept
        cleared = unparseable | out_of_range.fill_null(False)
        t = t.mutate(created_at=ibis.cases((cleared, ibis.null("timestamp('UTC')")), else_=stamp),
                     _cleared_created_at=cleared.fill_null(False))
        unparseable = out_of_range = ibis.literal(False)
    return t.mutate(
        _reason=ibis.cases(
            (t._missing.notnull(), "missing_required"),
            (unparseable, "unparseable_timestamp"),
            (out_of_range.fill_null(False), "out_of_range_timestamp"),
            (t._invalid.notnull(), "invalid_value"),
            else_=ibis.null("string"),
        ),
        _detail=ibis.cases(
            (t._missing.notnull(), t._missing),
            (unparseable, f"{column}: " + quoted(raw) + " is not a timestamp"),
            (out_of_range.fill_null(False), f"{column}: " + quoted(raw) + " is before 1990 or after the as-of date"),
            (t._invalid.notnull(), t._invalid),
            else_=ibis.null("string"),
        ),
    )
