"""Keeping personal data out of processed tables and reports.

`redact` runs on survey comments and on error text shown in reports and logs, so
it must be linear in the length of the text (one long value must not stall a
run) and must not eat what is not personal data: ISO dates and timestamps, ids
(`C1234567`, `tp:1234567...`, VINs) and decimal numbers stay as they are.
Linear: every pattern below is anchored at the start of a run (a lookbehind),
consumes the run with possessive quantifiers (no backtracking) and is tried at
most once per run; the email domain is checked on that one run only.
"""

from __future__ import annotations

import re

# Columns used for identity resolution and then dropped everywhere.
PERSONAL_COLUMNS = ("first_name", "last_name", "email", "phone")

# The email shape (kept for callers that look for addresses, e.g. journeylib.retention.at_risk).
EMAIL_PATTERN = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"

_LOCAL = r"A-Za-z0-9._%+\-"
# A local part from the start of its run, then '@': the domain is checked separately (`_DOMAIN`).
_EMAIL_START = re.compile(rf"(?<![{_LOCAL}])[{_LOCAL}]++@")
# Anchored at the '@'; on one run of domain characters its backtracking is linear (nothing follows it).
_DOMAIN = re.compile(r"[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")

# Shapes that look like phone numbers but are not, kept as they are: ISO dates and timestamps
# (2024-06-05, 2024-06-05T23:59:00.123456, 2024.06.05), day-first or month-first dates with a
# four-digit year (05.06.2024, 06-05-2024), clock times (23:59:00.123456), one digit, a point
# and more digits (0.1234567, 3.14159265), and the digit runs of _NUMBERS below.
_DATE = (r"(?:(?:19|20)\d\d[-.](?:0[1-9]|1[0-2])[-.](?:0[1-9]|[12]\d|3[01])"
         r"|(?:0?[1-9]|[12]\d|3[01])[-.](?:0?[1-9]|[12]\d|3[01])[-.](?:19|20)\d\d)(?!\d)")
_TIME = r"\d\d:\d\d(?::\d\d(?:[.,]\d++)?)?+"
# Whole runs of digits that are not phone numbers: a basic ISO date (20240625), epoch seconds (ten digits
# from 1; no North American area code starts with 1) and a ZIP+4 code (60614-1234). Each must end the run
# (no digit, nor a separator and a digit, after it): `20240625 1234` may still be a phone number.
_RUN_END = r"(?!\d)(?![\s().\-]\d)"
_NUMBERS = (rf"(?:(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])|1\d{{9}}|\d{{5}}-\d{{4}}){_RUN_END}")
_DECIMAL = r"\d\.\d++(?![.\-]\d)"
# A phone: digits with separators between them (spaces, brackets, '.', '-'), optional leading + and (,
# stopping before a date that follows a separator. It starts where a run starts: not glued to a
# word character and not inside a joined id (`a456-426614174000`, `runs/20261130`, `v1.2345678`).
_SEPARATORS = r"[\s().\-]"
_PHONE = rf"\+?\(?\d(?:{_SEPARATORS}++(?!{_DATE})\d|\d)*+"
_SHAPES = re.compile(rf"(?<!\w)(?<!\w[-./])(?:(?P<kept>{_DATE}(?:[Tt ]{_TIME})?+|{_TIME}|{_DECIMAL}|{_NUMBERS})|(?P<phone>{_PHONE}))")
_GLUED = re.compile(r"(?!x\d|ext)\w")  # a word character right after the digits: part of an id
PHONE_MIN_DIGITS = 7


def _phone(match: re.Match) -> str:
    text = match.group()
    if match.group("phone") is None or _GLUED.match(match.string, match.end()):
        return text
    return "[phone]" if sum(c.isdigit() for c in text) >= PHONE_MIN_DIGITS else text


def _redact_emails(text: str) -> str:
    parts, last = [], 0
    for start in _EMAIL_START.finditer(text):
        if start.start() < last:  # inside the previous address's domain
            continue
        domain = _DOMAIN.match(text, start.end())
        if domain:
            parts += [text[last:start.start()], "[email]"]
            last = domain.end()
    return "".join(parts) + text[last:] if parts else text


def redact(text):
    """Free text with email addresses and phone numbers replaced by [email] and [phone]."""
    if text is None:
        return None
    return _SHAPES.sub(_phone, _redact_emails(str(text)))


def check_shareable(table, allowed, what: str) -> None:
    """The guard of every list a run hands to the people who call: the allowed columns only, ids that are not emails.

    Raises ValueError before anything is written (at-risk buyers, the service and lead lists).
    """
    unexpected = set(table.columns) - set(allowed)
    if unexpected:
        raise ValueError(f"the {what} holds ids and scores only, not {sorted(unexpected)}")
    ids = table["customer_id"].astype(str)
    ids = ids[ids.str.contains("@", regex=False)]  # an address has an '@': the pattern only runs on those (fast)
    if ids.str.contains(EMAIL_PATTERN, regex=True).any():
        raise ValueError(f"customer ids look like email addresses: map the export's customer_id to a "
                         f"non-personal id before sharing the {what}")


def write_shareable(table, run_dir, name: str, allowed, what: str):
    """Write a list for the people who call into the run folder (CSV, or Parquet for a `.parquet` name), after
    `check_shareable`; nothing outside a run (`run_dir` None or empty). Returns the path, or None."""
    from pathlib import Path

    if run_dir in (None, ""):
        return None
    check_shareable(table, allowed, what)
    path = Path(run_dir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        table.to_parquet(path, index=False)
    else:
        table.to_csv(path, index=False)
    return path
