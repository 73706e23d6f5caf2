"""Facilitators (pendamping): caseload, hours, other work, turnover, skill, and the visits they make.

A facilitator holds a *post* (one row of the facilitator table) with its own hours a month. Each
month :func:`update_posts` lets some facilitators leave (the post stays empty for
``facilitators.vacancy_months``, then a new facilitator takes it and its groups), and marks those
whose other work takes the month. Then :func:`make_visits` first chooses which groups every facilitator visits
(:func:`choose_groups_to_visit`: the mentoring pattern of :mod:`kube_sim.model.policy` ranks the
caseload, and each facilitator goes down the list until the month's hours, visit plus travel, run
out), then applies the visits (:func:`visit`): the facilitator reports to the agency, trains the
members (strengthening), settles or escalates a conflict (protection), re-motivates inactive
members and strengthens cohesion (support). The choices and visits of all facilitators are
computed together as arrays; each choice depends only on the facilitator's own caseload.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np

from kube_sim.model.agents import member as member_rules
from kube_sim.model.agents.group import close_conflicts
from kube_sim.model.agents.row_agent import RowAgent, row_value
from kube_sim.model.batch import select
from kube_sim.model.codes import EventKind, GroupStatus
from kube_sim.model.policy import CaseloadView, make_pattern, within_hours
from kube_sim.model.streams import beta_with_mean
from kube_sim.model.tables import Column, ColumnTable

if TYPE_CHECKING:
    from kube_sim.model.model import KubeModel
    from kube_sim.model.parameters import FacilitatorParams, Parameters

class FacilitatorTable(ColumnTable):
    """The state of every facilitator post, one row per post."""

    replica = Column(np.int32, 0, unit="index", label="district copy")
    hours = Column(np.float64, 0.0, unit="hours/month", label="hours", meaning="hours per month for KUBE work")
    skill = Column(np.float64, 0.5, unit="0-1", label="skill", meaning="skill at mediation and teaching")
    visits_made = Column(np.int64, 0, unit="visits", label="visits made", meaning="visits made so far")
    vacant_until = Column(np.int32, -1, unit="month", label="vacant until",
                          meaning="the post is empty through this month (-1: filled)")
    busy = Column(np.bool_, False, unit="yes/no", label="busy", meaning="other work takes this month")
    occupants = Column(np.int32, 1, unit="facilitators", label="occupants",
                       meaning="facilitators who have held the post")


class Facilitator(RowAgent):
    """A facilitator: one row of the model's facilitator table."""

    table = "facilitators"
    skill = row_value(FacilitatorTable.skill, float)
    hours = row_value(FacilitatorTable.hours, float)
    visits_made = row_value(FacilitatorTable.visits_made, int)

    @property
    def caseload(self) -> np.ndarray:
        """Indices of the groups this facilitator looks after now."""
        return np.flatnonzero(on_caseload(self.model, self.model.month) & (self.model.groups.facilitator == self.index))


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
            & (month - g.funded_month < model.group_params().facilitators.support_months))


def assign(model: KubeModel, new_groups: np.ndarray, month: int) -> None:
    """Give new groups to facilitators of their district copy.

    With a headcount (``facilitators.count`` > 0) the agency employs that many facilitators and
    shares the groups evenly among them (:func:`assign_to_headcount`); otherwise it fills the spare
    places of its facilitators at ``facilitators.groups_per_facilitator`` and recruits for the rest
    (:func:`assign_by_caseload`).

    Args:
        model: The model.
        new_groups: Indices of the new groups.
        month: The current month.
    """
    if len(new_groups) == 0:
        return
    p = model.group_params(new_groups).facilitators
    headcount = select(new_groups, p.count > 0)
    if len(headcount):
        assign_to_headcount(model, headcount, month)
    by_caseload = select(new_groups, (p.count == 0) & (p.groups_per_facilitator > 0))
    if len(by_caseload):
        assign_by_caseload(model, by_caseload, month)


def _recruit(model: KubeModel, hires: np.ndarray) -> np.ndarray:
    """Recruit ``hires[r]`` new facilitators in district copy ``r``; returns their rows (copy by copy)."""
    n_new = int(hires.sum())
    replica = np.repeat(np.arange(len(hires)), hires)
    new = model.runs_of(model.copy_runs(replica))
    skill = model.draw_per_run("staffing", new, _draw_skill)
    hours = model.draw_per_run("staffing", new, lambda rng, n, p: draw_hours(rng, p.facilitators, n))
    rows = model.facilitators.append(n_new, replica=replica, hours=hours, skill=skill)
    if model.agent_views:
        model.facilitator_agents.extend(Facilitator.create_rows(model, rows))
    return rows


def assign_to_headcount(model: KubeModel, new_groups: np.ndarray, month: int) -> None:
    """Share new groups among a fixed headcount of facilitators, least loaded first.

    The agency employs ``facilitators.count`` facilitators in each district copy, recruited when it
    first has groups to give them. Each new group goes to the facilitator with the fewest groups on
    the caseload at that point (ties: the earlier post), so caseloads stay within one group of each
    other; a facilitator's new groups are consecutive in kecamatan order, so they lie close
    together. The caseload a facilitator carries is then the groups to serve divided by the
    headcount.

    Args:
        model: The model.
        new_groups: Indices of the new groups.
        month: The current month.
    """
    g, f = model.groups, model.facilitators
    n_rep = model.district.replicas
    count = model.copy_params().facilitators.count
    missing = np.maximum(count - np.bincount(f.replica, minlength=n_rep), 0)
    if model.n_runs > 1:  # only the runs with new groups recruit now, as each would alone
        recruiting = np.zeros(model.n_runs, dtype=bool)
        recruiting[model.copy_runs(g.replica[new_groups])] = True
        missing = np.where(recruiting[model.district.copy_run()], missing, 0)
    if missing.any():
        _recruit(model, missing)
    new_groups = new_groups[np.lexsort((g.kecamatan[new_groups], g.replica[new_groups]))]
    working = on_caseload(model, month)
    load = np.bincount(g.facilitator[working], minlength=f.size)
    replica = g.replica[new_groups]
    for r in np.unique(replica):
        mine = new_groups[replica == r]
        posts = np.flatnonzero(f.replica == r)
        # Water-filling: the k smallest (load + s, post) slots, s = 0, 1, ..., give each post its share.
        k = len(mine)
        levels = load[posts][:, None] + np.arange(k)[None, :]
        order = np.lexsort((np.repeat(np.arange(len(posts)), k), levels.ravel()))[:k]
        share = np.bincount(order // k, minlength=len(posts))
        g.facilitator[mine] = np.repeat(posts, share)


def assign_by_caseload(model: KubeModel, new_groups: np.ndarray, month: int) -> None:
    """Fill spare places at ``facilitators.groups_per_facilitator`` first, then recruit for the rest.

    New groups are taken in kecamatan order, so that a facilitator's groups lie close together.

    Args:
        model: The model.
        new_groups: Indices of the new groups.
        month: The current month.
    """
    g, f = model.groups, model.facilitators
    n_rep = model.district.replicas
    new_groups = new_groups[np.lexsort((g.kecamatan[new_groups], g.replica[new_groups]))]
    replica = g.replica[new_groups]
    rank = np.arange(len(new_groups)) - np.searchsorted(replica, replica)  # position within its copy

    # Spare places of current facilitators, in facilitator order within each copy.
    working = on_caseload(model, month)
    per_post = model.facilitator_params().facilitators.groups_per_facilitator
    spare = np.maximum(per_post - np.bincount(g.facilitator[working], minlength=f.size), 0)
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
    per_copy = np.maximum(model.copy_params().facilitators.groups_per_facilitator, 1)  # 0: not recruiting here
    hires = -(-np.bincount(rest_replica, minlength=n_rep) // per_copy)
    rows = _recruit(model, hires)
    hire_start = rows[0] + np.concatenate([[0], np.cumsum(hires)[:-1]])
    per = model.group_params(new_groups[~placed]).facilitators.groups_per_facilitator
    g.facilitator[new_groups[~placed]] = hire_start[rest_replica] + rest_rank // per


def _draw_skill(rng: np.random.Generator, n: int, p: Parameters) -> np.ndarray:
    """Skill of ``n`` new facilitators (beta around ``facilitators.skill_mean``)."""
    return beta_with_mean(rng, p.facilitators.skill_mean, p.facilitators.skill_concentration, n)


def draw_hours(rng: np.random.Generator, p: FacilitatorParams, n: int) -> np.ndarray:
    """Hours a month of ``n`` new facilitators: lognormal around ``facilitators.hours_per_month``.

    Args:
        rng: The staffing stream.
        p: Facilitator parameters.
        n: How many.

    Returns:
        Hours per month (mean ``hours_per_month``, log-sd ``hours_spread``).
    """
    sigma = p.hours_spread
    return p.hours_per_month * rng.lognormal(-0.5 * sigma**2, sigma, n)


def update_posts(model: KubeModel, month: int) -> None:
    """Turnover and other work: some facilitators leave, empty posts are filled, some are busy this month.

    A filled post is left with chance ``facilitators.turnover_per_month`` and stays empty for
    ``facilitators.vacancy_months``; its groups wait. When the vacancy ends a new facilitator, with
    a new skill and new hours, takes the post and its groups. A facilitator in post is taken by
    other work for the whole month with chance ``facilitators.busy_month_probability``. Every draw
    is made for every post, so the stream stays aligned.

    Args:
        model: The model.
        month: The current month.
    """
    f = model.facilitators
    if f.size == 0:
        return
    posts = model.facilitator_runs()
    p = model.facilitator_params().facilitators
    u_leave, u_busy = (model.draw("staffing", posts, lambda rng, n: rng.random(n)) for _ in range(2))
    new_skill = model.draw_per_run("staffing", posts, _draw_skill)
    new_hours = model.draw_per_run("staffing", posts, lambda rng, n, p: draw_hours(rng, p.facilitators, n))
    filled = (f.vacant_until >= 0) & (f.vacant_until < month)
    f.skill[filled] = new_skill[filled]
    f.hours[filled] = new_hours[filled]
    f.occupants[filled] += 1
    f.vacant_until[filled] = -1
    leaving = (f.vacant_until < 0) & (u_leave < p.turnover_per_month)
    vacancy = model.facilitator_params(leaving).facilitators.vacancy_months
    f.vacant_until[leaving] = np.where(vacancy > 0, month + vacancy - 1, -1)
    at_once = leaving & (p.vacancy_months == 0)  # filled at once
    f.skill[at_once] = new_skill[at_once]
    f.hours[at_once] = new_hours[at_once]
    f.occupants[at_once] += 1
    f.busy[:] = (u_busy < p.busy_month_probability)


def hours_this_month(model: KubeModel) -> np.ndarray:
    """Hours each post gives KUBE work this month: none while empty or while other work takes the month."""
    f = model.facilitators
    return np.where((f.vacant_until < 0) & ~f.busy, f.hours, 0.0)


def visit_effectiveness(model: KubeModel, facilitator_of_group: np.ndarray) -> np.ndarray:
    """How well a visit works: the facilitator's skill.

    Args:
        model: The model.
        facilitator_of_group: Facilitator row of each group.

    Returns:
        Effectiveness per group, 0-1.
    """
    return model.facilitators.skill[facilitator_of_group]


def make_visits(model: KubeModel, month: int) -> np.ndarray:
    """Facilitators choose which groups to visit this month, then visit them.

    Args:
        model: The model.
        month: The current month.

    Returns:
        The groups visited.
    """
    groups = choose_groups_to_visit(model, month)
    visit(model, groups, month)
    return groups


def choose_groups_to_visit(model: KubeModel, month: int) -> np.ndarray:
    """The groups each facilitator visits: their caseload in the pattern's order, while their hours last.

    A visit costs ``facilitators.hours_per_visit`` plus the travel hours of the group's kecamatan.

    Args:
        model: The model.
        month: The current month.

    Returns:
        Indices of the groups visited.
    """
    g = model.groups
    idx = np.flatnonzero(on_caseload(model, month))
    fac = g.facilitator[idx]
    p = model.group_params(idx).facilitators
    view = CaseloadView(
        months_since_visit=month - g.last_visit[idx],
        inactive_share=1.0 - model.group_active_share()[idx],
        conflict_open=(g.conflict_open[idx] & ~g.escalated[idx]).astype(float),
        cohesion=g.cohesion[idx],
        short_of_capital=(g.units[idx] == 0).astype(float),
    )
    priority = make_pattern(cast("FacilitatorParams", p)).priority(view)
    if np.any(p.targets):
        priority = np.where(p.targets, priority + p.target_priority * behind_targets(model, idx, month), priority)
    cost = p.hours_per_visit + model.district.kecamatan_travel_hours[g.kecamatan[idx]]
    return idx[within_hours(fac, priority, g.tiebreak[idx], cost, hours_this_month(model)[fac])]


def behind_targets(model: KubeModel, idx: np.ndarray, month: int) -> np.ndarray:
    """Whether groups ``idx`` are behind the targets a facilitator set with them (1.0) or on track (0.0).

    The targets are the ones a facilitator can judge from the group's books: a profit shared every
    business cycle (within ``members.payout_grace_months``), and at least the minimum of active
    members (``groups.min_active_share``).

    Args:
        model: The model.
        idx: Group indices.
        month: The current month.

    Returns:
        1.0 for a group behind its targets, else 0.0.
    """
    g, p = model.groups, model.group_params(idx)
    cycle = model.business.cycle_months[model.business_type(idx)]
    late = month - g.last_payout[idx] > cycle + p.members.payout_grace_months
    no_payout = (g.status[idx] == GroupStatus.ACTIVE) & late
    too_few = model.group_active_count()[idx] < np.ceil(p.groups.min_active_share * g.members_at_start[idx] - 1e-9)
    return (no_payout | too_few).astype(float)


def visit(model: KubeModel, groups: np.ndarray, month: int) -> None:
    """What a facilitator does on a visit, for each of ``groups``.

    The visit is dated and logged first, so that a group's story shows the visit before what came
    of it. Each effect scales with the facilitator's skill (:func:`visit_effectiveness`). Every
    effect draws its random numbers for all rows, visited or not, so the draws stay paired across
    scenarios.

    Args:
        model: The model.
        groups: Indices of the groups visited.
        month: The current month.
    """
    effect = np.zeros(model.groups.size)
    effect[groups] = visit_effectiveness(model, model.groups.facilitator[groups])
    report_to_agency(model, groups, month)
    train_members(model, groups, effect)
    settle_or_escalate_conflict(model, groups, effect, month)
    remotivate_inactive_members(model, groups, effect)
    strengthen_cohesion(model, groups, effect)
    strengthen_management(model, groups, effect)


def report_to_agency(model: KubeModel, groups: np.ndarray, month: int) -> None:
    """The visit is dated and counted, and is the facilitator's monitoring report (see follow-up support)."""
    g, f = model.groups, model.facilitators
    g.last_visit[groups] = month
    g.visits[groups] += 1
    f.visits_made += np.bincount(g.facilitator[groups], minlength=f.size)
    model.event_log.add(month, groups, EventKind.VISIT, g.facilitator[groups])


def train_members(model: KubeModel, groups: np.ndarray, effect: np.ndarray) -> None:
    """Every member of a visited group gains ``facilitators.visit_skill_gain x effect`` of skill."""
    member_rules.train(model, _mask(model, groups), model.group_params().facilitators.visit_skill_gain * effect)


def settle_or_escalate_conflict(model: KubeModel, groups: np.ndarray, effect: np.ndarray, month: int) -> None:
    """An open conflict the facilitator meets is settled, or else passed to the agency.

    It is settled with chance ``facilitators.mediation_probability x effect``. If not, the facilitator
    reports it, and the report reaches the agency and is acted on with chance
    ``facilitators.coordination``; otherwise the conflict stays with the group until the next visit.
    """
    g = model.groups
    u, u_report = (model.draw("facilitation", model.group_runs(), lambda rng, n: rng.random(n)) for _ in range(2))
    meets = groups[g.conflict_open[groups] & ~g.escalated[groups]]
    p = model.group_params(meets).facilitators
    chance = p.mediation_probability * np.minimum(effect[meets], 1.0)
    settled = meets[u[meets] < chance]
    reported = (u[meets] >= chance) & (u_report[meets] < p.coordination)
    escalated = meets[reported]
    close_conflicts(model, settled)
    g.escalated[escalated] = True
    model.event_log.add(month, settled, EventKind.MEDIATED)
    model.event_log.add(month, escalated, EventKind.ESCALATED)


def remotivate_inactive_members(model: KubeModel, groups: np.ndarray, effect: np.ndarray) -> None:
    """Inactive members of a visited group come back (see :func:`kube_sim.model.agents.member.remotivate`)."""
    member_rules.remotivate(model, _mask(model, groups), effect)


def strengthen_cohesion(model: KubeModel, groups: np.ndarray, effect: np.ndarray) -> None:
    """A visited group's cohesion rises by ``facilitators.visit_cohesion_gain x effect`` (at most to 1)."""
    g = model.groups
    gain = model.group_params(groups).facilitators.visit_cohesion_gain * effect[groups]
    g.cohesion[groups] = np.minimum(g.cohesion[groups] + gain, 1.0)


def strengthen_management(model: KubeModel, groups: np.ndarray, effect: np.ndarray) -> None:
    """The facilitator helps the chair and treasurer with books and reports.

    Management rises by ``facilitators.visit_management_gain x effect`` (at most to 1).
    """
    g = model.groups
    gain = model.group_params(groups).facilitators.visit_management_gain * effect[groups]
    g.management[groups] = np.minimum(g.management[groups] + gain, 1.0)


def _mask(model: KubeModel, groups: np.ndarray) -> np.ndarray:
    mask = np.zeros(model.groups.size, dtype=bool)
    mask[groups] = True
    return mask
