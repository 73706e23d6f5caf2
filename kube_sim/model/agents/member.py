"""Member households (anggota): eligibility, skill, engagement, income.

Each member is a Mesa agent whose state is one row of the model's member table. Members change
engagement month by month (all at once, as arrays: see :func:`update_engagement`), and act as
individuals on events: joining a group at formation, being re-motivated by a facilitator's visit,
leaving the group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kube_sim.common.outputs import POVERTY_HORIZON_MONTHS
from kube_sim.model.agents.row_agent import RowAgent, row_value
from kube_sim.model.batch import sum_per_run
from kube_sim.model.tables import Column, ColumnTable

if TYPE_CHECKING:
    from kube_sim.model.model import KubeModel

class MemberTable(ColumnTable):
    """The state of every member household, one row per member.

    The watched columns (``group``, ``active``, ``in_group``, ``skill``) are the ones per-group counts are
    derived from: they are written only through :meth:`ColumnTable.assign`.
    """

    group = Column(np.int32, -1, unit="index", label="group", meaning="row of the member's group (kept after leaving)",
                   watched=True)
    eligible = Column(np.bool_, True, unit="yes/no", label="eligible",
                      meaning="really poor and eligible: would pass the NIK/KK check")
    skill = Column(np.float64, 0.0, unit="0-1", label="business skill", watched=True)
    active = Column(np.bool_, True, unit="yes/no", label="active", label_id="aktif",
                    meaning="fully active in the group business", watched=True)
    free_rider = Column(np.bool_, False, unit="yes/no", label="free-rider",
                        meaning="inclined to leave the work to others (a lasting trait)")
    in_group = Column(np.bool_, True, unit="yes/no", label="in group", meaning="still a member of a running group",
                      watched=True)
    baseline_income = Column(np.float64, 0.0, unit="Rp/person/month", label="baseline income",
                             meaning="income per person of the household without the group")
    income_from_group = Column(np.float64, 0.0, unit="Rp", label="income from the group",
                               meaning="all profit shares received so far")
    income_recent = Column(np.float64, 0.0, unit="Rp/month", label="recent group income",
                           meaning="average monthly group income over about `members.income_window_months` months")
    income_recent_at_horizon = Column(np.float64, np.nan, unit="Rp/month", label="recent group income at the horizon",
                                      meaning="recent group income when the member's group reached "
                                              "`kube_sim.common.outputs.POVERTY_HORIZON_MONTHS` months since its "
                                              "funding (nan before)")
    paid_this_month = Column(np.float64, 0.0, unit="Rp", label="paid this month",
                             meaning="profit shares received this month")
    assets_received = Column(np.float64, 0.0, unit="Rp", label="assets received",
                             meaning="share of a dissolved group's assets (not income)")
    left_month = Column(np.int32, -1, unit="month", label="left month",
                        meaning="month the member left or the group failed (-1: still in)")
    member_months = Column(np.int32, 0, unit="months", label="member months", meaning="months spent in a running group")
    months_inactive = Column(np.int32, 0, unit="months", label="months inactive",
                             meaning="of the member months, those spent inactive")
    shortfall_months = Column(np.int32, 0, unit="months", label="shortfall months",
                              meaning="months in a row with group income below `members.exit_income_ratio` of the "
                                      "value of the member's time")


class Member(RowAgent):
    """A member household: one row of the model's member table."""

    table = "members"
    group = row_value(MemberTable.group, int)
    eligible = row_value(MemberTable.eligible, bool)
    skill = row_value(MemberTable.skill, float)
    active = row_value(MemberTable.active, bool)
    in_group = row_value(MemberTable.in_group, bool)
    income_from_group = row_value(MemberTable.income_from_group, float)


def leave(model: KubeModel, rows: np.ndarray, month: int) -> None:
    """Members at ``rows`` leave their groups for good and stop being active (the households stay in the model).

    Args:
        model: The model.
        rows: Member rows.
        month: The month of leaving.
    """
    m = model.members
    rows = rows[m.in_group[rows]]
    m.assign("in_group", rows, False)
    m.assign("active", rows, False)
    m.left_month[rows] = month
    np.subtract.at(model.groups.members, m.group[rows], 1)


def update_engagement(model: KubeModel, month: int) -> None:
    """Monthly engagement change of every member in a running group.

    An active member becomes inactive with probability
    ``p_drop = base x (F_pay if no profit was shared last cycle) x (1 + F_coh (1 - cohesion))
    x (1 + (F_visit - 1)(1 - management) if the group had no recent visit) x (F_free if a free-rider)
    x (1 + F_drudge x burden) x (1 + F_opp x shortfall)``, where ``burden`` is the work the stock needs
    per active member's hours and ``shortfall`` how far the group income falls below the farm-wage
    value of the member's time (:func:`opportunity_shortfall`). An inactive member returns with
    ``p_return = base x (1 + w x active share) x (1 + f x management) / (F_free if a free-rider)``
    or leaves for good with ``p_exit``; so may any member whose group income has stayed below
    ``members.exit_income_ratio`` of the value of their time for ``members.exit_shortfall_months``.
    Two uniform draws per member per month keep the stream aligned across scenarios.

    Args:
        model: The model.
        month: The current month.
    """
    m, g = model.members, model.groups
    layout = model.member_runs()
    u_change = model.draw("behaviour", layout, lambda rng, n: rng.random(n))
    u_exit = model.draw("behaviour", layout, lambda rng, n: rng.random(n))

    rows = model.member_rows_in_groups()
    if len(rows) == 0:
        return
    params = model.member_params(rows)
    p = params.members
    grp = m.group[rows]
    cycle = model.business.cycle_months[model.business_type(grp)]
    no_payout = (month - g.last_payout[grp]) > cycle + p.payout_grace_months
    unvisited = (month - g.last_visit[grp]) >= params.facilitators.unvisited_after_months
    free_rider = np.where(m.free_rider[rows], p.free_rider_factor, 1.0)
    burden = np.minimum(g.labour_needed[grp] / np.maximum(model.group_active_count()[grp] * p.hours_per_month, 1.0),
                        2.0)
    shortfall = opportunity_shortfall(model, rows)
    p_drop = (
        p.dropout_probability
        * np.where(no_payout, p.no_payout_dropout_factor, 1.0)
        * (1.0 + p.low_cohesion_dropout_factor * (1.0 - g.cohesion[grp]))
        * np.where(unvisited, 1.0 + (p.unvisited_dropout_factor - 1.0) * (1.0 - g.management[grp]), 1.0)
        * free_rider
        * (1.0 + p.drudgery_dropout_factor * burden)
        * (1.0 + p.opportunity_dropout_factor * shortfall)
    )
    active_share = model.group_active_share()[grp]
    p_return = (p.return_probability * (1.0 + p.peer_return_weight * active_share)
                * (1.0 + p.management_return_factor * g.management[grp]) / free_rider)

    active = m.active[rows]
    u = u_change[rows]
    drops = active & (u < p_drop)
    returns = ~active & (u < p_return)
    m.shortfall_months[rows] = np.where(shortfall > 1.0 - p.exit_income_ratio, m.shortfall_months[rows] + 1, 0)
    gives_up = m.shortfall_months[rows] >= p.exit_shortfall_months
    exits = (~active & ~returns | gives_up & ~drops) & (u_exit[rows] < p.exit_probability_inactive)
    m.assign("active", rows[drops], False)
    m.assign("active", rows[returns], True)
    leave(model, rows[exits], month)


def opportunity_shortfall(model: KubeModel, rows: np.ndarray) -> np.ndarray:
    """How far each member's group income falls short of what their hours would earn at the farm wage.

    Args:
        model: The model.
        rows: Member rows.

    Returns:
        ``max(0, 1 - recent group income / (members.hours_per_month x wage per hour))``, 0-1.
    """
    p = model.member_params(rows).members
    value_of_time = p.hours_per_month * p.farm_wage_rp_per_day / p.work_hours_per_day
    if np.ndim(value_of_time) == 0:
        if value_of_time <= 0:
            return np.zeros(len(rows))
        return np.clip(1.0 - model.members.income_recent[rows] / value_of_time, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        shortfall = np.clip(1.0 - model.members.income_recent[rows] / value_of_time, 0.0, 1.0)
    return np.where(value_of_time > 0, shortfall, 0.0)


def remotivate(model: KubeModel, visited_groups: np.ndarray, effectiveness: np.ndarray) -> int:
    """A facilitator's visit brings inactive members back, each with chance ``p x effectiveness``.

    Args:
        model: The model.
        visited_groups: Boolean mask over groups visited this month.
        effectiveness: Visit effectiveness per group (the facilitator's skill).

    Returns:
        How many members came back.
    """
    m = model.members
    u = model.draw("facilitation", model.member_runs(), lambda rng, n: rng.random(n))
    rows = model.member_rows_in_groups()
    candidates = rows[~m.active[rows]]
    if len(candidates) == 0:
        return 0
    grp = m.group[candidates]
    chance = model.member_params(candidates).facilitators.remotivation_probability * np.minimum(effectiveness[grp],
                                                                                                1.0)
    back = candidates[visited_groups[grp] & (u[candidates] < chance)]
    m.assign("active", back, True)
    return len(back)


def train(model: KubeModel, groups_mask: np.ndarray, gain: float | np.ndarray) -> None:
    """Raise the skill of the members of the masked groups (capped at 1).

    Args:
        model: The model.
        groups_mask: Boolean mask over groups.
        gain: Skill added, a scalar or one value per group.
    """
    m = model.members
    rows = model.member_rows_in_groups()
    rows = rows[groups_mask[m.group[rows]]]
    if len(rows) == 0:
        return
    add = gain if np.isscalar(gain) else np.asarray(gain)[m.group[rows]]
    m.assign("skill", rows, np.minimum(m.skill[rows] + add, 1.0))


def pay_pending(model: KubeModel) -> None:
    """Pay each group's pending profit shares to its current members, equally.

    Free-riders are paid like everyone else: that is what breeds conflict. A group with no members
    left keeps its pending shares.

    Args:
        model: The model.
    """
    m, g = model.members, model.groups
    has_members = (g.members > 0) & ((g.pending_payout > 0) | (g.pending_assets > 0))
    if not has_members.any():
        return
    rows = model.member_rows_in_groups()
    members = np.maximum(g.members, 1)
    for pending, paid_out, received in (("pending_payout", "payouts_out", "income_from_group"),
                                        ("pending_assets", "assets_out", "assets_received")):
        amount = np.where(has_members, getattr(g, pending), 0.0)
        share = (amount / members)[m.group[rows]]
        getattr(m, received)[rows] += share
        if pending == "pending_payout":
            m.paid_this_month[rows] += share
            model.month_payouts += sum_per_run(amount, model.group_runs())
        getattr(g, paid_out)[:] += amount
        getattr(g, pending)[has_members] = 0.0


def close_month(model: KubeModel, month: int) -> None:
    """Book the month's group income into each household's recent income (a 12-month average).

    A household's own income without the programme (``baseline_income``) does not change over a run,
    so the counterfactual of every household is known at every month; what the programme adds is its
    recent group income. That income is also kept as it stood when the household's group reached
    :data:`~kube_sim.common.outputs.POVERTY_HORIZON_MONTHS` months after its funding (whether the
    group was still running or not), so poverty can be counted at that stated time as well as at the
    end of the run. No random number is drawn.

    Args:
        model: The model.
        month: The month being closed.
    """
    m = model.members
    m.income_recent += (m.paid_this_month - m.income_recent) / model.member_params().members.income_window_months
    if m.size:
        reached = model.groups.funded_month[m.group] + POVERTY_HORIZON_MONTHS == month
        m.income_recent_at_horizon[reached] = m.income_recent[reached]
    rows = model.member_rows_in_groups()
    m.member_months[rows] += 1
    m.months_inactive[rows[~m.active[rows]]] += 1
    m.paid_this_month[:] = 0.0
