"""KubeModel: the world, the monthly step order, scheduled events and data collection.

Time is in months. Model time ``t`` is the end of month ``t``'s step; the agency's yearly funding
rounds run at ``t - 0.5`` (the start of month ``t``) and business cycles end at ``t + 0.5`` (after
month ``t``'s work, for the groups whose cycle is due), both as Mesa scheduled events. This module
knows nothing of files, sweeps or plots.
"""

from __future__ import annotations

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
from kube_sim.model.codes import GroupStatus
from kube_sim.model.district import build_district
from kube_sim.model.economics import BusinessTable, per_capita_income
from kube_sim.model.events import EventLog
from kube_sim.model.parameters import Parameters
from kube_sim.model.policy import make_pattern
from kube_sim.model.streams import make_streams

COST_ITEMS: tuple[str, ...] = (
    "uep_grants", "equipment_grants", "training", "facilitators", "administration", "follow_up_support",
)
"""Programme cost items (Rp), as the agency and ministry pay them."""


def _share_above_poverty_line(model: KubeModel) -> float:
    m = model.members
    if not m.eligible.any():
        return float("nan")
    p = model.params
    income = per_capita_income(m.baseline_income[m.eligible], m.income_recent[m.eligible], p.members.household_size)
    return float(np.mean(income >= p.poverty.line_rp_per_person))


MONTHLY_REPORTERS = {
    "groups_funded": lambda m: m.groups.size,
    "groups_active": lambda m: int(np.sum(m.groups.status == GroupStatus.ACTIVE)),
    "groups_training": lambda m: int(np.sum(m.groups.status == GroupStatus.TRAINING)),
    "groups_failed": lambda m: int(np.sum(m.groups.status == GroupStatus.FAILED)),
    "members_funded": lambda m: m.members.size,
    "members_in_groups": lambda m: len(m.member_rows_in_groups()),
    "inactive_member_share": lambda m: m.inactive_member_share(),
    "facilitators_working": lambda m: m.facilitators_working,
    "groups_accompanied": lambda m: m.groups_accompanied,
    "visits": lambda m: m.visits_this_month,
    "share_unvisited_quarter": lambda m: m.share_unvisited_quarter(),
    "open_conflicts": lambda m: int(np.sum(m.groups.conflict_open)),
    "mean_cohesion": lambda m: m.mean_running("cohesion"),
    "payouts_rp": lambda m: m.month_payouts,
    "income_per_member_rp": lambda m: m.month_payouts / max(len(m.member_rows_in_groups()), 1),
    "group_cash_rp": lambda m: float(m.groups.cash.sum()),
    "cost_to_date_rp": lambda m: float(sum(m.costs.values())),
    "share_above_poverty_line": _share_above_poverty_line,
}
"""Per-month outcomes, declared once for Mesa's DataCollector (one row per month)."""


class KubeModel(mesa.Model):
    """Agent-based model of KUBE groups in a district, month by month.

    Args:
        params: Model parameters (defaults: Polewali Mandar baseline).
        seed: Run seed; every random draw comes from generators seeded by it.

    Attributes:
        params: The parameters.
        month: Months completed.
        groups, members, facilitators: The agents' state tables.
        group_agents, member_agents, facilitator_agents, agencies: The Mesa agents.
        costs: Programme cost to date by item (Rp).
        event_log: Every group's events.
        datacollector: Monthly outcomes.
    """

    def __init__(self, params: Parameters | None = None, *, seed: int = 0) -> None:
        super().__init__(rng=seed)
        self.params = params if params is not None else Parameters()
        self.seed = seed
        self.streams = make_streams(seed)
        self.district = build_district(self.params, self.streams["district"])
        self.business = BusinessTable.from_params(self.params.business)
        self.pattern = make_pattern(self.params.facilitators)

        self.groups = GroupTable()
        self.members = MemberTable()
        self.facilitators = FacilitatorTable()
        self.group_agents: list[Group] = []
        self.member_agents: list[mesa.Agent] = []
        self.facilitator_agents: list[mesa.Agent] = []
        self.agencies = [Agency(self, r) for r in range(self.district.replicas)]
        self.village_funded = np.zeros(self.district.n_villages, dtype=bool)
        self.costs: dict[str, float] = dict.fromkeys(COST_ITEMS, 0.0)
        self.follow_up_budget_left = np.zeros(self.district.replicas)
        self.event_log = EventLog()

        self.month = 0
        self.rounds_held = 0
        self.month_payouts = 0.0
        self.visits_this_month = 0
        self.facilitators_working = 0
        self.groups_accompanied = 0

        if self.params.funding.rounds > 0:
            self.schedule_recurring(self.funding_round, Schedule(interval=12, start=0.5,
                                                                 count=self.params.funding.rounds),
                                    priority=Priority.HIGH)
        self.schedule_recurring(self.business_cycle_ends, Schedule(interval=1, start=1.5))
        self.datacollector = DataCollector(model_reporters=MONTHLY_REPORTERS)

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
        self.month_payouts = 0.0
        if (t - 1) % 12 == 0:
            self.follow_up_budget_left[:] = self.params.agency.follow_up_budget_rp

        group_rules.start_business(self, t)
        group_rules.apply_late_equipment_grants(self, t)
        update_posts(self, t)
        self.visits_this_month = make_visits(self, t)
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
        self.facilitators_working = len(working)
        self.groups_accompanied = int(np.sum(f.vacant_until[g.facilitator[caseload]] < 0))
        self.costs["facilitators"] += float(f.hours[working].sum()) * self.params.facilitators.pay_per_hour_rp

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

    def inactive_member_share(self) -> float:
        """Share of members of running groups who are inactive (nan when there are none)."""
        rows = self.member_rows_in_groups()
        return float(np.mean(~self.members.active[rows])) if len(rows) else float("nan")

    def share_unvisited_quarter(self) -> float:
        """Share of running groups with no facilitator contact in the last three months (nan if none run)."""
        g = self.groups
        running = g.status != GroupStatus.FAILED
        if not running.any():
            return float("nan")
        return float(np.mean(self.month - g.last_visit[running] >= 3))

    def mean_running(self, column: str) -> float:
        """Mean of a group column over running groups (nan when there are none).

        Args:
            column: Group table column.

        Returns:
            The mean.
        """
        running = self.groups.status != GroupStatus.FAILED
        values = getattr(self.groups, column)[running]
        return float(values.mean()) if len(values) else float("nan")
