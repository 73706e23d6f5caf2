"""Run the model once and collect its tables: the model seen from outside as a function.

``run_model(params, seed=..., months=...)`` returns a :class:`RunResult` (summary, monthly series,
group and member tables, event log). :func:`simulate` is the same as a function of keyword
parameters returning a flat dict of outcomes, the form that EMA Workbench, ``mesa.batch_run``-style
drivers and sweeps expect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kube_sim.common.outputs import flatten_summary
from kube_sim.model.codes import FAILURE_CAUSES, GroupStatus
from kube_sim.model.defaults import DEFAULT_MONTHS
from kube_sim.model.economics import per_capita_income
from kube_sim.model.model import KubeModel
from kube_sim.model.outcomes import summarize
from kube_sim.model.parameters import BUSINESS_TYPES, Parameters, make_parameters


@dataclass
class RunResult:
    """Everything one run produced.

    Attributes:
        summary: Headline outcomes (JSON-ready).
        monthly: One row per month.
        groups: One row per group.
        members: One row per member household.
        events: The event log, one row per event.
        agencies: One row per agency (district copy): proposals received, verified, funded.
    """

    summary: dict[str, Any]
    monthly: pd.DataFrame
    groups: pd.DataFrame
    members: pd.DataFrame
    events: pd.DataFrame
    agencies: pd.DataFrame = field(default_factory=pd.DataFrame)


def group_table(model: KubeModel) -> pd.DataFrame:
    """One row per group, with names for codes.

    Args:
        model: A model that has run.

    Returns:
        The group table, indexed by group id.
    """
    g = model.groups
    d = model.district
    frame = pd.DataFrame({
        "replica": g.replica,
        "kecamatan": [d.kecamatan_names[k] for k in g.kecamatan],
        "village": g.village,
        "business": [BUSINESS_TYPES[b] for b in g.business],
        "resource_fit": g.fit,
        "cohort": g.cohort,
        "funded_month": g.funded_month,
        "start_month": g.start_month,
        "status": [GroupStatus(s).name.lower() for s in g.status],
        "failed_month": g.failed_month,
        "cause": [FAILURE_CAUSES[c] for c in g.cause],
        "facilitator": g.facilitator,
        "visits": g.visits,
        "conflicts": g.conflicts,
        "members_at_start": g.members_at_start,
        "members_end": g.members,
        "cohesion": g.cohesion,
        "management": g.management,
        "equipment": g.equipment,
        "cash_rp": g.cash,
        "units": g.units,
        "stock_value_rp": g.units * g.unit_size * model.business.price_per_size_rp[g.business],
        "grants_in_rp": g.grants_in,
        "sales_in_rp": g.sales_in,
        "stock_out_rp": g.stock_out,
        "inputs_out_rp": g.inputs_out,
        "equipment_out_rp": g.equipment_out,
        "payouts_out_rp": g.payouts_out,
        "assets_out_rp": g.assets_out,
        "pending_payout_rp": g.pending_payout,
        "pending_assets_rp": g.pending_assets,
    })
    frame.index.name = "group"
    return frame


def member_table(model: KubeModel) -> pd.DataFrame:
    """One row per member household.

    Args:
        model: A model that has run.

    Returns:
        The member table; ``attrs["poverty_line_rp"]`` holds the poverty line and ``attrs["household_size"]``
        the persons per household. ``income_per_person_at_horizon_rp`` is the income per person with the
        programme when the household's group reached ``POVERTY_HORIZON_MONTHS`` months after funding
        (NaN when the run ended before).
    """
    m = model.members
    p = model.params
    frame = pd.DataFrame({
        "group": m.group,
        "eligible": m.eligible,
        "skill": m.skill,
        "active": m.active,
        "free_rider": m.free_rider,
        "in_group": m.in_group,
        "baseline_income_rp": m.baseline_income,
        "income_from_group": m.income_from_group,
        "income_recent_rp": m.income_recent,
        "assets_received_rp": m.assets_received,
        "income_per_person_rp": per_capita_income(m.baseline_income, m.income_recent, p.members.household_size),
        "income_per_person_at_horizon_rp": per_capita_income(m.baseline_income, m.income_recent_at_horizon,
                                                             p.members.household_size),
        "member_months": m.member_months,
        "months_inactive": m.months_inactive,
        "left_month": m.left_month,
    })
    frame.attrs["poverty_line_rp"] = p.poverty.line_rp_per_person
    frame.attrs["household_size"] = p.members.household_size
    return frame


def agency_table(model: KubeModel) -> pd.DataFrame:
    """One row per agency (district copy): the proposals of its funding rounds.

    Args:
        model: A model that has run.

    Returns:
        Columns ``proposals_received, proposals_verified, ineligible_caught, groups_funded, rounds``,
        indexed by replica.
    """
    frame = pd.DataFrame({
        "proposals_received": [a.proposals_received for a in model.agencies],
        "proposals_verified": [a.proposals_verified for a in model.agencies],
        "ineligible_caught": [a.ineligible_caught for a in model.agencies],
        "groups_funded": [a.groups_funded for a in model.agencies],
        "rounds": model.rounds_held,
    })
    frame.index.name = "replica"
    return frame


def run_model(params: Parameters | None = None, *, seed: int = 0, months: int = DEFAULT_MONTHS,
              scenario: str = "custom", on_month: Callable[[int], None] | None = None) -> RunResult:
    """Build the model, run it for ``months`` months and collect its outcomes.

    Args:
        params: Model parameters (defaults when None).
        seed: Run seed.
        months: Months to run (>= 1).
        scenario: Name recorded in the summary.
        on_month: Called with the month number after each month (e.g. to move a progress bar).

    Returns:
        The run's :class:`RunResult`.

    Raises:
        ValueError: If ``months`` < 1 or the seed is invalid.
    """
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    model = KubeModel(params, seed=seed)
    for month in range(1, months + 1):
        model.step()
        if on_month is not None:
            on_month(month)
    groups = group_table(model)
    members = member_table(model)
    events = pd.DataFrame(model.event_log.arrays())
    monthly = model.datacollector.get_model_vars_dataframe()
    monthly.insert(0, "month", np.arange(1, len(monthly) + 1))
    monthly = monthly.reset_index(drop=True)
    summary = {
        "scenario": scenario,
        "seed": seed,
        **summarize(groups, members, events, dict(model.costs), months, model.facilitators.size, monthly),
    }
    return RunResult(summary=summary, monthly=monthly, groups=groups, members=members, events=events,
                     agencies=agency_table(model))


def flat_outcomes(summary: dict[str, Any]) -> dict[str, Any]:
    """Flatten a summary's nested dicts into ``survival_12``-style keys (for tables and sweeps).

    Args:
        summary: A run summary.

    Returns:
        A flat dict.
    """
    return flatten_summary(summary)


def simulate(seed: int = 0, months: int = DEFAULT_MONTHS, **parameters: Any) -> dict[str, Any]:
    """The model as a function: keyword parameters in, a flat dict of outcomes out.

    Parameter keys use ``__`` for the dot (``facilitators__groups_per_facilitator=20``), since a
    dotted name is not a Python keyword; dotted keys passed through ``**{...}`` work too.

    Args:
        seed: Run seed.
        months: Months to run.
        **parameters: Parameter overrides.

    Returns:
        Flat outcomes (see :func:`flat_outcomes`).
    """
    overrides = {key.replace("__", "."): value for key, value in parameters.items()}
    result = run_model(make_parameters(overrides), seed=seed, months=months)
    return flat_outcomes(result.summary)
