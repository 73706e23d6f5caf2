"""The agency (Dinas Sosial): funding rounds, decree, grants, training, staffing, escalations, support.

One agency per district copy. Each year it runs a funding round: villages send proposals known to
the village head; the agency verifies members' NIK/KK in the field (catching a share of ineligible
households), selects up to the quota of villages per kecamatan within its budget, issues the decree,
trains the groups (strengthening), pays the UEP grant into the group account, and assigns the groups
to facilitators. Each month it settles escalated conflicts with limited capacity (protection) and
receives facilitators' reports, which let it top up groups short of capital (support).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from kube_sim.model.agents import facilitator as facilitator_rules
from kube_sim.model.agents.group import Group, apply_equipment_grant, close_conflicts, restock
from kube_sim.model.agents.member import Member
from kube_sim.model.batch import RunLayout, RunSampler, Sampler, count_per_run, per_type, select, sum_per_run
from kube_sim.model.codes import EventKind, GroupStatus
from kube_sim.model.parameters import Parameters
from kube_sim.model.streams import beta_with_mean
from kube_sim.model.tables import cumulative_within, rank_within

if TYPE_CHECKING:
    from kube_sim.model.model import KubeModel


class Agency(mesa.Agent):
    """The district social office of one district copy.

    Args:
        model: The model.
        replica: The district copy this agency serves.

    Attributes:
        replica: The district copy.
        proposals_received: Proposals sent by villages (with the village head's approval).
        proposals_verified: Proposals that kept enough members after NIK/KK verification.
        ineligible_caught: Ineligible households caught by verification.
        groups_funded: Groups decreed and funded.
    """

    def __init__(self, model: KubeModel, replica: int) -> None:
        super().__init__(model)
        self.replica = replica
        self.proposals_received = 0
        self.proposals_verified = 0
        self.ineligible_caught = 0
        self.groups_funded = 0


def funding_round(model: KubeModel, month: int, cohort: int) -> np.ndarray:
    """Every agency runs its yearly funding round; returns the new groups' indices.

    Each agency decides for its own district copy only (its quota, its budget); the rounds of all
    copies are computed together as arrays.

    Args:
        model: The model.
        month: The month of the round.
        cohort: The round's number (0 for the first).

    Returns:
        Indices of the groups funded.
    """
    d = model.district
    n_v = d.n_villages
    village_replica = d.kecamatan_replica[d.village_kecamatan]
    villages = model.village_runs()

    def formation(layout: RunLayout, sampler: Sampler) -> np.ndarray:
        return model.draw("formation", layout, sampler)

    def formation_of_run(layout: RunLayout, sampler: RunSampler) -> np.ndarray:
        return model.draw_per_run("formation", layout, sampler)

    uniform: Sampler = lambda rng, n: rng.random(n)  # noqa: E731
    u_send, u_head, u_pick = (formation(villages, uniform) for _ in range(3))

    # Proposals known to the village head.
    pv = model.params_at(villages).funding
    proposing = (u_send < pv.proposal_probability) & (u_head < pv.village_head_approval)
    proposing_villages = np.flatnonzero(proposing)
    prop_village = np.repeat(proposing_villages,
                             model.params_at(villages, proposing_villages).funding.groups_per_village)
    n_prop = len(prop_village)
    prop_replica = village_replica[prop_village]
    proposals = model.runs_of(model.copy_runs(prop_replica))
    model.add_cost("administration", proposals.counts * model.run_values().agency.admin_cost_per_proposal_rp)
    if n_prop == 0:
        return np.empty(0, dtype=np.int64)

    pp = model.params_at(proposals)
    m = pp.members
    full = formation(proposals, uniform) < m.full_group_share
    sizes = np.where(full, m.max_group_size,
                     formation_of_run(proposals, lambda rng, n, p: rng.integers(p.members.min_group_size,
                                                                                p.members.max_group_size + 1, n)))
    owner = np.repeat(np.arange(n_prop), sizes)
    households = model.runs_of(proposals.run[owner])
    ph = model.params_at(households)
    eligible = formation(households, uniform) < ph.members.eligible_share
    caught = ~eligible & (formation(households, uniform) < ph.agency.verification_catch_rate)
    skill = formation_of_run(households, lambda rng, n, p: beta_with_mean(rng, p.members.skill_mean,
                                                                          p.members.skill_concentration, n))
    ratio = np.where(eligible, ph.members.poor_income_ratio, ph.members.nonpoor_income_ratio)
    baseline = (ph.poverty.line_rp_per_person * ratio
                * formation_of_run(households, lambda rng, n, p: rng.lognormal(-0.5 * p.members.income_spread**2,
                                                                               p.members.income_spread, n)))
    active = formation(households, uniform) >= ph.members.initial_inactive_share
    u_match = formation(proposals, uniform)
    random_type = formation_of_run(proposals, _business_types)
    tiebreak = formation(proposals, uniform)
    budget_order = formation(proposals, uniform)
    management = formation_of_run(proposals, lambda rng, n, p: beta_with_mean(rng, p.groups.management_mean,
                                                                              p.groups.management_concentration, n))
    # Field verification of NIK/KK: a proposal with too many ineligible households is returned; the
    # ineligible households found in the others are struck off.
    kept = ~caught
    kept_count = np.bincount(owner, weights=kept, minlength=n_prop).astype(int)
    caught_share = 1.0 - kept_count / sizes
    passes = (kept_count >= m.min_group_size) & (caught_share <= pp.agency.max_ineligible_share + 1e-9)

    # Quota: up to N villages per kecamatan among those with a verified proposal, at random,
    # villages never funded before first.
    village_ok = np.zeros(n_v, dtype=bool)
    village_ok[prop_village[passes]] = True
    ok = np.flatnonzero(village_ok)
    fresh = ~model.village_funded[ok]
    rank = rank_within(d.village_kecamatan[ok], fresh + u_pick[ok], ok)
    village_selected = np.zeros(n_v, dtype=bool)
    village_selected[ok[rank < model.params_at(villages, ok).funding.villages_per_kecamatan]] = True
    chosen = passes & village_selected[prop_village]

    # Budget of each agency: UEP and equipment grants and training, proposals in random order.
    per_member = pp.grants.uep_per_member_rp + np.where(pp.training.enabled, pp.training.cost_per_member_rp, 0.0)
    cost = kept_count * per_member + pp.grants.equipment_rp
    spent = cumulative_within(prop_replica, budget_order, np.arange(n_prop), cost * chosen)
    chosen &= spent <= pp.funding.annual_budget_rp + 1e-6
    chosen_idx = np.flatnonzero(chosen)
    _record_round(model, prop_replica, owner, caught, passes, chosen)
    if len(chosen_idx) == 0:
        return np.empty(0, dtype=np.int64)

    fit_all = d.village_fit[prop_village[chosen_idx]]
    best = np.argmax(fit_all, axis=1)
    pc = model.params_at(proposals, chosen_idx)
    business = np.where(u_match[chosen_idx] < pc.agency.business_match_share, best, random_type[chosen_idx])
    n_members = kept_count[chosen_idx]
    start = month + np.where(pc.training.enabled, pc.training.months, 0)
    groups = model.groups.append(
        len(chosen_idx),
        replica=prop_replica[chosen_idx],
        kecamatan=d.village_kecamatan[prop_village[chosen_idx]],
        village=prop_village[chosen_idx],
        business=business,
        fit=fit_all[np.arange(len(chosen_idx)), business],
        cohort=cohort,
        funded_month=month,
        start_month=start,
        equipment=pc.business.initial_equipment,
        cohesion=pc.groups.initial_cohesion,
        management=management[chosen_idx],
        last_visit=month,
        last_payout=month,
        members=n_members,
        members_at_start=n_members,
        tiebreak=tiebreak[chosen_idx],
    )
    if model.agent_views:
        model.group_agents.extend(Group.create_rows(model, groups))
    model.village_funded[prop_village[chosen_idx]] = True

    # Members of the funded proposals (a group's members are contiguous rows).
    row_of_proposal = np.full(n_prop, -1)
    row_of_proposal[chosen_idx] = groups
    joins = kept & chosen[owner]
    member_skill = skill[joins]
    trained = model.params_at(households, joins).training
    if np.any(trained.enabled):
        gain = per_type(trained.skill_gain, model.groups.business[row_of_proposal[owner[joins]]])
        member_skill = np.where(trained.enabled, np.minimum(member_skill + gain, 1.0), member_skill)
    rows = model.members.append(
        int(joins.sum()),
        group=row_of_proposal[owner[joins]],
        eligible=eligible[joins],
        skill=member_skill,
        active=active[joins],
        free_rider=~active[joins],
        baseline_income=baseline[joins],
    )
    if model.agent_views:
        model.member_agents.extend(Member.create_rows(model, rows))

    # Decree, UEP grant into the group account, training, equipment grant.
    g = model.groups
    grant = n_members * pc.grants.uep_per_member_rp
    g.cash[groups] += grant
    g.grants_in[groups] += grant
    funded = model.runs_of(proposals.run[chosen_idx])
    model.add_cost("uep_grants", sum_per_run(grant, funded))
    per_run = model.run_values().training
    if np.any(per_run.enabled):
        model.add_cost("training", np.where(per_run.enabled,
                                            sum_per_run(n_members, funded) * per_run.cost_per_member_rp, 0.0))
    model.event_log.add(month, groups, EventKind.FUNDED, grant)
    grants = model.group_params(groups).grants
    # Later grants: group.apply_late_equipment_grants.
    apply_equipment_grant(model, select(groups, (grants.equipment_rp > 0) & (grants.equipment_month == 0)), month)
    facilitator_rules.assign(model, groups, month)
    return groups


def _business_types(rng: np.random.Generator, n: int, p: Parameters) -> np.ndarray:
    """Business types of ``n`` proposals not matched to their village: drawn by ``business.type_weights``."""
    weights = np.asarray(p.business.type_weights)
    return rng.choice(len(weights), size=n, p=weights / weights.sum())


def _record_round(model: KubeModel, prop_replica: np.ndarray, owner: np.ndarray, caught: np.ndarray,
                  passes: np.ndarray, chosen: np.ndarray) -> None:
    """Add one round's proposal counts to each agency's tallies."""
    n = model.district.replicas
    received = np.bincount(prop_replica, minlength=n)
    verified = np.bincount(prop_replica[passes], minlength=n)
    caught_by = np.bincount(prop_replica[owner[caught]], minlength=n)
    funded = np.bincount(prop_replica[chosen], minlength=n)
    for agency in model.agencies:
        r = agency.replica
        agency.proposals_received += int(received[r])
        agency.proposals_verified += int(verified[r])
        agency.ineligible_caught += int(caught_by[r])
        agency.groups_funded += int(funded[r])


def settle_escalations(model: KubeModel, month: int) -> None:
    """Each agency takes up to its monthly capacity of escalated conflicts, oldest first.

    Args:
        model: The model.
        month: The current month.
    """
    g = model.groups
    u = model.draw("conflict", model.group_runs(), lambda rng, n: rng.random(n))
    idx = np.flatnonzero(g.escalated & g.conflict_open & (g.status == GroupStatus.ACTIVE))
    if len(idx) == 0:
        return
    rank = rank_within(g.replica[idx], g.conflict_age[idx].astype(float), idx)
    taken = idx[rank < model.group_params(idx).agency.conflict_capacity_per_month]
    settled = taken[u[taken] < model.group_params(taken).agency.conflict_resolution_probability]
    close_conflicts(model, settled)
    model.event_log.add(month, settled, EventKind.AGENCY_SETTLED)


def follow_up_support(model: KubeModel, idx: np.ndarray, month: int) -> None:
    """Top up groups left without stock after restocking, if a facilitator reported them lately.

    Only groups visited lately (``facilitators.unvisited_after_months``) are known to the agency; the yearly follow-up
    budget of each agency limits how many it helps.

    Args:
        model: The model.
        idx: Groups that just ended a cycle.
        month: The current month.
    """
    if len(idx) == 0:
        return
    idx = select(idx, model.group_params(idx).agency.follow_up_support_rp > 0)
    if len(idx) == 0:
        return
    g = model.groups
    reported = month - g.last_visit[idx] < model.group_params(idx).facilitators.unvisited_after_months
    need = idx[(g.units[idx] == 0) & reported & (g.status[idx] == GroupStatus.ACTIVE)]
    if len(need) == 0:
        return
    amount = np.zeros(len(need))
    amount[:] = model.group_params(need).agency.follow_up_support_rp
    spent = cumulative_within(g.replica[need], np.zeros(len(need)), need.astype(float), amount)
    helped = need[spent <= model.follow_up_budget_left[g.replica[need]] + 1e-6]
    if len(helped) == 0:
        return
    support = model.group_params(helped).agency.follow_up_support_rp
    g.cash[helped] += support
    g.grants_in[helped] += support
    np.subtract.at(model.follow_up_budget_left, g.replica[helped], support)
    model.add_cost("follow_up_support",
                   count_per_run(helped, model.group_runs()) * model.run_values().agency.follow_up_support_rp)
    model.event_log.add(month, helped, EventKind.FOLLOW_UP_SUPPORT, support)
    restock(model, helped)
