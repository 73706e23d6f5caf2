"""Business economics: pure functions behave as documented."""

from __future__ import annotations

import numpy as np

from kube_sim.model import economics
from kube_sim.model.economics import BusinessTable
from kube_sim.model.parameters import Parameters


def test_equipment_saves_labour():
    without = economics.labour_required(np.array([2]), np.array([75.0]), np.array([0.5]), np.array([0.0]))
    with_full = economics.labour_required(np.array([2]), np.array([75.0]), np.array([0.5]), np.array([1.0]))
    assert with_full[0] == without[0] / 2


def test_adequacy_is_a_share():
    a = economics.labour_adequacy(np.array([0.0, 50.0, 200.0, 10.0]), np.array([100.0, 100.0, 100.0, 0.0]))
    assert a.tolist() == [0.0, 0.5, 1.0, 1.0]


def test_growth_rises_with_fit_skill_and_adequacy():
    base = dict(max_growth=np.array([20.0]), adequacy=np.array([0.8]), fit=np.array([0.6]),
                fit_sensitivity=np.array([0.8]), mean_skill=np.array([0.5]), skill_weight=0.5)
    g0 = economics.growth(**base)[0]
    for key, better in (("adequacy", 1.0), ("fit", 0.9), ("mean_skill", 0.9)):
        assert economics.growth(**{**base, key: np.array([better])})[0] > g0
    assert economics.growth(**{**base, "adequacy": np.array([0.0])})[0] == 0


def test_units_to_buy_limited_by_cash_and_labour():
    n = economics.units_to_buy(np.array([20e6, 20e6, 1e6]), np.array([8.75e6] * 3), np.array([3e5] * 3), 2.0,
                               np.array([1000.0, 100.0, 1000.0]), np.array([67.5] * 3))
    assert n.tolist() == [2, 1, 0]


def test_profit_split_pays_nothing_on_a_loss():
    payout, retained = economics.split_profit(np.array([1000.0, -500.0]), 0.7)
    assert payout.tolist() == [700.0, 0.0]
    np.testing.assert_allclose(retained, [300.0, 0.0])


def test_business_table_unit_cost():
    table = BusinessTable.from_params(Parameters().business)
    p = Parameters().business
    assert table.unit_cost_rp[0] == p.unit_start_size[0] * p.price_per_size_rp[0]
    assert len(table.cycle_months) == 3


def test_per_capita_income():
    assert economics.per_capita_income(np.array([400_000.0]), np.array([200_000.0]), 4.0)[0] == 450_000.0
