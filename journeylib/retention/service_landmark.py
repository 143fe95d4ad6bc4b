"""The landmark service model: what buyers like this one did in the year after an earlier date.

At landmark dates `as_of − 365 − k·90 days` (k = 0..3, as the history allows) every buyer who had bought by
then is one row, described by what was known at that date (vehicle age, days since the last visit, visits so
far, the usual and the last gap and the silence measured in usual gaps, customer-pay visits and spend, the
dealer when it has enough buyers), and labelled by the 365 days after it (came back? how many visits, how
much customer pay). A ridge logistic regression gives P(return); two log-link (Poisson quasi-likelihood)
regressions on the rows that came back give E[visits | returned] and E[customer pay | returned]. Scoring at
the as-of date is one more landmark. It reads near-regular visits (a silence of two usual gaps is strong
evidence) and a pay share that grows with the vehicle's age, which the MBG/NBD cannot. Which of the two is
used is chosen per export by the backtest (`service_backtest.choose`); docs/retention_churn.md.
"""

from __future__ import annotations

from dataclasses import dataclass


import numpy as np
import pandas as pd

from journeylib.errors import NotEstimable
from journeylib.retention.service_scores import HORIZON_DAYS, not_yet_due
from journeylib.retention.service_scores import reasons as plain_reasons
from journeylib.retention.service_scores import visit_days as scored_visit_days
from journeylib.stats.ridge import expit, fit_log_linear, fit_logistic

MIN_HISTORY_DAYS = 730  # a year to describe the buyers at the first landmark and a year to label them
STEP_DAYS, LANDMARKS = 90, 4
MAX_ROWS = 150_000  # landmark rows a fit sees at most (a seeded sample of rows), as the lead model
MIN_DEALER_BUYERS = 200  # a dealer gets its own column from this many buyers at the latest landmark
AGE_EDGES = (0.0, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)  # vehicle age bands (years since the purchase)
RATIO_EDGES = (0.0, 0.5, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0)  # days since the last visit / usual gap
SHRINK_VISITS = 2.0  # a buyer's own usual gap counts as much as the population's after this many visits
DEFAULT_GAP_DAYS = 365  # the usual gap when nobody has a visit to learn it from
RIDGE = 10.0  # on standardised columns: the default, and the one used when too few rows to choose
RIDGES = (1.0, 10.0, 100.0, 1000.0)  # tried by cross-validation (`choose_ridge`): few landmark rows need more
CV_FOLDS, CV_ROWS = 5, 20_000  # folds by buyer; rows the cross-validation sees at most
DAY_NS = 86_400 * 10**9
CURVE_BIN_DAYS = 365.25 / 2  # vehicle-age bins of the customer-pay curve (`pay_curve`)
CURVE_MIN_VISITS = 30  # a bin's own mean counts as much as the overall mean at this many visit days
NO_PAY = ("No service visit after a purchase was paid by the customer (all warranty or internal work, or no "
          "amounts), so there is no customer-pay revenue to predict.")


@dataclass
class VisitDays:
    """The buyers who had bought by a date (in `history`'s order) and their visit days after the purchase."""

    ids: pd.Index
    dealer: np.ndarray
    purchase: np.ndarray  # days (float, since the epoch)
    who: np.ndarray       # per visit day, sorted by (who, day): buyer position
    day: np.ndarray       # days (float): the latest repair order of that calendar day
    pay: np.ndarray       # customer-pay revenue of that day

    @property
    def first_day(self) -> float:
        return float(self.purchase.min()) if len(self.purchase) else np.inf


def visit_days(buyers: pd.DataFrame, visits: pd.DataFrame, as_of: pd.Timestamp) -> VisitDays:
    """Visit days of the buyers who had bought by `as_of`, up to `as_of` (`service_scores.visit_days`), in days."""
    bought, first, day_who, day_at, day_pay = scored_visit_days(buyers, visits, as_of)
    return VisitDays(bought.index, bought["dealer_id"].astype(str).to_numpy(), first / DAY_NS,
                     day_who.astype(np.int64), day_at / DAY_NS, day_pay)


def facts(vd: VisitDays, at: float) -> dict:
    """What was known at day `at` of every buyer of `vd` (NaN rows for buyers who had not bought yet)."""
    n = len(vd.ids)
    seen = vd.day <= at
    who, day, pay = vd.who[seen], vd.day[seen], vd.pay[seen]
    count = np.bincount(who, minlength=n)
    end = np.cumsum(count) - 1  # index of each buyer's last visit in the sorted (who, day) arrays
    has = count > 0
    last = np.where(has, day[np.clip(end, 0, None)] if day.size else 0.0, np.nan)
    before = np.where(count > 1, day[np.clip(end - 1, 0, None)] if day.size else 0.0, vd.purchase)
    age = at - vd.purchase
    paying = np.bincount(who, weights=pay > 0, minlength=n)
    total = np.bincount(who, weights=pay, minlength=n)
    recent = np.bincount(who, weights=day > at - HORIZON_DAYS, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {"bought": age >= 0, "age": age, "visits": count, "since": np.where(has, at - last, age),
                "mean_gap": np.where(has, (last - vd.purchase) / np.maximum(count, 1), np.nan),
                "last_gap": np.where(has, last - before, np.nan), "paying": paying,
                "mean_pay": np.where(paying > 0, total / np.maximum(paying, 1), 0.0), "recent": recent}


def outcome(vd: VisitDays, at: float, days: int = HORIZON_DAYS) -> tuple[np.ndarray, np.ndarray]:
    """(visit days, customer pay) of every buyer in (at, at + days]."""
    inside = (vd.day > at) & (vd.day <= at + days)
    n = len(vd.ids)
    return (np.bincount(vd.who[inside], minlength=n).astype(float),
            np.bincount(vd.who[inside], weights=vd.pay[inside], minlength=n))


@dataclass
class PayCurve:
    """Customer pay per visit day by the vehicle's age at the visit, relative to the mean of all visit days
    (half-year bins; ages past the last bin with CURVE_MIN_VISITS visit days take its value)."""

    relative: np.ndarray

    def ahead(self, age_days) -> np.ndarray:
        """log of the mean relative pay per visit over the year after `age_days` (twelve monthly points)."""
        points = np.asarray(age_days, float)[:, None] + (np.arange(12) + 0.5) * HORIZON_DAYS / 12
        index = np.clip((np.maximum(points, 0) // CURVE_BIN_DAYS).astype(int), 0, len(self.relative) - 1)
        return np.log(self.relative[index].mean(axis=1))


def pay_curve(vd: VisitDays) -> PayCurve | None:
    """How customer pay per visit changes with the vehicle's age (warranty work in the first years), from every
    visit day of `vd`; None without customer-pay revenue. The pay regression uses it as an offset, so a buyer
    whose vehicle leaves warranty in the coming year is expected to pay more than in the years the fit saw."""
    if not len(vd.day) or vd.pay.sum() <= 0:
        return None
    age = np.maximum(vd.day - vd.purchase[vd.who], 0)
    index = (age // CURVE_BIN_DAYS).astype(int)
    count = np.bincount(index).astype(float)
    total = np.bincount(index, weights=vd.pay)
    mean = total.sum() / count.sum()
    value = (total + CURVE_MIN_VISITS * mean) / (count + CURVE_MIN_VISITS)  # sparse bins shrunk to the mean
    seen = np.flatnonzero(count >= CURVE_MIN_VISITS)
    return PayCurve(value[:seen[-1] + 1 if len(seen) else 1] / mean)


def _bands(values, edges, prefix, skip_first=False) -> dict:
    bounds = list(edges) + [np.inf]
    return {f"{prefix}:{low:g}": ((values >= low) & (values < bounds[i + 1])).astype(float)
            for i, low in enumerate(edges) if not (skip_first and i == 0)}


def typical(f: dict) -> dict:
    """The population's usual gap between visits (the median of the buyers' own, which are shrunk to it)."""
    came = f["visits"] > 0
    return {"gap": float(np.median(f["mean_gap"][came])) if came.any() else float(DEFAULT_GAP_DAYS)}


def design(f: dict, dealers: list, usual: dict) -> tuple[list, np.ndarray]:
    """The model's columns (names, matrix) from `facts` rows. Buyers with no visit yet are described by the
    vehicle's age only (a band each); buyers with visits by age, recency (also counted in their own usual gaps,
    shrunk to the population's `usual` gap when they have few visits), frequency, gaps and spend."""
    years = f["age"] / 365.25
    visits = f["visits"].astype(float)
    came = (visits > 0).astype(float)
    cols = {"intercept": np.ones(len(years))}
    cols.update({k: v * (1 - came) for k, v in _bands(years, AGE_EDGES, "new age").items()})
    cols.update({k: v * came for k, v in _bands(years, AGE_EDGES, "age", skip_first=True).items()})
    gap = np.nan_to_num(f["mean_gap"], nan=1.0)
    ratio = np.where(came > 0, f["since"] / np.maximum(gap, 1.0), 0.0)
    cols.update({k: v * came for k, v in _bands(ratio, RATIO_EDGES, "silence", skip_first=True).items()})
    own = (visits * gap + SHRINK_VISITS * usual["gap"]) / (visits + SHRINK_VISITS)
    shrunk = np.where(came > 0, np.minimum(f["since"] / np.maximum(own, 1.0), 6.0), 0.0)
    cols["silence (shrunk)"] = shrunk
    cols["silence (shrunk) squared"] = shrunk ** 2
    cols["silence x log visits"] = shrunk * np.log1p(visits)
    cols["log since"] = came * np.log1p(np.maximum(f["since"], 0))
    cols["log usual gap"] = came * np.log1p(gap)
    cols["log usual gap (shrunk)"] = came * np.log1p(own)
    cols["log last gap"] = came * np.log1p(np.nan_to_num(f["last_gap"], nan=0.0))
    cols["log visits"] = np.log1p(visits)
    cols["log visits last year"] = np.log1p(f["recent"])
    cols["pay share"] = np.where(came > 0, f["paying"] / np.maximum(visits, 1), 0.0)
    cols["log mean pay"] = np.log1p(f["mean_pay"])
    for dealer in dealers[1:]:  # the first is the reference, together with the pooled small dealers
        cols[f"dealer:{dealer}"] = (f["dealer"] == dealer).astype(float)
    return list(cols), np.column_stack(list(cols.values()))


def choose_ridge(z: np.ndarray, y: np.ndarray, who: np.ndarray, seed: int = 0) -> float:
    """The ridge of RIDGES with the best held-out log-likelihood of the return, in CV_FOLDS folds of buyers (a
    buyer's rows at several landmarks stay in one fold); RIDGE when a fold would lack either outcome. The sample's
    few hundred landmark rows need a strong ridge, the independent export's tens of thousands a weak one."""
    rng = np.random.default_rng(seed)
    if len(y) > CV_ROWS:
        pick = np.sort(rng.choice(len(y), CV_ROWS, replace=False))
        z, y, who = z[pick], y[pick], who[pick]
    fold = rng.permutation(int(who.max()) + 1)[who] % CV_FOLDS
    if any(np.unique(y[fold == k]).size < 2 or np.unique(y[fold != k]).size < 2 for k in range(CV_FOLDS)):
        return RIDGE
    loss = []
    for ridge in RIDGES:
        total = 0.0
        for k in range(CV_FOLDS):
            beta = fit_logistic(z[fold != k], y[fold != k], ridge)
            p = np.clip(expit(z[fold == k] @ beta), 1e-9, 1 - 1e-9)
            total -= float((y[fold == k] * np.log(p) + (1 - y[fold == k]) * np.log(1 - p)).sum())
        loss.append(total)
    return float(RIDGES[int(np.argmin(loss))])


@dataclass
class LandmarkModel:
    """The three fits on one design: P(return), E[visits | returned], E[customer pay | returned] (None with
    `no_revenue` when there is no customer-pay revenue to learn)."""

    columns: list
    dealers: list
    beta_return: np.ndarray
    beta_visits: np.ndarray
    beta_pay: np.ndarray | None
    pay_scale: float
    no_revenue: str | None
    landmarks: list  # the landmark dates used
    rows: int
    max_age: float  # the oldest vehicle (days) the fit saw: older ones are scored as that old, not extrapolated
    usual: dict | None = None  # `typical` on the fitting rows
    ridge: float = RIDGE  # chosen by `choose_ridge`
    curve: PayCurve | None = None  # the pay regression's offset by vehicle age (None: no revenue)

    def predict(self, vd: VisitDays, at: float) -> dict:
        f = facts(vd, at)
        age = f["age"]  # the pay curve's offset reads it uncapped: past its data the curve keeps its last value
        f["age"] = np.minimum(age, self.max_age)
        f["dealer"] = vd.dealer
        _, x = design(f, self.dealers, self.usual)
        p = expit(x @ self.beta_return)
        visits = np.maximum(np.exp(np.clip(x @ self.beta_visits, -30, 30)), 1.0)
        pay = None
        if self.beta_pay is not None:  # fitted with revenue, so with a pay curve
            pay = np.exp(np.clip(x @ self.beta_pay + self.curve.ahead(age), -30, 30)) * self.pay_scale
        return {"p": p, "visits_if_returned": visits, "pay_if_returned": pay}


def landmark_dates(vd: VisitDays, as_of: pd.Timestamp) -> list:
    """The landmark days (latest first) whose year ended by `as_of` and that have a year of history before them."""
    top = as_of.value / DAY_NS - HORIZON_DAYS
    marks = [top - STEP_DAYS * k for k in range(LANDMARKS)]
    return [m for m in marks if m - vd.first_day >= HORIZON_DAYS]


def fit(vd: VisitDays, as_of: pd.Timestamp, seed: int = 0) -> LandmarkModel:
    """Fit on the landmarks before `as_of` (visits up to `as_of` only). NotEstimable with a reason when the
    history is shorter than two years or nobody came back."""
    span = as_of.value / DAY_NS - vd.first_day
    if not np.isfinite(span) or span < MIN_HISTORY_DAYS:
        raise NotEstimable(f"The export holds {max(span, 0) / 365.25:.1f} years of purchases, fewer than the two "
                           "a landmark model needs (a year to know the buyers and a year to see who came back).")
    marks = landmark_dates(vd, as_of)
    rows, labels = [], []
    for mark in marks:
        f = facts(vd, mark)
        visits, pay = outcome(vd, mark)
        keep = f["bought"]
        rows.append({k: v[keep] for k, v in f.items()} | {"dealer": vd.dealer[keep], "who": np.flatnonzero(keep)})
        labels.append((visits[keep], pay[keep]))
    f = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
    visits = np.concatenate([v for v, _ in labels])
    pay = np.concatenate([p for _, p in labels])
    if len(visits) > MAX_ROWS:
        pick = np.sort(np.random.default_rng(seed).choice(len(visits), MAX_ROWS, replace=False))
        f, visits, pay = {k: v[pick] for k, v in f.items()}, visits[pick], pay[pick]
    came = visits > 0
    if not came.any():
        raise NotEstimable("No buyer came back for service within a year of any landmark date, so there is "
                           "nothing for the landmark model to learn from.")
    latest = pd.Series(rows[0]["dealer"]).value_counts()
    dealers = sorted(latest.index[latest >= MIN_DEALER_BUYERS].tolist())
    usual = typical(f)
    columns, x = design(f, dealers, usual)
    varying = np.r_[True, x[:, 1:].std(axis=0) > 0]
    x = x[:, varying]
    columns = [c for c, keep in zip(columns, varying) if keep]
    # the ridge acts on standardised columns (one penalty means the same for a band and a log count)
    centre = np.r_[0.0, x[:, 1:].mean(axis=0)]
    spread = np.r_[1.0, x[:, 1:].std(axis=0)]
    z = (x - centre) / spread

    def raw(beta):  # back to the columns as designed
        out = beta / spread
        out[0] -= (out[1:] * centre[1:]).sum()
        return out

    ridge = choose_ridge(z, came.astype(float), f["who"], seed)
    beta_return = raw(fit_logistic(z, came.astype(float), ridge))
    beta_visits = raw(fit_log_linear(z[came], visits[came], ridge))
    beta_pay, scale, no_revenue, curve = None, 1.0, None, None
    if pay[came].sum() <= 0 or (vd.pay > 0).sum() == 0:
        no_revenue = NO_PAY
    else:
        scale = float(pay[came].mean())
        curve = pay_curve(vd)  # not None: some visit day has customer pay
        beta_pay = raw(fit_log_linear(z[came], pay[came] / scale, ridge, offset=curve.ahead(f["age"][came])))
    return LandmarkModel(columns, dealers, *_full(varying, beta_return, beta_visits, beta_pay), scale, no_revenue,
                         [pd.Timestamp(m * DAY_NS, tz="UTC") for m in marks], int(len(visits)),
                         float(f["age"].max()), usual, ridge, curve)


def _full(varying, *betas):
    """Coefficients on the whole design (0 for columns that did not vary while fitting)."""
    out = []
    for beta in betas:
        if beta is None:
            out.append(None)
            continue
        full = np.zeros(len(varying))
        full[varying] = beta
        out.append(full)
    return out


def score(hist: pd.DataFrame, vd: VisitDays, model: LandmarkModel, as_of: pd.Timestamp, due_days: float,
          reasons=None) -> pd.DataFrame:
    """service_scores.score's columns for every buyer of `hist` (the same buyers, in order, as `vd`).

    p_alive is p_return_12m (the landmark model does not separate "still a customer" from "comes within the
    year"); expected_if_alive is E[visits | returned], so value at risk = (1 − p) × E[customer pay | returned].
    """
    got = model.predict(vd, as_of.value / DAY_NS)
    p, if_came = got["p"], got["visits_if_returned"]
    out = pd.DataFrame({"customer_id": hist.index.astype(str), "dealer_id": hist["dealer_id"].to_numpy()})
    out["p_return_12m"] = p
    out["expected_visits_12m"] = p * if_came
    if got["pay_if_returned"] is None:
        out["expected_customer_pay_12m"] = np.nan
        out["value_at_risk_12m"] = np.nan
    else:
        out["expected_customer_pay_12m"] = p * got["pay_if_returned"]
        out["value_at_risk_12m"] = (1 - p) * got["pay_if_returned"]
    out["last_visit_at"] = hist["last_visit_at"].array
    out["reason"] = (reasons or plain_reasons)(hist, as_of, due_days)
    out["not_yet_due"] = not_yet_due(hist, as_of, due_days)
    out["p_alive"] = p
    out["expected_if_alive"] = if_came
    return out
