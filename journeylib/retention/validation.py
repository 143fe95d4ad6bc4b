"""Honest validation: refit on earlier purchase cohorts, score the latest ones (AUC, Brier, calibration, lift)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from journeylib.errors import NotEstimable
from journeylib.retention.model import ChurnModel, fit_churn_model
from journeylib.stats.intervals import wilson_interval

# The holdout's details in metrics.json (`holdout.<key>`); auc and brier are recorded on their own.
HOLDOUT_KEYS = ("train_buyers", "test_buyers", "train_until", "test_from", "train_churn_rate", "test_churn_rate",
                "baseline_auc", "baseline_brier", "calibration_slope", "calibration_intercept")
ONE_CLASS_AUC = "The holdout buyers are all churned or all retained, so the AUC is not defined."


def temporal_split(frame: pd.DataFrame, holdout_share: float = 0.25) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Earlier purchase-month cohorts for training, the latest ones (about `holdout_share` of buyers) for testing.

    Whole months go to one side, so no cohort is split; at least one month stays in training.
    """
    if not 0 < holdout_share < 1:
        raise ValueError(f"holdout_share must be between 0 and 1, got {holdout_share}")
    month = frame["first_purchase_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    per_month = month.value_counts().sort_index(ascending=False)
    share_from_latest = per_month.cumsum() / len(frame)
    closest = int(np.argmin(np.abs(share_from_latest.to_numpy() - holdout_share)))
    test_months = list(share_from_latest.index[:closest + 1])
    if len(test_months) == len(per_month):
        test_months = test_months[:-1]
    is_test = month.isin(test_months)
    return frame[~is_test], frame[is_test]


def calibration(y, p) -> dict:
    """Calibration slope (logit(y) on logit(p)) and intercept (calibration-in-the-large, slope fixed at 1)."""
    import statsmodels.api as sm

    y = np.asarray(y, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), 1e-9, 1 - 1e-9)
    logit = np.log(p / (1 - p))
    intercept_fit = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Binomial(), offset=logit).fit()
    if np.ptp(logit) == 0:  # every prediction equal (an intercept-only model): there is no slope
        return {"calibration_slope": np.nan, "calibration_intercept": float(intercept_fit.params[0])}
    slope_fit = sm.GLM(y, sm.add_constant(logit, has_constant="add"), family=sm.families.Binomial()).fit()
    return {"calibration_slope": float(slope_fit.params[1]), "calibration_intercept": float(intercept_fit.params[0])}


def calibration_table(y, p, bins: int | None = None) -> pd.DataFrame:
    """Observed churn (with a 95% Wilson interval) against mean predicted risk in quantile bins of the prediction.

    By default 10 bins, fewer for a small holdout (at least about 30 buyers per bin, at least 3 bins).
    """
    data = pd.DataFrame({"y": np.asarray(y, dtype=float), "p": np.asarray(p, dtype=float)})
    if bins is None:
        bins = max(3, min(10, len(data) // 30))
    data["bin"] = pd.qcut(data["p"].rank(method="first"), min(bins, len(data)), labels=False)
    table = data.groupby("bin").agg(buyers=("y", "size"), churned=("y", "sum"), predicted=("p", "mean"),
                                    observed=("y", "mean")).reset_index()
    table["ci_low"], table["ci_high"] = wilson_interval(table["churned"].astype(int), table["buyers"])
    return table


def lift_table(y, p, deciles: int = 10) -> pd.DataFrame:
    """Churn rate per decile of predicted risk (decile 1 = highest risk) and its lift over the overall rate."""
    data = pd.DataFrame({"y": np.asarray(y, dtype=float), "p": np.asarray(p, dtype=float)})
    # rank ties by order so every decile has (almost) the same size
    data["decile"] = pd.qcut((-data["p"]).rank(method="first"), min(deciles, len(data)), labels=False) + 1
    table = data.groupby("decile").agg(buyers=("y", "size"), churned=("y", "sum"), mean_risk=("p", "mean"),
                                       churn_rate=("y", "mean")).reset_index()
    table["lift"] = table["churn_rate"] / data["y"].mean()
    return table


@dataclass
class Holdout:
    """The temporal holdout: its measures (`metrics`, HOLDOUT_KEYS plus auc and brier) and tables."""

    metrics: dict
    model: ChurnModel  # fitted on the training cohorts
    predictions: pd.DataFrame  # test buyers: churned, risk
    calibration: pd.DataFrame  # calibration_table
    lift: pd.DataFrame  # lift_table

    @property
    def comparison(self) -> pd.DataFrame:
        """AUC, Brier score and calibration of the model beside the no-model baseline (rows), for the report."""
        m = self.metrics
        return pd.DataFrame({"model": [m["auc"], m["brier"], m["calibration_slope"], m["calibration_intercept"]],
                             "no-model baseline": [m["baseline_auc"], m["baseline_brier"], np.nan, np.nan]},
                            index=["AUC", "Brier score", "calibration slope", "calibration intercept"])

    @property
    def top_fifth_share(self) -> float:
        """The share of the holdout's churned buyers among the riskiest two deciles."""
        return float(self.lift.head(2)["churned"].sum() / max(self.lift["churned"].sum(), 1))


def holdout_validation(frame: pd.DataFrame, holdout_share: float = 0.25, cluster_by_dealer: bool = False,
                       min_count: int = 20, min_events: int = 5) -> Holdout:
    """Fit on earlier cohorts, score the latest: AUC, Brier, calibration and lift against a no-model baseline.

    The baseline predicts the training churn rate for everyone (AUC 0.5).
    """
    with warnings.catch_warnings():  # a tiny holdout can give degenerate fits; the measures say so
        warnings.simplefilter("ignore", category=RuntimeWarning)
        return _holdout(frame, holdout_share, cluster_by_dealer, min_count, min_events)


def _holdout(frame, holdout_share, cluster_by_dealer, min_count, min_events) -> Holdout:
    from sklearn.metrics import brier_score_loss, roc_auc_score

    train, test = temporal_split(frame, holdout_share)
    if test.empty or train["churned"].nunique() < 2:
        raise NotEstimable("No temporal holdout is possible: the eligible buyers span a single purchase month, "
                           "or the earlier cohorts hold only churned or only retained buyers.")
    model = fit_churn_model(train, cluster_by_dealer, min_count=min_count, min_events=min_events)
    p = model.predict(test)
    y = test["churned"].astype(int)
    baseline = float(train["churned"].mean())
    both_classes = y.nunique() == 2
    metrics = {
        "train_buyers": len(train), "test_buyers": len(test),
        "train_until": train["first_purchase_at"].max(), "test_from": test["first_purchase_at"].min(),
        "train_churn_rate": baseline, "test_churn_rate": float(y.mean()),
        "auc": float(roc_auc_score(y, p)) if both_classes else float("nan"),
        "brier": float(brier_score_loss(y, p)),
        "baseline_auc": 0.5, "baseline_brier": float(brier_score_loss(y, np.full(len(y), baseline))),
    }
    metrics.update(calibration(y, p) if both_classes else {"calibration_slope": np.nan, "calibration_intercept": np.nan})
    return Holdout(metrics, model, pd.DataFrame({"churned": y, "risk": p}), calibration_table(y, p), lift_table(y, p))
