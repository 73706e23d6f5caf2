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
from kube_sim.model.parameters import Parameters, batch_structure
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


def _output(task: RunTask, result: runner.RunResult | None, error: str, duration: float) -> RunOutput:
    """A task's rows: its outcomes, groups and monthly tables, or a failed row with its error."""
    assert task.schema is not None
    meta = {"run_id": task.run_id, "arm": task.arm, "arm_label": task.arm_label, "replication": task.replication,
            "seed": task.seed}
    groups: bytes | None = None
    monthly: bytes | None = None
    if result is not None:
        outcomes = runner.flat_outcomes(result.summary)
        groups = to_part_bytes(groups_table(result.groups, task.months, task.run_id, task.arm, task.replication))
        monthly = to_part_bytes(monthly_table(result.monthly, task.run_id, task.arm, task.replication))
        status = STATUS_OK
    else:
        outcomes = {"scenario": task.scenario, "months": task.months}
        status = STATUS_FAILED
    row = run_row(task.schema, {**meta, "status": status, "error": error, "duration_s": duration}, task.factors,
                  outcomes)
    return RunOutput(run_id=task.run_id, status=status, duration_s=duration, runs=to_part_bytes(row, compress=False),
                     groups=groups, monthly=monthly)


def same_batch_key(task: RunTask) -> tuple[Any, ...]:
    """What the runs of one batch share: their structure and months (any design points, any ensemble members).

    Runs whose parameters differ only in numbers share a batch, each reading its own values; runs that
    differ in :data:`~kube_sim.model.parameters.BATCH_STRUCTURE` or the district do not.

    Args:
        task: A run.

    Returns:
        A key equal for runs that can share a batch.
    """
    return (batch_structure(task.params), task.months)


def execute_batch(tasks: list[RunTask]) -> list[RunOutput]:
    """Run tasks that share their structure as one batch (see :func:`kube_sim.model.run.run_batch`).

    Each output equals what :func:`execute` gives for the task alone, but its ``duration_s``: the batch's
    time shared equally among its runs. If the batch raises (one run's error stops them all), every
    task is run alone, so only the runs that fail are recorded as failed.

    Args:
        tasks: Runs with the same structure and months (see :func:`same_batch_key`).

    Returns:
        One output per task, in order.
    """
    if len(tasks) == 1:
        return [execute(tasks[0])]
    first = tasks[0]
    start = time.perf_counter()
    try:
        results = runner.run_batch([task.params for task in tasks], [task.seed for task in tasks],
                                   months=first.months, scenario=[task.scenario for task in tasks])
        duration = (time.perf_counter() - start) / len(tasks)
        return [_output(task, result, "", duration) for task, result in zip(tasks, results, strict=True)]
    except Exception:  # some run fails: find which, run by run
        return [execute(task) for task in tasks]


def execute(task: RunTask) -> RunOutput:
    """Run one task and serialise its rows.

    Args:
        task: The run.

    Returns:
        The run's rows as Arrow IPC bytes; a run that raised gives a ``"failed"`` row with its error.
    """
    start = time.perf_counter()
    try:
        result = runner.run_model(task.params, seed=task.seed, months=task.months, scenario=task.scenario)
        return _output(task, result, "", time.perf_counter() - start)
    except Exception as exc:  # any model error is recorded; the sweep goes on
        return _output(task, None, _error_text(exc), time.perf_counter() - start)
