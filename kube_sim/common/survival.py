"""Survival of groups: durations, the Kaplan-Meier estimate and its pointwise band.

Time is months since a group's own funding; a group still running when its run ends is censored
there. The estimate is SciPy's (``scipy.stats.ecdf`` on ``CensoredData``) and the band Greenwood's
(``sf.confidence_interval``). Used alike for one run's summary and figure and for a sweep's report.

Beyond the longest follow-up the estimate is known only when the last event was the failure of the
last group at risk: survival is then 0 for ever after. Otherwise it is undefined there (NaN, or
None in a summary).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

SURVIVAL_HORIZONS: tuple[int, ...] = (12, 24, 36, 60)
"""Months after a group's own funding at which survival is reported."""


def durations(funded_month: np.ndarray, failed_month: np.ndarray, months: int) -> tuple[np.ndarray, np.ndarray]:
    """Time from each group's funding to its failure, censored at the end of the run.

    Args:
        funded_month: Month each group was funded.
        failed_month: Month each group failed (-1 if it did not).
        months: Length of the run.

    Returns:
        ``(duration in months, failed)``: failed is False for censored groups.
    """
    failed_month = np.asarray(failed_month)
    failed = failed_month >= 0
    end = np.where(failed, failed_month, months)
    return (end - np.asarray(funded_month)).astype(float), failed


def censored(duration: np.ndarray, failed: np.ndarray) -> stats.CensoredData:
    """Durations as SciPy's right-censored data.

    Args:
        duration: Time to failure or censoring.
        failed: Failure flags.

    Returns:
        Failures as exact observations, the rest right-censored.
    """
    return stats.CensoredData(uncensored=duration[failed], right=duration[~failed])


def kaplan_meier(duration: np.ndarray, failed: np.ndarray) -> stats._survival.ECDFResult | None:
    """Kaplan-Meier fit of the survival function.

    Args:
        duration: Time to failure or censoring.
        failed: Whether each time is a failure (True) or censored (False).

    Returns:
        SciPy's ECDF result (use ``.sf``), or None when no group failed (survival is then 1).
    """
    if not np.any(failed):
        return None
    return stats.ecdf(censored(duration, failed))


def _undefined_beyond_follow_up(duration: np.ndarray, times: np.ndarray, survival: np.ndarray) -> np.ndarray:
    """Where ``times`` pass the longest follow-up: True unless survival has already reached 0."""
    return (times > duration.max()) & (survival > 0)


def survival_estimate(duration: np.ndarray, failed: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Kaplan-Meier share of groups still active at each time.

    Args:
        duration: Time to failure or censoring.
        failed: Failure flags.
        times: Months since funding.

    Returns:
        The estimate at each time; NaN where it is undefined (no group, or past the longest
        follow-up with some groups still active then).
    """
    times = np.asarray(times, dtype=float)
    if len(duration) == 0:
        return np.full(times.shape, np.nan)
    fit = kaplan_meier(duration, failed)
    survival = np.ones(times.shape) if fit is None else fit.sf.evaluate(times)
    return np.where(_undefined_beyond_follow_up(duration, times, survival), np.nan, survival)


def survival_band(duration: np.ndarray, failed: np.ndarray, times: np.ndarray, confidence: float = 0.95
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kaplan-Meier estimate with its pointwise band (Greenwood) at each time.

    Where SciPy's band is undefined (after the last group at risk failed) it collapses onto the
    estimate when that is 0, and spans 0-1 otherwise. With no failure the estimate and band are 1.

    Args:
        duration: Time to failure or censoring.
        failed: Failure flags.
        times: Months since funding.
        confidence: Confidence level of the band.

    Returns:
        ``(survival, lower, upper)``; all NaN where the estimate is undefined (see
        :func:`survival_estimate`).
    """
    times = np.asarray(times, dtype=float)
    survival = survival_estimate(duration, failed, times)
    fit = kaplan_meier(duration, failed) if len(duration) else None
    if fit is None:
        return survival, survival.copy(), survival.copy()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.filterwarnings("ignore", "The confidence interval is undefined", RuntimeWarning)
        band = fit.sf.confidence_interval(confidence_level=confidence)
        lower = band.low.evaluate(times)
        upper = band.high.evaluate(times)
    dead = survival <= 0
    lower = np.clip(np.where(np.isnan(lower), np.where(dead, survival, 0.0), lower), 0.0, 1.0)
    upper = np.clip(np.where(np.isnan(upper), np.where(dead, survival, 1.0), upper), 0.0, 1.0)
    undefined = np.isnan(survival)
    return survival, np.where(undefined, np.nan, lower), np.where(undefined, np.nan, upper)


def survival_at(duration: np.ndarray, failed: np.ndarray, horizons: tuple[int, ...] = SURVIVAL_HORIZONS
                ) -> dict[str, float | None]:
    """Kaplan-Meier share of groups still active ``h`` months after their own funding.

    Args:
        duration: Time to failure or censoring.
        failed: Failure flags.
        horizons: Months after funding.

    Returns:
        ``{"12": share, ...}``; None where the estimate is undefined (see :func:`survival_estimate`).
    """
    values = survival_estimate(duration, failed, np.asarray(horizons, dtype=float))
    return {str(h): None if np.isnan(v) else float(v) for h, v in zip(horizons, values, strict=True)}


def survival_curve(duration: np.ndarray, failed: np.ndarray, confidence: float = 0.95) -> pd.DataFrame:
    """The Kaplan-Meier curve with its pointwise band, month by month.

    Args:
        duration: Time to failure or censoring.
        failed: Failure flags.
        confidence: Confidence level of the band.

    Returns:
        Columns ``month, survival, lower, upper`` from 0 to the longest follow-up (one NaN row at
        month 0 when there is no group).
    """
    last = int(np.ceil(duration.max())) if len(duration) else 0
    months = np.arange(0, last + 1)
    survival, lower, upper = survival_band(duration, failed, months, confidence)
    return pd.DataFrame({"month": months, "survival": survival, "lower": lower, "upper": upper})
