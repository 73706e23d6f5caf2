"""Business economics as pure functions on arrays: no Mesa, no randomness, no state.

A group's business holds ``units`` of stock of one size each (a young bull of so many kg, a lot
of seedlings, a shelf of goods). Units grow each month with labour, skill, equipment and the
village's resource fit, and are sold at the end of the business cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kube_sim.model.parameters import BusinessParams


@dataclass(frozen=True)
class BusinessTable:
    """Business parameters as arrays indexed by business type (see ``BUSINESS_TYPES``).

    For a batch of runs that differ in them, each array holds every run's types, run after run
    (run ``k``'s type ``t`` at ``k x types + t``; ``KubeModel.business_type`` gives a group's place).
    """

    unit_start_size: np.ndarray
    price_per_size_rp: np.ndarray
    growth_per_month: np.ndarray
    cycle_months: np.ndarray
    labour_hours_per_unit: np.ndarray
    input_cost_per_unit_rp: np.ndarray
    loss_per_month: np.ndarray
    fit_sensitivity: np.ndarray
    equipment_cost_rp: np.ndarray
    equipment_labour_saving: np.ndarray
    price_volatility: np.ndarray
    runs: int = 1

    @classmethod
    def from_params(cls, p: BusinessParams | Sequence[BusinessParams]) -> BusinessTable:
        """Build the table from the ``business`` parameter section (of each run of a batch).

        Args:
            p: Business parameters, or one section per run (a single table when they are all equal).

        Returns:
            The table.
        """
        sections = [p] if isinstance(p, BusinessParams) else list(p)
        if all(section == sections[0] for section in sections[1:]):
            sections = sections[:1]
        names = [name for name in cls.__dataclass_fields__ if name != "runs"]
        return cls(**{name: np.concatenate([np.asarray(getattr(section, name)) for section in sections])
                      for name in names}, runs=len(sections))

    @property
    def unit_cost_rp(self) -> np.ndarray:
        """Purchase price of one unit (Rp), by business type."""
        return self.unit_start_size * self.price_per_size_rp


def labour_required(units: np.ndarray, hours_per_unit: np.ndarray, saving: np.ndarray,
                    equipment: np.ndarray) -> np.ndarray:
    """Hours of work the stock needs in a month; equipment saves part of it.

    Args:
        units: Units held.
        hours_per_unit: Hours per unit per month without equipment.
        saving: Share of hours saved with a full equipment set.
        equipment: Equipment level, 0 (none) to 1 (full set).

    Returns:
        Hours needed.
    """
    return units * hours_per_unit * (1.0 - saving * equipment)


def labour_adequacy(hours_available: np.ndarray, hours_needed: np.ndarray) -> np.ndarray:
    """Share of the needed work that gets done (1 when nothing is needed).

    Args:
        hours_available: Hours the active members give.
        hours_needed: Hours the stock needs.

    Returns:
        Values in [0, 1].
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(hours_needed > 0, hours_available / hours_needed, 1.0)
    return np.clip(share, 0.0, 1.0)


def growth(max_growth: np.ndarray, adequacy: np.ndarray, fit: np.ndarray, fit_sensitivity: np.ndarray,
           mean_skill: np.ndarray, skill_weight: float) -> np.ndarray:
    """Monthly growth of one unit (size units).

    ``growth = max_growth x adequacy x (1 - s (1 - fit)) x ((1 - w) + w x skill)``

    Args:
        max_growth: Growth at full labour, fit and skill.
        adequacy: Share of needed work done.
        fit: The village's resource fit for the business, 0-1.
        fit_sensitivity: How much poor fit cuts growth, 0-1.
        mean_skill: Mean skill of the active members, 0-1.
        skill_weight: Weight of skill in the multiplier, 0-1.

    Returns:
        Growth per unit this month.
    """
    fit_factor = 1.0 - fit_sensitivity * (1.0 - fit)
    skill_factor = (1.0 - skill_weight) + skill_weight * mean_skill
    return max_growth * adequacy * fit_factor * skill_factor


def units_to_buy(free_cash: np.ndarray, unit_cost: np.ndarray, input_cost: np.ndarray, reserve_months: float,
                 hours_available: np.ndarray, hours_per_unit_with_equipment: np.ndarray) -> np.ndarray:
    """Units a group buys when it restocks: what it can pay for and what its members can tend.

    Each unit bought needs its price plus ``reserve_months`` of inputs in cash; a group that cannot
    keep that reserve but can pay for one unit buys one. A group buys at most as many units as its
    active members' hours can tend, and never fewer than one if it can pay for it.

    Args:
        free_cash: Cash not earmarked for equipment (Rp).
        unit_cost: Price of a unit (Rp).
        input_cost: Monthly inputs per unit (Rp).
        reserve_months: Months of inputs kept per unit.
        hours_available: Hours the active members give each month.
        hours_per_unit_with_equipment: Hours a unit needs, after the equipment saving.

    Returns:
        Whole units to buy (>= 0).
    """
    free_cash = np.maximum(free_cash, 0.0)
    affordable = np.floor(free_cash / (unit_cost + reserve_months * input_cost))
    affordable = np.where((affordable == 0) & (free_cash >= unit_cost), 1.0, affordable)
    with np.errstate(divide="ignore", invalid="ignore"):
        tendable = np.where(hours_per_unit_with_equipment > 0,
                            np.floor(hours_available / hours_per_unit_with_equipment), affordable)
    return np.minimum(affordable, np.maximum(tendable, 1.0)).astype(np.int64)


def split_profit(profit: np.ndarray, profit_share: float) -> tuple[np.ndarray, np.ndarray]:
    """Split a cycle's profit into the members' payout and what the group keeps.

    Losses are not paid out: a cycle with negative profit pays nothing.

    Args:
        profit: Revenue minus the cost of the units sold and their inputs (Rp).
        profit_share: Share of a positive profit paid to members.

    Returns:
        ``(payout, retained)`` in Rp.
    """
    positive = np.maximum(profit, 0.0)
    payout = positive * profit_share
    return payout, positive - payout


def per_capita_income(baseline_per_capita: np.ndarray, group_income_per_household: np.ndarray,
                      household_size: float) -> np.ndarray:
    """Monthly income per person of a member household, with its income from the group.

    Args:
        baseline_per_capita: Income per person without the group (Rp/month).
        group_income_per_household: The household's monthly income from the group (Rp/month).
        household_size: Persons per household.

    Returns:
        Income per person (Rp/month), to compare with the poverty line.
    """
    return baseline_per_capita + group_income_per_household / household_size
