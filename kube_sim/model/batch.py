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
from typing import TYPE_CHECKING, Any

import numpy as np

from kube_sim.model.parameters import BATCH_STRUCTURE, PARAMETER_SPECS, SECTIONS, Parameters, batch_structure

if TYPE_CHECKING:
    from kube_sim.model.geography import DistrictMap

Sampler = Callable[[np.random.Generator, int], np.ndarray]
"""Draws ``n`` values from a generator (``lambda rng, n: rng.random(n)``)."""

RunSampler = Callable[[np.random.Generator, int, Parameters], np.ndarray]
"""Draws ``n`` values from a run's generator with the run's parameters (``lambda rng, n, p: ...``)."""


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


def per_type(values: Any, kind: np.ndarray) -> np.ndarray:
    """Each row's entry of a list parameter (one value per business type) for its business type.

    Args:
        values: A list parameter as :class:`RowParameters` gives it: the shared tuple, or one row of
            values per table row.
        kind: Business type of each row.

    Returns:
        One value per row.
    """
    array = np.asarray(values)
    if array.ndim == 1:
        return array[kind]
    return array[np.arange(len(kind)), kind]


def select(rows: np.ndarray, condition: Any) -> np.ndarray:
    """The rows where ``condition`` holds: one condition for all rows (a shared value), or one per row.

    Args:
        rows: Row indices.
        condition: A boolean, or a boolean array aligned with ``rows``.

    Returns:
        The rows kept, in order.
    """
    if np.ndim(condition) == 0:
        return rows if condition else rows[:0]
    return rows[condition]


class ParameterVaries(ValueError):
    """A rule read, as one value, a parameter that differs between the runs of a batch."""


class BatchParameters:
    """The parameters of a batch's runs: each key's value shared by every run, or one value per run.

    Runs of a batch share their structure (:data:`~kube_sim.model.parameters.BATCH_STRUCTURE`: the
    district, its copies and villages, the funding rounds, the mentoring pattern); any other
    parameter may differ from run to run.

    Args:
        runs: One :class:`Parameters` per run.

    Raises:
        ValueError: If the runs differ in their structure.
    """

    def __init__(self, runs: Sequence[Parameters]) -> None:
        self.runs = list(runs)
        first = self.runs[0]
        for k, params in enumerate(self.runs[1:], start=1):
            if batch_structure(params) != batch_structure(first):
                raise ValueError(f"run {k} of a batch differs from run 0 in its structure "
                                 f"({', '.join(BATCH_STRUCTURE)} and the district must be shared)")
        self.shared: dict[str, Any] = {}
        """Values every run shares, by dotted key."""
        self.varied: dict[str, np.ndarray] = {}
        """Values that differ, one per run (a row of values for a list parameter), by dotted key."""
        if len(self.runs) == 1:
            self.shared = {key: first.get(key) for key in PARAMETER_SPECS}
            return
        for key in PARAMETER_SPECS:
            values = [params.get(key) for params in self.runs]
            if all(value == values[0] for value in values[1:]):
                self.shared[key] = values[0]
            else:
                self.varied[key] = np.array(values)

    def value(self, key: str) -> Any:
        """A key's value when every run shares it.

        Args:
            key: Dotted parameter key.

        Returns:
            The shared value.

        Raises:
            ParameterVaries: If the runs differ in it.
        """
        try:
            return self.shared[key]
        except KeyError:
            raise ParameterVaries(f"{key} differs between the runs of this batch: read it per row "
                                  "(KubeModel.params_at)") from None


class SectionAt:
    """One parameter section as the rows of a table see it: each name reads as one value for all, or one per row."""

    __slots__ = ("_batch", "_rows", "_section")

    def __init__(self, batch: BatchParameters, section: str, rows: _RowRuns | None) -> None:
        self._batch = batch
        self._section = section
        self._rows = rows

    def __getattr__(self, name: str) -> Any:
        key = f"{self._section}.{name}"
        batch = self._batch
        if key in batch.shared:
            return batch.shared[key]
        if key not in batch.varied:
            raise AttributeError(f"no parameter {key}")
        if self._rows is None:
            return batch.value(key)
        return batch.varied[key][self._rows.runs()]


class _RowRuns:
    """The run of each row a :class:`RowParameters` reads for, computed the first time a value varies."""

    __slots__ = ("_layout", "_rows", "_runs")

    def __init__(self, layout: RunLayout, rows: np.ndarray | None) -> None:
        self._layout = layout
        self._rows = rows
        self._runs: np.ndarray | None = None

    def runs(self) -> np.ndarray:
        if self._runs is None:
            self._runs = self._layout.run if self._rows is None else self._layout.run[self._rows]
        return self._runs


class RowParameters:
    """The parameters as the rows of a table see them: ``view.members.dropout_probability``.

    A value every run of the batch shares reads as that value (exactly what a run alone reads); a
    value that differs reads as one value per row (each row its run's), so every elementwise
    operation gives each row exactly what its run alone gives. A view made without rows reads only
    shared values, and raises :class:`ParameterVaries` for the others.

    Args:
        batch: The batch's parameters.
        layout: The table's run layout (None: no rows).
        rows: The rows read for (default: all of the table's rows, in order).
    """

    __slots__ = (
        "agency",
        "business",
        "district",
        "facilitators",
        "funding",
        "geography",
        "grants",
        "groups",
        "members",
        "poverty",
        "training",
    )

    def __init__(self, batch: BatchParameters, layout: RunLayout | None = None,
                 rows: np.ndarray | None = None) -> None:
        at = None if layout is None else _RowRuns(layout, rows)
        for section in SECTIONS:
            object.__setattr__(self, section, SectionAt(batch, section, at))
        object.__setattr__(self, "geography", batch.runs[0].geography)

    if TYPE_CHECKING:
        district: SectionAt
        funding: SectionAt
        members: SectionAt
        agency: SectionAt
        training: SectionAt
        facilitators: SectionAt
        groups: SectionAt
        grants: SectionAt
        business: SectionAt
        poverty: SectionAt
        geography: DistrictMap
