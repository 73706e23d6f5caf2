"""One run of a sweep, as executed by a worker: parameters and seed in, small Arrow payloads out.

:func:`execute` never raises for a failing model run: the error is recorded in the run's row with
status ``"failed"`` and the sweep goes on. It returns only the run's own rows (a few kilobytes of
Arrow data), so the driver just writes bytes to disk.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from kube_sim.experiments.rows import (
    STATUS_FAILED,
    STATUS_OK,
    groups_table,
    monthly_table,
    run_row,
)
from kube_sim.model import run as runner
from kube_sim.model.parameters import Parameters
from kube_sim.store.parts import to_part_bytes

MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs for one run.

    Attributes:
        run_id: Position in design order (arm-major, replication-minor).
        arm: Design point index.
        arm_label: The arm's label.
        replication: Replication index.
        seed: The replication's seed (the same in every arm).
        months: Run length.
        scenario: Scenario name recorded in the summary.
        params: The arm's parameters.
        factors: The arm's factor values by column.
        schema: The runs table's schema.
    """

    run_id: int
    arm: int
    arm_label: str
    replication: int
    seed: int
    months: int
    scenario: str
    params: Parameters
    factors: dict[str, Any] = field(default_factory=dict)
    schema: pa.Schema | None = None


@dataclass(frozen=True)
class RunOutput:
    """What a worker returns for one run: its rows as Arrow IPC bytes.

    Attributes:
        run_id: The run.
        status: ``"ok"`` or ``"failed"``.
        duration_s: Wall time of the run.
        runs: The run's row of the runs table.
        groups: Its groups rows (None if it failed).
        monthly: Its monthly rows (None if it failed).
    """

    run_id: int
    status: str
    duration_s: float
    runs: bytes
    groups: bytes | None
    monthly: bytes | None


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ").strip()
    return text[:MAX_ERROR_CHARS]


def execute(task: RunTask) -> RunOutput:
    """Run one task and serialise its rows.

    Args:
        task: The run.

    Returns:
        The run's rows as Arrow IPC bytes; a run that raised gives a ``"failed"`` row with its error.
    """
    assert task.schema is not None
    meta = {"run_id": task.run_id, "arm": task.arm, "arm_label": task.arm_label, "replication": task.replication,
            "seed": task.seed}
    start = time.perf_counter()
    groups: bytes | None
    monthly: bytes | None
    try:
        result = runner.run_model(task.params, seed=task.seed, months=task.months, scenario=task.scenario)
        outcomes = runner.flat_outcomes(result.summary)
        groups = to_part_bytes(groups_table(result.groups, task.months, task.run_id, task.arm, task.replication))
        monthly = to_part_bytes(monthly_table(result.monthly, task.run_id, task.arm, task.replication))
        status, error = STATUS_OK, ""
    except Exception as exc:  # any model error is recorded; the sweep goes on
        outcomes = {"scenario": task.scenario, "months": task.months}
        groups = monthly = None
        status, error = STATUS_FAILED, _error_text(exc)
    duration = time.perf_counter() - start
    row = run_row(task.schema, {**meta, "status": status, "error": error, "duration_s": duration}, task.factors,
                  outcomes)
    return RunOutput(run_id=task.run_id, status=status, duration_s=duration, runs=to_part_bytes(row, compress=False),
                     groups=groups, monthly=monthly)
