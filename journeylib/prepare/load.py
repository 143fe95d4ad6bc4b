"""Step 1: find the raw exports, check their columns, read them (CSV as text) into the engine."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import ibis
import pyarrow as pa

from journeylib.config import CONTRACT, OPTIONAL_TABLES, Config
from journeylib.digest import sha256
from journeylib.errors import InputError
from journeylib.prepare.connection import read_raw
from journeylib.prepare.engine import store

ROW = "_row"  # 1-based data row in the raw file (the header is not counted)


@dataclass
class Run:
    """Everything a prepare run builds, step by step; inspect any table with `.to_pandas()`."""

    con: object
    config: Config
    raw_dir: Path
    files: dict = field(default_factory=dict)      # table -> Path
    inputs: dict = field(default_factory=dict)     # file name -> sha256
    raw: dict = field(default_factory=dict)        # table -> ibis table: _row + contract columns as exported
    work: dict = field(default_factory=dict)       # table -> cleaned ibis table with _reason/_detail
    out: dict = field(default_factory=dict)        # processed table name -> ibis expression
    as_of: object = None                           # datetime (UTC)
    facts: dict = field(default_factory=dict)      # counts for the summary


def find_files(raw_dir: Path) -> dict:
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise InputError(f"{raw_dir}: raw exports folder not found")
    files = {}
    for table in CONTRACT:
        found = [raw_dir / f"{table}.{ext}" for ext in ("csv", "parquet") if (raw_dir / f"{table}.{ext}").is_file()]
        if len(found) > 1:
            raise InputError(f"{raw_dir}: both {found[0].name} and {found[1].name} exist; keep one")
        if found:
            files[table] = found[0]
        elif table not in OPTIONAL_TABLES:
            raise InputError(f"{raw_dir / (table + '.csv')}: required file not found (expected {table}.csv or {table}.parquet)")
    return files


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
                raise InputError(f"{path}: not UTF-8 text (bad byte at line {decoder_line}); re-export as UTF-8")
            decoder_line += block.count(b"\n")


def _open(con, path: Path):
    try:
        if path.suffix == ".csv" and path.stat().st_size == 0:
            raise InputError(f"{path}: empty file (no header row)")
        return read_raw(con, path)  # the engine's reader: CSV as text, plus the exact raw row number ROW
    except InputError:
        raise
    except Exception as error:  # engine errors: unreadable, malformed, wrong encoding
        if path.suffix == ".csv":
            _check_utf8(path)
        first = str(error).strip().splitlines()[0] if str(error).strip() else error.__class__.__name__
        raise InputError(f"{path}: cannot read ({first})")


def _match(headers, wanted: str):
    if wanted in headers:
        return wanted
    folded = {h.strip().lower(): h for h in headers}
    return folded.get(wanted.strip().lower())


def read_table(con, table: str, path: Path, config: Config):
    """The raw table in the engine: `_row` plus each contract column as text, as exported."""
    source = _open(con, path)
    mapping = config.columns.get(table, {})
    required, optional = CONTRACT[table]
    columns, present = {}, []
    for column in required + optional:
        wanted = mapping.get(column, column)
        header = _match([c for c in source.columns if c != ROW], wanted)
        if header is None and column in required:
            named = f"'{wanted}' (mapped to {column})" if wanted != column else f"'{column}'"
            raise InputError(f"{path}: required column {named} not found")
        columns[column] = source[header].cast("string") if header is not None else ibis.null("string")
        if header is not None:
            present.append(column)
    expr = source.select(**{ROW: source[ROW]}, **columns)
    try:
        return store(con, f"raw_{table}", expr), present
    except Exception as error:
        if path.suffix == ".csv":
            _check_utf8(path)  # a clearer message when the encoding is the cause
        first = str(error).strip().splitlines()[0]
        raise InputError(f"{path}: cannot read ({first})")


def empty_table(con, table: str):
    """An optional table whose file is absent: `_row` plus every contract column, no rows."""
    required, optional = CONTRACT[table]
    schema = pa.schema([(ROW, pa.int64())] + [(c, pa.string()) for c in required + optional])
    return store(con, f"raw_{table}", schema.empty_table())


def load(raw=None, config=None, con=None, work_dir=None) -> Run:
    """Find and read every raw export; hash them for the summary (in a thread, while reading)."""
    from journeylib import paths
    from journeylib.config import load_config
    from journeylib.prepare.connection import connect

    raw_dir = paths.raw_dir(raw)
    config = load_config(config, raw_dir)
    files = find_files(raw_dir)
    if con is None:
        import tempfile

        con = connect(config.engine, Path(work_dir or tempfile.mkdtemp(prefix="journey-prepare-")), config=config)
    run = Run(con=con, config=config, raw_dir=raw_dir, files=files)
    hashed = [path for path in files.values()]
    if config.source:
        hashed.append(Path(config.source))
    with ThreadPoolExecutor(max_workers=1) as pool:
        digests = pool.map(sha256, hashed)
        for table, path in files.items():
            run.raw[table], run.facts.setdefault("present", {})[table] = read_table(con, table, path, config)
        for table in OPTIONAL_TABLES:  # an absent optional file is an empty table: every step treats it alike
            if table not in files:
                run.raw[table], run.facts["present"][table] = empty_table(con, table), []
        run.inputs = {_input_name(path, raw_dir): digest for path, digest in zip(hashed, digests)}
    return run


def _input_name(path: Path, raw_dir: Path) -> str:
    path = Path(path).resolve()
    return path.name if path.parent == Path(raw_dir).resolve() else str(path)
