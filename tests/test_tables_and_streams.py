"""Column tables, segment ranking, and named random streams."""

from __future__ import annotations

import numpy as np
import pytest

from kube_sim.model.streams import STREAM_NAMES, beta_with_mean, make_streams
from kube_sim.model.tables import ColumnTable, cumulative_within, rank_within


def test_column_table_appends_with_defaults():
    table = ColumnTable({"a": (np.int32, -1), "b": (np.float64, 0.5)})
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
    table = ColumnTable({"group": (np.int32, 0), "active": (np.bool_, True), "note": (np.float64, 0.0)},
                        watched=("group", "active"))
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
    with pytest.raises(KeyError):
        ColumnTable({"a": (np.int32, 0)}, watched=("b",))


def test_beta_with_mean_has_the_mean_and_tighter_spread_at_higher_concentration():
    loose = beta_with_mean(np.random.default_rng(1), 0.4, 2.0, 20_000)
    tight = beta_with_mean(np.random.default_rng(1), 0.4, 50.0, 20_000)
    assert abs(loose.mean() - 0.4) < 0.01 and abs(tight.mean() - 0.4) < 0.01
    assert tight.std() < loose.std() / 3
