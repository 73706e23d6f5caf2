"""KubeModel: the world, the monthly step order, scheduled events and data collection.

Time is in months. Model time ``t`` is the end of month ``t``'s step; the agency's yearly funding
rounds run at ``t - 0.5`` (the start of month ``t``) and business cycles end at ``t + 0.5`` (after
month ``t``'s work, for the groups whose cycle is due), both as Mesa scheduled events. This module
knows nothing of files, sweeps or plots.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import mesa
import numpy as np
from mesa.datacollection import DataCollector
from mesa.time import Priority, Schedule

from kube_sim.model.agents import agency as agency_rules
from kube_sim.model.agents import group as group_rules
from kube_sim.model.agents import member as member_rules
from kube_sim.model.agents.agency import Agency
from kube_sim.model.agents.facilitator import FacilitatorTable, make_visits, on_caseload, update_posts
from kube_sim.model.agents.group import Group, GroupTable
from kube_sim.model.agents.member import MemberTable
from kube_sim.model.batch import (
    BatchParameters,
    RowParameters,
    RunLayout,
    RunSampler,
    Sampler,
    count_per_run,
    draw,
    mean_per_run,
    sum_per_run,
)
from kube_sim.model.codes import GroupStatus
from kube_sim.model.district import build_district, stack_districts
from kube_sim.model.economics import BusinessTable, per_capita_income
from kube_sim.model.events import EventLog
from kube_sim.model.parameters import BUSINESS_TYPES, Parameters
from kube_sim.model.streams import make_streams

COST_ITEMS: tuple[str, ...] = (
    "uep_grants", "equipment_grants", "training", "facilitators", "administration", "follow_up_support",
)
"""Programme cost items (Rp), as the agency and ministry pay them."""


def _share_above_poverty_line(model: KubeModel) -> np.ndarray:
    m, p = model.members, model.member_params()
    layout = model.member_runs()
    income = per_capita_income(m.baseline_income, m.income_recent, p.members.household_size)
    eligible = count_per_run(m.eligible, layout)
    above = count_per_run(m.eligible & (income >= p.poverty.line_rp_per_person), layout)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(eligible > 0, above / np.maximum(eligible, 1), np.nan)


def _status_count(model: KubeModel, status: GroupStatus) -> np.ndarray:
    return count_per_run(model.groups.status == status, model.group_runs())


def _share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    return np.where(whole > 0, part / np.maximum(whole, 1), np.nan)


MONTHLY_REPORTERS: dict[str, Callable[[KubeModel], np.ndarray]] = {
    "groups_funded": lambda m: m.group_runs().counts,
    "groups_active": lambda m: _status_count(m, GroupStatus.ACTIVE),
    "groups_training": lambda m: _status_count(m, GroupStatus.TRAINING),
    "groups_failed": lambda m: _status_count(m, GroupStatus.FAILED),
    "members_funded": lambda m: m.member_runs().counts,
    "members_in_groups": lambda m: count_per_run(m.members.in_group, m.member_runs()),
    "inactive_member_share": lambda m: m.inactive_member_share(),
    "facilitators_working": lambda m: m.facilitators_working.copy(),
    "groups_accompanied": lambda m: m.groups_accompanied.copy(),
    "visits": lambda m: m.visits_this_month.copy(),
    "share_unvisited_quarter": lambda m: m.share_unvisited_quarter(),
    "open_conflicts": lambda m: count_per_run(m.groups.conflict_open, m.group_runs()),
    "mean_cohesion": lambda m: m.mean_running("cohesion"),
    "payouts_rp": lambda m: m.month_payouts.copy(),
    "income_per_member_rp": lambda m: m.month_payouts / np.maximum(count_per_run(m.members.in_group,
                                                                                 m.member_runs()), 1),
    "group_cash_rp": lambda m: sum_per_run(m.groups.cash, m.group_runs()),
    "cost_to_date_rp": lambda m: m.cost_to_date(),
    "share_above_poverty_line": _share_above_poverty_line,
}
"""Per-month outcomes, declared once: each gives one value per run of the model (Mesa's DataCollector
holds them, one row per month; a single run's are plain numbers)."""


class KubeModel(mesa.Model):
    """Agent-based model of KUBE groups in a district, month by month; one run, or a batch of runs.

    A batch (``seeds=[...]``) holds one copy of the district (with ``district.replicas`` copies)
    per run, each run's after the previous one's; every table carries all runs' rows and every
    monthly process acts on all of them at once. Each run draws from its own generators
    (:func:`~kube_sim.model.streams.make_streams` of its seed) through :meth:`draw`, and reads its
    own parameters through :meth:`params_at` (the runs of a batch may differ in any parameter but
    those of :data:`~kube_sim.model.parameters.BATCH_STRUCTURE`), so each run of a batch gives
    exactly what it gives alone (see :mod:`kube_sim.model.batch`).

    Args:
        params: Model parameters (defaults: Polewali Mandar baseline), or one set per seed of a batch.
        seed: Run seed; every random draw comes from generators seeded by it.
        seeds: Seeds of a batch of runs (instead of ``seed``).
        agent_views: Whether to create a Mesa agent for every group, member and facilitator
            (default: for a single run; a batch keeps only the tables).

    Attributes:
        params: The parameters (of a batch: the values its runs share; a value that differs
            raises :class:`~kube_sim.model.batch.ParameterVaries`, read it with :meth:`params_at`).
        run_params: Each run's parameters.
        seeds: The run seeds.
        n_runs: Runs in the model.
        month: Months completed.
        groups, members, facilitators: The agents' state tables.
        group_agents, member_agents, facilitator_agents, agencies: The Mesa agents.
        run_costs: Programme cost to date by item (Rp), one value per run.
        event_log: Every group's events.
        datacollector: Monthly outcomes.
    """

    def __init__(self, params: Parameters | Sequence[Parameters] | None = None, *, seed: int = 0,
                 seeds: Sequence[int] | None = None, agent_views: bool | None = None) -> None:
        self.seeds = [seed] if seeds is None else [int(s) for s in seeds]
        if not self.seeds:
            raise ValueError("a batch needs at least one seed")
        super().__init__(rng=self.seeds[0])
        self.seed = self.seeds[0]
        self.n_runs = len(self.seeds)
        if params is None or isinstance(params, Parameters):
            self.run_params = [params if params is not None else Parameters()] * self.n_runs
        else:
            self.run_params = list(params)
            if len(self.run_params) != self.n_runs:
                raise ValueError(f"a batch needs one set of parameters per seed: {len(self.run_params)} sets "
                                 f"for {self.n_runs} seeds")
        self.batch_params = BatchParameters(self.run_params)
        self.params: Parameters = (self.run_params[0] if self.n_runs == 1
                                   else cast(Parameters, RowParameters(self.batch_params)))
        self._shared_view = RowParameters(self.batch_params) if not self.batch_params.varied else None
        self.agent_views = self.n_runs == 1 if agent_views is None else agent_views
        self.run_streams = [make_streams(s) for s in self.seeds]
        self.streams = self.run_streams[0]
        self.district = stack_districts([build_district(p, streams["district"])
                                         for p, streams in zip(self.run_params, self.run_streams, strict=True)])
        self.business = BusinessTable.from_params([p.business for p in self.run_params])

        self.groups: GroupTable = GroupTable()
        self.members: MemberTable = MemberTable()
        self.facilitators: FacilitatorTable = FacilitatorTable()
        self.group_agents: list[Group] = []
        self.member_agents: list[mesa.Agent] = []
        self.facilitator_agents: list[mesa.Agent] = []
        self.agencies = [Agency(self, r) for r in range(self.district.replicas)]
        self.village_funded = np.zeros(self.district.n_villages, dtype=bool)
        self.run_costs: dict[str, np.ndarray] = {item: np.zeros(self.n_runs) for item in COST_ITEMS}
        self.follow_up_budget_left = np.zeros(self.district.replicas)
        self.event_log = EventLog()
        self._layouts: dict[str, tuple[int, RunLayout]] = {}

        self.month = 0
        self.rounds_held = 0
        self.month_payouts: np.ndarray = np.zeros(self.n_runs)
        self.visits_this_month: np.ndarray = np.zeros(self.n_runs, dtype=np.int64)
        self.facilitators_working: np.ndarray = np.zeros(self.n_runs, dtype=np.int64)
        self.groups_accompanied: np.ndarray = np.zeros(self.n_runs, dtype=np.int64)

        if self.params.funding.rounds > 0:
            self.schedule_recurring(self.funding_round, Schedule(interval=12, start=0.5,
                                                                 count=self.params.funding.rounds),
                                    priority=Priority.HIGH)
        self.schedule_recurring(self.business_cycle_ends, Schedule(interval=1, start=1.5))
        reporters: dict[str, Any]
        if self.n_runs == 1:
            reporters = {name: (lambda m, f=f: f(m)[0].item()) for name, f in MONTHLY_REPORTERS.items()}
        else:
            reporters = dict(MONTHLY_REPORTERS)
        self.datacollector = DataCollector(model_reporters=reporters)

    # --- runs of a batch --------------------------------------------------------------------
    def _layout(self, name: str, size: int, run: Callable[[], np.ndarray]) -> RunLayout:
        kept = self._layouts.get(name)
        if kept is None or kept[0] != size:
            layout = RunLayout.single(size) if self.n_runs == 1 else RunLayout.of(run(), self.n_runs)
            kept = self._layouts[name] = (size, layout)
        return kept[1]

    def copy_runs(self, copies: np.ndarray) -> np.ndarray:
        """The run of each district copy in ``copies``."""
        return np.asarray(copies) // self.district.copies_per_run

    def group_runs(self) -> RunLayout:
        """Where each run's groups are in the group table."""
        return self._layout("groups", self.groups.size, lambda: self.copy_runs(self.groups.replica))

    def member_runs(self) -> RunLayout:
        """Where each run's members are in the member table."""
        return self._layout("members", self.members.size,
                            lambda: self.copy_runs(self.groups.replica[self.members.group]))

    def facilitator_runs(self) -> RunLayout:
        """Where each run's facilitator posts are in the facilitator table."""
        return self._layout("facilitators", self.facilitators.size,
                            lambda: self.copy_runs(self.facilitators.replica))

    def village_runs(self) -> RunLayout:
        """Where each run's villages are."""
        return self._layout("villages", self.district.n_villages, self.district.village_run)

    def runs_of(self, run: np.ndarray) -> RunLayout:
        """The layout of a table (proposals, households, new posts) whose row ``i`` belongs to run ``run[i]``."""
        return RunLayout.single(len(run)) if self.n_runs == 1 else RunLayout.of(run, self.n_runs)

    def params_at(self, layout: RunLayout, rows: np.ndarray | None = None) -> RowParameters:
        """The parameters as rows of a table see them: a shared value as itself, one that varies per row.

        Args:
            layout: The table's run layout.
            rows: The rows (indices or a mask; default: every row of the table, in order).

        Returns:
            A view whose ``section.name`` reads as a value (shared by every run) or an array aligned
            with the rows (each row its run's value).
        """
        if self._shared_view is not None:
            return self._shared_view
        return RowParameters(self.batch_params, layout, rows)

    def group_params(self, rows: np.ndarray | None = None) -> RowParameters:
        """The parameters as group rows ``rows`` see them (see :meth:`params_at`)."""
        return self._shared_view or self.params_at(self.group_runs(), rows)

    def member_params(self, rows: np.ndarray | None = None) -> RowParameters:
        """The parameters as member rows ``rows`` see them (see :meth:`params_at`)."""
        return self._shared_view or self.params_at(self.member_runs(), rows)

    def facilitator_params(self, rows: np.ndarray | None = None) -> RowParameters:
        """The parameters as facilitator posts ``rows`` see them (see :meth:`params_at`)."""
        return self._shared_view or self.params_at(self.facilitator_runs(), rows)

    def copy_params(self) -> RowParameters:
        """The parameters as the district copies see them, one value per copy (see :meth:`params_at`)."""
        return self._shared_view or self.params_at(self._layout("copies", self.district.replicas,
                                                                self.district.copy_run))

    def run_values(self) -> RowParameters:
        """The parameters one value per run (see :meth:`params_at`)."""
        return self._shared_view or self.params_at(self._layout("runs", self.n_runs, lambda: np.arange(self.n_runs)))

    def business_type(self, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Where groups ``rows`` find their business's figures in :attr:`business`.

        That is their business type, and in a batch whose runs differ in the business figures, the
        type in their run's row of types.
        """
        kind = self.groups.business[rows]
        if self.business.runs == 1:
            return kind
        return kind + len(BUSINESS_TYPES) * self.group_runs().run[rows]

    def draw_per_run(self, stream: str, layout: RunLayout, sampler: RunSampler) -> np.ndarray:
        """:meth:`draw` with a sampler that also reads the run's parameters (``lambda rng, n, p: ...``)."""
        generators = [streams[stream] for streams in self.run_streams]
        if layout.n_runs == 1:
            return sampler(generators[0], len(layout.run), self.run_params[0])
        parts = [sampler(rng, int(n), p) for rng, n, p in zip(generators, layout.counts, self.run_params,
                                                             strict=True)]
        out = np.empty(len(layout.run), dtype=np.result_type(*parts))
        out[layout.order] = np.concatenate(parts)
        return out

    def draw(self, stream: str, layout: RunLayout, sampler: Sampler) -> np.ndarray:
        """One draw per row of a table, each run's rows from that run's ``stream``.

        Args:
            stream: The stream's name (:data:`~kube_sim.model.streams.STREAM_NAMES`).
            layout: The table's run layout.
            sampler: Draws ``n`` values from a generator.

        Returns:
            The draws, aligned with the rows.
        """
        return draw([streams[stream] for streams in self.run_streams], layout, sampler)

    def add_cost(self, item: str, per_run: np.ndarray | float) -> None:
        """Add to a cost item (Rp): one amount per run.

        Args:
            item: One of :data:`COST_ITEMS`.
            per_run: The amounts.
        """
        self.run_costs[item] += per_run

    def cost_to_date(self) -> np.ndarray:
        """Programme cost to date (Rp), one value per run."""
        return sum((self.run_costs[item] for item in COST_ITEMS), np.zeros(self.n_runs))

    def costs_of(self, run: int) -> dict[str, float]:
        """Run ``run``'s cost to date by item (Rp)."""
        return {item: float(values[run]) for item, values in self.run_costs.items()}

    @property
    def costs(self) -> dict[str, float]:
        """Programme cost to date by item (Rp) of a single run (a batch: see :meth:`costs_of`)."""
        if self.n_runs != 1:
            raise ValueError("a batch of runs has costs per run: use costs_of(run)")
        return self.costs_of(0)

    # --- scheduled events -------------------------------------------------------------------
    def funding_round(self) -> None:
        """Every agency runs its yearly funding round (scheduled yearly, at the start of the month)."""
        cohort = self.rounds_held
        self.rounds_held += 1
        agency_rules.funding_round(self, self.month + 1, cohort)

    def business_cycle_ends(self) -> None:
        """Groups whose business cycle ends this month sell, share and restock (scheduled monthly, at its end)."""
        month = int(self.time)
        ended = group_rules.end_cycles(self, month)
        agency_rules.follow_up_support(self, ended, month)

    # --- the month --------------------------------------------------------------------------
    def step(self) -> None:
        """One month: start businesses, visits, escalations, engagement, work, conflict, failure, pay."""
        self.month += 1
        t = self.month
        self.month_payouts = np.zeros(self.n_runs)
        if (t - 1) % 12 == 0:
            self.follow_up_budget_left[:] = self.copy_params().agency.follow_up_budget_rp

        group_rules.start_business(self, t)
        group_rules.apply_late_equipment_grants(self, t)
        update_posts(self, t)
        self.visits_this_month = count_per_run(make_visits(self, t), self.group_runs())
        agency_rules.settle_escalations(self, t)
        member_rules.update_engagement(self, t)
        group_rules.produce(self, t)
        group_rules.update_conflicts(self, t)
        group_rules.check_failures(self, t)
        self._pay_facilitators(t)
        member_rules.pay_pending(self)
        group_rules.release_members_of_failed(self, t)
        member_rules.close_month(self, t)
        self.datacollector.collect(self)

    def _pay_facilitators(self, month: int) -> None:
        g = self.groups
        caseload = on_caseload(self, month)
        f = self.facilitators
        posts = np.unique(g.facilitator[caseload])
        working = posts[f.vacant_until[posts] < 0]  # an empty post is not paid
        posts_mask = np.zeros(f.size, dtype=bool)
        posts_mask[working] = True
        layout = self.facilitator_runs()
        self.facilitators_working = count_per_run(posts_mask, layout)
        accompanied = caseload.copy()
        accompanied[caseload] = f.vacant_until[g.facilitator[caseload]] < 0
        self.groups_accompanied = count_per_run(accompanied, self.group_runs())
        hours = sum_per_run(f.hours, layout, posts_mask)
        self.add_cost("facilitators", hours * self.run_values().facilitators.pay_per_hour_rp)

    # --- views used by the rules (kept by the member table until a member's state changes) ---
    def member_rows_in_groups(self) -> np.ndarray:
        """Rows of the members still in a running group."""
        return self.members.derived("rows_in_groups", lambda: np.flatnonzero(self.members.in_group))

    def _active_rows(self) -> np.ndarray:
        rows = self.member_rows_in_groups()
        return self.members.derived("active_rows", lambda: rows[self.members.active[rows]])

    def group_active_count(self) -> np.ndarray:
        """Active members in each group."""
        n = self.groups.size
        return self.members.derived(("active_count", n),
                                    lambda: np.bincount(self.members.group[self._active_rows()], minlength=n))

    def group_active_share(self) -> np.ndarray:
        """Share of each group's current members who are active (0 for an empty group)."""
        return self.group_active_count() / np.maximum(self.groups.members, 1)

    def group_active_skill(self) -> np.ndarray:
        """Mean skill of each group's active members (0 when none is active)."""
        def compute() -> np.ndarray:
            m, rows = self.members, self._active_rows()
            total = np.bincount(m.group[rows], weights=m.skill[rows], minlength=self.groups.size)
            return total / np.maximum(self.group_active_count(), 1)

        return self.members.derived(("active_skill", self.groups.size), compute)

    def inactive_member_share(self) -> np.ndarray:
        """Share of members of running groups who are inactive, per run (nan when there are none)."""
        m, layout = self.members, self.member_runs()
        return _share(count_per_run(m.in_group & ~m.active, layout), count_per_run(m.in_group, layout))

    def share_unvisited_quarter(self) -> np.ndarray:
        """Share of running groups with no facilitator contact in the last three months, per run (nan if none run)."""
        g, layout = self.groups, self.group_runs()
        running = g.status != GroupStatus.FAILED
        return _share(count_per_run(running & (self.month - g.last_visit >= 3), layout),
                      count_per_run(running, layout))

    def mean_running(self, column: str) -> np.ndarray:
        """Mean of a group column over running groups, per run (nan when there are none).

        Args:
            column: Group table column.

        Returns:
            One mean per run.
        """
        return mean_per_run(getattr(self.groups, column), self.groups.status != GroupStatus.FAILED,
                            self.group_runs())
