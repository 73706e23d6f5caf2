"""Column tables, segment ranking, and named random streams."""

from __future__ import annotations

import numpy as np
import pytest

from kube_sim.model.streams import STREAM_NAMES, beta_with_mean, make_streams
from kube_sim.model.tables import Column, ColumnTable, cumulative_within, rank_within


class Pair(ColumnTable):
    a = Column(np.int32, -1, unit="count", label="a")
    b = Column(np.float64, 0.5, unit="0-1", label="b", meaning="the b share")


class Watched(ColumnTable):
    group = Column(np.int32, 0, unit="index", label="group", watched=True)
    active = Column(np.bool_, True, unit="yes/no", label="active", watched=True)
    note = Column(np.float64, 0.0, unit="Rp", label="note")


def test_column_table_appends_with_defaults():
    table = Pair()
    rows = table.append(3, a=[1, 2, 3])
    assert rows.tolist() == [0, 1, 2]
    rows = table.append(2, b=2.0)
    assert rows.tolist() == [3, 4]
    assert table.a.tolist() == [1, 2, 3, -1, -1]
    assert table.b.tolist() == [0.5, 0.5, 0.5, 2.0, 2.0]
    with pytest.raises(KeyError):
        table.append(1, c=1)


def test_rank_within_segments():
    segments = np.array([1, 0, 1, 0, 1])
    priority = np.array([5.0, 1.0, 7.0, 3.0, 5.0])
    tiebreak = np.array([0.9, 0.0, 0.0, 0.0, 0.1])
    assert rank_within(segments, priority, tiebreak).tolist() == [2, 1, 0, 0, 1]


def test_cumulative_within_fills_a_budget_in_priority_order():
    segments = np.array([0, 0, 0, 1])
    priority = np.array([1.0, 3.0, 2.0, 1.0])
    amounts = np.array([5.0, 4.0, 6.0, 2.0])
    running = cumulative_within(segments, priority, np.zeros(4), amounts)
    assert running.tolist() == [15.0, 4.0, 10.0, 2.0]


def test_streams_are_independent_and_repeatable():
    a, b = make_streams(5), make_streams(5)
    draws_a = {name: a[name].random(4).tolist() for name in STREAM_NAMES}
    draws_b = {name: b[name].random(4).tolist() for name in STREAM_NAMES}
    assert draws_a == draws_b
    assert len({tuple(v) for v in draws_a.values()}) == len(STREAM_NAMES)
    assert make_streams(6)["formation"].random() != make_streams(5)["formation"].random()


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True])
def test_bad_seeds_rejected(seed):
    with pytest.raises(ValueError):
        make_streams(seed)


def test_derived_values_are_forgotten_when_a_watched_column_changes():
    table = Watched()
    table.append(3, group=[0, 0, 1])
    calls = []

    def count():
        calls.append(1)
        return np.bincount(table.group[table.active], minlength=2)

    assert table.derived("count", count).tolist() == [2, 1]
    assert table.derived("count", count).tolist() == [2, 1] and len(calls) == 1
    with pytest.raises(ValueError):
        table.active[0] = False  # watched columns are read-only views
    table.note[0] = 5.0  # other columns are written directly and keep derived values
    assert table.derived("count", count).tolist() == [2, 1] and len(calls) == 1
    table.assign("active", np.array([0]), False)
    assert table.derived("count", count).tolist() == [1, 1] and len(calls) == 2
    table.append(1, group=1)
    assert table.derived("count", count).tolist() == [1, 2] and len(calls) == 3


def test_columns_are_declared_once_with_dtype_unit_and_label():
    assert list(Pair.columns) == ["a", "b"]
    assert Pair.b.unit == "0-1" and Pair.b.describe() == "The b share" and Pair.a.describe() == "A"
    table = Pair()
    table.append(2)
    assert table.a.dtype == np.int32 and table.b.dtype == np.float64
    table.b += 1.0  # an in-place operator writes through the view
    assert table.b.tolist() == [1.5, 1.5]
    table.append(1)
    assert table.b.tolist() == [1.5, 1.5, 0.5]


def test_a_column_may_not_shadow_the_tables_own_attributes():
    with pytest.raises(TypeError, match="size"):
        type("Bad", (ColumnTable,), {"size": Column(np.int32, 0, unit="count", label="size")})
    with pytest.raises(TypeError, match="append"):
        type("Bad", (ColumnTable,), {"append": Column(np.int32, 0, unit="count", label="append")})


def test_model_tables_declare_every_column_with_unit_and_label():
    from kube_sim.model.agents.facilitator import FacilitatorTable
    from kube_sim.model.agents.group import Group, GroupTable
    from kube_sim.model.agents.member import MemberTable

    for table in (GroupTable, MemberTable, FacilitatorTable):
        for name, column in table.columns.items():
            assert column.name == name and column.unit and column.label, (table.__name__, name)
    assert {n for n, c in MemberTable.columns.items() if c.watched} == {"group", "active", "in_group", "skill"}
    assert Group.cash.__doc__ == "Cash in the group account (Rp)."


def test_beta_with_mean_has_the_mean_and_tighter_spread_at_higher_concentration():
    loose = beta_with_mean(np.random.default_rng(1), 0.4, 2.0, 20_000)
    tight = beta_with_mean(np.random.default_rng(1), 0.4, 50.0, 20_000)
    assert abs(loose.mean() - 0.4) < 0.01 and abs(tight.mean() - 0.4) < 0.01
    assert tight.std() < loose.std() / 3
