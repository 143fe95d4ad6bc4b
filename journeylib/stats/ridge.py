"""Ridge-penalised GLMs by Newton steps, shared by the lead scores and the service landmark model.

Column 0 of the design is the intercept and is never penalised. Plain numpy: the fits are small and
run many times (penalty choice, backtests), where statsmodels' set-up cost would dominate.
"""

from __future__ import annotations

import contextlib

import numpy as np


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


def fit_logistic(x: np.ndarray, y: np.ndarray, ridge: float, iterations: int = 50) -> np.ndarray:
    """Ridge-penalised logistic regression; returns the coefficients."""
    penalty = _penalty(x, ridge)
    beta = np.zeros(x.shape[1])
    share = np.clip(y.mean(), 1e-6, 1 - 1e-6)
    beta[0] = np.log(share / (1 - share))
    with one_thread():
        for _ in range(iterations):
            p = expit(x @ beta)
            gradient = x.T @ (y - p) - penalty * beta
            hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty)
            step = np.linalg.solve(hessian, gradient)
            beta += step
            if np.max(np.abs(step)) < 1e-6:
                break
    return beta


def fit_log_linear(x: np.ndarray, y: np.ndarray, ridge: float, iterations: int = 50) -> np.ndarray:
    """E[y] = exp(x·β) by Poisson quasi-likelihood (any y ≥ 0): the fitted mean matches the observed total
    on the fitting rows."""
    penalty = _penalty(x, ridge)
    beta = np.zeros(x.shape[1])
    beta[0] = np.log(max(y.mean(), 1e-12))
    with one_thread():
        for _ in range(iterations):
            mu = np.exp(np.clip(x @ beta, -30, 30))
            gradient = x.T @ (y - mu) - penalty * beta
            hessian = (x * mu[:, None]).T @ x + np.diag(penalty)
            step = np.linalg.solve(hessian, gradient)
            step *= min(1.0, 2.0 / max(np.max(np.abs(step)), 1e-12))  # damped: the log link overshoots
            beta += step
            if np.max(np.abs(step)) < 1e-7:
                break
    return beta
