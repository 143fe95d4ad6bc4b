"""What is known about every lead at a given moment: the lead table and event log cut at a cutoff.

Nothing after the cutoff enters: leads whose first touch is later are left out, purchases after it are
unknown (the lead is still open), events after it are dropped. The same history serves the scores at the
as-of date and the backtest at `as_of - horizon`, so the backtest cannot see the future either.

Times are whole seconds (int64) since the epoch; events are sorted by (lead, time) so windows are
counted with binary search, without a loop over leads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from journeylib.vocabulary import UNKNOWN

DAY = 86_400
NEVER = np.iinfo(np.int64).max // 4   # "no purchase known"
TEST_DRIVE = "test_drive"
# events that say a lead is close to buying (the test drive has its own feature)
HIGH_INTENT = ("quote_sent", "appointment_set", "credit_application", "lead_form", "deposit", "showroom_visit")
JOURNEY_COLUMNS = ["customer_id", "dealer_id", "first_touch_at", "acquisition_channel", "first_purchase_at"]
EVENT_COLUMNS = ["customer_id", "occurred_at", "event_type", "source"]


def seconds(stamps) -> np.ndarray:
    """UTC timestamps (aware or naive) -> int64 seconds; NaT -> NEVER."""
    values = pd.to_datetime(pd.Series(stamps), utc=True)
    out = np.full(len(values), NEVER, np.int64)
    known = values.notna().to_numpy()
    out[known] = values[known].dt.tz_localize(None).to_numpy().astype("datetime64[s]").astype(np.int64)
    return out


@dataclass
class History:
    """Leads (first touch on or before `cutoff`) and their journey events up to `cutoff`."""
    cutoff: int
    ids: np.ndarray           # customer_id per lead
    dealer: np.ndarray        # dealer_id per lead (raw; pooled by the model)
    channel: np.ndarray       # acquisition channel per lead (raw)
    first: np.ndarray         # first touch, seconds
    purchase: np.ndarray      # first purchase if on or before the cutoff, else NEVER
    key: np.ndarray           # events: lead * SPAN + seconds since `origin`, sorted
    intent_key: np.ndarray    # the high-intent events, same coding
    intent_type: np.ndarray   # their event types, in intent_key's order
    drive_key: np.ndarray     # the test drives
    origin: int
    span: int

    def __len__(self) -> int:
        return len(self.ids)

    def cut(self, cutoff: int) -> "History":
        """What was known at an earlier `cutoff`: later leads absent (first touch NEVER), later purchases unknown,
        later events dropped; lead positions stay the same."""
        def before(keys):
            return keys % self.span + self.origin <= cutoff

        intent = before(self.intent_key)
        return History(int(cutoff), self.ids, self.dealer, self.channel,
                       np.where(self.first <= cutoff, self.first, NEVER),
                       np.where(self.purchase <= cutoff, self.purchase, NEVER),
                       self.key[before(self.key)], self.intent_key[intent], self.intent_type[intent],
                       self.drive_key[before(self.drive_key)], self.origin, self.span)

    @property
    def seen(self) -> np.ndarray:
        """Leads with a first touch on or before the cutoff."""
        return self.first <= self.cutoff

    def open_at(self, moment: int) -> np.ndarray:
        """Leads open at `moment`: first touch on or before it, no purchase on or before it."""
        return (self.first <= moment) & (self.purchase > moment)


def history(journeys: pd.DataFrame, events: pd.DataFrame, cutoff: int) -> History:
    """The history known at `cutoff` (seconds) from the `journeys` and `touchpoints` tables.

    Text columns may come as pandas Categoricals (ProcessedTables.load(categories=...)): only their
    distinct values are looked up, which is what keeps this fast on millions of events.
    """
    first = seconds(journeys["first_touch_at"])
    keep = first <= cutoff
    frame = journeys.loc[keep]
    first = first[keep]
    purchase = seconds(frame["first_purchase_at"])
    purchase = np.where(purchase <= cutoff, purchase, NEVER)
    ids = frame["customer_id"].astype(str).to_numpy()
    # journey events of the leads themselves (not sales, visits or referrals), up to the cutoff
    if "source" in events:
        touchpoints = _codes(events["source"], ["touchpoints"])[0] >= 0
        if not touchpoints.all():  # (the loader's filter usually did it: no copy then)
            events = events.loc[touchpoints]
    t = seconds(events["occurred_at"])
    who = _codes(events["customer_id"], ids)[0]
    kind, kinds = _codes(events["event_type"])
    ok = (who >= 0) & (t <= cutoff)
    who, t, kind = who[ok], t[ok], kind[ok]
    origin = int(min(first.min(initial=cutoff), t.min(initial=cutoff))) - DAY
    span = int(cutoff - origin) + 2 * DAY
    key = who.astype(np.int64) * span + (t - origin)
    order = _stable_order(key)
    key, kind = key[order], kind[order]
    # per level, then looked up per event (the trailing False: events without a type, code -1)
    intent = np.append(np.isin(kinds, HIGH_INTENT), False)[kind]
    drive = np.append(kinds == TEST_DRIVE, False)[kind]
    return History(
        cutoff=int(cutoff), ids=ids,
        dealer=frame["dealer_id"].fillna("(none)").astype(str).to_numpy(),
        channel=frame["acquisition_channel"].fillna(UNKNOWN).astype(str).to_numpy(),
        first=first, purchase=purchase, key=key, intent_key=key[intent], intent_type=kinds[kind[intent]],
        drive_key=key[drive], origin=origin, span=span)


def _stable_order(key: np.ndarray) -> np.ndarray:
    """np.argsort(key, kind="stable"), faster on millions of unsorted keys: an unstable sort, then the runs of
    equal keys (the same lead in the same second) put back in their original order."""
    order = np.argsort(key)
    ordered = key[order]
    same = ordered[1:] == ordered[:-1]
    if same.any():
        tied = np.zeros(len(key), dtype=bool)
        tied[1:] |= same
        tied[:-1] |= same
        at = np.flatnonzero(tied)
        rows = order[at]
        order[at] = rows[np.lexsort((rows, ordered[at]))]
    return order


def _codes(values: pd.Series, levels=None) -> tuple[np.ndarray, np.ndarray]:
    """(code per row, the levels as strings): position in `levels` (-1 when absent), or in the distinct values."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, uniques = values.cat.codes.to_numpy(), values.cat.categories
    else:
        codes, uniques = pd.factorize(values)
    uniques = np.asarray(pd.Index(uniques).astype(str), dtype=object)
    if levels is None:
        return codes.astype(np.int64), uniques
    position = pd.Index(levels).get_indexer(uniques)
    return np.where(codes >= 0, position[np.maximum(codes, 0)], -1), np.asarray(levels, dtype=object)


def _count(keys: np.ndarray, base: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Events with time in (low, high] per row (times relative to the origin; base = lead * span)."""
    return np.searchsorted(keys, base + high, "right") - np.searchsorted(keys, base + low, "right")


def _latest(keys: np.ndarray, base: np.ndarray, high: np.ndarray, span: int) -> np.ndarray:
    """Index into `keys` of the latest event at or before `high` of each row's lead; -1 when none."""
    at = np.searchsorted(keys, base + high, "right") - 1
    ok = at >= 0
    ok[ok] = keys[at[ok]] >= base[ok]
    return np.where(ok, at, -1)


def facts(h: History, lead: np.ndarray, moment: np.ndarray) -> pd.DataFrame:
    """What is known about lead `lead[i]` at time `moment[i]` (seconds): one row per pair."""
    lead = np.asarray(lead, np.int64)
    moment = np.broadcast_to(np.asarray(moment, np.int64), lead.shape)
    base = lead * h.span
    rel = moment - h.origin
    touches_14 = _count(h.key, base, rel - 14 * DAY, rel)
    touches_30 = _count(h.key, base, rel - 30 * DAY, rel)
    intent_30 = _count(h.intent_key, base, rel - 30 * DAY, rel)
    last = _latest(h.key, base, rel, h.span)
    last_intent = _latest(h.intent_key, base, rel, h.span)
    last_drive = _latest(h.drive_key, base, rel, h.span)

    def days_since(keys, at):
        if not keys.size:
            return np.full(lead.size, np.nan)
        when = np.where(at >= 0, keys[np.maximum(at, 0)] - base, 0)
        return np.where(at >= 0, (rel - when) / DAY, np.nan)

    return pd.DataFrame({
        "lead": lead,
        "age_days": (moment - h.first[lead]) / DAY,
        "touches_14": touches_14,
        "touches_30": touches_30,
        "intent_30": intent_30,
        "days_since_touch": days_since(h.key, last),
        "days_since_intent": days_since(h.intent_key, last_intent),
        "intent_type": np.where(last_intent >= 0, h.intent_type[np.maximum(last_intent, 0)], "")
        if h.intent_type.size else np.full(lead.size, ""),
        "days_since_drive": days_since(h.drive_key, last_drive),
        "last_touch": np.where(last >= 0, h.key[np.maximum(last, 0)] - base + h.origin, NEVER)
        if h.key.size else np.full(lead.size, NEVER),
        "channel": h.channel[lead],
        "dealer": h.dealer[lead],
    })
