"""The service scores' backtest: refit a year before the as-of date with only what was known then,
score the buyers of then, and compare with what they did up to the as-of date."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from journeylib.errors import NotEstimable
from journeylib.retention import service_landmark, service_scores
from journeylib.retention.service_list import to_call
from journeylib.retention.service_scores import HORIZON_DAYS

MODELS = ("mbg_nbd", "landmark")  # the service models a backtest can check (`retention.service_scores.model`)
AUC_SLACK = 0.01  # the landmark model may rank returns this much worse in the backtest and still be chosen
TOTAL_TOLERANCE = 1.25  # expected customer pay within 1/1.25–1.25× what happened costs nothing in `merit`
BACKTEST_KEYS = ("as_of", "buyers", "auc_return_12m", "expected_visits", "observed_visits", "expected_customer_pay",
                 "observed_customer_pay", "spearman_customer_pay", "top_n", "precision_top_n")
ONE_CLASS = ("All {n} buyers of the backtest {what} within the year, so the AUC of the return probability "
             "is not defined.")


FLAT_SPREAD = 0.05  # mean predicted chances of the tenths of buyers closer than this: the scores barely rank


def money(value: float) -> str:
    """An amount as a reviewer reads it: thousands separated, no cents (the export's currency)."""
    return f"{value:,.0f}"


def observed(hist: pd.DataFrame, visits: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Visit days and customer-pay revenue of each buyer of `hist` in (start, end] (index customer_id)."""
    v = visits[(visits["opened_at"] > start) & (visits["opened_at"] <= end)]  # the window first: a shorter isin
    v = v[v["customer_id"].isin(hist.index)]
    pay = v["amount"].where(v["pay_type"] == service_scores.CUSTOMER_PAY).fillna(0.0).clip(lower=0)
    v = v.assign(day=v["opened_at"].dt.floor("D"), pay=pay)
    out = pd.DataFrame(index=hist.index)
    out["visits"] = v.groupby("customer_id")["day"].nunique().reindex(hist.index).fillna(0).astype(int)
    out["customer_pay"] = v.groupby("customer_id")["pay"].sum().reindex(hist.index).fillna(0.0)
    return out


def decile_calibration(predicted, came_back, bins: int = 10) -> pd.DataFrame:
    """Mean predicted probability of a return against the observed share, in (up to) `bins` equal groups."""
    data = pd.DataFrame({"p": np.asarray(predicted, float), "y": np.asarray(came_back, float)})
    groups = max(1, min(bins, len(data)))
    data["decile"] = pd.qcut(data["p"].rank(method="first"), groups, labels=False) + 1
    return data.groupby("decile").agg(buyers=("y", "size"), predicted=("p", "mean"), observed=("y", "mean"),
                                      returned=("y", "sum")).reset_index()


@dataclass
class ServiceBacktest:
    """Scores made at `as_of` (a year before the real as-of date `until`) beside what happened by `until`."""

    as_of: pd.Timestamp
    until: pd.Timestamp
    scores: pd.DataFrame  # service_scores.score's columns plus observed visits, customer_pay, returned
    auc: float | None
    no_auc: str | None
    spearman: float | None
    no_spearman: str | None
    calibration: pd.DataFrame  # decile_calibration
    top_n: int
    precision_top_n: float | None  # share of the backtest's to-call list that did not come back
    model: str = "mbg_nbd"  # which service model was backtested (MODELS)
    choice: str | None = None  # the sentence saying which model the lists use and why (set by `choose`)

    @property
    def customer_pay_ratio(self) -> float | None:
        """Expected over observed customer-pay revenue (None without revenue or when nobody paid)."""
        observed = float(self.scores["customer_pay"].sum())
        if not self.has_revenue or observed <= 0:
            return None
        return float(self.scores["expected_customer_pay_12m"].sum()) / observed

    @property
    def buyers(self) -> int:
        return len(self.scores)

    @property
    def returned(self) -> int:
        return int(self.scores["returned"].sum())

    @property
    def expected_returns(self) -> float:
        return float(self.scores["p_return_12m"].sum())

    @property
    def has_revenue(self) -> bool:
        return bool(self.scores["expected_customer_pay_12m"].notna().all())

    def sentence(self) -> str:
        """The backtest in one plain sentence for the reviewer."""
        text = (f"Of the {self.buyers:,} buyers we would have scored on {self.as_of:%d %B %Y}, {self.returned:,} came "
                f"back for service by {self.until:%d %B %Y}; we expected {self.expected_returns:,.0f}")
        if self.has_revenue:
            text += (f", and they paid {money(self.scores['customer_pay'].sum())} for customer-pay work against "
                     f"{money(self.scores['expected_customer_pay_12m'].sum())} expected")
        return text + "."

    def quality_sentence(self) -> str:
        """How well the scores ranked the buyers and how good the list would have been, in one sentence."""
        ranking = (f"The return probability put a buyer who came back above one who did not {self.auc:.0%} of the "
                   "time (AUC; 50% is guessing)" if self.auc is not None else self.no_auc.rstrip("."))
        text = ranking + "." if self.precision_top_n is None else (
            f"{ranking}; of the {self.top_n:,} buyers the list would have named, {self.precision_top_n:.0%} did not "
            "come back within the year.")
        low, high = self.calibration["predicted"].min(), self.calibration["predicted"].max()
        if high - low < FLAT_SPREAD:
            text += (f" The chances of then barely differ between buyers ({low:.0%} to {high:.0%} by tenth): "
                     "a year earlier their visits did not yet show who would stop coming.")
        return text if self.choice is None else f"{text} {self.choice}"

    def metrics(self) -> dict:
        s = self.scores
        revenue = self.has_revenue
        return {"as_of": self.as_of, "buyers": self.buyers, "auc_return_12m": self.auc,
                "expected_visits": float(s["expected_visits_12m"].sum()), "observed_visits": int(s["visits"].sum()),
                "expected_customer_pay": float(s["expected_customer_pay_12m"].sum()) if revenue else None,
                "observed_customer_pay": float(s["customer_pay"].sum()),
                "spearman_customer_pay": self.spearman, "top_n": self.top_n, "precision_top_n": self.precision_top_n}

    def missing(self) -> dict:
        """Backtest keys that are null, and why."""
        out = {}
        if self.auc is None:
            out["auc_return_12m"] = self.no_auc
        if self.spearman is None:
            out["spearman_customer_pay"] = self.no_spearman
        if not self.has_revenue:
            out["expected_customer_pay"] = self.no_spearman
        return out


@dataclass
class YearBefore:
    """What every model's backtest shares: the backtest date, the visits known then, the buyers of then
    (`service_scores.history`) and what they did up to the as-of date (`observed`). Made once per analysis."""

    start: pd.Timestamp
    known: pd.DataFrame
    hist: pd.DataFrame
    seen: pd.DataFrame


def year_before(buyers: pd.DataFrame, visits: pd.DataFrame, as_of: pd.Timestamp,
                horizon_days: int = HORIZON_DAYS) -> YearBefore:
    """The backtest's inputs as of `as_of − horizon_days`. NotEstimable when no buyer had bought by then."""
    start = as_of - pd.Timedelta(days=horizon_days)
    known = visits[visits["opened_at"] <= start]
    hist = service_scores.history(buyers, known, start)
    if hist.empty:
        raise NotEstimable(f"No buyer had bought by {start.date()}, a year before the as-of date, so the service "
                           "scores cannot be checked against a year that followed.")
    seen = observed(hist, visits, start, as_of)
    seen.index = seen.index.astype(str)
    return YearBefore(start, known, hist, seen)


def backtest(buyers: pd.DataFrame, visits: pd.DataFrame, as_of: pd.Timestamp, top_per_dealer: int = 25,
             horizon_days: int = HORIZON_DAYS, model: str = "mbg_nbd", before: YearBefore | None = None
             ) -> ServiceBacktest:
    """Refit `model` (MODELS) as of `as_of − horizon_days` on the visits known then, score its buyers, compare
    with the year after. `before`: `year_before` of the same arguments when already made (another model's)."""
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    before = year_before(buyers, visits, as_of, horizon_days) if before is None else before
    start, known, hist = before.start, before.known, before.hist
    try:
        if model == "landmark":
            days = service_landmark.visit_days(buyers, known, start)
            fitted = service_landmark.fit(days, start)
            scores = service_landmark.score(hist, days, fitted, start, service_scores.due_days(hist),
                                            service_scores.reasons)
        else:
            fitted = service_scores.fit(hist)
            scores = service_scores.score(hist, fitted, start, horizon_days)
    except NotEstimable as error:
        raise NotEstimable(f"No backtest as of {start.date()}: {error.reason[0].lower() + error.reason[1:]}") from None
    scores = scores.set_index("customer_id", drop=False)
    scores = scores.join(before.seen)
    scores["returned"] = scores["visits"] > 0
    auc = no_auc = spearman = no_spearman = None
    if scores["returned"].nunique() == 2:
        auc = float(roc_auc_score(scores["returned"], scores["p_return_12m"]))
    else:
        no_auc = ONE_CLASS.format(n=len(scores), what="came back" if scores["returned"].all() else "stayed away")
    if fitted.no_revenue is not None:
        no_spearman = fitted.no_revenue
    elif scores["customer_pay"].nunique() < 2 or scores["expected_customer_pay_12m"].nunique() < 2:
        no_spearman = ("The customer-pay revenue of the backtest's buyers (expected or observed) is the same for "
                       "everyone, so its rank correlation is not defined.")
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            spearman = float(spearmanr(scores["expected_customer_pay_12m"], scores["customer_pay"]).statistic)
    listed = to_call(scores, top_per_dealer)
    precision = float((~scores.loc[listed["customer_id"], "returned"]).mean()) if len(listed) else None
    return ServiceBacktest(start, as_of, scores.reset_index(drop=True), auc, no_auc, spearman, no_spearman,
                           decile_calibration(scores["p_return_12m"], scores["returned"]), len(listed), precision,
                           model)


def merit(check: ServiceBacktest, revenue: bool) -> float:
    """What `choose` compares: AUC, plus (with revenue) the Spearman correlation minus how far the customer-pay
    total is outside TOTAL_TOLERANCE, as |log(expected / observed)| beyond log 1.25 (a total off by 2× costs 0.47).
    Within the tolerance the rankings decide: a total 0.90× against 0.92× once chose the model that ranked
    returns 0.01 worse in AUC (an export where 40% of the buyers never come to the dealer's service)."""
    value = check.auc if check.auc is not None else 0.5
    if revenue:
        value += check.spearman - max(0.0, abs(np.log(check.customer_pay_ratio)) - np.log(TOTAL_TOLERANCE))
    return float(value)


def choose(checks: dict) -> tuple[str, str]:
    """(the model the lists use, a sentence saying why) from {model: ServiceBacktest or the reason it has none}.

    The landmark model is used when its backtest beats the MBG/NBD's on `merit` without ranking returns worse
    (AUC lower by more than AUC_SLACK: the return probability also ranks the at-risk list); the MBG/NBD otherwise
    (also when the landmark model could not be backtested: it needs two years of history before the backtest)."""
    mbg, landmark = checks.get("mbg_nbd"), checks.get("landmark")
    if not isinstance(landmark, ServiceBacktest):
        why = landmark if isinstance(landmark, str) else "The landmark model was not tried."
        return "mbg_nbd", ("The lists use the MBG/NBD visit model; the landmark model could not be checked: "
                           f"{why[0].lower() + why[1:]}")
    if not isinstance(mbg, ServiceBacktest):
        return "landmark", "The lists use the landmark model; the MBG/NBD could not be checked."
    revenue = all(c.spearman is not None and c.customer_pay_ratio for c in (mbg, landmark))
    better = (merit(landmark, revenue) > merit(mbg, revenue)
              and (landmark.auc or 0.5) >= (mbg.auc or 0.5) - AUC_SLACK)

    def figures(c):
        text = f"AUC {c.auc:.2f}" if c.auc is not None else "no AUC"
        if revenue:
            text += f", customer pay {c.customer_pay_ratio:.2f}× what happened, Spearman {c.spearman:.2f}"
        return text

    if better:
        return "landmark", ("The lists use the landmark model (what similar buyers did in the year after earlier "
                            f"dates): in the backtest it did better ({figures(landmark)}) than the MBG/NBD visit "
                            f"model ({figures(mbg)}).")
    return "mbg_nbd", ("The lists use the MBG/NBD visit model: the landmark model (what similar buyers did in the "
                       f"year after earlier dates) did not do better in the same backtest ({figures(landmark)}; "
                       f"the MBG/NBD: {figures(mbg)}).")
