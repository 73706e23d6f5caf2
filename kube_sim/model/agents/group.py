"""KUBE groups: business, money, stock, equipment, cohesion, conflict and failure.

Each group is a Mesa agent whose state is one row of the model's group table. The monthly
processes below act on all running groups at once.

Money identity, per group, at every month's end::

    cash + pending_payout + pending_assets
        = grants_in + sales_in - stock_out - inputs_out - equipment_out - payouts_out - assets_out

Profit shares (``payouts``) are the members' income from the group; ``assets`` are what members
divide among themselves when a group dissolves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kube_sim.model import economics
from kube_sim.model.agents import member as member_rules
from kube_sim.model.agents.row_agent import RowAgent, row_value
from kube_sim.model.batch import count_per_run, select
from kube_sim.model.codes import EventKind, FailureCause, GroupStatus
from kube_sim.model.tables import Column, ColumnTable

if TYPE_CHECKING:
    from kube_sim.model.model import KubeModel


class GroupTable(ColumnTable):
    """The state of every group, one row per group."""

    replica = Column(np.int32, 0, unit="index", label="district copy")
    kecamatan = Column(np.int32, 0, unit="index", label="Kecamatan", label_id="Kecamatan")
    village = Column(np.int32, 0, unit="index", label="Village", label_id="Desa")
    business = Column(np.int8, 0, unit="code", label="Business", label_id="Usaha",
                      meaning="business type: cattle fattening, seedling nursery or village kiosk")
    fit = Column(np.float64, 1.0, unit="0-1", label="resource fit",
                 meaning="the village's resource fit for this business")
    cohort = Column(np.int16, 0, unit="round", label="cohort", meaning="funding round, counted from 0")
    funded_month = Column(np.int32, 0, unit="month", label="Funded in month", label_id="Didanai bulan",
                          meaning="month of the decree and the UEP grant")
    start_month = Column(np.int32, 0, unit="month", label="start month",
                         meaning="month the business starts, after training")
    status = Column(np.int8, int(GroupStatus.TRAINING), unit="code", label="status",
                    meaning="the group's stage (`kube_sim.model.codes.GroupStatus`: training, active, failed)")
    failed_month = Column(np.int32, -1, unit="month", label="failed month",
                          meaning="month the group failed (-1 while running)")
    cause = Column(np.int8, int(FailureCause.NONE), unit="code", label="failure cause",
                   meaning="why the group failed (`kube_sim.model.codes.FailureCause`)")
    facilitator = Column(np.int32, -1, unit="index", label="Facilitator", label_id="Pendamping",
                         meaning="row of the group's facilitator post (-1: none)")
    cash = Column(np.float64, 0.0, unit="Rp", label="Cash", label_id="Kas", meaning="cash in the group account")
    savings = Column(np.float64, 0.0, unit="Rp", label="savings", meaning="the part of cash earmarked for equipment")
    pending_payout = Column(np.float64, 0.0, unit="Rp", label="pending payout",
                            meaning="profit shares declared, paid to the members at the month's end")
    pending_assets = Column(np.float64, 0.0, unit="Rp", label="pending assets",
                            meaning="assets of a dissolved group, divided among its members at the month's end")
    units = Column(np.int64, 0, unit="units", label="Stock (units)", label_id="Stok (unit)",
                   meaning="units of stock held (head of cattle, batches of seedlings, kiosk stock)")
    unit_size = Column(np.float64, 0.0, unit="size", label="unit size", meaning="size of each unit of stock")
    cost_basis = Column(np.float64, 0.0, unit="Rp", label="cost basis",
                        meaning="purchase price of the stock held plus the inputs paid since")
    equipment = Column(np.float64, 0.0, unit="0-1", label="Equipment", label_id="Sarana",
                       meaning="equipment level: 0 none, 1 the full set")
    cohesion = Column(np.float64, 0.0, unit="0-1", label="Cohesion", label_id="Kekompakan")
    management = Column(np.float64, 0.0, unit="0-1", label="management",
                        meaning="*kepengurusan*: a chair, treasurer and books")
    conflict_open = Column(np.bool_, False, unit="yes/no", label="conflict open")
    conflict_age = Column(np.int32, 0, unit="months", label="conflict age",
                          meaning="months the open conflict has lasted")
    escalated = Column(np.bool_, False, unit="yes/no", label="escalated",
                       meaning="the open conflict went to the agency")
    low_active_months = Column(np.int32, 0, unit="months", label="months with too few active members",
                               meaning="months in a row below `groups.min_active_share` of the founding members")
    last_visit = Column(np.int32, 0, unit="month", label="last visit month")
    visits = Column(np.int32, 0, unit="visits", label="Facilitator visits", label_id="Kunjungan pendamping",
                    meaning="facilitator visits so far")
    conflicts = Column(np.int32, 0, unit="conflicts", label="Conflicts", label_id="Konflik",
                       meaning="conflicts opened so far")
    last_payout = Column(np.int32, 0, unit="month", label="last payout month")
    members = Column(np.int32, 0, unit="members", label="members", meaning="current members")
    members_at_start = Column(np.int32, 0, unit="members", label="members at start")
    adequacy = Column(np.float64, 1.0, unit="0-1", label="labour adequacy",
                      meaning="share of the needed work done last month")
    labour_needed = Column(np.float64, 0.0, unit="hours", label="labour needed",
                           meaning="hours the stock needed last month")
    tiebreak = Column(np.float64, 0.0, unit="0-1", label="tiebreak",
                      meaning="a fixed random order among groups that are otherwise equal (round robin)")
    grants_in = Column(np.float64, 0.0, unit="Rp", label="grants in", meaning="grants received, cumulative")
    sales_in = Column(np.float64, 0.0, unit="Rp", label="sales in", meaning="sales, cumulative")
    stock_out = Column(np.float64, 0.0, unit="Rp", label="stock out", meaning="stock bought, cumulative")
    inputs_out = Column(np.float64, 0.0, unit="Rp", label="inputs out", meaning="inputs paid, cumulative")
    equipment_out = Column(np.float64, 0.0, unit="Rp", label="equipment out", meaning="equipment bought, cumulative")
    payouts_out = Column(np.float64, 0.0, unit="Rp", label="payouts out",
                         meaning="profit shares paid to members, cumulative")
    assets_out = Column(np.float64, 0.0, unit="Rp", label="assets out",
                        meaning="assets of the dissolved group divided among its members, cumulative")


class Group(RowAgent):
    """A KUBE group: one row of the model's group table."""

    table = "groups"
    status = row_value(GroupTable.status, lambda code: GroupStatus(int(code)))
    cash = row_value(GroupTable.cash, float)
    cohesion = row_value(GroupTable.cohesion, float)

    @property
    def members(self) -> list:
        """The Member agents currently in the group."""
        m = self.model.members
        rows = np.flatnonzero((m.group == self.index) & m.in_group)
        return [self.model.member_agents[i] for i in rows]

    def history(self) -> list[tuple[int, str, float]]:
        """The group's story: ``(month, event, value)`` for every event, in time order."""
        return self.model.event_log.for_group(self.index)


def _hours_available(model: KubeModel) -> np.ndarray:
    """Hours the active members of each group give this month."""
    return model.group_active_count() * model.group_params().members.hours_per_month


def restock(model: KubeModel, idx: np.ndarray) -> np.ndarray:
    """Groups at ``idx`` buy new stock with their free cash; returns the units bought.

    Cash saved for equipment is kept unless the group could otherwise buy nothing: then the savings
    go to stock, since a group without stock has no business.

    Args:
        model: The model.
        idx: Group indices.

    Returns:
        Units bought, aligned with ``idx``.
    """
    g, b = model.groups, model.business
    kind = model.business_type(idx)
    unit_cost = b.unit_cost_rp[kind]
    per_unit_hours = b.labour_hours_per_unit[kind] * (1.0 - b.equipment_labour_saving[kind] * g.equipment[idx])
    hours = _hours_available(model)[idx]
    reserve, input_cost = model.group_params(idx).groups.reserve_months, b.input_cost_per_unit_rp[kind]
    n = economics.units_to_buy(g.cash[idx] - g.savings[idx], unit_cost, input_cost, reserve, hours, per_unit_hours)
    with_savings = economics.units_to_buy(g.cash[idx], unit_cost, input_cost, reserve, hours, per_unit_hours)
    use_savings = (n == 0) & (with_savings > 0)
    n = np.where(use_savings, with_savings, n)
    g.savings[idx[use_savings]] = 0.0
    cost = n * unit_cost
    g.units[idx] = n
    g.unit_size[idx] = b.unit_start_size[kind]
    g.cash[idx] -= cost
    g.stock_out[idx] += cost
    g.cost_basis[idx] = cost
    return n


def start_business(model: KubeModel, month: int) -> None:
    """Groups whose training ends this month start their business and buy their first stock.

    Args:
        model: The model.
        month: The current month.
    """
    g = model.groups
    idx = np.flatnonzero((g.status == GroupStatus.TRAINING) & (g.start_month == month))
    if len(idx) == 0:
        return
    g.status[idx] = GroupStatus.ACTIVE
    g.last_payout[idx] = month
    bought = restock(model, idx)
    model.event_log.add(month, idx, EventKind.BUSINESS_START, bought)


def produce(model: KubeModel, month: int) -> None:
    """One month of work: pay inputs, grow the stock, lose some units.

    Args:
        model: The model.
        month: The current month.
    """
    g, b = model.groups, model.business
    u_loss = model.draw("business", model.group_runs(), lambda rng, n: rng.random(n))
    idx = np.flatnonzero(g.status == GroupStatus.ACTIVE)
    if len(idx) == 0:
        return
    kind = model.business_type(idx)
    p = model.group_params(idx).business
    units = g.units[idx]
    due = units * b.input_cost_per_unit_rp[kind]
    paid = np.minimum(due, np.maximum(g.cash[idx], 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        paid_share = np.where(due > 0, paid / due, 1.0)
    g.cash[idx] -= paid
    g.inputs_out[idx] += paid
    g.cost_basis[idx] += paid
    g.savings[idx] = np.minimum(g.savings[idx], g.cash[idx])

    needed = economics.labour_required(units, b.labour_hours_per_unit[kind], b.equipment_labour_saving[kind],
                                       g.equipment[idx])
    adequacy = economics.labour_adequacy(_hours_available(model)[idx], needed) * paid_share
    g.adequacy[idx] = adequacy
    g.labour_needed[idx] = needed
    g.unit_size[idx] += economics.growth(b.growth_per_month[kind], adequacy, g.fit[idx], b.fit_sensitivity[kind],
                                         model.group_active_skill()[idx], p.skill_output_weight)
    # Neglected stock is lost more often (up to 1 + neglect_loss_factor times when no work is done).
    # One draw per group.
    p_loss = np.minimum(b.loss_per_month[kind] * (1.0 + p.neglect_loss_factor * (1.0 - adequacy)), 1.0)
    p_any = 1.0 - (1.0 - p_loss) ** units
    lost = np.where(u_loss[idx] < p_any, np.maximum(1, np.round(units * p_loss)), 0).astype(np.int64)
    g.units[idx] = np.maximum(units - lost, 0)


def end_cycles(model: KubeModel, month: int) -> np.ndarray:
    """End of the business cycle for every group whose cycle is due this month.

    Sell, share profit, save for equipment, buy it when the savings cover it, restock. A cycle of
    ``c`` months started in month ``s`` ends after months ``s + c - 1``, ``s + 2c - 1``, ...

    Args:
        model: The model.
        month: The current month.

    Returns:
        The groups whose cycle ended.
    """
    g, b = model.groups, model.business
    # One price draw for every group every month keeps the stream paired across arms; each business
    # has its own spread (a bull's price swings by season, a kiosk's many goods hardly move together).
    kinds = model.business_type()
    sigma = b.price_volatility[kinds]
    normal = model.draw("business", model.group_runs(), lambda rng, n: rng.standard_normal(n))
    price_factor = np.exp(sigma * normal - 0.5 * sigma**2)
    cycle = b.cycle_months[kinds]
    age = month - g.start_month + 1
    due = (g.status == GroupStatus.ACTIVE) & (age > 0) & (age % cycle == 0)
    idx = np.flatnonzero(due)
    if len(idx) == 0:
        return idx
    price_factor = price_factor[idx]
    kind = kinds[idx]
    p = model.group_params(idx).groups
    revenue = g.units[idx] * g.unit_size[idx] * b.price_per_size_rp[kind] * price_factor
    g.cash[idx] += revenue
    g.sales_in[idx] += revenue
    model.event_log.add(month, idx, EventKind.SALE, revenue)

    payout, retained = economics.split_profit(revenue - g.cost_basis[idx], p.profit_share)
    payout = np.minimum(payout, g.cash[idx])
    g.cash[idx] -= payout
    g.pending_payout[idx] += payout
    shared = payout > 0
    g.last_payout[idx[shared]] = month
    paying = model.group_params(idx[shared]).groups
    g.cohesion[idx[shared]] = np.minimum(g.cohesion[idx[shared]] + paying.cohesion_gain_payout, 1.0)
    g.management[idx[shared]] = np.minimum(g.management[idx[shared]] + paying.management_gain_payout, 1.0)
    model.event_log.add(month, idx[shared], EventKind.PAYOUT, payout[shared])

    # Save toward the missing equipment; buy it when the savings cover it.
    gap_cost = b.equipment_cost_rp[kind] * (1.0 - g.equipment[idx])
    g.savings[idx] = np.minimum(g.savings[idx] + p.equipment_saving_share * retained, gap_cost)
    buy = (gap_cost > 0) & (g.savings[idx] >= gap_cost - 1e-6) & (g.cash[idx] >= gap_cost)
    buyers = idx[buy]
    g.cash[buyers] -= gap_cost[buy]
    g.equipment_out[buyers] += gap_cost[buy]
    g.savings[buyers] = 0.0
    g.equipment[buyers] = 1.0
    model.event_log.add(month, buyers, EventKind.EQUIPMENT_PURCHASE, gap_cost[buy])

    restock(model, idx)
    return idx


def apply_late_equipment_grants(model: KubeModel, month: int) -> None:
    """Pay the equipment grant to running groups funded ``grants.equipment_month`` months ago.

    Args:
        model: The model.
        month: The current month.
    """
    p = model.group_params().grants
    late = (p.equipment_rp > 0) & (p.equipment_month != 0)
    if not np.any(late):
        return  # no grant, or it came with the UEP grant
    g = model.groups
    due = np.flatnonzero(late & (month - g.funded_month == p.equipment_month) & (g.status != GroupStatus.FAILED))
    apply_equipment_grant(model, due, month)


def apply_equipment_grant(model: KubeModel, idx: np.ndarray, month: int) -> None:
    """Pay the equipment grant to groups ``idx`` and spend it on equipment (the rest stays as cash).

    Args:
        model: The model.
        idx: Group indices.
        month: The current month.
    """
    g, b = model.groups, model.business
    idx = select(idx, model.group_params(idx).grants.equipment_rp > 0)
    if len(idx) == 0:
        return
    amount = model.group_params(idx).grants.equipment_rp
    kind = model.business_type(idx)
    gap_cost = b.equipment_cost_rp[kind] * (1.0 - g.equipment[idx])
    spend = np.minimum(amount, gap_cost)
    g.cash[idx] += amount
    g.grants_in[idx] += amount
    g.cash[idx] -= spend
    g.equipment_out[idx] += spend
    with np.errstate(divide="ignore", invalid="ignore"):
        added = np.where(b.equipment_cost_rp[kind] > 0, spend / b.equipment_cost_rp[kind], 0.0)
    g.equipment[idx] = np.minimum(g.equipment[idx] + added, 1.0)
    g.savings[idx] = np.minimum(g.savings[idx], b.equipment_cost_rp[kind] * (1.0 - g.equipment[idx]))
    model.add_cost("equipment_grants", model.run_values().grants.equipment_rp * count_per_run(idx, model.group_runs()))
    model.event_log.add(month, idx, EventKind.EQUIPMENT_GRANT, amount)


def update_conflicts(model: KubeModel, month: int) -> None:
    """Free-riding breeds conflict; conflicts age, wear cohesion, and sometimes settle on their own.

    A conflict opens with probability ``p x inactive share x (1 - w x cohesion) x (k - adequacy)``, with
    ``w = groups.conflict_cohesion_weight`` and ``k = groups.conflict_work_offset``. An open conflict
    settles within the group (chance ``x cohesion x (1 + f x management)``), or the village head settles
    it, or members who keep books and minutes take an old one to the agency as a complaint.
    Groups unaccompanied (no visit for ``facilitators.unvisited_after_months``) lose cohesion, the
    less the better they are run (``x (1 - management)``).

    Args:
        model: The model.
        month: The current month.
    """
    g = model.groups
    u_open, u_settle, u_head, u_complain = (model.draw("conflict", model.group_runs(), lambda rng, n: rng.random(n))
                                            for _ in range(4))
    running = g.status == GroupStatus.ACTIVE
    idx = np.flatnonzero(running)
    if len(idx) == 0:
        return
    params = model.group_params(idx)
    p = params.groups
    inactive_share = 1.0 - model.group_active_share()[idx]
    p_open = (p.conflict_probability * inactive_share * (1.0 - p.conflict_cohesion_weight * g.cohesion[idx])
              * (p.conflict_work_offset - g.adequacy[idx]))
    is_open = g.conflict_open[idx]
    opens = ~is_open & (u_open[idx] < p_open)
    managed = g.management[idx]
    p_settle = p.self_resolution_probability * g.cohesion[idx] * (1.0 + p.management_settle_factor * managed)
    settles = is_open & (u_settle[idx] < p_settle)
    by_head = is_open & ~settles & ~g.escalated[idx] & (u_head[idx] < p.village_head_mediation)

    opened = idx[opens]
    g.conflict_open[opened] = True
    g.conflict_age[opened] = 0
    g.conflicts[opened] += 1
    model.event_log.add(month, opened, EventKind.CONFLICT)
    settled = idx[settles]
    close_conflicts(model, settled)
    model.event_log.add(month, settled, EventKind.SELF_SETTLED)
    mediated = idx[by_head]
    close_conflicts(model, mediated)
    model.event_log.add(month, mediated, EventKind.VILLAGE_HEAD_SETTLED)
    old = (is_open & ~settles & ~by_head & ~g.escalated[idx] & (g.conflict_age[idx] >= p.complaint_after_months)
           & (u_complain[idx] < p.complaint_probability * managed))
    complained = idx[old]
    g.escalated[complained] = True
    model.event_log.add(month, complained, EventKind.COMPLAINT)

    still_open = idx[g.conflict_open[idx]]
    g.conflict_age[still_open] += 1
    g.cohesion[still_open] -= model.group_params(still_open).groups.cohesion_loss_conflict
    unvisited = idx[(month - g.last_visit[idx]) >= params.facilitators.unvisited_after_months]
    g.cohesion[unvisited] -= (model.group_params(unvisited).groups.cohesion_decay_unvisited
                              * (1.0 - g.management[unvisited]))
    np.clip(g.cohesion, 0.0, 1.0, out=g.cohesion)


def close_conflicts(model: KubeModel, idx: np.ndarray) -> None:
    """Close the open conflicts of groups ``idx``.

    Args:
        model: The model.
        idx: Group indices.
    """
    g = model.groups
    g.conflict_open[idx] = False
    g.escalated[idx] = False
    g.conflict_age[idx] = 0


def check_failures(model: KubeModel, month: int) -> None:
    """Apply the failure rules to running groups and dissolve those that fail.

    Rules, by precedence: an unresolved conflict older than the limit; fewer active members than
    ``groups.min_active_share`` of the founding members (rounded up) for the grace period; cohesion
    below the collapse level; no stock and no cash to buy a unit.

    Args:
        model: The model.
        month: The current month.
    """
    g, b = model.groups, model.business
    idx = np.flatnonzero(g.status == GroupStatus.ACTIVE)
    if len(idx) == 0:
        return
    p = model.group_params(idx).groups
    minimum = np.ceil(p.min_active_share * g.members_at_start[idx] - 1e-9)
    low_active = model.group_active_count()[idx] < minimum
    g.low_active_months[idx] = np.where(low_active, g.low_active_months[idx] + 1, 0)

    kind = model.business_type(idx)
    cause = np.full(len(idx), int(FailureCause.NONE), dtype=np.int8)
    no_capital = (g.units[idx] == 0) & (g.cash[idx] < b.unit_cost_rp[kind])
    rules = (
        (FailureCause.NO_CAPITAL, no_capital),
        (FailureCause.LOW_COHESION, g.cohesion[idx] < p.collapse_cohesion),
        (FailureCause.INACTIVE_MEMBERS, g.low_active_months[idx] >= p.failure_grace_months),
        (FailureCause.CONFLICT, g.conflict_open[idx] & (g.conflict_age[idx] >= p.conflict_failure_months)),
    )
    for code, mask in rules:  # later rules take precedence
        cause[mask] = int(code)
    failing = cause != FailureCause.NONE
    dissolve(model, idx[failing], cause[failing], month)


def dissolve(model: KubeModel, idx: np.ndarray, cause: np.ndarray, month: int) -> None:
    """Dissolve groups: sell the stock and set all cash aside for the members to divide.

    The members divide it at the month's end (see ``member.pay_pending``) and then leave.

    Args:
        model: The model.
        idx: Group indices.
        cause: Failure cause per group.
        month: The current month.
    """
    if len(idx) == 0:
        return
    g, b = model.groups, model.business
    kind = model.business_type(idx)
    liquidation = g.units[idx] * g.unit_size[idx] * b.price_per_size_rp[kind]
    g.cash[idx] += liquidation
    g.sales_in[idx] += liquidation
    g.units[idx] = 0
    g.pending_assets[idx] += g.cash[idx]
    g.cash[idx] = 0.0
    g.savings[idx] = 0.0
    g.status[idx] = GroupStatus.FAILED
    g.failed_month[idx] = month
    g.cause[idx] = cause
    g.conflict_open[idx] = False
    g.escalated[idx] = False
    model.event_log.add(month, idx, EventKind.FAILURE, cause.astype(float))


def release_members_of_failed(model: KubeModel, month: int) -> None:
    """Members of groups that failed this month leave them (after the assets are divided).

    Args:
        model: The model.
        month: The current month.
    """
    g, m = model.groups, model.members
    failed_now = (g.status == GroupStatus.FAILED) & (g.failed_month == month) & (g.members > 0)
    if not failed_now.any():
        return
    rows = model.member_rows_in_groups()
    member_rules.leave(model, rows[failed_now[m.group[rows]]], month)
