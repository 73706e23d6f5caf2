"""The columns of a sweep's tables and the Arrow tables of its runs: fixed schemas, so every part agrees.

A run's row in ``runs.parquet`` has bookkeeping columns (:data:`META_COLUMNS`), one column per factor
(named by its dotted key) and the outcome columns declared in :mod:`kube_sim.common.outputs`, after the
scenario's name (as text; every other outcome as float64, NaN where missing or the run failed).
Groups and monthly rows start with ``run_id, arm, replication``.

Nothing here runs a sweep; :mod:`kube_sim.experiments.tasks` builds the tables inside the workers and
serialises them with :func:`kube_sim.store.parts.to_part_bytes`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from kube_sim.common.outputs import COLUMNS as OUTCOMES
from kube_sim.common.survival import durations
from kube_sim.model.parameters import spec_for

META_COLUMNS: tuple[str, ...] = ("run_id", "arm", "arm_label", "replication", "seed", "status", "error", "duration_s")
"""Bookkeeping columns of the runs table, first and in this order."""

META_TYPES: dict[str, pa.DataType] = {
    "run_id": pa.int64(), "arm": pa.int64(), "arm_label": pa.string(), "replication": pa.int64(),
    "seed": pa.int64(), "status": pa.string(), "error": pa.string(), "duration_s": pa.float64(),
}

TEXT_OUTCOMES: tuple[str, ...] = ("scenario",)
"""Summary entries kept as text; every other outcome is a float64 column."""

ALWAYS_KEPT: tuple[str, ...] = ("scenario", "months")
"""Outcome columns kept even when an experiment lists the outcomes it wants."""

STATUS_OK = "ok"
STATUS_FAILED = "failed"

OUTCOME_COLUMNS: tuple[str, ...] = ("scenario", *OUTCOMES)
"""Every outcome column of the runs table, in summary order: the scenario's name, then the declared outcomes."""


def all_outcome_columns() -> tuple[str, ...]:
    """Every outcome column a run gives, in summary order.

    Returns:
        The column names (``scenario``, ``months``, ``survival_12``, ...).
    """
    return OUTCOME_COLUMNS


def kept_outcomes(wanted: Sequence[str] | None) -> tuple[str, ...]:
    """The outcome columns a sweep keeps: all, or the wanted ones plus :data:`ALWAYS_KEPT`, in summary order.

    Args:
        wanted: Outcome names from the experiment file, or None for all.

    Returns:
        Column names in summary order.
    """
    columns = all_outcome_columns()
    if wanted is None:
        return columns
    keep = set(wanted) | set(ALWAYS_KEPT)
    return tuple(c for c in columns if c in keep)


def arrow_type(key: str) -> pa.DataType:
    """Arrow type of a factor column, from its parameter's type.

    Args:
        key: Dotted parameter key.

    Returns:
        int64, float64, bool or string.
    """
    kind = spec_for(key).type
    return {int: pa.int64(), float: pa.float64(), bool: pa.bool_(), str: pa.string()}[kind]


def runs_schema(factor_types: Mapping[str, pa.DataType], outcomes: Sequence[str]) -> pa.Schema:
    """The schema of the runs table.

    Args:
        factor_types: Factor column name to Arrow type, in order.
        outcomes: Kept outcome columns, in order.

    Returns:
        The Arrow schema.
    """
    fields = [pa.field(name, META_TYPES[name]) for name in META_COLUMNS]
    fields += [pa.field(name, kind) for name, kind in factor_types.items()]
    fields += [pa.field(name, pa.string() if name in TEXT_OUTCOMES else pa.float64()) for name in outcomes]
    return pa.schema(fields)


def _outcome_value(name: str, value: Any) -> Any:
    if name in TEXT_OUTCOMES:
        return None if value is None else str(value)
    if value is None:
        return np.nan
    return float(value)


def run_rows(schema: pa.Schema, rows: Sequence[tuple[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]]]
             ) -> pa.Table:
    """Rows of the runs table, one per run.

    Args:
        schema: From :func:`runs_schema`.
        rows: Per run: the values of :data:`META_COLUMNS`, the factor values by column, and the
            flat outcomes (missing or None become NaN; an empty mapping for a failed run).

    Returns:
        An Arrow table with exactly ``schema``, one row per run in the order given.
    """
    columns: dict[str, list[Any]] = {f.name: [] for f in schema}
    for meta, factors, outcomes in rows:
        values: dict[str, Any] = {**meta, **factors}
        for name, column in columns.items():
            column.append(values[name] if name in values else _outcome_value(name, outcomes.get(name)))
    arrays = [pa.array(columns[f.name], type=f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


RunKeys = tuple[int, int, int]
"""A run's ``(run_id, arm, replication)``."""


def keyed_rows(frames: Sequence[pd.DataFrame], keys: Sequence[RunKeys]) -> pa.Table:
    """Several runs' rows of one table as one Arrow table: ``run_id, arm, replication``, then the frames' columns.

    The frames are stacked first and converted once (a conversion per run costs more than the rows).

    Args:
        frames: One frame per run, with the same columns.
        keys: Each frame's run keys.

    Returns:
        The rows, run after run in the order given.
    """
    stacked = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    table = pa.Table.from_pandas(stacked, preserve_index=False)
    counts = [len(frame) for frame in frames]
    for position, name in enumerate(("run_id", "arm", "replication")):
        values = np.repeat(np.array([key[position] for key in keys], dtype=np.int64), counts)
        table = table.add_column(position, name, pa.array(values))
    return table.replace_schema_metadata(None)


def groups_frame(groups: pd.DataFrame, months: int) -> pd.DataFrame:
    """One run's groups rows: the runner's group columns with ``group`` as a column, duration and failure.

    Args:
        groups: The runner's group table (indexed by group id).
        months: Run length (for censoring).

    Returns:
        A frame with ``duration_months`` (float) and ``failed`` (bool) last.
    """
    frame = groups.reset_index()
    duration, failed = durations(frame["funded_month"].to_numpy(), frame["failed_month"].to_numpy(), months)
    frame["duration_months"] = duration.astype(np.float64)
    frame["failed"] = failed.astype(bool)
    return frame


def format_level(value: Any) -> str:
    """A factor value as arm labels show it: integers without a point, other numbers to 6 digits.

    Args:
        value: A parameter value.

    Returns:
        Text.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.6g}"
    return str(value)


def arm_label(point: Mapping[str, Any]) -> str:
    """Label of a design point: ``name=value`` with short parameter names, joined by ``, ``.

    A short name shared by two factors (``members.hours_per_month`` and ``facilitators.hours_per_month``)
    keeps its full dotted key.

    Args:
        point: ``{dotted key: value}``.

    Returns:
        E.g. ``groups_per_facilitator=5, hours_per_month=30``.
    """
    short = [key.rsplit(".", 1)[-1] for key in point]
    names = [s if short.count(s) == 1 else key for s, key in zip(short, point, strict=True)]
    return ", ".join(f"{name}={format_level(value)}" for name, value in zip(names, point.values(), strict=True))
