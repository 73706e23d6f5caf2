"""Outcomes of one run, computed from its tables: survival, income, poverty, cost, visits.

Pure functions on arrays and data frames; nothing here runs or imports the model.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from kube_sim.model.codes import FAILURE_CAUSES, EventKind

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
    failed = failed_month >= 0
    end = np.where(failed, failed_month, months)
    return (end - funded_month).astype(float), failed


def kaplan_meier(duration: np.ndarray, failed: np.ndarray) -> stats._survival.ECDFResult | None:
    """Kaplan-Meier estimate of the survival function, via ``scipy.stats.ecdf`` on censored data.

    Args:
        duration: Time to failure or censoring.
        failed: Whether each time is a failure (True) or censored (False).

    Returns:
        SciPy's ECDF result (use ``.sf``), or None when no group failed.
    """
    if not np.any(failed):
        return None
    data = stats.CensoredData(uncensored=duration[failed], right=duration[~failed])
    return stats.ecdf(data)


def survival_at(duration: np.ndarray, failed: np.ndarray, horizons: tuple[int, ...] = SURVIVAL_HORIZONS
                ) -> dict[str, float | None]:
    """Kaplan-Meier share of groups still active ``h`` months after their own funding.

    Args:
        duration: Time to failure or censoring.
        failed: Failure flags.
        horizons: Months after funding.

    Returns:
        ``{"12": share, ...}``; None where no group was followed that long.
    """
    out: dict[str, float | None] = {}
    follow_up = float(duration.max()) if len(duration) else -1.0
    fit = kaplan_meier(duration, failed)
    for h in horizons:
        if follow_up < h:
            out[str(h)] = None
        elif fit is None:
            out[str(h)] = 1.0
        else:
            out[str(h)] = float(fit.sf.evaluate(h))
    return out


def survival_curve(duration: np.ndarray, failed: np.ndarray, confidence: float = 0.95) -> pd.DataFrame:
    """The Kaplan-Meier curve with a pointwise confidence band, month by month.

    Args:
        duration: Time to failure or censoring.
        failed: Failure flags.
        confidence: Confidence level of the band.

    Returns:
        Columns ``month, survival, lower, upper`` from 0 to the longest follow-up.
    """
    last = int(duration.max()) if len(duration) else 0
    months = np.arange(0, last + 1)
    fit = kaplan_meier(duration, failed)
    if fit is None:
        ones = np.ones(len(months))
        return pd.DataFrame({"month": months, "survival": ones, "lower": ones, "upper": ones})
    with warnings.catch_warnings():  # undefined where every group has failed: the band is filled in below
        warnings.simplefilter("ignore", RuntimeWarning)
        band = fit.sf.confidence_interval(confidence_level=confidence)
    with np.errstate(all="ignore"):
        lower = np.nan_to_num(band.low.evaluate(months), nan=0.0)
        upper = np.nan_to_num(band.high.evaluate(months), nan=1.0)
    return pd.DataFrame({"month": months, "survival": fit.sf.evaluate(months), "lower": lower, "upper": upper})


def _mean_or_none(monthly: pd.DataFrame | None, column: str) -> float | None:
    if monthly is None or column not in monthly or monthly[column].isna().all():
        return None
    return float(monthly[column].mean(skipna=True))


def summarize(groups: pd.DataFrame, members: pd.DataFrame, events: pd.DataFrame, costs: dict[str, float],
              months: int, facilitators: int, monthly: pd.DataFrame | None = None) -> dict[str, Any]:
    """The run's headline outcomes.

    Args:
        groups: One row per group (see ``runner.group_table``).
        members: One row per member household.
        events: The event log (``month, group, kind, value``).
        costs: Programme cost by item (Rp).
        months: Length of the run.
        facilitators: Facilitators recruited.
        monthly: The monthly table, for run averages (optional).

    Returns:
        A flat dict of outcomes (survival keyed by horizon as strings).
    """
    duration, failed = durations(groups["funded_month"].to_numpy(), groups["failed_month"].to_numpy(), months)
    running = ~failed
    n_running = int(running.sum())
    total_cost = float(sum(costs.values()))

    member_months = float(members["member_months"].sum())
    income_total = float(members["income_from_group"].sum())
    line = members.attrs.get("poverty_line_rp", np.nan)
    above = members["income_per_person_rp"] >= line if len(members) else pd.Series(dtype=bool)
    eligible_income = float(members.loc[members["eligible"], "income_from_group"].sum())

    group_months = float((duration + 1).sum()) if len(groups) else 0.0
    visits_total = int(groups["visits"].sum()) if len(groups) else 0
    recent = events[(events["kind"] == EventKind.VISIT) & (events["month"] > months - 3)]
    visited_recently = np.isin(groups.index.to_numpy(), recent["group"].to_numpy())
    unvisited_share = float(np.mean(~visited_recently[running])) if n_running else None

    in_group = members["in_group"] if len(members) else pd.Series(dtype=bool)
    n_in = int(in_group.sum())
    inactive = float((in_group & ~members["active"]).sum() / n_in) if n_in else None

    causes = {name: int((groups["cause"] == name).sum()) for name in FAILURE_CAUSES[1:]}
    return {
        "months": months,
        "groups_funded": len(groups),
        "groups_active_end": n_running,
        "members": len(members),
        "facilitators": facilitators,
        "survival": survival_at(duration, failed),
        "mean_member_income_rp": income_total / member_months if member_months else 0.0,
        "share_above_poverty_line": float(above.mean()) if len(members) else None,
        "share_income_to_eligible": eligible_income / income_total if income_total else None,
        "cost_total_rp": total_cost,
        "cost_by_item_rp": {k: float(v) for k, v in costs.items()},
        "cost_per_surviving_group_rp": total_cost / n_running if n_running else None,
        "visits_per_group_month": visits_total / group_months if group_months else 0.0,
        "share_groups_unvisited_last_quarter": unvisited_share,
        "mean_share_unvisited_quarter": _mean_or_none(monthly, "share_unvisited_quarter"),
        "inactive_member_share": inactive,
        "failure_causes": causes,
    }
