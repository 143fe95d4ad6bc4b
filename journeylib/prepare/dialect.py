"""Exports as they come: a gzip-compressed CSV, another delimiter or another encoding (configuration `csv:`).

Such a file is rewritten once, record by record, into the plain CSV the engines read (UTF-8, comma, `"`
quotes): the same records in the same order, so row numbers, messages and every later rule are those of a
plain export. Its problems (a bad byte, a quote left open, a ragged row) are found here and named by the
original file and line.
"""

from __future__ import annotations

import csv
import gzip
import zlib
from pathlib import Path

from journeylib.config import DEFAULT_CSV
from journeylib.errors import InputError
from journeylib.engine.files import MAX_LINE_BYTES

QUOTE_PROBLEM = 'a quoted value is not closed properly (unbalanced ")'
UTF8 = ("utf-8", "utf_8")


def is_gzip(path: Path) -> bool:
    return Path(path).name.lower().endswith(".gz")


def needs_rewrite(path: Path, dialect: dict) -> bool:
    return is_gzip(path) or dialect["delimiter"] != DEFAULT_CSV["delimiter"] or dialect["encoding"] not in UTF8


def rewrite(path: Path, dialect: dict, target: Path) -> Path:
    """`path` (as `dialect` describes it, gzip or not) as a plain UTF-8 comma-separated CSV at `target`."""
    path, target = Path(path), Path(target)
    if dialect["delimiter"] == DEFAULT_CSV["delimiter"] and dialect["encoding"] in UTF8:
        return _decompress(path, target)  # byte for byte: the engine's checks and line numbers apply as they are
    encoding = "utf-8-sig" if dialect["encoding"] in UTF8 else dialect["encoding"]
    opener = gzip.open if is_gzip(path) else open
    line = 1
    limit = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)  # long values are measured against MAX_LINE_BYTES, not refused here
    try:
        with opener(path, "rt", encoding=encoding, newline="") as source, \
                open(target, "w", encoding="utf-8", newline="") as out:
            records = csv.reader(source, delimiter=dialect["delimiter"], quotechar='"', doublequote=True, strict=True)
            writer = csv.writer(out, lineterminator="\n")
            width = None
            long = MAX_LINE_BYTES // 4  # characters: below it a row cannot exceed the limit in UTF-8 bytes
            for record in records:
                if record:
                    if width is None:
                        width = len(record)
                    elif len(record) != width:
                        raise InputError(f"{path}: malformed CSV at line {line}: {len(record)} values, "
                                         f"but the header has {width} columns")
                    if sum(map(len, record)) > long and \
                            sum(len(value.encode("utf-8")) for value in record) + len(record) > MAX_LINE_BYTES:
                        raise InputError(f"{path}: malformed CSV at line {line}: the row is longer than "
                                         f"{MAX_LINE_BYTES:,} bytes (the longest row read)")
                    writer.writerow(record)
                line = records.line_num + 1
            if width is None:
                raise InputError(f"{path}: empty file (no header row)")
    except UnicodeDecodeError:
        name = "UTF-8" if dialect["encoding"] in UTF8 else dialect["encoding"]
        raise InputError(f"{path}: not {name} text (bad byte at line {_bad_line(path, encoding)}); "
                         "name the file's encoding under csv: in the configuration (such as encoding: latin-1)")
    except csv.Error:
        raise InputError(f"{path}: malformed CSV at line {line}: {QUOTE_PROBLEM}")
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise InputError(f"{path}: not a readable gzip file ({str(error) or error.__class__.__name__})")
    finally:
        csv.field_size_limit(limit)
    return target


def _decompress(path: Path, target: Path) -> Path:
    import shutil

    try:
        with gzip.open(path, "rb") as source, open(target, "wb") as out:
            shutil.copyfileobj(source, out, 1 << 22)
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise InputError(f"{path}: not a readable gzip file ({str(error) or error.__class__.__name__})")
    return target


def _bad_line(path: Path, encoding: str) -> int:
    """The file line of the first byte `encoding` cannot decode (the text reader decodes ahead in blocks)."""
    import codecs

    decoder, line = codecs.getincrementaldecoder(encoding)(), 1
    with (gzip.open if is_gzip(path) else open)(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as error:
                return line + block[: error.start].count(b"\n")
            line += block.count(b"\n")
    return line
