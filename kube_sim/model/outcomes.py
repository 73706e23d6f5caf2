"""Outcomes of one run, computed from its tables: survival, income, poverty, cost, visits.

Pure functions on arrays and data frames; nothing here runs or imports the model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kube_sim.common.outputs import FAILURE_CAUSES, POVERTY_KEYS, SUMMARY_KEYS
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


def poverty_measures(members: pd.DataFrame) -> dict[str, Any]:
    """Poverty of the eligible member households, without and with their income from the group.

    Each eligible household is judged against the line twice: on its own income per person without
    the programme (``baseline_income_rp``), and with its recent group income added
    (``income_per_person_rp``). The headcount is the share below the line; the gap is BPS's P1, the
    mean shortfall below the line as a share of the line (0 for households above it). Ineligible
    households that slipped through verification are left out: the question is what the programme
    does for the poor.

    Args:
        members: One row per member household; ``attrs["poverty_line_rp"]`` holds the line.

    Returns:
        ``eligible_households``, ``headcount_without``, ``headcount_with``, ``gap_without``,
        ``gap_with`` (shares; None when there is no eligible household).
    """
    line = members.attrs.get("poverty_line_rp", np.nan)
    eligible = members[members["eligible"]] if len(members) else members
    n = len(eligible)
    out: dict[str, Any] = {"eligible_households": n}
    for name, column in (("without", "baseline_income_rp"), ("with", "income_per_person_rp")):
        income = eligible[column].to_numpy(dtype=float) if n else np.empty(0)
        out[f"headcount_{name}"] = float(np.mean(income < line)) if n else None
        out[f"gap_{name}"] = float(np.mean(np.maximum(line - income, 0.0) / line)) if n else None
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
    eligible_income = float(members.loc[members["eligible"], "income_from_group"].sum())

    group_months = float((duration + 1).sum()) if len(groups) else 0.0
    visits_total = int(groups["visits"].sum()) if len(groups) else 0
    recent = events[(events["kind"] == EventKind.VISIT) & (events["month"] > months - 3)]
    visited_recently = np.isin(groups.index.to_numpy(), recent["group"].to_numpy())
    unvisited_share = float(np.mean(~visited_recently[running])) if n_running else None

    in_group = members["in_group"] if len(members) else pd.Series(dtype=bool)
    n_in = int(in_group.sum())
    inactive = float((in_group & ~members["active"]).sum() / n_in) if n_in else None

    causes = {name: int((groups["cause"] == name).sum()) for name in FAILURE_CAUSES}
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
