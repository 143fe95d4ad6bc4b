"""Service return and value: MBG/NBD for service visits, Gamma–Gamma for customer-pay spend.

A buyer's service life starts at the first purchase (time 0, like the first
purchase of the BG/NBD). Visits after it are "repeat transactions": while alive,
a buyer visits as a Poisson process with rate λ ~ Gamma(r, α); at the purchase and
after each visit they drop out with probability p ~ Beta(a, b). That is the BG/NBD
of Fader, Hardie & Lee (2005), "Counting your customers the easy way", with the
dropout also possible at the purchase (the MBG/NBD of Batislam, Denizel &
Filiztekin 2007): many buyers never come to the dealer's service at all, and the
plain BG/NBD would keep every one of them alive forever. Time is in years.

Customer-pay spend per paying visit is Gamma(p, ν) with ν ~ Gamma(q, γ)
(Fader, Hardie & Lee 2005, "RFM and CLV"); the share of a buyer's visits that are
customer pay is Beta–Binomial (warranty and internal work is paid by others).
All three are fitted by maximum likelihood (scipy.optimize) with the
log-likelihoods written here; everything is vectorised over buyers.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from journeylib.errors import NotEstimable

YEAR_DAYS = 365.25
FIT_SAMPLE = 30_000  # buyers a likelihood sees at most (a seeded sample: three or four parameters need no more)
NO_REPEAT_VISITS = ("No buyer has a service visit after the purchase, so there is no visit rate to learn and "
                    "no service return to predict.")
FEW_PAYING = ("Fewer than {n} buyers have a customer-pay visit with an amount, so customer-pay spend per visit "
              "cannot be estimated; the expected revenue is not reported.")
MIN_PAYING_BUYERS = 10


def _sample(n: int, seed: int = 0) -> np.ndarray:
    if n <= FIT_SAMPLE:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, FIT_SAMPLE, replace=False))


def _distinct(*columns) -> tuple[list, np.ndarray]:
    """The distinct rows of `columns` and how often each occurs (buyers with the same history count once, weighted)."""
    rows, counts = np.unique(np.column_stack(columns), axis=0, return_counts=True)
    return [rows[:, i] for i in range(rows.shape[1])], counts.astype(float)


def _maximise(negll, start) -> np.ndarray:
    """Minimise `negll` over log-parameters: L-BFGS, and Nelder–Mead from there when it stopped short.

    Steps far out (a rate of 10^5) overflow on the way; they are scored as impossible (1e300), not shown.
    """
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        chosen = optimize.minimize(negll, start, method="L-BFGS-B", bounds=[(-12, 12)] * len(start))
        if not chosen.success:
            polished = optimize.minimize(negll, chosen.x, method="Nelder-Mead",
                                         options={"xatol": 1e-6, "fatol": 1e-8, "maxiter": 4000})
            chosen = polished if polished.fun <= chosen.fun else chosen
    if not np.isfinite(chosen.fun):
        raise NotEstimable("The service-visit model could not be estimated on this export (the likelihood "
                           "has no finite maximum).")
    return np.exp(chosen.x)


@dataclass(frozen=True)
class MBGNBD:
    """MBG/NBD parameters: r, alpha (visit rate; alpha in years) and a, b (dropout at the purchase, after a visit)."""

    r: float
    alpha: float
    a: float
    b: float

    @staticmethod
    def log_likelihood(params, x, t_x, T, groups=None) -> np.ndarray:
        """Each buyer's log-likelihood of x visits, the last at t_x, observed for T years (Batislam et al. 2007).

        `groups`: np.unique(x, return_inverse=True), when the caller has it (the fit: once, not per step).
        """
        r, alpha, a, b = params
        x = np.asarray(x, dtype=float)
        ux, where = groups if groups is not None else np.unique(x, return_inverse=True)  # the gamma functions
        # depend on x only: few values
        by_x = (special.gammaln(r + ux) - special.gammaln(r) + r * np.log(alpha)
                + special.betaln(a, b + ux + 1) - special.betaln(a, b))
        dropped = np.log(a) - np.log(b + ux)
        alive_term = -(r + x) * np.log(alpha + T)
        dropped_term = dropped[where] - (r + x) * np.log(alpha + t_x)
        return by_x[where] + np.logaddexp(alive_term, dropped_term)

    @classmethod
    def fit(cls, x, t_x, T) -> MBGNBD:
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        if not (x > 0).any():
            raise NotEstimable(NO_REPEAT_VISITS)
        keep = _sample(len(x))
        (x, t_x, T), weight = _distinct(x[keep], t_x[keep], T[keep])
        groups = np.unique(x, return_inverse=True)

        def negll(log_params):
            value = -(weight * cls.log_likelihood(np.exp(log_params), x, t_x, T, groups)).sum()
            return value if np.isfinite(value) else 1e300

        rate = (weight * x).sum() / max((weight * T).sum(), 1e-9)
        return cls(*_maximise(negll, np.log([1.0, 1.0 / max(rate, 1e-3), 1.0, 3.0])))

    def p_alive(self, x, t_x, T) -> np.ndarray:
        """P(still a service customer at T | x, t_x, T). At the purchase (T = 0) it is b / (a + b), the share
        who ever come; it falls only as the time without a visit grows past what the buyer's rate explains."""
        x = np.asarray(x, dtype=float)
        ratio = np.exp((self.r + x) * (np.log(self.alpha + T) - np.log(self.alpha + t_x)))
        return 1.0 / (1.0 + self.a / (self.b + x) * ratio)

    def p_visit_if_alive(self, x, T, horizon) -> np.ndarray:
        """P(≥ 1 visit in (T, T + horizon] | alive at T) = 1 − E[exp(−λ·horizon)], λ ~ Gamma(r+x, α+T)."""
        x = np.asarray(x, dtype=float)
        return 1.0 - np.exp((self.r + x) * (np.log(self.alpha + T) - np.log(self.alpha + T + horizon)))

    def expected_if_alive(self, x, T, horizon, nodes: int = 32) -> np.ndarray:
        """E[visits in (T, T + horizon] | alive at T, x].

        Given λ and p, a live buyer makes (1 − exp(−λ·p·horizon)) / p visits in the window (the NBD with
        geometric dropout); averaged over λ ~ Gamma(r + x, α + T) in closed form and over p ~ Beta(a, b + x + 1)
        by Gauss–Legendre quadrature on its quantiles. The closed form with 2F1 (Batislam et al. 2007) fails
        when the fit makes the visit rates nearly equal (r and α in the thousands), Gauss–Jacobi when b is
        in the thousands; this does not.
        """
        x = np.asarray(x, dtype=float)
        T = np.broadcast_to(np.asarray(T, dtype=float), x.shape)
        u, w = special.roots_legendre(nodes)
        u, w = (u + 1) / 2, w / 2
        out = np.empty_like(x)
        for value in np.unique(x):
            rows = x == value
            p = special.betaincinv(self.a, self.b + value + 1, u)[None, :]
            scale = self.alpha + T[rows][:, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                visits = -np.expm1(-(self.r + value) * np.log1p(p * horizon / scale)) / p
            visits = np.where(p > 0, visits, (self.r + value) * horizon / scale)  # the limit as p → 0
            out[rows] = visits @ w
        return out


@dataclass(frozen=True)
class GammaGamma:
    """Gamma–Gamma spend: p (shape per visit), q and gamma (the buyers' spread of the scale)."""

    p: float
    q: float
    gamma: float

    @staticmethod
    def log_likelihood(params, n, mean) -> np.ndarray:
        """Log-density of a buyer's mean spend `mean` over `n` paying visits (up to the Jacobian constant)."""
        p, q, g = params
        n = np.asarray(n, dtype=float)
        un, where = np.unique(n, return_inverse=True)  # the gamma functions depend on n only: few values
        by_n = special.gammaln(p * un + q) - special.gammaln(p * un) + p * un * np.log(un)
        px = p * n
        return (by_n[where] - special.gammaln(q) + q * np.log(g)
                + (px - 1) * np.log(mean) - (px + q) * np.log(g + mean * n))

    @classmethod
    def fit(cls, n, mean) -> GammaGamma:
        n, mean = np.asarray(n, dtype=float), np.asarray(mean, dtype=float)
        paying = (n > 0) & (mean > 0) & np.isfinite(mean)
        if paying.sum() < MIN_PAYING_BUYERS:
            raise NotEstimable(FEW_PAYING.format(n=MIN_PAYING_BUYERS))
        n, mean = n[paying], mean[paying]
        keep = _sample(len(n))
        (n, mean), weight = _distinct(n[keep], mean[keep])

        def negll(log_params):
            value = -(weight * cls.log_likelihood(np.exp(log_params), n, mean)).sum()
            return value if np.isfinite(value) else 1e300

        fitted = cls(*_maximise(negll, np.log([2.0, 3.0, float(np.median(mean))])))
        if fitted.q <= 1:  # the population mean pγ/(q − 1) does not exist
            raise NotEstimable("Customer-pay amounts vary too wildly between buyers for a mean spend per visit "
                               "(Gamma–Gamma q ≤ 1); the expected revenue is not reported.")
        return fitted

    @property
    def population_mean(self) -> float:
        return self.p * self.gamma / (self.q - 1)

    def expected_spend(self, n, mean) -> np.ndarray:
        """E[spend per paying visit | n paying visits with mean `mean`]; the population mean when n = 0."""
        n = np.asarray(n, dtype=float)
        mean = np.where(n > 0, np.nan_to_num(np.asarray(mean, dtype=float)), 0.0)
        return self.p * (self.gamma + mean * n) / (self.p * n + self.q - 1)


@dataclass(frozen=True)
class PayShare:
    """Beta(a, b) share of a buyer's visits that are customer pay (Beta–Binomial, fitted by ML)."""

    a: float
    b: float

    @classmethod
    def fit(cls, paying, visits) -> PayShare:
        paying, visits = np.asarray(paying, dtype=float), np.asarray(visits, dtype=float)
        seen = visits > 0
        if not seen.any():
            raise NotEstimable(NO_REPEAT_VISITS)
        (k, n), weight = _distinct(paying[seen], visits[seen])
        if k @ weight == 0 or k @ weight == n @ weight:  # all or nothing: the share is 0 or 1, no spread to learn
            share = float((k @ weight) / (n @ weight))
            return cls(max(share, 1e-9) * 1e6, max(1 - share, 1e-9) * 1e6)

        def negll(log_params):
            a, b = np.exp(log_params)
            value = -(weight * (special.betaln(a + k, b + n - k) - special.betaln(a, b))).sum()
            return value if np.isfinite(value) else 1e300

        return cls(*_maximise(negll, np.log([1.0, 1.0])))

    def expected_share(self, paying, visits) -> np.ndarray:
        return (self.a + np.asarray(paying, dtype=float)) / (self.a + self.b + np.asarray(visits, dtype=float))
