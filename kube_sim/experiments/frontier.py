"""The budget frontier's sweeps: today's allocation, then a design of allocations of a yearly budget.

``kube-sim frontier`` splits a yearly programme budget between three uses, converted to parameters by
the model's own cost rules:

* **Funding groups.** The agency funds proposals, in random order, while a round's UEP grants,
  training and equipment grants fit within ``funding.annual_budget_rp`` (see
  :func:`kube_sim.model.agents.agency.funding_round`). The allocation sets that budget and lifts the
  village quota (``funding.villages_per_kecamatan``) so that the money, not the quota, decides how many
  groups are funded; proposals are still limited by the villages that send and pass them.
* **Equipment grants.** A share of the round's money goes to ``grants.equipment_rp`` per group: with a
  group's UEP grant and training costing ``k`` on average, an equipment share ``e`` gives
  ``k * e / (1 - e)`` per group, and ``(1 - e)`` of the round's money then funds ``1 / k`` groups per rupiah.
* **Facilitators.** Posts are paid ``facilitators.pay_per_hour_rp`` for their hours while they hold
  groups in support (:meth:`kube_sim.model.model.KubeModel._pay_facilitators`); new groups fill spare
  places of current posts first. The paid months per funded group are measured at several caseloads;
  the facilitator money then buys the smallest caseload whose pay fits (no facilitators when none does).

Today's allocation (the base scenario with ``years`` funding rounds) runs first, alone and at the
caseloads of :data:`COST_CASELOADS` (:func:`plan_costs`): its runs measure the cost of a group, the
administration per year and the facilitators' paid months. Every allocation's plan is a deterministic
function of those runs, so resuming gives the same sweep. Arm 0 of the allocations' sweep is today's
allocation again (same seeds, same runs), so every comparison is paired.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from kube_sim.common import keys
from kube_sim.common.errors import InputError, ParameterError
from kube_sim.experiments.experiment import replication_seeds
from kube_sim.experiments.rows import kept_outcomes
from kube_sim.experiments.scenario import Scenario
from kube_sim.experiments.sweep import Arm, SweepPlan, parameter_notes, scenario_entry
from kube_sim.model.parameters import PARAMETER_SPECS, Parameters, make_parameters

LEVER_KEYS: tuple[str, ...] = (keys.ROUND_BUDGET, keys.VILLAGE_QUOTA, keys.EQUIPMENT, keys.CASELOAD, keys.HOURS)
"""Parameters an allocation sets."""

FACILITATOR_SHARES: tuple[float, ...] = (0.0, 0.04, 0.08, 0.12, 0.16, 0.24, 0.32)
"""Shares of the budget (after administration) for facilitators, by default."""
EQUIPMENT_SHARES: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3)
"""Shares of a round's grant money for equipment, by default."""

SAFETY = 0.98
"""Share of the budget an allocation plans to spend, leaving room for the spread of administration and pay."""
GROUPS_SPREAD = 1.05
"""Margin on the facilitators' pay planned (it varies with the groups funded and the posts left empty)."""

ALLOCATION_COLUMNS = ("facilitator_share", "equipment_share")
"""Factor columns of the allocations' runs table (plus the parameters set)."""


@dataclass(frozen=True)
class CostRules:
    """What today's runs say things cost (means over its replications).

    Attributes:
        years: Funding rounds (years) of the programme.
        group_cost_rp: UEP grant and training of one funded group.
        groups_per_round: Groups funded per round today.
        admin_per_year_rp: The agency's administration per year (proposals do not depend on the allocation).
        caseloads: Caseloads at which the facilitators' paid months were measured.
        post_months_per_group: Paid facilitator months per funded group at each of ``caseloads`` (posts are
            paid while they hold groups in support, and new groups fill spare places first, so this falls
            less steeply than one over the caseload).
        today_cost_per_year_rp: Today's programme cost per year.
        today_facilitator_share: Today's facilitator pay as a share of its cost after administration.
    """

    years: int
    group_cost_rp: float
    groups_per_round: float
    admin_per_year_rp: float
    caseloads: tuple[int, ...]
    post_months_per_group: tuple[float, ...]
    today_cost_per_year_rp: float
    today_facilitator_share: float

    def post_months(self, caseload: int) -> float:
        """Paid facilitator months per funded group at a caseload (log-log interpolation of the measured ones).

        Args:
            caseload: Groups per facilitator (0: none).

        Returns:
            Months; beyond the largest caseload measured they fall as one over the caseload.
        """
        if caseload <= 0:
            return 0.0
        x = np.log(np.asarray(self.caseloads, dtype=float))
        y = np.log(np.maximum(np.asarray(self.post_months_per_group, dtype=float), 1e-9))
        c = math.log(caseload)
        if c >= x[-1]:
            return float(math.exp(y[-1] - (c - x[-1])))
        return float(math.exp(np.interp(c, x, y)))


COST_CASELOADS: tuple[int, ...] = (1, 2, 3, 5, 8, 12, 20, 40)
"""Caseloads at which today's scenario is run to measure what facilitators cost."""


def today_scenario(base: Scenario, years: int) -> Scenario:
    """Today's allocation: the base scenario with one funding round a year for ``years`` years.

    Args:
        base: The base scenario.
        years: Years of funding rounds.

    Returns:
        The scenario (the base itself when its rounds already match).

    Raises:
        InputError: If the rounds are out of range.
    """
    from kube_sim.experiments.scenario import apply_overrides

    if base.params.funding.rounds == years:
        return base
    return apply_overrides(base, {keys.ROUNDS: years}, source="--years")


def default_months(years: int) -> int:
    """Run length by default: 96 months, or the years of rounds plus three years of follow-up if longer."""
    return max(96, 12 * years + 36)


def funding_years(base: Scenario, years: int | None) -> int:
    """The years of funding rounds: those asked for, else the base scenario's.

    Args:
        base: The base scenario.
        years: The years asked for (None: the scenario's ``funding.rounds``).

    Returns:
        The years, at least 1.

    Raises:
        InputError: If the scenario holds no funding round and none were asked for.
    """
    found = years if years is not None else int(base.params.funding.rounds)
    if found < 1:
        raise InputError("the scenario holds no funding round; give --years", source="--years", key=keys.ROUNDS)
    return found


def run_length(years: int, months: int | None) -> int:
    """The months each run lasts: those asked for, else :func:`default_months`; past the last round's start.

    Args:
        years: Years of funding rounds.
        months: The run length asked for (None: the default).

    Returns:
        The run length.

    Raises:
        InputError: If the last round would start after the run ends.
    """
    length = months if months is not None else default_months(years)
    if length <= 12 * (years - 1):
        raise InputError(f"the last of {years} rounds starts in month {12 * (years - 1) + 1}; raise --months",
                         source="--months", key=str(length))
    return length


def default_budget(rules: CostRules) -> float:
    """The yearly budget by default: today's simulated yearly spend, rounded up to a whole Rp 1 juta.

    Args:
        rules: The costs measured on today's allocation.

    Returns:
        Rupiah a year.
    """
    return math.ceil(rules.today_cost_per_year_rp / 1e6) * 1e6


def plan_costs(today: Scenario, *, replications: int, months: int, master_seed: int,
               caseloads: Sequence[int] = COST_CASELOADS) -> SweepPlan:
    """The sweep that measures the cost rules: today's allocation (arm 0), then today at each caseload.

    Args:
        today: Today's scenario (see :func:`today_scenario`).
        replications: Replications.
        months: Run length.
        master_seed: Seed the replication seeds derive from.
        caseloads: Caseloads at which facilitators' paid months are measured.

    Returns:
        The plan.
    """
    now = today.params.facilitators.groups_per_facilitator
    arms = [Arm(index=0, label="today", params=today.params, factors={keys.CASELOAD: now}, scenario=today.name,
                parameters=dict(today.overrides))]
    for c in caseloads:
        params = make_parameters({keys.CASELOAD: c}, base=today.params)
        arms.append(Arm(index=len(arms), label=f"today at 1:{c}", params=params, factors={keys.CASELOAD: c},
                        scenario=today.name, parameters={**today.overrides, keys.CASELOAD: c}))
    manifest = {
        "experiment_name": "frontier_costs",
        "description": "Today's allocation (the base scenario), and today at several caseloads: their runs measure "
                       "what a group, a facilitator post and administration cost.",
        "experiment_file": None, "experiment_text": None, "base_scenario": scenario_entry(today),
        "factors": {keys.CASELOAD: list(caseloads)}, "parameter_notes": parameter_notes([keys.CASELOAD]),
        "master_seed": master_seed,
        "design": {"kind": "scenarios", "samples": None, "seed": None, "points": len(arms)},
    }
    return SweepPlan(name="frontier_costs", arms=tuple(arms), seeds=tuple(replication_seeds(master_seed, replications)),
                     months=months, factor_types={keys.CASELOAD: pa.int64()}, outcomes=kept_outcomes(None),
                     manifest=manifest)


def _mean(runs: pd.DataFrame, column: str) -> float:
    values = runs[column].to_numpy(float)
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else math.nan


def cost_rules(runs: pd.DataFrame, today: Parameters) -> CostRules:
    """The cost rules measured by :func:`plan_costs`'s runs.

    Args:
        runs: Its runs table.
        today: Today's parameters.

    Returns:
        The :class:`CostRules`.

    Raises:
        InputError: If today's runs funded no group (nothing to measure a group's cost on).
    """
    ok = runs[runs["status"] == "ok"]
    now = ok[ok["arm"] == 0]
    years = int(today.funding.rounds)
    funded = _mean(now, "groups_funded")
    if not funded > 0:
        raise InputError("today's allocation funds no group, so a group's cost cannot be measured",
                         source="--scenario", key=keys.ROUNDS)
    grants = _mean(now, "cost_by_item_uep_grants_rp") + _mean(now, "cost_by_item_training_rp")
    month_pay = today.facilitators.hours_per_month * today.facilitators.pay_per_hour_rp
    caseloads, months = [], []
    for c, part in ok[ok["arm"] > 0].groupby(keys.CASELOAD, sort=True):
        groups = part["groups_funded"].to_numpy(float)
        pay = part["cost_by_item_facilitators_rp"].to_numpy(float)
        if month_pay > 0 and np.nansum(groups) > 0:
            caseloads.append(int(c))
            months.append(float(np.nansum(pay) / month_pay / np.nansum(groups)))
    if not caseloads:
        support = today.facilitators.support_months + 1.0
        caseloads, months = [1], [support]
    total = _mean(now, "cost_total_rp")
    admin = _mean(now, "cost_by_item_administration_rp")
    pay_today = _mean(now, "cost_by_item_facilitators_rp")
    return CostRules(years=years, group_cost_rp=grants / funded, groups_per_round=funded / years,
                     admin_per_year_rp=admin / years, caseloads=tuple(caseloads), post_months_per_group=tuple(months),
                     today_cost_per_year_rp=total / years,
                     today_facilitator_share=pay_today / (total - admin) if total > admin else 0.0)


@dataclass(frozen=True)
class Allocation:
    """One split of the yearly budget and the parameters it gives.

    Attributes:
        facilitator_share: Share of the budget after administration offered to facilitators.
        equipment_share: Share of a round's grant money given as equipment grants.
        pay_share: Share of the budget after administration the facilitators' pay is planned to take (the
            whole caseload bought leaves the rest of the offered share to fund more groups).
        round_budget_rp: ``funding.annual_budget_rp``: UEP, training and equipment of one round.
        equipment_rp: ``grants.equipment_rp`` per group.
        caseload: ``facilitators.groups_per_facilitator`` (0: none).
        hours_per_month: ``facilitators.hours_per_month``.
        planned_groups_per_round: Groups a round's money should fund.
        planned_pay_per_year_rp: Facilitators' pay a year, as planned.
        planned_cost_per_year_rp: Administration, grants and pay per year, as planned.
    """

    facilitator_share: float
    equipment_share: float
    pay_share: float
    round_budget_rp: float
    equipment_rp: float
    caseload: int
    hours_per_month: float
    planned_groups_per_round: float
    planned_pay_per_year_rp: float
    planned_cost_per_year_rp: float

    def overrides(self, quota: int) -> dict[str, Any]:
        """The parameter changes of this allocation.

        Args:
            quota: Villages per kecamatan allowed (high enough for the money to bind).

        Returns:
            ``{dotted key: value}``.
        """
        return {keys.ROUND_BUDGET: round(self.round_budget_rp), keys.VILLAGE_QUOTA: quota,
                keys.EQUIPMENT: round(self.equipment_rp), keys.CASELOAD: self.caseload,
                keys.HOURS: self.hours_per_month}


MAX_CASELOAD = 1000


def allocate(budget: float, facilitator_share: float, equipment_share: float, rules: CostRules, *,
             hours: float, pay_per_hour: float, replicas: int = 1) -> Allocation:
    """Turn shares of a yearly budget into parameter values by the model's cost rules.

    The caseload is the smallest (the most facilitators) whose measured pay for the round's groups fits
    the facilitator money; none when even the largest does not.

    Args:
        budget: Yearly programme budget (Rp).
        facilitator_share: Share of the budget after administration for facilitators' pay.
        equipment_share: Share of a round's grant money for equipment grants (below 1).
        rules: Today's measured costs.
        hours: Facilitator hours a month.
        pay_per_hour: Facilitator pay per hour (Rp).
        replicas: District copies (each agency gets its share of a round's money).

    Returns:
        The :class:`Allocation`.
    """
    money = max(budget - rules.admin_per_year_rp, 0.0) * SAFETY
    pay_money = facilitator_share * money
    grant_money = money - pay_money
    k = rules.group_cost_rp
    equipment = k * equipment_share / (1.0 - equipment_share)
    groups = grant_money / (k + equipment)
    per_month = hours * pay_per_hour

    def pay(caseload: int) -> float:
        return groups * GROUPS_SPREAD * rules.post_months(caseload) * per_month

    caseload = 0
    if pay_money > 0 and groups > 0:
        caseload = next((c for c in range(1, MAX_CASELOAD + 1) if pay(c) <= pay_money), 0)
    # Whole caseloads rarely use the facilitator money exactly: what is left funds more groups (whose
    # facilitators are paid from it too), so the allocation spends its money.
    per_group_pay = GROUPS_SPREAD * rules.post_months(caseload) * per_month
    groups = money / (k + equipment + per_group_pay)
    grant_money = groups * (k + equipment)
    planned_pay = groups * rules.post_months(caseload) * per_month
    return Allocation(facilitator_share=facilitator_share, equipment_share=equipment_share,
                      pay_share=planned_pay / money if money > 0 else 0.0,
                      round_budget_rp=grant_money / replicas, equipment_rp=equipment, caseload=caseload,
                      hours_per_month=hours, planned_groups_per_round=groups, planned_pay_per_year_rp=planned_pay,
                      planned_cost_per_year_rp=rules.admin_per_year_rp + grant_money + planned_pay)


def _label(a: Allocation) -> str:
    staff = "no facilitators" if a.caseload == 0 else f"1:{a.caseload}"
    equipment = "no equipment grant" if a.equipment_rp <= 0 else f"Rp {a.equipment_rp / 1e6:,.1f} juta a group"
    return f"pay {a.pay_share:.0%} ({staff}), equipment {a.equipment_share:.0%} ({equipment})"


def plan_frontier(today: Scenario, rules: CostRules, *, budget: float, facilitator_shares: Sequence[float],
                  equipment_shares: Sequence[float], hours: float | None, replications: int, months: int,
                  master_seed: int) -> SweepPlan:
    """The sweep of the allocations: today's allocation (arm 0), then every pair of shares.

    Args:
        today: Today's scenario.
        rules: Costs measured by today's runs.
        budget: Yearly budget (Rp).
        facilitator_shares: Shares for facilitators.
        equipment_shares: Shares of grant money for equipment.
        hours: Facilitator hours a month (None: today's).
        replications: Paired replications per allocation.
        months: Run length.
        master_seed: Seed the replication seeds derive from (the same as today's sweep).

    Returns:
        The plan; the manifest's ``frontier`` entry lists every allocation.

    Raises:
        InputError: If an allocation gives invalid parameters.
    """
    p = today.params
    hours_value = float(p.facilitators.hours_per_month if hours is None else hours)
    quota = int(PARAMETER_SPECS[keys.VILLAGE_QUOTA].high or 100)
    equipment_today = p.grants.equipment_rp / (rules.group_cost_rp + p.grants.equipment_rp)
    shares_today = {"facilitator_share": rules.today_facilitator_share, "equipment_share": equipment_today}
    arms = [Arm(index=0, label="today", params=p, factors={**shares_today, **_levers(p)}, scenario=today.name,
                parameters={})]
    allocations: list[dict[str, Any]] = [{"arm": 0, "label": "today's allocation", "today": True, **shares_today,
                                          **_levers(p)}]
    planned: list[dict[str, Any]] = []
    for fs in facilitator_shares:
        for es in equipment_shares:
            a = allocate(budget, fs, es, rules, hours=hours_value, pay_per_hour=p.facilitators.pay_per_hour_rp,
                         replicas=p.district.replicas)
            overrides = a.overrides(quota)
            if any(seen == overrides for seen in planned):
                continue  # another pair of shares gave the same allocation
            planned.append(overrides)
            try:
                params = make_parameters(overrides, base=p)
            except ParameterError as exc:
                raise InputError(f"allocation {_label(a)} is not valid: {exc.reason}", source="--budget",
                                 key=exc.key) from None
            arms.append(Arm(index=len(arms), label=_label(a), params=params,
                            factors={"facilitator_share": fs, "equipment_share": es, **_levers(params)},
                            scenario=today.name, parameters=overrides))
            allocations.append({"arm": len(arms) - 1, "label": _label(a), "today": False, **asdict(a),
                                **_levers(params)})
    factor_types = {"facilitator_share": pa.float64(), "equipment_share": pa.float64(),
                    keys.ROUND_BUDGET: pa.float64(), keys.VILLAGE_QUOTA: pa.int64(), keys.EQUIPMENT: pa.float64(),
                    keys.CASELOAD: pa.int64(), keys.HOURS: pa.float64()}
    frontier = {"budget_rp": float(budget), "years": rules.years, "today_arm": 0, "cost_rules": asdict(rules),
                "hours_per_month": hours_value, "allocations": allocations, "paired_by": ["replication"]}
    manifest = {
        "experiment_name": "frontier",
        "description": f"Allocations of a yearly budget of Rp {budget:,.0f} between funding groups, equipment grants "
                       f"and facilitators, over {rules.years} yearly rounds, against today's allocation, paired seeds.",
        "experiment_file": None, "experiment_text": None, "base_scenario": scenario_entry(today),
        "factors": {"facilitator_share": list(facilitator_shares), "equipment_share": list(equipment_shares)},
        "parameter_notes": parameter_notes(LEVER_KEYS), "master_seed": master_seed,
        "design": {"kind": "factorial", "samples": None, "seed": None, "points": len(arms)},
        "frontier": frontier,
    }
    return SweepPlan(name="frontier", arms=tuple(arms), seeds=tuple(replication_seeds(master_seed, replications)),
                     months=months, factor_types=factor_types, outcomes=kept_outcomes(None), manifest=manifest)


def _levers(params: Parameters) -> dict[str, Any]:
    """The lever parameters' values, as the runs table's factor columns."""
    return {keys.ROUND_BUDGET: float(params.funding.annual_budget_rp),
            keys.VILLAGE_QUOTA: int(params.funding.villages_per_kecamatan),
            keys.EQUIPMENT: float(params.grants.equipment_rp),
            keys.CASELOAD: int(params.facilitators.groups_per_facilitator),
            keys.HOURS: float(params.facilitators.hours_per_month)}
