"""Step 2: clean every table: missing markers, text, numbers, vocabularies and UTC timestamps.

Each table becomes `clean_<table>` in the engine: `_row`, the cleaned columns,
and the row-level problems found so far (`_missing`, `_invalid`: a detail or
null; the timestamp's cleaned text to tell unparseable from missing). Reject
reasons are assigned once the as-of date is known (`assign_reasons`).
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ibis
import pyarrow as pa

from journeylib.asof import EARLIEST
from journeylib.asof import parse_as_of as resolve_as_of  # one as-of rule everywhere (journeylib.asof)
from journeylib.config import TIMESTAMP_COLUMNS
from journeylib.prepare import timestamps
from journeylib.prepare.engine import INVISIBLE_PATTERN, ident, label, number, quoted, store, text
from journeylib.prepare.load import PRICE, ROW
from journeylib.vocabulary import UNKNOWN


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
    out = {ROW: [], "dealer_id": [], "timezone": [], "name": [], "region": [], "_missing": [], "_invalid": []}
    for row in rows:
        dealer, zone = (_text(row["dealer_id"], is_id=True), _text(row["timezone"]))
        problem = invalid = None
        if dealer is None or zone is None:
            problem = f"{'dealer_id' if dealer is None else 'timezone'}: missing"
        else:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                invalid = f"timezone: '{zone}' is not an IANA time zone"
        for key, value in ((ROW, row[ROW]), ("dealer_id", dealer), ("timezone", zone),
                           ("name", _text(row.get("name"))), ("region", _text(row.get("region"))),
                           ("_missing", problem), ("_invalid", invalid)):
            out[key].append(value)
    schema = pa.schema([(ROW, pa.int64()), ("dealer_id", pa.string()), ("timezone", pa.string()),
                        ("name", pa.string()), ("region", pa.string()),
                        ("_missing", pa.string()), ("_invalid", pa.string())])
    return store(run.engine, "clean_dealers", pa.table(out, schema=schema))


# The Python twin of the engine's INVISIBLE_PATTERN (`\x{200B}` is spelled `\u200B` in Python).
_INVISIBLE = re.compile(re.sub(r"\\x\{([0-9A-F]+)\}", lambda m: "\\u" + m.group(1).rjust(4, "0"), INVISIBLE_PATTERN))


def _text(value, is_id=False):
    """The Python twin of the engine's `text` (and, for ids, `ident`), for the few dealers rows."""
    if value is None:
        return None
    value = (_INVISIBLE.sub("", str(value)) if is_id else str(value)).strip(" \t\n\r\x0b\x0c")  # as the engine trims
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
    email = ident(r.email).lower()
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
        ROW, customer_id=ident(r.customer_id), created_at=text(r.created_at), email_key=email_key,
        phone_key=phone_key, is_test=is_test.fill_null(False), postal_code=text(r.postal_code),
        birth_year=ibis.cases(((birth >= 1900) & (birth <= 2100) & (birth == birth.floor()), birth.cast("int32")),
                              else_=ibis.null("int32")),
        birth_year_text=text(r.birth_year), gender=text(r.gender).lower(), income_band=text(r.income_band),
        dealer_id=ident(r.dealer_id),
    )
    t = _parse(run, "customers", t, "created_at")
    return t.mutate(_missing=first_problem(*missing(t, "customer_id")), _invalid=ibis.null("string"))


def _lookup_table(run, name, mapping):
    keys = sorted(mapping)
    return store(run.engine, name, pa.table({"key": keys, "canonical": [mapping[k] for k in keys]}))


def _vocabulary(column, lookup):
    """raw spelling -> canonical value (UNKNOWN when not in `lookup`, null when missing), one row per
    distinct spelling: the label is normalised once per spelling, not once per row."""
    spellings = column.name("spelling").as_table().distinct()
    keyed = spellings.mutate(key=label(text(spellings.spelling)))
    j = keyed.left_join(lookup, keyed.key == lookup.key)
    canonical = ibis.cases((j.key.notnull(), j.canonical.fill_null(UNKNOWN)), else_=ibis.null("string"))
    return j.select(v_spelling=j.spelling, v_canonical=canonical)


def _resolved(run, kind, *columns):
    """{normalised label: canonical} for `kind`; with patterns or `keep` configured, the data's distinct labels
    are resolved in Python and joined back as a small table (the same on every engine)."""
    taxonomy, keys = run.config.taxonomy, set()
    if taxonomy.needs_labels(kind):
        for column in columns:
            keys |= set(run.con.execute(label(text(column)).name("key").as_table().distinct())["key"].dropna())
    lookup = taxonomy.lookup(kind, keys)
    if kind == "event_types":
        run.facts["event_types"] = set(lookup.values())  # every canonical event type: tag_stages finds their stages
    return lookup


def _touchpoints(run, r):
    events = _lookup_table(run, "lookup_event_types", _resolved(run, "event_types", r.event_type))
    channels = _lookup_table(run, "lookup_channels", _resolved(run, "channels", r.channel, run.raw["referrals"].channel))
    t = r.select(
        ROW, event_id=ident(r.event_id), customer_id=ident(r.customer_id), anonymous_id=ident(r.anonymous_id),
        occurred_at=text(r.occurred_at), event_type_raw=r.event_type, channel_raw=r.channel,
        campaign=text(r.campaign), dealer_id=ident(r.dealer_id), vehicle_model=text(r.vehicle_model),
        # the configured purchase_price_column, read when the purchases are events
        **({f"_{PRICE}": text(r[PRICE])} if PRICE in r.columns else {}),
    )
    ev, ch = _vocabulary(r.event_type, events), _vocabulary(r.channel, channels)
    t = t.left_join(ev, t.event_type_raw == ev.v_spelling).select(*t.columns, event_type=ev.v_canonical)
    t = t.left_join(ch, t.channel_raw == ch.v_spelling).select(*t.columns, channel=ch.v_canonical)
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
        ROW, deal_id=ident(r.deal_id), customer_id=ident(r.customer_id), sold_at=text(r.sold_at),
        dealer_id=ident(r.dealer_id), vin=ident(r.vin).upper(), vehicle_model=text(r.vehicle_model),
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
            # an unknown condition or finance type is left missing, the sale kept (counted: prepare.values)
            bad_enum(t._trade_in, t.trade_in.cast("string"), "trade_in"),
        ),
    )
    return t.drop("_condition", "_finance_type", "_price", "_trade_in")


def _service_visits(run, r):
    t = r.select(
        ROW, ro_id=ident(r.ro_id), customer_id=ident(r.customer_id), opened_at=text(r.opened_at),
        vin=ident(r.vin).upper(), dealer_id=ident(r.dealer_id), pay_type=enum(text(r.pay_type), PAY_TYPES),
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
        _invalid=first_problem(*checks),  # an unknown pay type is left missing, the visit kept (prepare.values)
    )
    return t.drop("_pay_type", "_amount", "_mileage")


def _surveys(run, r):
    score = number(r.score)
    t = r.select(
        ROW, response_id=ident(r.response_id), customer_id=ident(r.customer_id),
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
        ROW, referral_id=ident(r.referral_id), referrer_customer_id=ident(r.referrer_customer_id),
        referred_at=text(r.referred_at), referred_customer_id=ident(r.referred_customer_id),
        channel_raw=text(r.channel), channel_key=label(text(r.channel)),
    )
    t = t.left_join(channels, t.channel_key == channels.key).select(*t.columns, channel=channels.canonical)
    t = t.mutate(channel=ibis.cases((t.channel_key.notnull(), t.channel.fill_null(UNKNOWN)),
                                    else_=ibis.null("string"))).drop("channel_key")
    t = _parse(run, "referrals", t, "referred_at")
    return t.mutate(
        _missing=first_problem(*missing(t, "referral_id", "referrer_customer_id", "_referred_at_text")),
        _invalid=ibis.null("string"),
    )


CLEANERS = {"customers": _customers, "touchpoints": _touchpoints, "sales": _sales,
            "service_visits": _service_visits, "surveys": _surveys, "referrals": _referrals}


CUSTOMER_REFERENCE = {"touchpoints": "customer_id", "sales": "customer_id", "service_visits": "customer_id",
                      "surveys": "customer_id", "referrals": "referrer_customer_id"}


OUTLIER_GAP = timedelta(days=30)  # future outliers lie further than this past the rest of the data
OUTLIER_SHARE = 0.001  # ... and are fewer than this share of the usable rows
OUTLIERS_LISTED = 10  # outlying rows named in summary.json


def usable_stamps(run, now, real_only=True):
    """Per table, the usable timestamps of rows that name a real customer: (table, expression of _row and `at`).

    A timestamp is usable when it parses, is from 1990 on and not later than `now`,
    and its row has no missing required value and no invalid value and is no repeated header.
    Only rows of real customers count: customers records with an id that is not a test id, and
    rows of the other tables whose `customer_id` (referrals: `referrer_customer_id`)
    is such an id as exported. Rows without a customer id (anonymous touchpoints,
    VIN-only service visits), with an unknown id or of a test customer do not count.
    Identity merging, cookies, VINs and duplicates are not looked at (they depend on
    the as-of date itself). `real_only=False`: rows of any customer id (when no row names a real customer,
    the as-of date still comes from the data, and the rejection check says why they are lost).
    """
    c = run.work["customers"]
    ids = c.filter(c.customer_id.notnull()).group_by(real_id=c.customer_id).agg(_test=c.is_test.any())
    real = ids.filter(~ids._test).select("real_id")
    for table, column in TIMESTAMP_COLUMNS.items():
        t = run.work[table]
        ok = (t[column].notnull() & (t[column] >= EARLIEST) & (t[column] <= now) & t._missing.isnull()
              & t._invalid.isnull() & ~t._header)
        t = t.filter(ok)
        key = "customer_id" if table == "customers" else CUSTOMER_REFERENCE[table]
        t = t.semi_join(real, t[key] == real.real_id) if real_only else t
        yield table, t.select(ROW, at=t[column])


def _utc(value):
    if value is None or value != value:  # NaT
        return None
    value = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def data_span(run, now, real_only=True):
    """(first, last, rows, latest rows): the usable timestamps' range and count, and the latest rows
    (table, row, at), latest first, as many as could be isolated future outliers (plus one)."""
    first = last = None
    rows, tops = 0, []
    stamps = list(usable_stamps(run, now, real_only))
    for table, t in stamps:
        got = run.con.to_pyarrow(t.aggregate(lo=t.at.min(), hi=t.at.max(), n=t.count())).to_pylist()[0]
        rows += int(got["n"])
        lo, hi = _utc(got["lo"]), _utc(got["hi"])
        first = lo if first is None or (lo is not None and lo < first) else first
        last = hi if last is None or (hi is not None and hi > last) else last
    allowed = max(0, math.ceil(rows * OUTLIER_SHARE) - 1)  # strictly fewer than the share
    if allowed:
        for table, t in stamps:
            top = run.con.to_pyarrow(t.order_by([t.at.desc(), t[ROW]]).limit(allowed + 1)).to_pylist()
            tops += [(table, int(r[ROW]), _utc(r["at"])) for r in top]
        tops.sort(key=lambda r: (r[2], r[0], -r[1]), reverse=True)
        tops = tops[: allowed + 1]
    return first, last, rows, tops


def future_outliers(tops):
    """The latest rows lying more than OUTLIER_GAP past all the others (as few as OUTLIER_SHARE allows):
    the largest such group of `tops` (latest first), and the timestamp of the latest row that stays."""
    for n in range(len(tops) - 1, 0, -1):
        if tops[n - 1][2] - tops[n][2] > OUTLIER_GAP:
            return tops[:n], tops[n][2]
    return [], None


def latest_valid(run, now):
    """The default as-of: the latest usable timestamp (usable_stamps), isolated future outliers set aside."""
    first, last, rows, tops = data_span(run, now)
    if not rows:
        first, last, rows, tops = data_span(run, now, real_only=False)
    outliers, latest = future_outliers(tops)
    if outliers:
        run.facts["as_of_outliers"] = {
            "rows": len(outliers), "latest_kept": latest.isoformat(),
            "rule": f"fewer than {OUTLIER_SHARE:.1%} of the rows, more than {OUTLIER_GAP.days} days after the rest",
            "listed": [{"table": table, "row": row, "at": at.isoformat()} for table, row, at in outliers[:OUTLIERS_LISTED]],
        }
        return latest
    return last


def mark_repeated_headers(run, table, t):
    """`_header`: the row repeats the file's header line (two exports joined with `cat`)."""
    present = run.facts.get("present", {}).get(table) or []
    if table not in run.files or run.files[table].suffix != ".csv" or not present:
        return t.mutate(_header=ibis.literal(False))
    r, mapping = run.raw[table], run.config.columns.get(table, {})
    same = ibis.literal(True)
    for column in present:
        wanted = mapping.get(column, column).strip().lower()
        same = same & (r[column].strip().lower() == wanted).fill_null(False)
    headers = r.filter(same).select(h_row=r[ROW])
    if not run.con.execute(headers.count()):
        return t.mutate(_header=ibis.literal(False))
    headers = store(run.engine, f"header_rows_{table}", headers)
    j = t.left_join(headers, t[ROW] == headers.h_row)
    return j.select(*t.columns, _header=j.h_row.notnull())


def clean(run, as_of=None, now=None):
    """Clean every table into `clean_<table>`, fill in the tables the export left out, settle the as-of date."""
    from journeylib.errors import InputError
    from journeylib.prepare.derive import derive_missing

    run.work["dealers"] = clean_dealers(run)
    run.facts["zones"] = dealer_zones(run)
    zone_names = set(run.con.execute(run.facts["zones"].zone).dropna()) | {run.config.default_timezone}
    run.facts["offsets"] = store(run.engine, "tz_offsets", timestamps.offsets_table(zone_names))
    for table, cleaner in CLEANERS.items():
        run.work[table] = store(run.engine, f"clean_{table}", mark_repeated_headers(run, table, cleaner(run, run.raw[table])))
    derive_missing(run)
    now = now or datetime.now(timezone.utc)
    if as_of is None:
        run.as_of = latest_valid(run, now)
        if run.as_of is None:  # never today's date: it would look like data
            raise InputError(f"{run.raw_dir}: no row has a usable timestamp (each is missing, does not parse, or is "
                             "before 1990), so there is no as-of date; describe the format under timestamp_formats "
                             "in the configuration, or pass --as-of")
    else:
        run.as_of = resolve_as_of(as_of, run.config.default_timezone)
        first = data_span(run, datetime(2100, 1, 1, tzinfo=timezone.utc))[0]
        if first is not None and run.as_of < first:
            raise InputError(f"--as-of: {as_of} is before all the data (the first usable timestamp is "
                             f"{first:%Y-%m-%d %H:%M} UTC); every row would be set aside")
    return run


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
    header = t._header if "_header" in t.columns else ibis.literal(False)
    stamp, raw = t[column], t[f"_{column}_text"]
    unparseable = raw.notnull() & stamp.isnull()
    out_of_range = (stamp < EARLIEST) | (stamp > run.as_of)
    if table == "customers":
        # A record created after the as-of date did not exist yet: rejected (out_of_range_timestamp).
        # An unparseable or pre-1990 created_at (an optional column) is cleared, the person kept.
        cleared = unparseable | (stamp < EARLIEST).fill_null(False)
        t = t.mutate(created_at=ibis.cases((cleared, ibis.null("timestamp('UTC')")), else_=stamp),
                     _cleared_created_at=cleared.fill_null(False), _after_as_of=(stamp > run.as_of).fill_null(False))
        unparseable = ibis.literal(False)
        out_of_range = t._after_as_of
        range_detail = f"{column}: " + quoted(raw) + " is after the as-of date"
    elif run.facts.get("as_of_outliers"):
        range_detail = ibis.cases(
            (stamp > run.as_of, f"{column}: " + quoted(raw) + " lies more than "
             f"{OUTLIER_GAP.days} days after the rest of the data (an isolated future date; "
             "pass --as-of to keep it)"),
            else_=f"{column}: " + quoted(raw) + " is before 1990")
    else:
        range_detail = f"{column}: " + quoted(raw) + " is before 1990 or after the as-of date"
    header_detail = "the row repeats the header line (two exports joined one after the other?)"
    return t.mutate(
        _reason=ibis.cases(
            (header, "invalid_value"),
            (t._missing.notnull(), "missing_required"),
            (unparseable, "unparseable_timestamp"),
            (out_of_range.fill_null(False), "out_of_range_timestamp"),
            (t._invalid.notnull(), "invalid_value"),
            else_=ibis.null("string"),
        ),
        _detail=ibis.cases(
            (header, header_detail),
            (t._missing.notnull(), t._missing),
            (unparseable, f"{column}: " + quoted(raw) + " is not a timestamp"),
            (out_of_range.fill_null(False), range_detail),
            (t._invalid.notnull(), t._invalid),
            else_=ibis.null("string"),
        ),
    )
