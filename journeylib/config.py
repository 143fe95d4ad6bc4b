"""The `journey prepare` configuration: column mapping, time zones, internal domains, taxonomy.

Looked up as the explicit path, else `<raw>/journey.yaml` when present, else
defaults. YAML (`.yaml`/`.yml`) or TOML (`.toml`). Every value is validated
and a bad one raises ConfigError with a one-line message naming the file and key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from journeylib.errors import ConfigError
from journeylib.taxonomy import Taxonomy

# The data contract: table -> (required columns, optional columns).
CONTRACT = {
    "customers": (
        ("customer_id",),
        ("created_at", "email", "phone", "first_name", "last_name", "postal_code", "birth_year", "gender",
         "income_band", "dealer_id"),
    ),
    "touchpoints": (
        ("customer_id", "occurred_at", "event_type", "channel"),
        ("event_id", "anonymous_id", "campaign", "dealer_id", "vehicle_model"),
    ),
    "sales": (
        ("deal_id", "customer_id", "sold_at"),
        ("dealer_id", "vin", "vehicle_model", "condition", "finance_type", "price", "trade_in"),
    ),
    "service_visits": (
        ("ro_id", "customer_id", "opened_at"),
        ("vin", "dealer_id", "pay_type", "amount", "mileage"),
    ),
    "surveys": (
        ("response_id", "customer_id", "survey_type", "responded_at", "score"),
        ("comment",),
    ),
    "referrals": (
        ("referral_id", "referrer_customer_id", "referred_at"),
        ("referred_customer_id", "channel"),
    ),
    "dealers": (("dealer_id", "timezone"), ("name", "region")),
}
OPTIONAL_TABLES = ("dealers",)
TIMESTAMP_COLUMNS = {
    "customers": "created_at", "touchpoints": "occurred_at", "sales": "sold_at",
    "service_visits": "opened_at", "surveys": "responded_at", "referrals": "referred_at",
}
CONFIG_FILE_NAME = "journey.yaml"
TOP_LEVEL_KEYS = ("default_timezone", "internal_domains", "columns", "timestamp_formats", "taxonomy", "engine", "spark",
                  "max_rejected_share", "purchase_events", "purchase_price_column", "csv", "values",
                  "funnels")
TAXONOMY_KEYS = ("channels", "event_types", "stages")
ENGINES = ("duckdb", "spark")
DEFAULT_ENGINE = "duckdb"
SPARK_KEYS = ("master", "conf")
DEFAULT_SPARK_MASTER = "local[*]"
# strptime directives the engine can translate into portable expressions (%b/%B: English month names).
SUPPORTED_DIRECTIVES = set("YymbBdHIMSfp%")
# How a CSV export is written: per table, or for every table at once (csv: {delimiter: ";"}).
CSV_KEYS = ("delimiter", "encoding", "decimal")
DEFAULT_CSV = {"delimiter": ",", "encoding": "utf-8", "decimal": "."}
DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
# Categorical columns whose export spellings may be mapped under `values:`: table -> column -> {canonical
# value: the spellings prepare.clean knows} (None: free text). tests/prepare/test_dialect.py checks them
# against prepare.clean's vocabularies.
CATEGORICAL = {
    "customers": {"gender": None},
    "sales": {"condition": {"new": ["new"], "used": ["used", "pre_owned", "preowned"],
                            "cpo": ["cpo", "certified", "certified_pre_owned", "certified_used"]},
              "finance_type": {"cash": ["cash"], "finance": ["finance", "financed", "loan"],
                               "lease": ["lease", "leased", "leasing"]}},
    "service_visits": {"pay_type": {"customer": ["customer", "customer_pay", "cp"], "warranty": ["warranty"],
                                    "internal": ["internal"]}},
    "surveys": {"survey_type": {"sales": ["sales", "sale"], "service": ["service"]}},
}


@dataclass(frozen=True)
class Config:
    default_timezone: str = "UTC"
    internal_domains: tuple[str, ...] = ()
    columns: dict = field(default_factory=dict)  # table -> {contract column: export column}
    timestamp_formats: dict = field(default_factory=dict)  # table -> strptime format
    taxonomy: Taxonomy = field(default_factory=Taxonomy)
    source: str | None = None  # the file it came from, for messages
    engine: str | None = None  # duckdb or spark; None: the default (duckdb) unless --engine says otherwise
    spark_master: str = DEFAULT_SPARK_MASTER
    spark_conf: dict = field(default_factory=dict)  # Spark setting -> value (text)
    max_rejected_share: float = 0.5  # a table losing more of its rows than this stops prepare (0 < x <= 1)
    purchase_events: tuple[str, ...] | None = None  # without sales: the event types (patterns allowed) that are purchases
    purchase_price_column: str | None = None  # without sales: the event log's column holding a purchase's price
    csv: dict = field(default_factory=dict)  # table -> {delimiter, encoding, decimal} (tables not named: DEFAULT_CSV)
    values: dict = field(default_factory=dict)  # table -> column -> {normalised export spelling: canonical value}
    funnels: dict | None = None  # name -> [{step, events, within_days}]; None: the journey map's default funnel

    def dialect(self, table: str) -> dict:
        """How `table`'s CSV file is written: {delimiter, encoding, decimal}."""
        return self.csv.get(table, DEFAULT_CSV)


def check_timezone(name, where: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: expected an IANA time zone name, got {name!r}")
    try:
        ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(f"{where}: unknown time zone {name!r} (expected an IANA name such as America/Chicago)")
    return name.strip()


def check_format(fmt, where: str) -> str:
    if not isinstance(fmt, str) or not fmt.strip():
        raise ConfigError(f"{where}: expected a strptime format string, got {fmt!r}")
    directives = re.findall(r"%(.)", fmt)
    unsupported = sorted({d for d in directives if d not in SUPPORTED_DIRECTIVES})
    if unsupported:
        raise ConfigError(
            f"{where}: unsupported directive(s) {', '.join('%' + d for d in unsupported)} in {fmt!r}"
            f" (supported: {' '.join('%' + d for d in sorted(SUPPORTED_DIRECTIVES))})"
        )
    if not {"Y", "y"} & set(directives) or not {"m", "b", "B"} & set(directives) or "d" not in directives:
        raise ConfigError(f"{where}: format {fmt!r} needs a year (%Y or %y), a month (%m, %b or %B) and a day (%d)")
    return fmt


def _mapping(value, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _string_map(value, where: str) -> dict[str, str]:
    out = {}
    for key, item in _mapping(value, where).items():
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(f"{where}.{key}: expected a non-empty string, got {item!r}")
        out[str(key)] = item.strip()
    return out


def _unknown(keys, allowed, where: str):
    extra = [str(k) for k in keys if k not in allowed]
    if extra:
        raise ConfigError(f"{where}: unknown key {extra[0]!r} (expected one of {', '.join(allowed)})")


def _columns(value, where: str) -> dict:
    columns = {}
    mapping = _mapping(value, where)
    _unknown(mapping, tuple(CONTRACT), where)
    for table, cols in mapping.items():
        cols = _string_map(cols, f"{where}.{table}")
        required, optional = CONTRACT[table]
        _unknown(cols, required + optional, f"{where}.{table}")
        columns[table] = cols
    return columns


def _formats(value, where: str) -> dict:
    formats = _mapping(value, where)
    _unknown(formats, tuple(TIMESTAMP_COLUMNS), where)
    return {table: check_format(fmt, f"{where}.{table}") for table, fmt in formats.items()}


def _domains(value, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, list):
        raise ConfigError(f"{where}: expected a list of domains, got {value!r}")
    domains = []
    for item in value:
        if not isinstance(item, str) or not re.fullmatch(r"[A-Za-z0-9.\-]+\.[A-Za-z0-9\-]+", item.strip().lstrip("@")):
            raise ConfigError(f"{where}: {item!r} is not a domain name")
        domains.append(item.strip().lstrip("@").lower())
    return tuple(domains)


def _taxonomy(value, where: str) -> Taxonomy:
    mapping = _mapping(value, where)
    _unknown(mapping, TAXONOMY_KEYS, where)
    parts = {key: _string_map(mapping.get(key), f"{where}.{key}") for key in TAXONOMY_KEYS}
    try:
        return Taxonomy().with_overrides(**parts)
    except ValueError as error:
        raise ConfigError(f"{where}: {str(error).removeprefix('taxonomy: ')}")


def _engine(value, where: str):
    if value is None:
        return None
    if value not in ENGINES:
        raise ConfigError(f"{where}: unknown engine {value!r} (expected one of {', '.join(ENGINES)})")
    return value


def _spark(value, where: str) -> tuple[str, dict]:
    mapping = _mapping(value, where)
    _unknown(mapping, SPARK_KEYS, where)
    master = mapping.get("master", DEFAULT_SPARK_MASTER)
    if not isinstance(master, str) or not master.strip():
        raise ConfigError(f"{where}.master: expected a Spark master such as local[*] or spark://host:7077, got {master!r}")
    conf = {}
    for key, item in _mapping(mapping.get("conf"), f"{where}.conf").items():
        if isinstance(item, (dict, list)) or item is None:
            raise ConfigError(f"{where}.conf.{key}: expected a single value, got {item!r}")
        conf[str(key)] = str(item).lower() if isinstance(item, bool) else str(item)
    return master.strip(), conf


def _funnels(value, where: str) -> dict | None:
    """`funnels:` name -> ordered steps {step, events: [patterns], within_days} (docs/journey_map.md)."""
    if value is None:
        return None
    funnels = {}
    for name, steps in _mapping(value, where).items():
        here = f"{where}.{name}"
        if not re.fullmatch(r"[A-Za-z0-9_\-]+", str(name)):
            raise ConfigError(f"{here}: a funnel name uses letters, digits, '_' and '-' only")
        if not isinstance(steps, list) or len(steps) < 2:
            raise ConfigError(f"{here}: expected a list of at least two steps, got {steps!r}")
        out = []
        for i, step in enumerate(steps):
            at = f"{here}[{i}]"
            step = _mapping(step, at)
            _unknown(step, ("step", "events", "within_days"), at)
            title = step.get("step")
            if not isinstance(title, str) or not re.fullmatch(r"[A-Za-z0-9_\-]+", title.strip()):
                raise ConfigError(f"{at}.step: expected a step name of letters, digits, '_' and '-', got {title!r}")
            if title.strip() in [s["step"] for s in out]:
                raise ConfigError(f"{at}.step: step {title.strip()!r} is named twice in funnel {name!r}")
            events = step.get("events")
            events = [events] if isinstance(events, str) else events
            if not isinstance(events, list) or not events or not all(isinstance(e, str) and e.strip() for e in events):
                raise ConfigError(f"{at}.events: expected a list of event types or patterns, got {step.get('events')!r}")
            days = step.get("within_days")
            if days is not None and (i == 0 or isinstance(days, bool) or not isinstance(days, (int, float))
                                     or not days > 0):
                raise ConfigError(f"{at}.within_days: " + ("the first step has no window" if i == 0 else
                                  f"expected a positive number of days, got {days!r}"))
            out.append({"step": title.strip(), "events": [e.strip() for e in events],
                        "within_days": None if days is None else float(days)})
        funnels[str(name)] = out
    if not funnels:
        raise ConfigError(f"{where}: expected at least one funnel")
    return funnels

def _share(value, where: str) -> float:
    if value is None:
        return 0.5
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise ConfigError(f"{where}: expected a share above 0 and at most 1 (such as 0.5), got {value!r}")
    return float(value)


def _event_names(value, where: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where}: expected a list of event types (patterns such as 'sold*' allowed), got {value!r}")
    names = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(f"{where}: expected event type names, got {item!r}")
        names.append(item.strip())
    return tuple(names)


def _column_name(value, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: expected the name of a column of the event log, got {value!r}")
    return value.strip()


def _dialect(value, where: str, base: dict) -> dict:
    mapping = _mapping(value, where)
    _unknown(mapping, CSV_KEYS, where)
    out = dict(base)
    if "delimiter" in mapping:
        delimiter = mapping["delimiter"]
        delimiter = DELIMITER_NAMES.get(delimiter, delimiter) if isinstance(delimiter, str) else delimiter
        if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n' or delimiter.isalnum():
            raise ConfigError(f"{where}.delimiter: expected one character such as ';' or a name "
                              f"({', '.join(DELIMITER_NAMES)}), got {mapping['delimiter']!r}")
        out["delimiter"] = delimiter
    if "encoding" in mapping:
        import codecs

        encoding = mapping["encoding"]
        try:
            out["encoding"] = codecs.lookup(encoding).name if isinstance(encoding, str) and encoding.strip() else None
        except LookupError:
            out["encoding"] = None
        if out["encoding"] is None:
            raise ConfigError(f"{where}.encoding: unknown encoding {encoding!r} (such as utf-8, latin-1, cp1252)")
    if "decimal" in mapping:
        if mapping["decimal"] not in (".", ","):
            raise ConfigError(f"{where}.decimal: expected '.' or ',', got {mapping['decimal']!r}")
        out["decimal"] = mapping["decimal"]
    if out["decimal"] == out["delimiter"]:
        raise ConfigError(f"{where}: the decimal mark and the delimiter are both {out['delimiter']!r}")
    return out


def _csv(value, where: str) -> dict:
    """table -> dialect; dialect keys at the top apply to every table, a table's own keys win."""
    mapping = _mapping(value, where)
    _unknown(mapping, CSV_KEYS + tuple(CONTRACT), where)
    shared = _dialect({k: v for k, v in mapping.items() if k in CSV_KEYS}, where, DEFAULT_CSV)
    out = {}
    for table in CONTRACT:
        dialect = _dialect(mapping[table], f"{where}.{table}", shared) if table in mapping else shared
        if dialect != DEFAULT_CSV:
            out[table] = dialect
    return out


def _values(value, where: str) -> dict:
    """table -> column -> {normalised export spelling: canonical value}."""
    from journeylib.taxonomy import normalise_label

    mapping = _mapping(value, where)
    _unknown(mapping, tuple(CATEGORICAL), where)
    out = {}
    for table, columns in mapping.items():
        columns = _mapping(columns, f"{where}.{table}")
        _unknown(columns, tuple(CATEGORICAL[table]), f"{where}.{table}")
        for column, spellings in columns.items():
            allowed, here = CATEGORICAL[table][column], f"{where}.{table}.{column}"
            mapped = {}
            known = {normalise_label(s): c for c, spellings_ in (allowed or {}).items() for s in [c] + spellings_}
            for raw, target in _mapping(spellings, here).items():
                canonical = target.strip() if isinstance(target, str) else None
                if allowed and canonical:
                    canonical = known.get(normalise_label(canonical))
                if not canonical:
                    expected = f"one of {', '.join(allowed)}" if allowed else "a non-empty string"
                    raise ConfigError(f"{here}: {raw!r} maps to {target!r}; expected {expected}")
                key = normalise_label(str(raw))
                if not key:
                    raise ConfigError(f"{here}: {raw!r} is not a value an export can hold")
                if key in mapped and mapped[key] != canonical:
                    raise ConfigError(f"{here}: two spellings of {key!r} map to {mapped[key]!r} and {canonical!r}")
                mapped[key] = canonical
            if mapped:
                out.setdefault(table, {})[column] = mapped
    return out


def from_dict(data, source: str | None = None) -> Config:
    """A validated Config from a parsed file (a dict); `source` prefixes messages."""
    prefix = f"{source}: " if source else ""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix}expected a mapping of settings at the top level, got {type(data).__name__}")
    _unknown(data, TOP_LEVEL_KEYS, source or "config")
    where = prefix
    spark_master, spark_conf = _spark(data.get("spark"), f"{where}spark")
    return Config(
        default_timezone=check_timezone(data.get("default_timezone", "UTC"), f"{where}default_timezone"),
        internal_domains=_domains(data.get("internal_domains"), f"{where}internal_domains"),
        columns=_columns(data.get("columns"), f"{where}columns"),
        timestamp_formats=_formats(data.get("timestamp_formats"), f"{where}timestamp_formats"),
        taxonomy=_taxonomy(data.get("taxonomy"), f"{where}taxonomy"),
        source=source,
        engine=_engine(data.get("engine"), f"{where}engine"),
        spark_master=spark_master,
        spark_conf=spark_conf,
        funnels=_funnels(data.get("funnels"), f"{where}funnels"),
        max_rejected_share=_share(data.get("max_rejected_share"), f"{where}max_rejected_share"),
        purchase_events=_event_names(data.get("purchase_events"), f"{where}purchase_events"),
        purchase_price_column=_column_name(data.get("purchase_price_column"), f"{where}purchase_price_column"),
        csv=_csv(data.get("csv"), f"{where}csv"),
        values=_values(data.get("values"), f"{where}values"),
    )


class DuplicateKey(ValueError):
    """A key given twice in one YAML mapping (plain YAML keeps the last one silently)."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """yaml.safe_load, except that a key repeated in one mapping is an error (TOML's rule too)."""


def _unique_mapping(loader, node, deep=False):
    lines = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *defaults` may be overridden on purpose
            continue
        key, line = loader.construct_object(key_node, deep=True), key_node.start_mark.line + 1
        try:
            if key in lines:
                where = f"lines {lines[key]} and {line}" if lines[key] != line else f"line {line}"
                raise DuplicateKey(f"key {key!r} is given twice ({where}); keep one")
            lines[key] = line
        except TypeError:  # an unhashable key: SafeLoader reports it
            continue
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def read_file(path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read configuration ({error.__class__.__name__})")
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        try:
            return yaml.load(text, Loader=_UniqueKeyLoader)
        except DuplicateKey as error:
            raise ConfigError(f"{path}: {error}")
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = f" at line {mark.line + 1}" if mark is not None else ""
            problem = getattr(error, "problem", None) or "invalid YAML"
            raise ConfigError(f"{path}: invalid YAML{line}: {problem}")
    if suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: invalid TOML: {error}")
    raise ConfigError(f"{path}: unknown configuration format {suffix!r} (use .yaml, .yml or .toml)")


def load_config(config=None, raw=None) -> Config:
    """The explicit file, else `<raw>/journey.yaml` if present, else defaults."""
    if isinstance(config, Config):
        return config
    if config not in (None, ""):
        path = Path(config).expanduser()
    elif raw is not None and (Path(raw) / CONFIG_FILE_NAME).is_file():
        path = Path(raw) / CONFIG_FILE_NAME
    else:
        return Config()
    return from_dict(read_file(path), source=str(path))
