"""Step 1: find the raw exports, check their columns, read them (CSV as text) into the engine."""

from __future__ import annotations

import csv
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import ibis
import pyarrow as pa

from journeylib.config import CONTRACT, Config
from journeylib.digest import sha256
from journeylib.engine.state import Engine
from journeylib.errors import InputError
from journeylib.prepare import dialect as dialects
from journeylib.engine.files import MAX_LINE_BYTES, read_raw
from journeylib.prepare.engine import label, store, text

ROW = "_row"  # 1-based data row in the raw file (the header is not counted)
PRICE = "purchase_price"  # the configured purchase_price_column of the event log, read as this column
OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}
QUOTE_PROBLEM = 'a quoted value is not closed properly (unbalanced ")'
ENCODING_ADVICE = "name the file's encoding under csv: in the configuration (such as encoding: latin-1)"


@dataclass
class Run:
    """Everything a prepare run builds, step by step; inspect any table with `.to_pandas()`."""

    engine: Engine                                 # journeylib.engine: the connection and its state
    config: Config
    raw_dir: Path
    files: dict = field(default_factory=dict)      # table -> Path
    inputs: dict = field(default_factory=dict)     # file name -> sha256
    raw: dict = field(default_factory=dict)        # table -> ibis table: _row + contract columns as exported
    work: dict = field(default_factory=dict)       # table -> cleaned ibis table with _reason/_detail
    out: dict = field(default_factory=dict)        # processed table name -> ibis expression
    as_of: object = None                           # datetime (UTC)
    facts: dict = field(default_factory=dict)      # counts for the summary

    @property
    def con(self):
        """The Ibis connection the steps query."""
        return self.engine.con


EXTENSIONS = ("csv", "csv.gz", "parquet")  # the file types read, in the order messages name them
# Files an export is often saved as instead: what to do with each.
SAVE_AS = {".xlsx": "save it as CSV (UTF-8) or Parquet", ".xls": "save it as CSV (UTF-8) or Parquet",
           ".xlsm": "save it as CSV (UTF-8) or Parquet", ".ods": "save it as CSV (UTF-8) or Parquet",
           ".numbers": "save it as CSV (UTF-8) or Parquet",
           ".tsv": "rename it {table}.csv and set csv: {{{table}: {{delimiter: tab}}}} in the configuration",
           ".txt": "rename it {table}.csv (and name its delimiter under csv: in the configuration)",
           ".zip": "unzip it (a single gzip-compressed {table}.csv.gz is read as it is)"}


def find_files(raw_dir: Path) -> dict:
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise InputError(f"{raw_dir}: raw exports folder not found")
    files = {}
    for table in CONTRACT:
        found = [raw_dir / f"{table}.{ext}" for ext in EXTENSIONS if (raw_dir / f"{table}.{ext}").is_file()]
        if len(found) > 1:
            raise InputError(f"{raw_dir}: both {found[0].name} and {found[1].name} exist; keep one")
        if found:
            files[table] = found[0]
        else:
            line = not_found(raw_dir, table)
            if line != missing_line(raw_dir, table):  # there under another name or form: say so, never treat it as absent
                raise InputError(line)
    if not {"touchpoints", "sales"} & set(files):  # every other table may be absent (docs/prepare.md)
        raise InputError(f"{raw_dir / 'touchpoints.csv'}: required file not found (an export needs an event log, "
                         f"touchpoints.csv or .parquet, or sales.csv or .parquet)")
    return files


def missing_line(raw_dir: Path, table: str) -> str:
    """The one line for a table whose file is not there at all."""
    expected = ", ".join(f"{table}.{ext}" for ext in EXTENSIONS[:-1]) + f" or {table}.{EXTENSIONS[-1]}"
    return f"{raw_dir / (table + '.csv')}: required file not found (expected {expected})"


def not_found(raw_dir: Path, table: str) -> str:
    """The one line for a table whose file is missing, naming what is there instead (if anything)."""
    expected = ", ".join(f"{table}.{ext}" for ext in EXTENSIONS[:-1]) + f" or {table}.{EXTENSIONS[-1]}"
    line = missing_line(raw_dir, table)
    for ext in EXTENSIONS:  # a link to nothing, or a folder, under the expected name
        path = raw_dir / f"{table}.{ext}"
        if path.is_symlink() and not path.exists():
            return f"{line}; {path.name} is a broken symbolic link (its target {os.readlink(path)} does not exist)"
        if path.is_dir():
            return f"{line}; {path.name} is a folder, not a file"
    others = sorted(p for p in raw_dir.iterdir() if p.name.lower().split(".")[0] == table and not p.name.startswith("."))
    for path in others:
        suffix = "".join(path.suffixes[-1:]).lower()
        if path.name.lower() in (f"{table}.{ext}" for ext in EXTENSIONS):
            return f"{line}; found {path.name}: rename it {table}.{path.name.split('.', 1)[1].lower()} (names are lower case)"
        advice = SAVE_AS.get(suffix, f"expected {expected}").format(table=table)
        return f"{line}; found {path.name}: {advice}"
    return line


def unreadable_file(path: Path, error: OSError) -> InputError:
    """One line for a file the operating system will not let us read (permissions, a vanished file)."""
    reason = (error.strerror or error.__class__.__name__).lower()
    return InputError(f"{path}: cannot read the file ({reason}); check that it exists and is readable")


def check_readable(path: Path):
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as error:
        raise unreadable_file(path, error)


def _check_utf8(path: Path):
    """CSV must be UTF-8: find the first bad byte's line for the message (cheap streaming check)."""
    decoder_line = 1
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as error:
                decoder_line += block[: error.start].count(b"\n")
                raise InputError(f"{path}: not UTF-8 text (bad byte at line {decoder_line}); {ENCODING_ADVICE}")
            decoder_line += block.count(b"\n")


@contextmanager
def _csv_records(path: Path):
    """The file's CSV records as Python's reader sees them (comma, double quote, strict quoting)."""
    limit = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)  # long values are measured against MAX_LINE_BYTES, not refused here
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            yield csv.reader(handle, delimiter=",", quotechar='"', doublequote=True, strict=True)
    finally:
        csv.field_size_limit(limit)


def csv_header(path: Path) -> list[str]:
    """The header row of a CSV file: its column names in order (a quoted name may hold a comma)."""
    try:
        with _csv_records(path) as records:
            header = next(records, None)
    except UnicodeDecodeError:
        _check_utf8(path)
        raise
    except csv.Error:
        raise InputError(f"{path}: line 1 (the header): {QUOTE_PROBLEM}")
    if not header:
        raise InputError(f"{path}: line 1 is empty (expected the header row)")
    return header


def csv_problem(path: Path, width: int) -> str | None:
    """'line N: what is wrong' for the first malformed record, or None if Python's reader finds none.

    N is the file line where the record starts (the header is line 1). Run only after the
    engine failed to read the file: it reads the whole file once (linear).
    """
    line = 1
    try:
        with _csv_records(path) as records:
            for record in records:
                size = sum(len(value.encode("utf-8")) for value in record) + len(record)
                if line > 1 and record and len(record) != width:
                    return f"line {line}: {len(record)} values, but the header has {width} columns"
                if size > MAX_LINE_BYTES:
                    return f"line {line}: the row is longer than {MAX_LINE_BYTES:,} bytes (the longest row read)"
                line = records.line_num + 1
    except UnicodeDecodeError:
        return None  # _check_utf8 reports it
    except csv.Error:
        return f"line {line}: {QUOTE_PROBLEM}"
    return None


def _unreadable(path: Path, error: Exception, width: int | None = None) -> InputError:
    """The one-line error for a file the engine cannot read: the encoding, else the malformed line."""
    if path.suffix == ".csv":
        _check_utf8(path)
        problem = csv_problem(path, width) if width else None
        if problem:
            return InputError(f"{path}: malformed CSV at {problem}")
    # the engine's first line names the line where it has one ("CSV Error on Line: 12"), never the row's content
    first = str(error).strip().splitlines()[0] if str(error).strip() else error.__class__.__name__
    return InputError(f"{path}: cannot read ({first})")


def _open(engine, path: Path, width: int | None = None):
    """The file in the engine; a CSV is read by position (`c0`, `c1`, ...) with `width` text columns."""
    try:
        return read_raw(engine, path, width)  # the engine's reader: text by position, plus the raw row ROW
    except Exception as error:  # engine errors: unreadable, malformed, wrong encoding
        raise _unreadable(path, error, width)


def _headers(path: Path) -> list[str]:
    """Column names in file order, duplicates included (the engine would rename them)."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            return pq.read_schema(str(path)).names
        except Exception as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else error.__class__.__name__
            raise InputError(f"{path}: cannot read ({first})")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: empty file (no header row)")
    return csv_header(path)


def _match(headers, wanted: str, path: Path):
    """The position of `wanted` among the headers: exactly, else ignoring case and surrounding spaces.

    Two headers that match equally (`email` twice, or `Email` and ` EMAIL ` without an exact
    `email`) are an error: using either would be a guess.
    """
    for same in (lambda h: h == wanted, lambda h: h.strip().lower() == wanted.strip().lower()):
        found = [i for i, header in enumerate(headers) if same(header)]
        if len(found) > 1:
            names = " and ".join(f"{headers[i]!r} (column {i + 1})" for i in found[:2])
            raise InputError(f"{path}: column '{wanted}' is in the header more than once: {names}; "
                             f"keep one, or rename one and map it under columns:")
        if found:
            return found[0]
    return None


def _delimiter_hint(path: Path, headers, wanted: str) -> str:
    """When the header splits on another delimiter into a header that has `wanted`, say so."""
    if path.suffix == ".parquet":
        return ""
    line = ",".join(headers)
    for delimiter, name in OTHER_DELIMITERS.items():
        fields = next(csv.reader([line], delimiter=delimiter), [])
        if len(fields) > 1 and any(f.strip().lower() == wanted.strip().lower() for f in fields):
            return (f"; the header looks {name}-separated: name its delimiter in the configuration "
                    f"(csv: {{{path.name.split('.')[0]}: {{delimiter: {'tab' if delimiter == chr(9) else repr(delimiter)}}}}})")
    return ""


# Numeric text columns: with `decimal: ","` their `1.234,5` is read as 1234.5.
NUMERIC = {"customers": ("birth_year",), "sales": ("price",), "service_visits": ("amount", "mileage"),
           "surveys": ("score",)}


def read_table(engine, table: str, path: Path, config: Config, work: Path | None = None):
    """The raw table in the engine: `_row` plus each contract column as text, as exported (after the
    configured `values:` spellings and decimal mark).

    A gzip-compressed CSV, or one with another delimiter or encoding, is first rewritten as a plain CSV in
    `work` (dialect.rewrite); messages still name `path`.
    """
    check_readable(path)
    dialect = config.dialect(table)
    source = path
    if path.suffix != ".parquet" and dialects.needs_rewrite(path, dialect):
        source = dialects.rewrite(path, dialect, Path(work or tempfile.mkdtemp(prefix="journey-csv-")) / f"{table}.csv")
    try:
        return _read_table(engine, table, source, config, path)
    except InputError as error:  # a message about the rewritten file names the export
        raise InputError(str(error).replace(str(source), str(path))) if source != path else error


def _read_table(engine, table: str, path: Path, config: Config, shown: Path):
    headers = _headers(path)
    mapping = config.columns.get(table, {})
    required, optional = CONTRACT[table]
    positions = {}
    wanted_columns = required + optional
    if table == "touchpoints" and config.purchase_price_column:  # a purchase's price, when sales are events
        wanted_columns += (PRICE,)
        mapping = {**mapping, PRICE: config.purchase_price_column}
    for column in wanted_columns:
        wanted = mapping.get(column, column)
        position = _match(headers, wanted, path)
        if position is None and column in required:
            named = f"'{wanted}' (mapped to {column})" if wanted != column else f"'{column}'"
            raise InputError(f"{path}: required column {named} not found{_delimiter_hint(shown, headers, wanted)}")
        positions[column] = position
    source = _open(engine, path, len(headers))
    names = [name for name in source.columns if name != ROW]  # in file order, as `headers`
    columns = {column: source[names[i]].cast("string") if i is not None else ibis.null("string")
               for column, i in positions.items()}
    if config.dialect(table)["decimal"] == ",":
        for column in NUMERIC.get(table, ()):
            columns[column] = columns[column].replace(".", "").replace(",", ".")
    for column, spellings in config.values.get(table, {}).items():
        key = label(text(columns[column]))
        columns[column] = ibis.cases(*[(key == raw, ibis.literal(canonical)) for raw, canonical in spellings.items()],
                                     else_=columns[column])
    present = [column for column, i in positions.items() if i is not None]
    expr = source.select(**{ROW: source[ROW]}, **columns)
    try:
        return store(engine, f"raw_{table}", expr, file_order=ROW), present
    except Exception as error:
        raise _unreadable(path, error, len(headers))


def empty_table(engine, table: str):
    """An optional table whose file is absent: `_row` plus every contract column, no rows."""
    required, optional = CONTRACT[table]
    schema = pa.schema([(ROW, pa.int64())] + [(c, pa.string()) for c in required + optional])
    return store(engine, f"raw_{table}", schema.empty_table())


def load(raw=None, config=None, engine=None, work_dir=None) -> Run:
    """Find and read every raw export; hash them for the summary (in a thread, while reading)."""
    from journeylib import paths
    from journeylib.config import load_config
    from journeylib.engine.connection import connect

    raw_dir = paths.raw_dir(raw)
    config = load_config(config, raw_dir)
    files = find_files(raw_dir)
    if engine is None:
        engine = connect(config.engine, Path(work_dir or tempfile.mkdtemp(prefix="journey-prepare-")), config=config)
    run = Run(engine=engine, config=config, raw_dir=raw_dir, files=files)
    hashed = [path for path in files.values()]
    if config.source:
        hashed.append(Path(config.source))
    for path in hashed:
        check_readable(path)
    with ThreadPoolExecutor(max_workers=1) as pool, tempfile.TemporaryDirectory(prefix="journey-csv-") as work:
        digests = pool.map(sha256, hashed)
        for table, path in files.items():
            run.raw[table], run.facts.setdefault("present", {})[table] = read_table(engine, table, path, config,
                                                                                     Path(work))
        for table in CONTRACT:  # an absent file is an empty table: every step treats it alike
            if table not in files:
                run.raw[table], run.facts["present"][table] = empty_table(engine, table), []
        run.inputs = {_input_name(path, raw_dir): digest for path, digest in zip(hashed, digests)}
    return run


def _input_name(path: Path, raw_dir: Path) -> str:
    path = Path(path).resolve()
    return path.name if path.parent == Path(raw_dir).resolve() else str(path)
