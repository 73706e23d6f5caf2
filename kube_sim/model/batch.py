"""Many runs in one model: which run each row belongs to, and draws and sums that keep runs apart.

A batch of runs is one model whose district is copied once per run (each run's copies after the
previous run's), so every table (villages, proposals, groups, members, facilitator posts) holds the
rows of all runs. A run's rows keep the order they would have in the run alone, so:

- a random draw for a table is made run by run, each from that run's own generator and of that
  run's own size (:func:`draw`): run *k* of a batch sees exactly the numbers it would see alone,
  whatever else is in the batch;
- a sum or mean per run is taken over the run's rows in their order (:func:`sum_per_run`,
  :func:`mean_per_run`), so it is rounded exactly as in the run alone.

With a single run every function here takes a fast path that is the plain numpy call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Sampler = Callable[[np.random.Generator, int], np.ndarray]
"""Draws ``n`` values from a generator (``lambda rng, n: rng.random(n)``)."""


@dataclass(frozen=True)
class RunLayout:
    """Where each run's rows are in a table.

    Attributes:
        run: The run of each row.
        order: Row indices sorted by run (stable: a run's rows keep their order).
        bounds: ``order[bounds[k]:bounds[k + 1]]`` are run ``k``'s rows.
    """

    run: np.ndarray
    order: np.ndarray
    bounds: np.ndarray

    @classmethod
    def of(cls, run: np.ndarray, n_runs: int) -> RunLayout:
        """The layout of a table whose row ``i`` belongs to run ``run[i]``.

        Args:
            run: Run of each row (0 to ``n_runs - 1``).
            n_runs: Runs in the batch.

        Returns:
            The layout.
        """
        run = np.asarray(run, dtype=np.int64)
        order = np.argsort(run, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(run, minlength=n_runs))])
        return cls(run=run, order=order, bounds=bounds)

    @classmethod
    def single(cls, n: int) -> RunLayout:
        """The layout of a table of ``n`` rows that all belong to one run."""
        return cls(run=np.zeros(n, dtype=np.int64), order=np.arange(n), bounds=np.array([0, n]))

    @property
    def n_runs(self) -> int:
        """Runs in the batch."""
        return len(self.bounds) - 1

    @property
    def counts(self) -> np.ndarray:
        """Rows of each run."""
        return np.diff(self.bounds)

    def rows(self, k: int) -> np.ndarray:
        """Run ``k``'s rows, in their order."""
        return self.order[self.bounds[k]:self.bounds[k + 1]]

    def local_index(self) -> np.ndarray:
        """Each row's position among its run's rows (its index in the run alone)."""
        local = np.empty(len(self.run), dtype=np.int64)
        local[self.order] = np.arange(len(self.run)) - np.repeat(self.bounds[:-1], self.counts)
        return local


def draw(generators: Sequence[np.random.Generator], layout: RunLayout, sampler: Sampler) -> np.ndarray:
    """One draw per row, each run's rows from that run's generator in the run's own order.

    Args:
        generators: One generator per run (the same stream of each run).
        layout: The table's run layout.
        sampler: Draws ``n`` values from a generator.

    Returns:
        The draws, aligned with the table's rows.
    """
    if layout.n_runs == 1:
        return sampler(generators[0], len(layout.run))
    parts = [sampler(rng, int(n)) for rng, n in zip(generators, layout.counts, strict=True)]
    out = np.empty(len(layout.run), dtype=np.result_type(*parts))
    out[layout.order] = np.concatenate(parts)
    return out


def sum_per_run(values: np.ndarray, layout: RunLayout, mask: np.ndarray | None = None) -> np.ndarray:
    """Sum of ``values`` over each run's rows (or its rows in ``mask``), as a float per run.

    Args:
        values: One value per row of the table.
        layout: The table's run layout.
        mask: Boolean mask of the rows to sum over (default: all rows).

    Returns:
        One sum per run, rounded as the run alone rounds it.
    """
    if layout.n_runs == 1:
        return np.array([float(values.sum() if mask is None else values[mask].sum())])
    out = np.zeros(layout.n_runs)
    for k in range(layout.n_runs):
        mine = layout.rows(k)
        if mask is not None:
            mine = mine[mask[mine]]
        out[k] = float(values[mine].sum())
    return out


def count_per_run(mask: np.ndarray, layout: RunLayout) -> np.ndarray:
    """How many rows of each run ``mask`` holds.

    Args:
        mask: Boolean mask over the table's rows (or sorted row indices).
        layout: The table's run layout.

    Returns:
        One count per run.
    """
    mask = np.asarray(mask)
    rows = np.flatnonzero(mask) if mask.dtype == bool else mask
    return np.bincount(layout.run[rows], minlength=layout.n_runs).astype(np.int64)


def mean_per_run(values: np.ndarray, mask: np.ndarray, layout: RunLayout) -> np.ndarray:
    """Mean of ``values`` over each run's rows in ``mask`` (nan for a run with none).

    Args:
        values: One value per row.
        mask: Boolean mask over rows.
        layout: The table's run layout.

    Returns:
        One mean per run, rounded as the run alone rounds it.
    """
    out = np.full(layout.n_runs, np.nan)
    for k in range(layout.n_runs):
        mine = layout.rows(k)
        mine = mine[mask[mine]]
        if len(mine):
            out[k] = float(values[mine].mean())
    return out
