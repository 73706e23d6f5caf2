"""Run the model once and collect its tables: the model seen from outside as a function.

``run_model(params, seed=..., months=...)`` returns a :class:`RunResult` (summary, monthly series,
group and member tables, event log). :func:`simulate` is the same as a function of keyword
parameters returning a flat dict of outcomes, the form that EMA Workbench, ``mesa.batch_run``-style
drivers and sweeps expect.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kube_sim.common.outputs import flatten_summary
from kube_sim.model.batch import RunLayout
from kube_sim.model.codes import FAILURE_CAUSES, EventKind, GroupStatus
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


class _Views:
    """What splitting a model's tables into its runs needs, computed once per model state."""

    def __init__(self, model: KubeModel) -> None:
        self.local_group = model.group_runs().local_index()
        self.local_post = np.append(model.facilitator_runs().local_index(), -1)  # [-1] keeps "no post"
        self.events = model.event_log.arrays()
        self.event_runs = RunLayout.of(model.group_runs().run[self.events["group"]], model.n_runs)
        self.monthly = {name: np.asarray(values) if values else np.empty((0, model.n_runs))
                        for name, values in model.datacollector.model_vars.items()}
        """Each monthly reporter's values as one array, a row per month and a column per run."""


class _RunRows:
    """Run ``run``'s rows of a model's tables, and its indices renumbered as in the run alone."""

    def __init__(self, model: KubeModel, run: int, views: _Views) -> None:
        self.groups = model.group_runs().rows(run)
        self.members = model.member_runs().rows(run)
        self.facilitators = model.facilitator_runs().rows(run)
        self.events = views.event_runs.rows(run)
        d = model.district
        self.copy_offset = run * d.copies_per_run
        self.village_offset = run * d.villages_per_run
        self.local_group = views.local_group
        self.local_post = views.local_post


def _views(model: KubeModel) -> _Views:
    key = (model.month, model.groups.size, model.members.size, model.facilitators.size, len(model.event_log))
    kept = model.__dict__.get("_run_views")
    if kept is None or kept[0] != key:
        kept = model.__dict__["_run_views"] = (key, _Views(model), {})
    return kept[1]


def _rows(model: KubeModel, run: int) -> _RunRows:
    views = _views(model)
    per_run = model.__dict__["_run_views"][2]
    if run not in per_run:
        per_run[run] = _RunRows(model, run, views)
    return per_run[run]


def group_table(model: KubeModel, run: int = 0) -> pd.DataFrame:
    """One row per group of one run, with names for codes.

    Args:
        model: A model that has run.
        run: The run (of a batch).

    Returns:
        The group table, indexed by group id (numbered as in the run alone).
    """
    rows = _rows(model, run)
    idx = rows.groups
    g = model.groups
    d = model.district
    business = g.business[idx]
    price = model.business.price_per_size_rp[model.business_type(idx)]
    units, unit_size = g.units[idx], g.unit_size[idx]
    frame = pd.DataFrame({
        "replica": g.replica[idx] - rows.copy_offset,
        "kecamatan": [d.kecamatan_names[k] for k in g.kecamatan[idx]],
        "village": g.village[idx] - rows.village_offset,
        "business": [BUSINESS_TYPES[b] for b in business],
        "resource_fit": g.fit[idx],
        "cohort": g.cohort[idx],
        "funded_month": g.funded_month[idx],
        "start_month": g.start_month[idx],
        "status": [GroupStatus(s).name.lower() for s in g.status[idx]],
        "failed_month": g.failed_month[idx],
        "cause": [FAILURE_CAUSES[c] for c in g.cause[idx]],
        "facilitator": rows.local_post[g.facilitator[idx]].astype(g.facilitator.dtype),
        "visits": g.visits[idx],
        "conflicts": g.conflicts[idx],
        "members_at_start": g.members_at_start[idx],
        "members_end": g.members[idx],
        "cohesion": g.cohesion[idx],
        "management": g.management[idx],
        "equipment": g.equipment[idx],
        "cash_rp": g.cash[idx],
        "units": units,
        "stock_value_rp": units * unit_size * price,
        "grants_in_rp": g.grants_in[idx],
        "sales_in_rp": g.sales_in[idx],
        "stock_out_rp": g.stock_out[idx],
        "inputs_out_rp": g.inputs_out[idx],
        "equipment_out_rp": g.equipment_out[idx],
        "payouts_out_rp": g.payouts_out[idx],
        "assets_out_rp": g.assets_out[idx],
        "pending_payout_rp": g.pending_payout[idx],
        "pending_assets_rp": g.pending_assets[idx],
    })
    frame.index.name = "group"
    return frame


def member_table(model: KubeModel, run: int = 0) -> pd.DataFrame:
    """One row per member household of one run.

    Args:
        model: A model that has run.
        run: The run (of a batch).

    Returns:
        The member table; ``attrs["poverty_line_rp"]`` holds the poverty line and ``attrs["household_size"]``
        the persons per household. ``income_per_person_at_horizon_rp`` is the income per person with the
        programme when the household's group reached ``POVERTY_HORIZON_MONTHS`` months after funding
        (NaN when the run ended before).
    """
    rows = _rows(model, run)
    idx = rows.members
    m = model.members
    p = model.run_params[run]
    size = p.members.household_size
    frame = pd.DataFrame({
        "group": rows.local_group[m.group[idx]].astype(m.group.dtype),
        "eligible": m.eligible[idx],
        "skill": m.skill[idx],
        "active": m.active[idx],
        "free_rider": m.free_rider[idx],
        "in_group": m.in_group[idx],
        "baseline_income_rp": m.baseline_income[idx],
        "income_from_group": m.income_from_group[idx],
        "income_recent_rp": m.income_recent[idx],
        "assets_received_rp": m.assets_received[idx],
        "income_per_person_rp": per_capita_income(m.baseline_income[idx], m.income_recent[idx], size),
        "income_per_person_at_horizon_rp": per_capita_income(m.baseline_income[idx],
                                                             m.income_recent_at_horizon[idx], size),
        "member_months": m.member_months[idx],
        "months_inactive": m.months_inactive[idx],
        "left_month": m.left_month[idx],
    })
    frame.attrs["poverty_line_rp"] = p.poverty.line_rp_per_person
    frame.attrs["household_size"] = size
    return frame


def event_table(model: KubeModel, run: int = 0) -> pd.DataFrame:
    """One row per event of one run (``month, group, kind, value``), groups numbered as in the run alone.

    Args:
        model: A model that has run.
        run: The run (of a batch).

    Returns:
        The event log of the run, in the order recorded.
    """
    if model.n_runs == 1:
        return pd.DataFrame(model.event_log.arrays())
    rows = _rows(model, run)
    events = _views(model).events
    frame = {name: values[rows.events] for name, values in events.items()}
    frame["group"] = rows.local_group[frame["group"]].astype(events["group"].dtype)
    visit = frame["kind"] == int(EventKind.VISIT)
    frame["value"][visit] = rows.local_post[frame["value"][visit].astype(np.int64)]
    return pd.DataFrame(frame)


def monthly_table(model: KubeModel, run: int = 0) -> pd.DataFrame:
    """One row per month of one run: the :data:`~kube_sim.model.model.MONTHLY_REPORTERS`.

    Args:
        model: A model that has run.
        run: The run (of a batch).

    Returns:
        The monthly table, with ``month`` first.
    """
    if model.n_runs == 1:
        monthly = model.datacollector.get_model_vars_dataframe()
    else:
        monthly = pd.DataFrame({name: values[:, run] for name, values in _views(model).monthly.items()})
    monthly.insert(0, "month", np.arange(1, len(monthly) + 1))
    return monthly.reset_index(drop=True)


def agency_table(model: KubeModel, run: int = 0) -> pd.DataFrame:
    """One row per agency (district copy) of one run: the proposals of its funding rounds.

    Args:
        model: A model that has run.
        run: The run (of a batch).

    Returns:
        Columns ``proposals_received, proposals_verified, ineligible_caught, groups_funded, rounds``,
        indexed by replica.
    """
    per_run = model.district.copies_per_run
    agencies = model.agencies[run * per_run:(run + 1) * per_run]
    frame = pd.DataFrame({
        "proposals_received": [a.proposals_received for a in agencies],
        "proposals_verified": [a.proposals_verified for a in agencies],
        "ineligible_caught": [a.ineligible_caught for a in agencies],
        "groups_funded": [a.groups_funded for a in agencies],
        "rounds": model.rounds_held,
    })
    frame.index.name = "replica"
    return frame


def run_result(model: KubeModel, run: int, months: int, scenario: str = "custom") -> RunResult:
    """Everything one run of a model produced, as it would be had the run been alone.

    Args:
        model: A model that has run ``months`` months.
        run: The run (of a batch).
        months: Months run.
        scenario: Name recorded in the summary.

    Returns:
        The run's :class:`RunResult`.
    """
    groups = group_table(model, run)
    members = member_table(model, run)
    events = event_table(model, run)
    monthly = monthly_table(model, run)
    facilitators = len(_rows(model, run).facilitators)
    summary = {
        "scenario": scenario,
        "seed": model.seeds[run],
        **summarize(groups, members, events, model.costs_of(run), months, facilitators, monthly),
    }
    return RunResult(summary=summary, monthly=monthly, groups=groups, members=members, events=events,
                     agencies=agency_table(model, run))


def run_batch(params: Parameters | Sequence[Parameters] | None, seeds: Sequence[int], *,
              months: int = DEFAULT_MONTHS, scenario: str | Sequence[str] = "custom",
              on_month: Callable[[int], None] | None = None) -> list[RunResult]:
    """Run a batch of runs as copies in one model: one seed each, the same parameters or one set each.

    Each result equals the run alone (:func:`run_model` with that seed and parameters), exactly: see
    :mod:`kube_sim.model.batch`. The runs may differ in any parameter but those of
    :data:`~kube_sim.model.parameters.BATCH_STRUCTURE` (and the district).

    Args:
        params: Model parameters (defaults when None), or one set per seed.
        seeds: One seed per run.
        months: Months to run (>= 1).
        scenario: Name recorded in the summaries, or one per run.
        on_month: Called with the month number after each month (e.g. to move a progress bar).

    Returns:
        One :class:`RunResult` per seed, in the order given.

    Raises:
        ValueError: If ``months`` < 1, there is no seed, a seed is invalid, or the runs differ in
            their structure.
    """
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    model = KubeModel(params, seeds=list(seeds))
    names = [scenario] * model.n_runs if isinstance(scenario, str) else list(scenario)
    if len(names) != model.n_runs:
        raise ValueError(f"a batch needs one scenario name per run: {len(names)} for {model.n_runs} runs")
    for month in range(1, months + 1):
        model.step()
        if on_month is not None:
            on_month(month)
    return [run_result(model, run, months, names[run]) for run in range(model.n_runs)]


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
    return run_batch(params, [seed], months=months, scenario=scenario, on_month=on_month)[0]


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
