"""A Weibull accelerated-failure-time fit on weighted rows, by Newton's method with analytic derivatives.

lifelines' WeibullAFTFitter (the same model and parameterisation: scale lambda = exp(x'beta), shape
rho = exp(a)) differentiates by autograd at every step, which is most of notebook 02's time on large
exports; with one row per (journey day, outcome, levels) and its count as weight the likelihood is a
few hundred thousand terms at most. Tests hold the estimates, standard errors and medians to
lifelines'. The ridge-penalised fallback stays with lifelines (its penalty is on standardised
coefficients, and that path is rare).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeylib.stats.intervals import wald_interval
from journeylib.time_to_purchase.risksets import covariate_patterns

MAX_STEPS = 100
MAX_COEFFICIENT = 15.0  # |log time ratio| beyond this is a separated level, not an effect


class WeibullNotConverged(RuntimeError):
    pass


class WeibullAFT:
    """Fitted attributes (`params_`, `variance_matrix_`, `summary`) shaped like lifelines' WeibullAFTFitter."""

    def fit(self, durations, events, covariates: pd.DataFrame, weights=None):
        """Maximise the log-likelihood, each row counted `weights` times (frequency weights)."""
        t = np.asarray(durations, dtype="float64")
        d = np.asarray(events, dtype="float64")
        w = np.ones_like(t) if weights is None else np.asarray(weights, dtype="float64")
        # Rows share a few covariate patterns (channel x dealer): every sum over rows is a sum per
        # pattern, so the matrix products are pattern-sized (no large BLAS calls, which crawl on a busy machine).
        patterns, pattern = covariate_patterns(covariates.to_numpy(dtype="float64"))
        x = np.column_stack([patterns, np.ones(len(patterns))])  # intercept last
        names = [*covariates.columns, "Intercept"]
        total, log_t = w.sum(), np.log(t)

        def per_pattern(values):
            return np.bincount(pattern, weights=values, minlength=len(x))

        def derivatives(theta):
            beta, a = theta[:-1], theta[-1]
            rho = np.exp(a)
            u = log_t - (x @ beta)[pattern]
            with np.errstate(over="ignore"):  # a trial step too far: an infinite likelihood the search rejects
                e = np.exp(rho * u)
            ll = w @ (d * (a + rho * u - log_t) - e) / total  # per lead, as lifelines
            g_beta = -rho * (x.T @ per_pattern(w * (d - e)))
            g_a = w @ (d * (1 + rho * u) - rho * u * e)
            grad = np.r_[g_beta, g_a] / total
            r = d - e - rho * u * e
            h_bb = -(x.T * per_pattern(w * rho ** 2 * e)) @ x
            h_ba = -rho * (x.T @ per_pattern(w * r))
            h_aa = w @ (rho * u * r)
            hess = np.block([[h_bb, h_ba[:, None]], [h_ba[None, :], np.array([[h_aa]])]]) / total
            return ll, grad, hess

        # Start where lifelines does in spirit: no covariate effect, exponential times at the mean rate.
        theta = np.zeros(x.shape[1] + 1)
        theta[-2] = np.log((w @ t) / max(w @ d, 1e-12))
        ll, grad, hess = derivatives(theta)
        for _ in range(MAX_STEPS):
            step = np.linalg.solve(hess, -grad)
            size = 1.0
            while size > 1e-8:  # halve the step until the likelihood does not fall
                candidate = theta + size * step
                new = derivatives(candidate)
                if np.isfinite(new[0]) and new[0] >= ll - 1e-12:
                    break
                size /= 2
            else:
                raise WeibullNotConverged("no step improves the likelihood")
            theta, (ll, grad, hess) = candidate, new
            if np.max(np.abs(size * step)) < 1e-9:
                break
        else:
            raise WeibullNotConverged(f"no convergence in {MAX_STEPS} Newton steps")
        if not np.all(np.isfinite(theta)) or np.max(np.abs(theta[:-2]), initial=0.0) > MAX_COEFFICIENT:
            raise WeibullNotConverged("an estimate is infinite (a level separates buyers)")
        index = pd.MultiIndex.from_tuples([*(("lambda_", n) for n in names), ("rho_", "Intercept")],
                                          names=["param", "covariate"])
        self.params_ = pd.Series(theta, index=index, name="coef")
        self.variance_matrix_ = pd.DataFrame(np.linalg.inv(-hess) / total, index=index, columns=index)
        return self

    @property
    def summary(self) -> pd.DataFrame:
        coef = self.params_
        se = pd.Series(np.sqrt(np.diag(self.variance_matrix_)), index=coef.index)
        low, high = wald_interval(coef, se)
        z = coef / se
        from scipy import stats

        return pd.DataFrame({"coef": coef, "exp(coef)": np.exp(coef), "se(coef)": se,
                             "exp(coef) lower 95%": np.exp(low), "exp(coef) upper 95%": np.exp(high),
                             "z": z, "p": 2 * stats.norm.sf(np.abs(z))})

    def predict_median(self, rows: pd.DataFrame) -> pd.Series:
        """Median time for each row of covariates: lambda (log 2)^(1/rho)."""
        beta = self.params_.loc["lambda_"]
        scale = np.exp(rows[beta.index.drop("Intercept")].to_numpy(dtype="float64") @
                       beta.drop("Intercept").to_numpy() + beta["Intercept"])
        rho = np.exp(self.params_[("rho_", "Intercept")])
        return pd.Series(scale * np.log(2) ** (1 / rho), index=rows.index)
