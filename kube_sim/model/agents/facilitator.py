"""Facilitators (pendamping): caseload, hours, skill, and the visits they make.

A visit trains members (strengthening), settles or escalates conflicts (protection), re-motivates
inactive members and reports the group's state to the agency (support). Which groups a
facilitator visits is decided by the mentoring pattern (:mod:`kube_sim.model.policy`): each facilitator
visits their groups in priority order until the month's hours (visit plus travel) run out. The
choices of all facilitators are computed together as arrays; each depends only on the
facilitator's own caseload.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from kube_sim.model.agents import member as member_rules
from kube_sim.model.agents.group import close_conflicts
from kube_sim.model.codes import EventKind, GroupStatus
from kube_sim.model.policy import CaseloadView
from kube_sim.model.tables import cumulative_within

if TYPE_CHECKING:
    from kube_sim.model.model import KubeModel

FACILITATOR_COLUMNS: dict[str, tuple[type, object]] = {
    "replica": (np.int32, 0),
    "hours": (np.float64, 0.0),  # hours per month for KUBE work
    "skill": (np.float64, 0.5),  # 0-1
    "hired_month": (np.int32, 0),
    "visits_made": (np.int64, 0),
}


class Facilitator(mesa.Agent):
    """A facilitator. Attributes read the model's facilitator table row.

    Args:
        model: The model.
        index: Row in the facilitator table.
    """

    def __init__(self, model: KubeModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def skill(self) -> float:
        """Skill at mediation and teaching, 0-1."""
        return float(self.model.facilitators.skill[self.index])

    @property
    def hours(self) -> float:
        """Hours per month for KUBE work."""
        return float(self.model.facilitators.hours[self.index])

    @property
    def caseload(self) -> np.ndarray:
        """Indices of the groups this facilitator looks after now."""
        return np.flatnonzero(on_caseload(self.model, self.model.month) & (self.model.groups.facilitator == self.index))

    @property
    def visits_made(self) -> int:
        """Visits made so far."""
        return int(self.model.facilitators.visits_made[self.index])


def on_caseload(model: KubeModel, month: int) -> np.ndarray:
    """Mask of groups that a facilitator currently looks after.

    Args:
        model: The model.
        month: The current month.

    Returns:
        Boolean mask over groups.
    """
    g = model.groups
    return ((g.facilitator >= 0) & (g.status != GroupStatus.FAILED)
            & (month - g.funded_month <= model.params.facilitators.support_months))


def assign(model: KubeModel, new_groups: np.ndarray, month: int) -> None:
    """Give new groups to facilitators of their district copy: fill spare places first, then recruit.

    New groups are taken in kecamatan order, so that a facilitator's groups lie close together.

    Args:
        model: The model.
        new_groups: Indices of the new groups.
        month: The current month.
    """
    per = model.params.facilitators.groups_per_facilitator
    if per == 0 or len(new_groups) == 0:
        return
    g, f = model.groups, model.facilitators
    n_rep = model.district.replicas
    new_groups = new_groups[np.lexsort((g.kecamatan[new_groups], g.replica[new_groups]))]
    replica = g.replica[new_groups]
    rank = np.arange(len(new_groups)) - np.searchsorted(replica, replica)  # position within its copy

    # Spare places of current facilitators, in facilitator order within each copy.
    working = on_caseload(model, month) & (g.facilitator >= 0)
    spare = np.maximum(per - np.bincount(g.facilitator[working], minlength=f.size), 0)
    by_copy = np.argsort(f.replica, kind="stable")
    slots = np.repeat(by_copy, spare[by_copy])
    slots_per_copy = np.bincount(f.replica[slots], minlength=n_rep)
    slot_start = np.concatenate([[0], np.cumsum(slots_per_copy)[:-1]])
    placed = rank < slots_per_copy[replica]
    g.facilitator[new_groups[placed]] = slots[slot_start[replica[placed]] + rank[placed]]

    # Recruit for the rest: ceil(rest / per) new facilitators per copy.
    rest_rank = (rank - slots_per_copy[replica])[~placed]
    rest_replica = replica[~placed]
    if len(rest_rank) == 0:
        return
    hires = -(-np.bincount(rest_replica, minlength=n_rep) // per)
    n_new = int(hires.sum())
    p = model.params.facilitators
    rng = model.streams["staffing"]
    concentration = 8.0
    skill = rng.beta(max(p.skill_mean, 1e-3) * concentration, max(1 - p.skill_mean, 1e-3) * concentration, n_new)
    rows = f.append(n_new, replica=np.repeat(np.arange(n_rep), hires), hours=p.hours_per_month, skill=skill,
                    hired_month=month)
    model.facilitator_agents.extend(Facilitator(model, int(i)) for i in rows)
    hire_start = rows[0] + np.concatenate([[0], np.cumsum(hires)[:-1]])
    g.facilitator[new_groups[~placed]] = hire_start[rest_replica] + rest_rank // per


def visit_effectiveness(model: KubeModel, facilitator_of_group: np.ndarray) -> np.ndarray:
    """How well a visit works: facilitator skill x coordination x (1 + target effect, if targets).

    Args:
        model: The model.
        facilitator_of_group: Facilitator row of each group.

    Returns:
        Effectiveness per group (>= 0; probabilities use it capped at 1).
    """
    p = model.params.facilitators
    boost = 1.0 + (p.target_effect if p.targets else 0.0)
    return model.facilitators.skill[facilitator_of_group] * p.coordination * boost


def make_visits(model: KubeModel, month: int) -> int:
    """All facilitators visit groups this month; returns the number of visits.

    Args:
        model: The model.
        month: The current month.

    Returns:
        Visits made.
    """
    g, f = model.groups, model.facilitators
    p = model.params.facilitators
    rng = model.streams["facilitation"]
    u_mediate = rng.random(g.size)
    if f.size == 0:
        rng.random(model.members.size)  # the draw remotivate would make: keeps the stream paired across arms
        return 0
    idx = np.flatnonzero(on_caseload(model, month))
    fac = g.facilitator[idx]
    view = CaseloadView(
        months_since_visit=month - g.last_visit[idx],
        inactive_share=1.0 - model.group_active_share()[idx],
        conflict_open=(g.conflict_open[idx] & ~g.escalated[idx]).astype(float),
        cohesion=g.cohesion[idx],
        short_of_capital=(g.units[idx] == 0).astype(float),
    )
    priority = model.pattern.priority(view)
    cost = p.hours_per_visit + model.district.kecamatan_travel_hours[g.kecamatan[idx]]
    used = cumulative_within(fac, priority, g.tiebreak[idx], cost)
    visited_idx = idx[used <= f.hours[fac] + 1e-9]

    visited = np.zeros(g.size, dtype=bool)
    visited[visited_idx] = True
    effectiveness = np.zeros(g.size)
    effectiveness[visited_idx] = visit_effectiveness(model, g.facilitator[visited_idx])

    member_rules.train(model, visited, p.visit_skill_gain * effectiveness)
    member_rules.remotivate(model, visited, effectiveness)

    in_conflict = visited_idx[g.conflict_open[visited_idx] & ~g.escalated[visited_idx]]
    chance = p.mediation_probability * np.minimum(effectiveness[in_conflict], 1.0)
    settled = in_conflict[u_mediate[in_conflict] < chance]
    escalated = in_conflict[u_mediate[in_conflict] >= chance]
    close_conflicts(model, settled)
    g.escalated[escalated] = True

    g.cohesion[visited_idx] = np.minimum(g.cohesion[visited_idx] + p.visit_cohesion_gain * effectiveness[visited_idx],
                                         1.0)
    g.last_visit[visited_idx] = month
    g.visits[visited_idx] += 1
    f.visits_made += np.bincount(g.facilitator[visited_idx], minlength=f.size)
    model.event_log.add(month, visited_idx, EventKind.VISIT, g.facilitator[visited_idx])
    model.event_log.add(month, settled, EventKind.MEDIATED)
    model.event_log.add(month, escalated, EventKind.ESCALATED)
    model.reports_received += len(visited_idx)
    return len(visited_idx)
