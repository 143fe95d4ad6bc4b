"""Ridge-penalised GLMs by Newton steps, shared by the lead scores and the service landmark model.

Column 0 of the design is the intercept and is never penalised. Plain numpy: the fits are small and
run many times (penalty choice, backtests), where statsmodels' set-up cost would dominate.

Each Newton step is halved until the penalised (quasi-)log-likelihood does not fall: a plain Newton step
can overshoot on a rare column and then cycle between two points for good (a band column held by 0.5 % of
240,000 landmark rows did, so the fit returned one end of the cycle). A fit that has not converged after
`iterations` steps, or that no step improves, raises NotConverged instead of returning coefficients.
"""

from __future__ import annotations

import contextlib

import numpy as np

from journeylib.errors import NotConverged

HALVINGS = 30  # step halvings tried before a fit is declared stuck


def expit(eta):
    return 1.0 / (1.0 + np.exp(-np.clip(eta, -35, 35)))


def one_thread():
    """Tall, thin products run fastest on one BLAS thread (threads spin against each other on a busy machine)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _penalty(x: np.ndarray, ridge: float) -> np.ndarray:
    penalty = np.full(x.shape[1], ridge)
    penalty[0] = 0.0
    return penalty


def _logistic_objective(x, y, beta, penalty) -> float:
    eta = x @ beta
    return float((y * eta - np.logaddexp(0.0, eta)).sum() - 0.5 * (penalty * beta * beta).sum())


def _log_linear_objective(x, y, beta, penalty, offset=0.0) -> float:
    eta = np.clip(x @ beta + offset, -30, 30)
    return float((y * eta - np.exp(eta)).sum() - 0.5 * (penalty * beta * beta).sum())


def _newton(objective, direction, beta, tolerance, iterations, what) -> np.ndarray:
    """Newton steps `direction(beta)` (the full step), each halved until `objective` does not fall, until a
    full step is below `tolerance`; NotConverged otherwise."""
    with np.errstate(invalid="ignore"):
        current = objective(beta)
    if not np.isfinite(current):
        raise NotConverged(f"The {what} could not be fitted: the design or the outcome is not finite.")
    for _ in range(iterations):
        step = direction(beta)
        if not np.all(np.isfinite(step)):
            raise NotConverged(f"The {what} could not be fitted: a Newton step was not finite.")
        if np.max(np.abs(step)) < tolerance:
            return beta + step
        for _ in range(HALVINGS):
            trial = objective(beta + step)
            if trial >= current - 1e-12 * abs(current):  # no worse, up to rounding
                break
            step = step / 2
        else:
            raise NotConverged(f"The {what} could not be fitted: no Newton step improved the fit.")
        beta, current = beta + step, trial
    raise NotConverged(f"The {what} did not converge in {iterations} Newton steps.")


def fit_logistic(x: np.ndarray, y: np.ndarray, ridge: float, iterations: int = 50) -> np.ndarray:
    """Ridge-penalised logistic regression; returns the coefficients (NotConverged when the fit fails)."""
    penalty = _penalty(x, ridge)
    beta = np.zeros(x.shape[1])
    share = np.clip(y.mean(), 1e-6, 1 - 1e-6)
    beta[0] = np.log(share / (1 - share))

    def direction(b):
        p = expit(x @ b)
        gradient = x.T @ (y - p) - penalty * b
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty)
        return np.linalg.solve(hessian, gradient)

    with one_thread():
        return _newton(lambda b: _logistic_objective(x, y, b, penalty), direction, beta, 1e-6, iterations,
                       "ridge logistic regression")


def fit_log_linear(x: np.ndarray, y: np.ndarray, ridge: float, iterations: int = 50,
                   offset: np.ndarray | None = None) -> np.ndarray:
    """E[y] = exp(x·β + offset) by Poisson quasi-likelihood (any y ≥ 0): the fitted mean matches the observed
    total on the fitting rows. NotConverged when the fit fails."""
    penalty = _penalty(x, ridge)
    offset = np.zeros(len(y)) if offset is None else np.asarray(offset, float)
    beta = np.zeros(x.shape[1])
    beta[0] = np.log(max(y.mean(), 1e-12) / max(np.exp(offset).mean(), 1e-12))

    def direction(b):
        mu = np.exp(np.clip(x @ b + offset, -30, 30))
        gradient = x.T @ (y - mu) - penalty * b
        hessian = (x * mu[:, None]).T @ x + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        return step * min(1.0, 2.0 / max(np.max(np.abs(step)), 1e-12))  # damped: the log link overshoots

    with one_thread():
        return _newton(lambda b: _log_linear_objective(x, y, b, penalty, offset), direction, beta, 1e-7, iterations,
                       "log-link regression")
