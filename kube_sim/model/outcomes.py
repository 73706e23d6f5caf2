"""Outcomes of one run, computed from its tables: survival, income, poverty, cost, visits.

Pure functions on arrays and data frames; nothing here runs or imports the model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kube_sim.common.outputs import FAILURE_CAUSES, POVERTY_HORIZON_MONTHS, POVERTY_KEYS, SUMMARY_KEYS
from kube_sim.common.survival import durations, survival_at
from kube_sim.model.codes import EventKind


def _mean_or_none(monthly: pd.DataFrame | None, column: str) -> float | None:
    if monthly is None or column not in monthly or monthly[column].isna().all():
        return None
    return float(monthly[column].mean(skipna=True))


def _caseload_carried(monthly: pd.DataFrame | None) -> float | None:
    """Groups on a caseload per facilitator at work, over the run (None when no facilitator ever worked)."""
    if monthly is None or not {"groups_accompanied", "facilitators_working"} <= set(monthly.columns):
        return None
    facilitator_months = float(monthly["facilitators_working"].sum())
    return float(monthly["groups_accompanied"].sum()) / facilitator_months if facilitator_months else None


def poverty_status(without: np.ndarray, with_programme: np.ndarray, line: float) -> dict[str, np.ndarray]:
    """Each household's poverty status, judged against the line on its own income and with the programme.

    Args:
        without: Income per person without the programme (the household's own income), Rp a month.
        with_programme: Income per person with the programme (own income plus group income), Rp a month.
        line: The poverty line, Rp per person a month.

    Returns:
        Boolean masks ``never_poor``, ``lifted``, ``still_poor``, ``pushed_below``: every household
        is in exactly one (a household at the line is not poor).
    """
    poor_without = np.asarray(without, float) < line
    poor_with = np.asarray(with_programme, float) < line
    return {"never_poor": ~poor_without & ~poor_with, "lifted": poor_without & ~poor_with,
            "still_poor": poor_without & poor_with, "pushed_below": ~poor_without & poor_with}


def gap_closed_rp(without: np.ndarray, with_programme: np.ndarray, line: float, household_size: float) -> float:
    """The poverty gap the programme closed, summed over households, Rp a month.

    Args:
        without: Income per person without the programme, Rp a month.
        with_programme: Income per person with the programme, Rp a month.
        line: The poverty line, Rp per person a month.
        household_size: Persons per household.

    Returns:
        ``sum((max(line - without, 0) - max(line - with, 0)) x household_size)``.
    """
    short_without = np.maximum(line - np.asarray(without, float), 0.0)
    short_with = np.maximum(line - np.asarray(with_programme, float), 0.0)
    return float(np.sum(short_without - short_with) * household_size)


def poverty_measures(members: pd.DataFrame) -> dict[str, Any]:
    """Poverty of the eligible member households, without and with their income from the group.

    Each eligible household is judged against the line twice, in the same run: on its own income per
    person without the programme (``baseline_income_rp``, which does not change over a run), and with
    its recent group income added (``income_per_person_rp``). Counted at the end of the run and
    :data:`POVERTY_HORIZON_MONTHS` months after the household's group was funded
    (``income_per_person_at_horizon_rp``, missing when the run ended before). A household is lifted
    out of poverty when it is poor without the programme and at or above the line with it; never-poor
    and still-poor households count zero, and households pushed below the line are counted apart.
    The headcount is the share below the line; the gap is BPS's P1, the mean shortfall below the line
    as a share of the line (0 for households above it). Ineligible households that slipped through
    verification are left out: the question is what the programme does for the poor.

    Args:
        members: One row per member household; ``attrs["poverty_line_rp"]`` holds the line and
            ``attrs["household_size"]`` the persons per household.

    Returns:
        The measures of :data:`~kube_sim.common.outputs.POVERTY_MEASURES`, in order (shares None when
        there is no eligible household).
    """
    line = members.attrs.get("poverty_line_rp", np.nan)
    size = members.attrs.get("household_size", np.nan)
    keep = members["eligible"].to_numpy(dtype=bool) if len(members) else np.zeros(0, dtype=bool)
    n = int(keep.sum())

    def column(name: str) -> np.ndarray:
        return members[name].to_numpy(dtype=float)[keep] if n and name in members else np.full(n, np.nan)

    out: dict[str, Any] = {"eligible_households": n}
    without = column("baseline_income_rp")
    with_end = column("income_per_person_rp")
    for name, income in (("without", without), ("with", with_end)):
        out[f"headcount_{name}"] = float(np.mean(income < line)) if n else None
        out[f"gap_{name}"] = float(np.mean(np.maximum(line - income, 0.0) / line)) if n else None
    out["poor_without"] = int(np.sum(without < line))
    at_horizon = column("income_per_person_at_horizon_rp")
    followed = np.isfinite(at_horizon)
    for when, own, with_programme in (("end", without, with_end),
                                      (str(POVERTY_HORIZON_MONTHS), without[followed], at_horizon[followed])):
        status = poverty_status(own, with_programme, line)
        out[f"lifted_{when}"] = int(status["lifted"].sum())
        out[f"pushed_below_{when}"] = int(status["pushed_below"].sum())
        out[f"gap_closed_{when}_rp"] = gap_closed_rp(own, with_programme, line, size) if len(own) else 0.0
    out[f"followed_{POVERTY_HORIZON_MONTHS}"] = int(followed.sum())
    return {key: out[key] for key in POVERTY_KEYS}


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
        The outcomes declared in :mod:`kube_sim.common.outputs`, in their order (survival keyed by
        horizon as strings).
    """
    duration, failed = durations(groups["funded_month"].to_numpy(), groups["failed_month"].to_numpy(), months)
    running = ~failed
    n_running = int(running.sum())
    total_cost = float(sum(costs.values()))

    member_months = float(members["member_months"].sum())
    income_total = float(members["income_from_group"].sum())
    poverty = poverty_measures(members)
    eligible_income = (float(members["income_from_group"].to_numpy()[members["eligible"].to_numpy(dtype=bool)].sum())
                       if len(members) else 0.0)

    group_months = float((duration + 1).sum()) if len(groups) else 0.0
    visits_total = int(groups["visits"].sum()) if len(groups) else 0
    kinds, event_months = events["kind"].to_numpy(), events["month"].to_numpy()
    recent = events["group"].to_numpy()[(kinds == EventKind.VISIT) & (event_months > months - 3)]
    visited_recently = np.isin(groups.index.to_numpy(), recent)
    unvisited_share = float(np.mean(~visited_recently[running])) if n_running else None

    in_group = members["in_group"].to_numpy(dtype=bool) if len(members) else np.zeros(0, dtype=bool)
    n_in = int(in_group.sum())
    inactive = float((in_group & ~members["active"].to_numpy(dtype=bool)).sum() / n_in) if n_in else None

    cause = groups["cause"].to_numpy(dtype=object)
    causes = {name: int((cause == name).sum()) for name in FAILURE_CAUSES}
    outcomes = {
        "months": months,
        "groups_funded": len(groups),
        "groups_active_end": n_running,
        "members": len(members),
        "facilitators": facilitators,
        "mean_caseload": _caseload_carried(monthly),
        "survival": survival_at(duration, failed),
        "mean_member_income_rp": income_total / member_months if member_months else 0.0,
        "share_above_poverty_line": (1.0 - poverty["headcount_with"] if poverty["eligible_households"] else None),
        "poverty": poverty,
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
    return {key: outcomes[key] for key in SUMMARY_KEYS}
