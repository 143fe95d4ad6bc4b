"""The long tail every real export has, planted on top of the simulated world.

A few leads whose first touch comes through a rare channel (`sms`, `other`)
or through a label the default taxonomy does not know (`Waze`, `Nextdoor ad`),
and one small dealer with a handful of leads. None of them buys, so a model
that gives every level its own term meets levels with no events: the default
run exercises the pooling of sparse levels (issue 11).

The tail is appended to the written files after everything else, with its own
random stream derived from the seed, so the simulated people, their mess and
every other truth stay exactly what they were; `add_to_truth` adds the tail's
persons to the counts a correct cleaning must find and records it under
`long_tail`.
"""

from __future__ import annotations

import csv

import numpy as np

from journeylib.sample import _spec as S

STREAM = 20251130  # the tail's own random stream: np.random.default_rng([seed, STREAM])
# first-touch label -> canonical channel (None: unknown to the taxonomy), leads per label
RARE_LEADS = (("SMS", "sms", 2), ("Text message", "sms", 2), ("Other", "other", 2),
              ("Waze", "unknown", 2), ("Nextdoor ad", "unknown", 1))
SMALL_DEALER = {"dealer_id": "D07", "name": "Lakeview Motors", "region": "Midwest", "timezone": "America/Chicago"}
SMALL_DEALER_LEADS = (("Dealer Website", "website", 3), ("Google Ads", "search", 2))
FIRST_DAY = np.datetime64("2025-07-15T00:00:00", "s")  # within the last year: purchase_share_365 unchanged
LAST_DAY = np.datetime64("2026-05-31T00:00:00", "s")


def _stamp(moment: np.datetime64) -> str:
    return str(moment.astype("datetime64[s]")) + "Z"


def _append(path, names: list, rows: list[dict]) -> None:
    with open(path, "a", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n")
        for row in rows:
            out.writerow([row.get(name, "") for name in names])


def _header(path) -> list:
    with open(path, newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle))


def plant(folder, seed: int, writer) -> dict:
    """Append the tail's dealer, customers and touchpoints to the files in `folder`; return what was planted."""
    rng = np.random.default_rng([seed, STREAM])
    leads = [(label, channel, None) for label, channel, k in RARE_LEADS for _ in range(k)]
    leads += [(label, channel, SMALL_DEALER["dealer_id"]) for label, channel, k in SMALL_DEALER_LEADS for _ in range(k)]
    customers, touchpoints = [], []
    considering = 0
    span = int((LAST_DAY - FIRST_DAY) / np.timedelta64(1, "s"))
    for i, (label, channel, dealer) in enumerate(leads, start=1):
        dealer = dealer or S.DEALER_IDS[int(rng.integers(0, len(S.DEALER_IDS)))]
        first = FIRST_DAY + np.timedelta64(int(rng.integers(0, span)), "s")
        cid = f"CT{i:06d}"
        customers.append({"customer_id": cid, "created_at": _stamp(first), "dealer_id": dealer})
        events = [("site_visit", label)]
        if rng.random() < 0.5:  # half of them go on to look at a car on the dealer's site
            events.append(("vdp_view", "Dealer Website"))
            considering += 1
        for j, (kind, where) in enumerate(events):
            at = first + np.timedelta64(j * int(rng.integers(1, 15)) * 86400, "s")
            touchpoints.append({"event_id": f"EVT{i:04d}{j}", "customer_id": cid, "occurred_at": _stamp(at),
                                "event_type": kind, "channel": where, "dealer_id": dealer})
    for name, rows in (("dealers", [SMALL_DEALER]), ("customers", customers), ("touchpoints", touchpoints)):
        path = folder / f"{name}.csv"
        _append(path, _header(path), rows)
        writer.rows[name] = writer.rows.get(name, 0) + len(rows)
    counts = {}
    for _, channel, _ in leads:
        counts[channel] = counts.get(channel, 0) + 1
    return {"leads": len(leads), "considering": considering, "acquisition_channel_counts": counts,
            "rare_channels": sorted({c for _, c, _ in RARE_LEADS}),
            "unknown_labels": sorted({label for label, c, _ in RARE_LEADS if c == "unknown"}),
            "small_dealer": SMALL_DEALER["dealer_id"], "small_dealer_leads": sum(k for *_, k in SMALL_DEALER_LEADS)}


def add_to_truth(truth: dict, tail: dict) -> dict:
    """The tail's leads in the counts a correct cleaning must find, and the tail itself under `long_tail`."""
    n = tail["leads"]
    truth["identity"]["raw_customer_records"] += n
    truth["identity"]["persons"] += n
    truth["funnel"]["awareness"] += n
    truth["funnel"]["consideration"] += tail["considering"]
    counts = truth["time_to_purchase"]["acquisition_channel_counts"]
    for channel, k in tail["acquisition_channel_counts"].items():
        counts[channel] = counts.get(channel, 0) + k
    truth["long_tail"] = {key: tail[key] for key in ("rare_channels", "unknown_labels", "small_dealer",
                                                      "small_dealer_leads", "acquisition_channel_counts")}
    truth["long_tail"]["buyers"] = 0
    return truth
