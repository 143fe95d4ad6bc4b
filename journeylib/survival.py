"""Time to purchase: survival analysis helpers for notebook 02 (definitions: docs/time_to_purchase.md).

The clock starts at a customer's first touch and stops at the first purchase;
customers who have not bought by the as-of date are censored there. A test
drive changes a lead's state part-way through the journey, so it enters the
Cox model as a time-varying covariate (start/stop rows). Coding "ever
test-drove" at baseline credits the test-drivers with the purchase-free days
before their test drive (immortal time); `naive_table` builds that coding only
to show the bias.

Model time is day-grained: a customer's purchase or censoring falls on journey
day floor(days) + 1 (day 1 is the first 24 hours), and the test-driven state
starts at the beginning of the test drive's journey day, so a test drive and a
purchase on the same day count as "test drive, then purchase". Whole days
give few distinct event times, which is what keeps the Cox fits fast on large
data. Kaplan-Meier curves, purchase probabilities and restricted means use the
exact (fractional) days.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from journeylib.stats import levels
from journeylib.errors import NotEstimable

REFERENCE_CHANNEL = "website"
MIN_LEVEL_CUSTOMERS = 20
MAX_LOG_HAZARD_RATIO = 15.0  # |log HR| beyond this (HR > 3 million) is a separated term, not an effect
LEVEL_FEATURES = ("acquisition_channel", "dealer_id")
FEATURE_WORDS = {"acquisition_channel": "acquisition channel", "dealer_id": "dealer"}
HORIZONS = (30, 90, 180, 365)
NO_DEALER = "(none)"
ID, START, STOP, EVENT, TEST_DRIVE = "customer_id", "start", "stop", "event", "test_drive"


# --------------------------------------------------------------------------- data preparation

def customer_table(journeys: pd.DataFrame) -> pd.DataFrame:
    """One row per customer with a journey: duration, event flag and covariates known at first touch.

    Columns: customer_id, days (exact, from first touch to purchase or as-of), purchased,
    day (model time, whole journey days >= 1), acquisition_channel, dealer_id,
    first_touch_month, test_drive_days (days from first touch to the first test drive
    before the purchase or as-of; NaN when none).
    """
    frame = journeys.loc[journeys["first_touch_at"].notna()].copy()
    days = frame["days_to_purchase"].astype("float64")
    if (days < 0).any():
        raise ValueError("journeys.days_to_purchase has negative values")
    purchased = frame["purchased"].fillna(False).astype(bool)
    test_drive_days = (frame["first_test_drive_at"] - frame["first_touch_at"]).dt.total_seconds() / 86400.0
    # Only a test drive before (or at) the purchase or the as-of date can speed up this purchase.
    test_drive_days = test_drive_days.where(test_drive_days <= days)
    first_touch = frame["first_touch_at"]
    if getattr(first_touch.dt, "tz", None) is not None:
        first_touch = first_touch.dt.tz_convert("UTC").dt.tz_localize(None)
    return pd.DataFrame({
        ID: frame["customer_id"].astype(str).to_numpy(),
        "days": days.to_numpy(),
        "purchased": purchased.to_numpy(),
        "day": model_day(days.to_numpy()),
        "acquisition_channel": frame["acquisition_channel"].fillna("unknown").astype(str).to_numpy(),
        "dealer_id": frame["dealer_id"].fillna(NO_DEALER).astype(str).to_numpy(),
        "first_touch_month": first_touch.dt.strftime("%Y-%m").to_numpy(),
        "test_drive_days": test_drive_days.to_numpy(),
    })


def model_day(days) -> np.ndarray:
    """Exact days since first touch -> journey day (1 = the first 24 hours)."""
    return np.floor(np.asarray(days, dtype="float64")) + 1.0


def long_format(customers: pd.DataFrame, covariates=("acquisition_channel", "dealer_id")) -> pd.DataFrame:
    """Start/stop rows: "not yet test-driven" until the test drive's day begins, "test-driven" after.

    A customer without a test drive has one row (0, day]; one who test-drove on journey day k
    has (0, k-1] with test_drive=0 (left out when k = 1) and (k-1, day] with test_drive=1.
    The event flag sits on the customer's last row only.
    """
    covariates = list(covariates)
    day = customers["day"].to_numpy()
    td_day = model_day(customers["test_drive_days"].to_numpy())  # NaN stays NaN
    switch = td_day - 1.0
    has_td = ~np.isnan(switch)
    before = has_td & (switch > 0)

    base = customers[[ID, *covariates]].reset_index(drop=True)
    no_td = base.loc[~has_td].assign(start=0.0, stop=day[~has_td], test_drive=0,
                                     event=customers["purchased"].to_numpy()[~has_td])
    pre = base.loc[before].assign(start=0.0, stop=switch[before], test_drive=0, event=False)
    post = base.loc[has_td].assign(start=np.where(before[has_td], switch[has_td], 0.0), stop=day[has_td],
                                   test_drive=1, event=customers["purchased"].to_numpy()[has_td])
    long = pd.concat([no_td, pre, post], ignore_index=True)
    long["event"] = long["event"].astype(bool)
    long["test_drive"] = long["test_drive"].astype("int8")
    return long.sort_values([ID, START], kind="stable").reset_index(drop=True)[
        [ID, START, STOP, TEST_DRIVE, EVENT, *covariates]]


def naive_table(customers: pd.DataFrame, covariates=("acquisition_channel", "dealer_id")) -> pd.DataFrame:
    """The WRONG coding, for contrast: "ever test-drove" fixed at first touch (immortal-time bias)."""
    out = customers[[ID, *covariates]].copy()
    out["day"] = customers["day"].to_numpy()
    out[EVENT] = customers["purchased"].to_numpy()
    out["ever_test_drove"] = customers["test_drive_days"].notna().astype("int8").to_numpy()
    return out


# --------------------------------------------------------------------------- reference levels and design

def check_reference_channel(channels, reference: str = REFERENCE_CHANNEL) -> str:
    """The reference channel must be in the data: another silent choice would change every hazard ratio's meaning."""
    present = sorted(set(pd.Series(channels).dropna().astype(str)))
    if reference not in present:
        raise ValueError(f"reference channel {reference!r} is not in the data (channels present: {present}); "
                         "hazard ratios are defined against it, so set another reference explicitly")
    return reference


def reference_dealer(dealers) -> str:
    """The dealer with the most customers (ties: first in sorted order): the most precise baseline."""
    counts = pd.Series(dealers).astype(str).value_counts()
    top = counts[counts == counts.max()].index
    return sorted(top)[0]


@dataclass
class Design:
    """Dummy-coded covariates and the levels they were coded against."""
    frame: pd.DataFrame
    covariates: list[str]
    reference_channel: str
    reference_dealer: str | None
    channels: list[str] = field(default_factory=list)
    dealers: list[str] = field(default_factory=list)


def dummy_code(frame: pd.DataFrame, reference_channel: str = REFERENCE_CHANNEL, reference_dealer_id=None,
               use_dealer: bool = True, use_channel: bool = True) -> Design:
    """Add `channel:<c>` and `dealer:<d>` indicator columns (reference levels left out)."""
    if use_channel:
        reference_channel = check_reference_channel(frame["acquisition_channel"], reference_channel)
        channels = sorted(c for c in frame["acquisition_channel"].unique() if c != reference_channel)
    else:
        reference_channel, channels = None, []
    out = frame.copy()
    covariates = []
    for channel in channels:
        name = f"channel:{channel}"
        out[name] = (frame["acquisition_channel"] == channel).astype("int8")
        covariates.append(name)
    dealers: list[str] = []
    if use_dealer and frame["dealer_id"].nunique() > 1:
        reference_dealer_id = reference_dealer_id or reference_dealer(frame["dealer_id"])
        dealers = sorted(d for d in frame["dealer_id"].unique() if d != reference_dealer_id)
        for dealer in dealers:
            name = f"dealer:{dealer}"
            out[name] = (frame["dealer_id"] == dealer).astype("int8")
            covariates.append(name)
    else:
        reference_dealer_id = None
    return Design(out, covariates, reference_channel, reference_dealer_id, channels, dealers)


# --------------------------------------------------------------------------- model fits

class NotConverged(NotEstimable, RuntimeError):
    """A model fit that does not converge (separation) or has a singular design; also a RuntimeError."""


class ConstantTerm(NotEstimable):
    """Terms that do not vary in the data (e.g. nobody took a test drive): no effect can be estimated."""

    def __init__(self, terms):
        self.terms = list(terms)
        super().__init__(f"the terms {self.terms} do not vary in the data")


@dataclass
class TimeVaryingCox:
    """A Cox fit on start/stop rows, shaped like lifelines' fitters (params_, variance_matrix_, summary)."""

    params_: pd.Series
    variance_matrix_: pd.DataFrame
    log_likelihood_: float
    rows: int
    events: int

    @property
    def standard_errors_(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.variance_matrix_)), index=self.params_.index, name="se(coef)")

    @property
    def summary(self) -> pd.DataFrame:
        coef, se = self.params_, self.standard_errors_
        z = coef / se
        half = stats.norm.ppf(0.975) * se
        return pd.DataFrame({
            "coef": coef, "exp(coef)": np.exp(coef), "se(coef)": se,
            "exp(coef) lower 95%": np.exp(coef - half), "exp(coef) upper 95%": np.exp(coef + half),
            "z": z, "p": 2 * stats.norm.sf(np.abs(z)),
        }).rename_axis("covariate")


def strict_entry(start, stop, event) -> np.ndarray:
    """Entry times that give statsmodels the (start, stop] risk sets of R's coxph and lifelines.

    statsmodels counts a row as at risk at its entry time (Stata's convention); moving each entry
    up to the first event time after `start` (never past `stop`) leaves out exactly the event
    times equal to `start`, and changes nothing else.
    """
    start, stop = np.asarray(start, dtype="float64"), np.asarray(stop, dtype="float64")
    times = np.unique(stop[np.asarray(event, dtype=bool)])
    following = np.searchsorted(times, start, side="right")
    next_event = np.append(times, np.inf)[following]
    return np.minimum(next_event, stop)


def fit_time_varying_cox(long: pd.DataFrame, covariates, id_col=ID, start_col=START, stop_col=STOP,
                         event_col=EVENT, strata=None) -> TimeVaryingCox:
    """Cox model on start/stop rows with Efron ties (statsmodels PHReg with left-truncated entry).

    The same estimates as lifelines' CoxTimeVaryingFitter and R's coxph (tests check both), but
    risk sets come from sorted cumulative sums instead of a scan of every row at every event
    time: seconds rather than an hour at a million customers. `strata`: columns whose level
    combinations each get their own baseline hazard. Rows are independent given the covariates,
    so `id_col` only documents the layout (as in coxph without a cluster term).
    """
    from statsmodels.duration.hazard_regression import PHReg
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    covariates = list(covariates)
    event = long[event_col].to_numpy(dtype=bool)
    if not event.any():
        raise NotEstimable("No purchases in the data, so the model has nothing to learn from.")
    constant = [c for c in covariates if long[c].nunique() < 2]
    if constant:
        raise ConstantTerm(constant)
    stop = long[stop_col].to_numpy(dtype="float64")
    entry = strict_entry(long[start_col].to_numpy(), stop, event)
    groups = long.groupby(list(strata), sort=True, observed=True).ngroup().to_numpy() if strata else None
    model = PHReg(stop, long[covariates].to_numpy(dtype="float64"), status=event.astype("float64"),
                  entry=entry, strata=groups, ties="efron")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            fit = model.fit(disp=False, maxiter=100)
            # PHReg's results keep no convergence flag: check the warning and that a further Newton step is negligible.
            step = np.linalg.lstsq(model.hessian(fit.params), model.score(fit.params), rcond=None)[0]
            cov = fit.cov_params()
        except np.linalg.LinAlgError as error:  # collinear terms: the information matrix is singular
            raise NotConverged(f"the Cox model could not be fitted ({error}): two terms carry the same "
                               "information") from error
    failed = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    # A separating term can also stop where the likelihood is flat: a huge coefficient, a variance that is not positive.
    if failed or not np.all(np.isfinite(fit.params)) or np.abs(step).max(initial=0.0) > 1e-6 \
            or not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0) \
            or np.abs(fit.params).max(initial=0.0) > MAX_LOG_HAZARD_RATIO:
        raise NotConverged("the Cox model did not converge (a covariate may separate buyers from non-buyers)")
    params = pd.Series(fit.params, index=covariates, name="coef")
    variance = pd.DataFrame(cov, index=covariates, columns=covariates)
    return TimeVaryingCox(params, variance, float(fit.llf), len(long), int(event.sum()))


def fit_cox(frame: pd.DataFrame, duration_col: str, event_col: str, covariates, batch_mode=None,
            strata=None, penalizer: float = 0.0):
    """lifelines' CoxPHFitter (Efron ties) on baseline covariates; batch_mode suits day-grained ties."""
    from lifelines import CoxPHFitter

    columns = [duration_col, event_col, *covariates, *(strata or [])]
    fitter = CoxPHFitter(penalizer=penalizer)
    fitter.fit(frame[columns], duration_col=duration_col, event_col=event_col, batch_mode=batch_mode,
               strata=strata)
    return fitter


def hazard_ratios(fitter) -> pd.DataFrame:
    """Hazard ratio, 95% interval and p-value per covariate of a fitted Cox model."""
    summary = fitter.summary
    return pd.DataFrame({
        "hazard_ratio": summary["exp(coef)"],
        "ci_low": summary["exp(coef) lower 95%"],
        "ci_high": summary["exp(coef) upper 95%"],
        "p": summary["p"],
    }).rename_axis("covariate")


@dataclass
class CoxResult:
    fitter: object
    long: pd.DataFrame
    design: Design
    hazard_ratios: pd.DataFrame
    concordance: float
    fit_seconds: float
    missing: dict = field(default_factory=dict)  # term -> the sentence saying why it has no estimate
    notes: list = field(default_factory=list)    # the fallbacks taken, one plain sentence each
    penalised: bool = False


def time_varying_model(customers: pd.DataFrame, reference_channel: str = REFERENCE_CHANNEL,
                       reference_dealer_id=None, use_dealer: bool = True, concordance_rows=None,
                       seed: int = 0) -> CoxResult:
    """The notebook's Cox model: test drive (time-varying) + acquisition channel + dealer."""
    import time

    design = dummy_code(customers, reference_channel, reference_dealer_id, use_dealer)
    covariates = design.covariates
    long = long_format(design.frame, covariates=covariates)
    started = time.perf_counter()
    fitter = fit_time_varying_cox(long, [TEST_DRIVE, *covariates])
    seconds = time.perf_counter() - started
    concordance = time_varying_concordance(long, fitter.params_, max_rows=concordance_rows, seed=seed)
    return CoxResult(fitter, long, design, hazard_ratios(fitter), concordance, seconds)


# --------------------------------------------------------------------------- sparse levels and fallbacks

@dataclass
class LevelChoice:
    """Acquisition channel and dealer after pooling sparse levels: the table every model and panel uses.

    `pooled`: feature -> raw levels pooled (into `targets[feature]`); `in_model`: feature -> whether
    the feature still has two or more levels for the models; `sentences`: what the report says.
    """
    customers: pd.DataFrame
    pooled: dict
    targets: dict
    in_model: dict
    reference_channel: str | None
    reference_dealer: str | None
    sentences: list = field(default_factory=list)

    def channels(self) -> list[str]:
        """Channel levels after pooling: the reference first, then by leads (ties by name)."""
        sizes = self.customers["acquisition_channel"].value_counts()
        return sorted(sizes.index, key=lambda c: (c != self.reference_channel, -sizes[c], c))


def choose_levels(customers: pd.DataFrame, min_level_customers: int = MIN_LEVEL_CUSTOMERS,
                  reference_channel: str = REFERENCE_CHANNEL) -> LevelChoice:
    """One rule for every model and panel of notebook 02 (journeylib.stats.levels).

    A channel or dealer with fewer than `min_level_customers` leads, or with no purchase, is pooled
    into `other` (an `other` still too thin goes into the reference). The channel reference is
    `reference_channel` when it survives, else the largest channel; the dealer reference is the
    largest dealer. A feature left with one level stays out of the models; its panels then pool by
    size only.
    """
    if isinstance(min_level_customers, bool) or not isinstance(min_level_customers, int) or min_level_customers < 1:
        raise ValueError(f"min_level_customers={min_level_customers!r}: expected a whole number >= 1")

    def is_sparse(rows: pd.DataFrame) -> bool:
        return len(rows) < min_level_customers or not rows["purchased"].any()

    plan = levels.plan_levels(customers, LEVEL_FEATURES, is_sparse, {"acquisition_channel": reference_channel})
    out = plan.apply(customers)
    pooled, targets, in_model, sentences = {}, {}, {}, []
    for feature in LEVEL_FEATURES:
        word = FEATURE_WORDS[feature]
        raw = customers[feature]
        in_model[feature] = feature in plan.levels
        if in_model[feature]:
            mapping = plan.mapping[feature]
            merged = sorted(str(level) for level, target in mapping.items() if target != level)
            target, events = (mapping[merged[0]] if merged else levels.OTHER_LEVEL), "purchases"
        else:  # out of the models: the panels still pool small groups, by size only
            out[feature], merged = levels.pool_rare(raw, min_level_customers)
            target = levels.OTHER_LEVEL
            if customers["purchased"].any():  # without purchases the notebook says so once instead
                kept = [level for level, rows in customers.groupby(feature) if not is_sparse(rows)]
                sentences.append(_left_out_sentence(word, raw, kept, min_level_customers))
        if merged:
            pooled[feature], targets[feature] = merged, target
            if in_model[feature]:
                names = ["(no dealer recorded)" if name == NO_DEALER else name for name in merged]
                sentences.append(levels.pooled_sentence(word, names, min_level_customers, target=target,
                                                        events="purchases", units="leads"))
    channel_ref = plan.references.get("acquisition_channel")
    if channel_ref is not None and channel_ref != reference_channel:
        why = "is not in this export" if reference_channel not in set(customers["acquisition_channel"]) else \
            f"has fewer than {min_level_customers} leads or no purchase"
        sentences.append(f"The usual reference channel '{reference_channel}' {why}, so hazard ratios compare each "
                         f"channel with the largest one, '{channel_ref}'.")
    return LevelChoice(out, pooled, targets, in_model, channel_ref, plan.references.get("dealer_id"), sentences)


def _left_out_sentence(word: str, raw: pd.Series, kept, min_count: int) -> str:
    present = raw.unique()
    if len(present) == 1:
        return f"Every lead has the same {word} ({present[0]}), so {word} is left out of the models."
    if len(kept) == 1:
        return (f"Only one {word} ({kept[0]}) has at least {min_count} leads and a purchase, so {word} is left "
                "out of the models.")
    return f"No {word} has at least {min_count} leads and a purchase, so {word} is left out of the models."


def purchase_model(choice: LevelChoice, concordance_rows=None, seed: int = 0, penalizer: float = 0.1) -> CoxResult:
    """The notebook's Cox model on the pooled levels, with the fallbacks of docs/time_to_purchase.md.

    Terms that do not vary (no test drives) are left out first. If the model still does not
    converge: (1) leave out the first factor whose removal lets it converge (dealer, then channel,
    then test drive); (2) a ridge-penalised fit of every term; (3) NotEstimable, and the notebook
    skips the section. Each step taken is a sentence in `notes`; terms without an estimate are in
    `missing` with their reason.
    """
    import time

    customers = choice.customers
    if not customers["purchased"].any():
        raise NotEstimable("No lead has bought yet, so the model of what speeds a purchase up cannot be fitted.")
    design = dummy_code(customers, choice.reference_channel or REFERENCE_CHANNEL, choice.reference_dealer,
                        use_dealer=choice.in_model["dealer_id"], use_channel=choice.in_model["acquisition_channel"])
    long = long_format(design.frame, covariates=design.covariates)
    groups = {"dealer": [t for t in design.covariates if t.startswith("dealer:")],
              "acquisition channel": [t for t in design.covariates if t.startswith("channel:")],
              "test drive": [TEST_DRIVE]}
    terms, missing, notes = [TEST_DRIVE, *design.covariates], {}, []
    if long[TEST_DRIVE].nunique() < 2:
        everyone = bool(long[TEST_DRIVE].iloc[0])
        missing[TEST_DRIVE] = ("Every lead test-drove before buying or the as-of date, so there is no one to compare "
                               "test drivers with." if everyone else
                               "No lead took a test drive before buying or the as-of date, so the test drive's "
                               "effect cannot be estimated.")
        terms.remove(TEST_DRIVE)
    if not terms:
        raise NotEstimable("There is nothing left to compare: no test drives, and a single channel and dealer "
                           "after pooling.")
    started = time.perf_counter()
    penalised = False
    try:
        fitter = fit_time_varying_cox(long, terms)
    except NotConverged:
        fitter = None
        for name, group in groups.items():
            rest = [t for t in terms if t not in group]
            if not rest or len(rest) == len(terms):
                continue
            try:
                fitter = fit_time_varying_cox(long, rest)
            except NotConverged:
                continue
            reason = (f"The model could not be fitted with {name}, which almost separates buyers from non-buyers "
                      f"here, so {name} is left out of the model.")
            notes.append(reason)
            missing.update({t: reason for t in terms if t in group})
            terms = rest
            break
        if fitter is None:
            fitter = _penalised_cox(long, terms, penalizer)
            penalised = True
            notes.append(f"The model only converged with a small penalty (ridge, {penalizer:g}), which pulls every "
                         "hazard ratio slightly towards 1.")
    seconds = time.perf_counter() - started
    concordance = time_varying_concordance(long, fitter.params_, max_rows=concordance_rows, seed=seed)
    return CoxResult(fitter, long, design, hazard_ratios(fitter), concordance, seconds, missing, notes, penalised)


def _penalised_cox(long: pd.DataFrame, terms, penalizer: float):
    """lifelines' CoxTimeVaryingFitter with a ridge penalty; NotConverged when even that fails."""
    from lifelines import CoxTimeVaryingFitter
    from lifelines.exceptions import ConvergenceError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitter = CoxTimeVaryingFitter(penalizer=penalizer).fit(
                long[[ID, START, STOP, EVENT, *terms]], id_col=ID, event_col=EVENT, start_col=START,
                stop_col=STOP)
    except (ConvergenceError, np.linalg.LinAlgError) as error:
        raise NotConverged("The model of what speeds a purchase up could not be fitted on this export, even with "
                           "a penalty, so this section is skipped.") from error
    if not np.all(np.isfinite(fitter.params_)) or not np.all(np.isfinite(fitter.variance_matrix_)):
        raise NotConverged("The model of what speeds a purchase up could not be fitted on this export, even with "
                           "a penalty, so this section is skipped.")
    return fitter


FACTOR_OF_PREFIX = {"channel:": "acquisition_channel", "dealer:": "dealer_id"}


def stratified_refit(result: CoxResult, violated) -> tuple[TimeVaryingCox, list[str]]:
    """The remedy when a channel or dealer term breaks proportional hazards: that factor becomes strata
    (each level its own baseline curve) instead of covariates. Returns the refit and the strata used."""
    strata = sorted({factor for prefix, factor in FACTOR_OF_PREFIX.items()
                     if any(str(term).startswith(prefix) for term in violated)})
    dropped = tuple(prefix for prefix, factor in FACTOR_OF_PREFIX.items() if factor in strata)
    keep = [term for term in result.fitter.params_.index if not dropped or not term.startswith(dropped)]
    levels = result.design.frame.set_index(ID)[strata]
    long = result.long.join(levels, on=ID)
    return fit_time_varying_cox(long, keep, strata=strata or None), strata


def naive_model(customers: pd.DataFrame, design: Design, covariates=None):
    """The same covariates with "ever test-drove" at baseline (biased; shown for contrast).

    `covariates`: the channel and dealer terms to use (default all of the design's); NotEstimable
    when nobody (or everybody) test-drove or the fit does not converge."""
    from lifelines.exceptions import ConvergenceError

    covariates = list(design.covariates if covariates is None else covariates)
    table = naive_table(design.frame, covariates=covariates)
    if table["ever_test_drove"].nunique() < 2 or not table[EVENT].any():
        raise NotEstimable("The naive comparison needs both leads who test-drove and leads who did not, and "
                           "some purchases.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fit_cox(table, "day", EVENT, ["ever_test_drove", *covariates], batch_mode=True)
    except (ConvergenceError, np.linalg.LinAlgError) as error:
        raise NotEstimable("The naive comparison model did not converge on this export.") from error


# --------------------------------------------------------------------------- risk sets (start/stop)

def _subsample_ids(long: pd.DataFrame, max_rows, seed: int, id_col=ID) -> pd.DataFrame:
    """Whole customers, drawn at random until about max_rows rows: a customer's history is never cut."""
    if max_rows is None or len(long) <= max_rows:
        return long
    ids = long[id_col].unique()
    rows_per_id = len(long) / len(ids)
    keep = np.random.default_rng(seed).choice(ids, size=max(2, int(max_rows / rows_per_id)), replace=False)
    return long.loc[long[id_col].isin(keep)]


def time_varying_concordance(long: pd.DataFrame, params: pd.Series, max_rows=None, seed: int = 0,
                             start_col=START, stop_col=STOP, event_col=EVENT) -> float:
    """Harrell's C for start/stop data: at each purchase day, the buyer's risk score (its covariates
    on that day) against every customer still at risk and not buying that day. Pairs tied on
    score count one half. With one row per customer this is ordinary Harrell's C."""
    data = _subsample_ids(long, max_rows, seed)
    eta = data[list(params.index)].to_numpy(dtype="float64") @ params.to_numpy()
    start, stop = data[start_col].to_numpy(), data[stop_col].to_numpy()
    event = data[event_col].to_numpy(dtype=bool)
    concordant = total = 0.0
    for t in np.unique(stop[event]):
        at_risk = (start < t) & (t <= stop)
        dies = at_risk & event & (stop == t)
        others = np.sort(eta[at_risk & ~dies])
        if len(others) == 0:
            continue
        below = np.searchsorted(others, eta[dies], side="left")
        ties = np.searchsorted(others, eta[dies], side="right") - below
        concordant += below.sum() + 0.5 * ties.sum()
        total += len(others) * dies.sum()
    return concordant / total if total else float("nan")


def breslow_cumulative_hazard(long: pd.DataFrame, params: pd.Series, start_col=START, stop_col=STOP,
                              event_col=EVENT) -> pd.Series:
    """Breslow baseline cumulative hazard (covariates all zero) at each event time, from sorted sums."""
    eta = long[list(params.index)].to_numpy(dtype="float64") @ params.to_numpy()
    weight = np.exp(eta)
    start, stop = long[start_col].to_numpy(), long[stop_col].to_numpy()
    event = long[event_col].to_numpy(dtype=bool)
    times, deaths = np.unique(stop[event], return_counts=True)
    # Risk set at t: rows with start < t <= stop = (rows with stop >= t) - (rows with start >= t).
    order_stop, order_start = np.argsort(stop), np.argsort(start)
    tail_stop = np.concatenate([np.cumsum(weight[order_stop][::-1])[::-1], [0.0]])
    tail_start = np.concatenate([np.cumsum(weight[order_start][::-1])[::-1], [0.0]])
    risk = (tail_stop[np.searchsorted(stop[order_stop], times, side="left")]
            - tail_start[np.searchsorted(start[order_start], times, side="left")])
    return pd.Series(np.cumsum(deaths / risk), index=times, name="baseline_cumulative_hazard")


def cumulative_hazard_at(baseline: pd.Series, t) -> np.ndarray:
    """Step-function value of a cumulative hazard at times t (0 before the first event)."""
    t = np.atleast_1d(np.asarray(t, dtype="float64"))
    position = np.searchsorted(baseline.index.to_numpy(), t, side="right")
    values = np.concatenate([[0.0], baseline.to_numpy()])
    return values[position]


# --------------------------------------------------------------------------- proportional hazards

def schoenfeld_test(long: pd.DataFrame, covariates, max_rows=None, seed: int = 0, time_transform: str = "rank",
                    id_col=ID, start_col=START, stop_col=STOP, event_col=EVENT, fitter=None) -> pd.DataFrame:
    """Grambsch-Therneau test on scaled Schoenfeld residuals, for start/stop data.

    The model is refitted on a random set of whole customers (about max_rows rows) so that the
    residuals and the variance come from the same fit. Residuals use Efron's weighting of tied
    purchases; the statistic per covariate is lifelines' `proportional_hazard_test` one (a
    chi-square with 1 df). time_transform: "rank" (average rank of the event times), "km",
    "identity" or "log". Returns test statistic and p per covariate, plus the residuals in
    `.attrs["residuals"]` (a DataFrame with the event time) for plots.
    """
    data = _subsample_ids(long, max_rows, seed, id_col)
    if fitter is None or data is not long:
        fitter = fit_time_varying_cox(data, covariates, id_col, start_col, stop_col, event_col)
    position = [list(fitter.params_.index).index(c) for c in covariates]
    beta = fitter.params_.to_numpy()[position]
    variance = np.asarray(fitter.variance_matrix_)[np.ix_(position, position)]
    x = data[list(covariates)].to_numpy(dtype="float64")
    start, stop = data[start_col].to_numpy(), data[stop_col].to_numpy()
    event = data[event_col].to_numpy(dtype=bool)
    weight = np.exp(x @ beta)

    residuals, times = [], []
    for t in np.unique(stop[event]):
        at_risk = (start < t) & (t <= stop)
        dies = at_risk & event & (stop == t)
        risk_w, risk_wx = weight[at_risk].sum(), weight[at_risk] @ x[at_risk]
        tie_w, tie_wx = weight[dies].sum(), weight[dies] @ x[dies]
        d = int(dies.sum())
        # Efron: the l-th of d tied purchases sees the risk set minus l/d of the tied buyers.
        mean = sum((risk_wx - l / d * tie_wx) / (risk_w - l / d * tie_w) for l in range(d)) / d
        residuals.append(x[dies] - mean)
        times.extend([t] * d)
    schoenfeld = np.vstack(residuals)
    times = np.asarray(times)
    n_events = len(times)
    scaled = n_events * schoenfeld @ variance
    g = _transform_times(times, data, time_transform, stop_col, event_col)
    centred = g - g.mean()
    statistic = (centred @ scaled) ** 2 / (n_events * np.diag(variance) * (centred ** 2).sum())
    result = pd.DataFrame({"test_statistic": statistic, "p": stats.chi2.sf(statistic, 1)},
                          index=pd.Index(list(covariates), name="covariate"))
    result.attrs["residuals"] = pd.DataFrame(scaled + beta, columns=list(covariates)).assign(time=times)
    result.attrs["rows_used"] = len(data)
    return result


def _transform_times(times, data, how, stop_col, event_col) -> np.ndarray:
    if how == "rank":
        return stats.rankdata(times)
    if how == "identity":
        return times.astype("float64")
    if how == "log":
        return np.log(times)
    if how == "km":
        from lifelines import KaplanMeierFitter

        last = data.groupby(ID)[[stop_col, event_col]].last() if ID in data else data[[stop_col, event_col]]
        km = KaplanMeierFitter().fit(last[stop_col], last[event_col])
        return 1.0 - km.survival_function_at_times(times).to_numpy()
    raise ValueError(f"unknown time_transform {how!r}")


def split_follow_up(long: pd.DataFrame, cuts, start_col=START, stop_col=STOP, event_col=EVENT) -> pd.DataFrame:
    """Split start/stop rows at journey-day cut points (episode splitting) and add a `period` column,
    so an effect can differ by period (the remedy when proportional hazards fail)."""
    edges = [0.0, *sorted(float(c) for c in cuts), np.inf]
    pieces = []
    for low, high in zip(edges[:-1], edges[1:]):
        part = long.loc[(long[start_col] < high) & (long[stop_col] > low)].copy()
        ends_inside = part[stop_col] <= high
        part[event_col] = part[event_col] & ends_inside
        part[start_col] = part[start_col].clip(lower=low)
        part[stop_col] = part[stop_col].clip(upper=high)
        part["period"] = f"{low:g}-{high:g}" if np.isfinite(high) else f"{low:g}+"
        pieces.append(part)
    return pd.concat(pieces, ignore_index=True).sort_values([ID, start_col], kind="stable").reset_index(drop=True)


def period_interaction(long: pd.DataFrame, cuts, covariate: str = TEST_DRIVE):
    """Split at `cuts` and replace `covariate` by one indicator per period (`test_drive[0-30]`, ...)."""
    split = split_follow_up(long, cuts)
    names = []
    for period in split["period"].unique():
        name = f"{covariate}[{period}]"
        split[name] = ((split["period"] == period) & (split[covariate] == 1)).astype("int8")
        names.append(name)
    return split, names


# --------------------------------------------------------------------------- Kaplan-Meier

def kaplan_meier(customers: pd.DataFrame, label: str = "all customers"):
    from lifelines import KaplanMeierFitter

    return KaplanMeierFitter(label=label).fit(customers["days"], customers["purchased"])


def km_by_group(customers: pd.DataFrame, group_col: str, max_groups=None, first=None) -> dict:
    """One Kaplan-Meier fit per level: `first` (e.g. the reference level) then the largest groups,
    at most max_groups in all."""
    sizes = customers[group_col].value_counts()
    levels = sorted(sizes.index, key=lambda level: (level != first, -sizes[level], level))[:max_groups]
    return {level: kaplan_meier(customers.loc[customers[group_col] == level], label=str(level)) for level in levels}


def _step_at(frame: pd.DataFrame, t: float) -> np.ndarray:
    """Row of a step function (indexed by time) in force at time t."""
    position = np.searchsorted(frame.index.to_numpy(), t, side="right") - 1
    return frame.iloc[max(position, 0)].to_numpy()


def purchase_probability(km, horizons=HORIZONS) -> pd.DataFrame:
    """P(purchase by t) = 1 - S(t) with lifelines' 95% interval (log(-log) Greenwood), per horizon.

    A horizon past the longest follow-up is left empty: the curve says nothing there."""
    survival = km.survival_function_
    bands = km.confidence_interval_survival_function_
    last = float(km.durations.max())
    rows = []
    for t in horizons:
        if t > last:
            rows.append((t, np.nan, np.nan, np.nan))
            continue
        s = float(_step_at(survival, t)[0])
        upper, lower = (float(v) for v in _step_at(bands, t)[[bands.columns.get_loc(c) for c in
                                                               _band_columns(bands)]])
        rows.append((t, 1.0 - s, 1.0 - upper, 1.0 - lower))
    return pd.DataFrame(rows, columns=["days", "estimate", "ci_low", "ci_high"]).set_index("days")


def _band_columns(bands: pd.DataFrame):
    upper = next(c for c in bands.columns if c.endswith("upper_0.95"))
    lower = next(c for c in bands.columns if c.endswith("lower_0.95"))
    return upper, lower


def logrank(customers: pd.DataFrame, group_col: str):
    """Log-rank test of equal purchase curves across the levels of group_col: (statistic, df, p)."""
    from lifelines.statistics import multivariate_logrank_test

    if customers[group_col].nunique() < 2:
        raise NotEstimable("There is only one group, so there are no purchase curves to compare.")
    if not customers["purchased"].any():
        raise NotEstimable("No lead has bought yet, so there are no purchase curves to compare.")
    result = multivariate_logrank_test(customers["days"], customers[group_col], customers["purchased"])
    return float(result.test_statistic), int(result.degrees_of_freedom), float(result.p_value)


def median_days(km):
    """KM median time to purchase with its 95% interval; inf where the curve never reaches one half."""
    from lifelines.utils import median_survival_times

    ci = median_survival_times(km.confidence_interval_survival_function_)
    upper, lower = _band_columns(km.confidence_interval_survival_function_)
    return float(km.median_survival_time_), float(ci[lower].iloc[0]), float(ci[upper].iloc[0])


def restricted_mean(km, horizon: float):
    """Restricted mean days without purchase within `horizon` (area under the KM curve up to it),
    with a 95% interval from the Greenwood-type variance sum_i A_i^2 d_i / (n_i (n_i - d_i)),
    A_i = area under S from the i-th purchase time to the horizon (Klein & Moeschberger 4.5).
    lifelines' own variance integrates the step function numerically and fails on long curves."""
    table = km.event_table
    table = table.loc[(table["observed"] > 0) & (table.index <= horizon)]
    times = table.index.to_numpy(dtype="float64")
    deaths, at_risk = table["observed"].to_numpy(), table["at_risk"].to_numpy()
    survival = np.cumprod(1.0 - deaths / at_risk)  # S just after each purchase time
    edges = np.concatenate([[0.0], times, [horizon]])
    levels = np.concatenate([[1.0], survival])
    pieces = levels * np.diff(edges)
    mean = pieces.sum()
    area_after = np.cumsum(pieces[::-1])[::-1][1:]  # A_i for each purchase time
    ok = at_risk > deaths
    variance = np.sum(area_after[ok] ** 2 * deaths[ok] / (at_risk[ok] * (at_risk[ok] - deaths[ok])))
    half = 1.959963984540054 * np.sqrt(variance)
    return float(mean), float(mean - half), float(mean + half)


# --------------------------------------------------------------------------- parametric cross-check

def weibull_aft(design: Design, covariates=None, penalizer: float = 0.0):
    """Weibull AFT on the baseline covariates (channel, dealer); exp(coef) are time ratios.

    The test drive is left out: as a baseline covariate it would carry the immortal-time bias.
    NotConverged when the fit fails (lifelines' ConvergenceError, or non-finite estimates)."""
    from lifelines import WeibullAFTFitter
    from lifelines.exceptions import ConvergenceError

    covariates = list(design.covariates if covariates is None else covariates)
    table = design.frame[["day", "purchased", *covariates]].astype({"purchased": bool})
    if not table["purchased"].any():
        raise NotEstimable("No lead has bought yet, so the Weibull cross-check cannot be fitted.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            aft = WeibullAFTFitter(penalizer=penalizer).fit(table, duration_col="day", event_col="purchased")
    except (ConvergenceError, np.linalg.LinAlgError) as error:
        raise NotConverged("the Weibull model did not converge") from error
    summary = aft.summary
    if not np.all(np.isfinite(summary[["coef", "se(coef)"]].to_numpy())):
        raise NotConverged("the Weibull model did not converge (infinite estimates)")
    return aft


@dataclass
class AFTResult:
    fitter: object
    covariates: list
    missing: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    penalised: bool = False


def cross_check_aft(design: Design, covariates=None, penalizer: float = 0.1) -> AFTResult:
    """The Weibull cross-check with the same fallbacks as the Cox model: every term; without the dealer
    terms, then without the channel terms; a ridge-penalised fit; else NotEstimable (section skipped)."""
    covariates = list(design.covariates if covariates is None else covariates)
    if not covariates:
        raise NotEstimable("With a single acquisition channel and a single dealer after pooling, the Weibull "
                           "cross-check has nothing to compare.")
    try:
        return AFTResult(weibull_aft(design, covariates), covariates)
    except NotConverged:
        pass
    for name, prefix in (("dealer", "dealer:"), ("acquisition channel", "channel:")):
        rest = [t for t in covariates if not t.startswith(prefix)]
        if not rest or len(rest) == len(covariates):
            continue
        try:
            aft = weibull_aft(design, rest)
        except NotConverged:
            continue
        reason = f"The Weibull model could not be fitted with {name}, so {name} is left out of it."
        return AFTResult(aft, rest, {t: reason for t in covariates if t not in rest}, [reason])
    try:
        aft = weibull_aft(design, covariates, penalizer=penalizer)
    except NotConverged as error:
        raise NotEstimable("The Weibull cross-check could not be fitted on this export, even with a penalty, "
                           "so it is skipped.") from error
    return AFTResult(aft, covariates, notes=[f"The Weibull model only converged with a small penalty (ridge, "
                                              f"{penalizer:g}), which pulls every time ratio slightly towards 1."],
                     penalised=True)


def time_ratios(aft) -> pd.DataFrame:
    summary = aft.summary.loc["lambda_"].drop(index="Intercept", errors="ignore")
    return pd.DataFrame({
        "time_ratio": summary["exp(coef)"],
        "ci_low": summary["exp(coef) lower 95%"],
        "ci_high": summary["exp(coef) upper 95%"],
        "p": summary["p"],
    }).rename_axis("covariate")


def aft_median_by_channel(aft, design: Design, covariates=None) -> pd.Series:
    """Model median days to purchase per channel, at the reference dealer (channels the model left out: none)."""
    covariates = list(design.covariates if covariates is None else covariates)
    channels = [c for c in design.channels if f"channel:{c}" in covariates]
    levels = [design.reference_channel, *channels] if channels else []
    rows = pd.DataFrame(0, index=levels, columns=covariates, dtype="float64")
    for channel in channels:
        rows.loc[channel, f"channel:{channel}"] = 1.0
    if rows.empty:
        return pd.Series(dtype="float64", name="aft_median_days")
    return aft.predict_median(rows).rename("aft_median_days")


# --------------------------------------------------------------------------- business scenario

@dataclass
class Scenario:
    eligible: int
    extra_test_drives: float
    extra_purchases: float
    ci_low: float
    ci_high: float
    p_without: float
    p_with: float


def test_drive_scenario(result: CoxResult, share: float = 0.10, window_days: int = 14, horizon_days: int = 90,
                        draws: int = 200, seed: int = 0) -> Scenario:
    """Expected extra purchases by day `horizon_days` if `share` of the eligible leads took a test drive
    on day `window_days`.

    Eligible: leads with no test drive and no purchase in their first `window_days` days. For each,
    the model gives P(purchase in (window, horizon] | still a lead at `window`) with and without a
    test drive at `window` (and none later); the gain times `share`, summed. The interval redraws the
    coefficients from their estimated sampling distribution and recomputes the baseline hazard.
    Assumptions (docs/time_to_purchase.md): the hazard ratio is causal, proportional hazards hold,
    the extra test-drivers look like the eligible leads, and without the push they would not
    test-drive before the horizon (so the figure is an upper bound on that count)."""
    long, params = result.long, result.fitter.params_
    if TEST_DRIVE not in params.index:
        raise NotEstimable("The model has no test-drive effect on this export, so the test-drive scenario "
                           "cannot be computed.")
    covariates = [c for c in params.index if c != TEST_DRIVE]
    first = long.groupby(ID, sort=False).agg(last_day=(STOP, "max"))
    first["td_from"] = long.loc[long[TEST_DRIVE] == 1].groupby(ID)[START].min().reindex(first.index)
    # Still a lead at the end of the window: not purchased by then (model time > window)
    # and not test-driven during it.
    eligible_ids = first.index[(first["last_day"] > window_days) &
                               ~(first["td_from"] < window_days)]
    if len(eligible_ids) == 0:
        raise NotEstimable(f"No lead was still shopping without a test drive on day {window_days}, so the "
                           "test-drive scenario has nobody to apply to.")
    x = result.design.frame.set_index(ID).loc[eligible_ids, covariates].to_numpy(dtype="float64")

    def gain(beta: pd.Series):
        baseline = breslow_cumulative_hazard(long, beta)
        h_from, h_to = cumulative_hazard_at(baseline, [window_days, horizon_days])
        risk = np.exp(x @ beta[covariates].to_numpy()) * (h_to - h_from)
        p0 = 1.0 - np.exp(-risk)
        p1 = 1.0 - np.exp(-risk * np.exp(beta[TEST_DRIVE]))
        return share * (p1 - p0).sum(), p0.mean(), p1.mean()

    estimate, p0, p1 = gain(params)
    rng = np.random.default_rng(seed)
    samples = rng.multivariate_normal(params.to_numpy(), result.fitter.variance_matrix_.to_numpy(), size=draws)
    spread = [gain(pd.Series(b, index=params.index))[0] for b in samples]
    low, high = np.percentile(spread, [2.5, 97.5])
    return Scenario(len(eligible_ids), share * len(eligible_ids), estimate, float(low), float(high), p0, p1)


# --------------------------------------------------------------------------- simulation with known truth

def simulate_journeys(customers: int = 3000, seed: int = 0, test_drive_hr: float = 2.0, channel_hrs=None,
                      dealer_hrs=None, base_rate: float = 1 / 200, test_drive_rate: float = 1 / 40,
                      never_test_drive: float = 0.4, window_days: float = 730,
                      as_of: str = "2024-12-31") -> pd.DataFrame:
    """Journeys-table rows with a known time-varying test-drive hazard ratio.

    Purchase hazard = base_rate x channel HR x dealer HR, times test_drive_hr from the test drive on
    (exponential pieces). Test drive times are exponential (rate test_drive_rate) for the leads who
    ever would test-drive; first touches are uniform over the `window_days` before `as_of`, which is
    where everyone still without a purchase is censored.
    """
    channel_hrs = channel_hrs or {"website": 1.0, "search": 1.3, "social": 0.7, "third_party": 1.6}
    dealer_hrs = dealer_hrs or {"D1": 1.0, "D2": 0.8, "D3": 1.25}
    rng = np.random.default_rng(seed)
    channel = rng.choice(list(channel_hrs), size=customers)
    dealer = rng.choice(list(dealer_hrs), size=customers)
    rate = base_rate * np.vectorize(channel_hrs.get)(channel) * np.vectorize(dealer_hrs.get)(dealer)
    test_drive = rng.exponential(1 / test_drive_rate, customers)
    test_drive[rng.random(customers) < never_test_drive] = np.inf
    before = rng.exponential(1.0, customers) / rate
    after = test_drive + rng.exponential(1.0, customers) / (rate * test_drive_hr)
    purchase = np.where(before < test_drive, before, after)
    follow_up = rng.uniform(0, window_days, customers)
    end = pd.Timestamp(as_of, tz="UTC")
    first_touch = end - pd.to_timedelta(follow_up, unit="D")
    bought = purchase <= follow_up
    drove = test_drive <= np.minimum(purchase, follow_up)
    days = np.where(bought, purchase, follow_up)
    return pd.DataFrame({
        "customer_id": [f"C{i:07d}" for i in range(customers)],
        "dealer_id": dealer,
        "first_touch_at": first_touch,
        "acquisition_channel": channel,
        "first_test_drive_at": first_touch + pd.to_timedelta(np.where(drove, test_drive, np.nan), unit="D"),
        "first_purchase_at": first_touch + pd.to_timedelta(np.where(bought, purchase, np.nan), unit="D"),
        "purchased": bought,
        "days_to_purchase": days,
        "censored": ~bought,
    })

