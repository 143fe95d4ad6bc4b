"""A tiny export of the six contract tables, written in any CSV dialect (tests of configuration settings).

`tiny_export(folder)` writes three customers with touchpoints, a sale, service visits and a survey; each
table may be given other rows, and written with another delimiter, encoding or gzip.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

HEADERS = {
    "customers": ["customer_id", "created_at", "email", "first_name", "last_name", "gender"],
    "touchpoints": ["event_id", "customer_id", "occurred_at", "event_type", "channel"],
    "sales": ["deal_id", "customer_id", "sold_at", "condition", "finance_type", "price"],
    "service_visits": ["ro_id", "customer_id", "opened_at", "pay_type", "amount"],
    "surveys": ["response_id", "customer_id", "survey_type", "responded_at", "score", "comment"],
    "referrals": ["referral_id", "referrer_customer_id", "referred_at"],
}
ROWS = {
    "customers": [["C1", "2024-01-02T10:00:00Z", "ann@example.com", "Ann", "Lee", "F"],
                  ["C2", "2024-01-03T10:00:00Z", "bob@example.com", "Bob", "Ray", "M"],
                  ["C3", "2024-01-04T10:00:00Z", "cy@example.com", "Cy", "Day", ""]],
    "touchpoints": [["E1", "C1", "2024-02-01T09:00:00Z", "Web Lead", "Website"],
                    ["E2", "C1", "2024-02-02T09:00:00Z", "Test Drive", "Walk-in"],
                    ["E3", "C2", "2024-02-03T09:00:00Z", "Website Visit", "Google"],
                    ["E4", "C3", "2024-02-04T09:00:00Z", "Email Sent", "Email"]],
    "sales": [["S1", "C1", "2024-03-01T12:00:00Z", "new", "lease", "32500"]],
    "service_visits": [["R1", "C1", "2024-04-01T08:00:00Z", "customer", "120.5"],
                       ["R2", "C1", "2024-04-02T08:00:00Z", "warranty", "0"]],
    "surveys": [["Q1", "C1", "sales", "2024-03-05T10:00:00Z", "9", "Great"]],
    "referrals": [],
}


def tiny_export(folder: Path, rows: dict | None = None, headers: dict | None = None, delimiter: str = ",",
                encoding: str = "utf-8", gzipped=(), config: str | None = None) -> Path:
    """Write the six tables into `folder` (created); `rows`/`headers` replace a table's defaults,
    `gzipped` names the tables written as `<table>.csv.gz`, `config` becomes `journey.yaml`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows, headers = {**ROWS, **(rows or {})}, {**HEADERS, **(headers or {})}
    for table, header in headers.items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows[table])
        data = buffer.getvalue().encode(encoding)
        if table in gzipped:
            (folder / f"{table}.csv.gz").write_bytes(gzip.compress(data))
        else:
            (folder / f"{table}.csv").write_bytes(data)
    if config is not None:
        (folder / "journey.yaml").write_text(config, encoding="utf-8")
    return folder
