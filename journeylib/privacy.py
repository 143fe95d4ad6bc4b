"""Keeping personal data out of processed tables and reports."""

from __future__ import annotations

import re

# Columns used for identity resolution and then dropped everywhere.
PERSONAL_COLUMNS = ("first_name", "last_name", "email", "phone")

EMAIL_PATTERN = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"
# 7+ digits with optional separators, brackets and a leading +: phone-shaped runs.
PHONE_PATTERN = r"\+?\(?\d[\d\s().\-]{5,}\d"

_EMAIL = re.compile(EMAIL_PATTERN)
_PHONE = re.compile(PHONE_PATTERN)


def redact(text):
    """Free text with email addresses and phone numbers replaced by [email] and [phone]."""
    if text is None:
        return None
    text = _EMAIL.sub("[email]", str(text))
    return _PHONE.sub(lambda m: "[phone]" if sum(c.isdigit() for c in m.group()) >= 7 else m.group(), text)
