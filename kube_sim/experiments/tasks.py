"""The runs of a sweep, as executed by a worker: parameters and seeds in, small Arrow payloads out.

:func:`execute_batch` never raises for a failing model run: the error is recorded in the run's row
with status ``"failed"`` and the sweep goes on. It returns only the batch's own rows (Arrow data,
one payload per table for the whole batch), so the driver just writes bytes to disk.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from kube_sim.experiments.rows import STATUS_FAILED, STATUS_OK, groups_frame, keyed_rows, run_rows
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
    """What a worker returns for a batch of runs (or one run): their rows as Arrow IPC bytes.

    Attributes:
        run_ids: The runs, in order.
        duration_s: Wall time of a run (a batch's time shared equally among its runs).
        runs: The runs' rows of the runs table.
        groups: Their groups rows (None if none ran).
        monthly: Their monthly rows (None if none ran).
    """

    run_ids: tuple[int, ...]
    duration_s: float
    runs: bytes
    groups: bytes | None
    monthly: bytes | None

    @property
    def part_id(self) -> int:
        """The name of its part files: its first run."""
        return self.run_ids[0]


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ").strip()
    return text[:MAX_ERROR_CHARS]


def _output(done: list[tuple[RunTask, runner.RunResult | None, str]], duration: float) -> RunOutput:
    """The rows of finished tasks: their outcomes, groups and monthly tables, or failed rows with their errors."""
    schema = done[0][0].schema
    assert schema is not None
    rows = []
    group_frames, monthly_frames, keys = [], [], []
    for task, result, error in done:
        meta = {"run_id": task.run_id, "arm": task.arm, "arm_label": task.arm_label,
                "replication": task.replication, "seed": task.seed,
                "status": STATUS_OK if result is not None else STATUS_FAILED, "error": error, "duration_s": duration}
        if result is not None:
            outcomes = runner.flat_outcomes(result.summary)
            group_frames.append(groups_frame(result.groups, task.months))
            monthly_frames.append(result.monthly)
            keys.append((task.run_id, task.arm, task.replication))
        else:
            outcomes = {"scenario": task.scenario, "months": task.months}
        rows.append((meta, task.factors, outcomes))
    groups = to_part_bytes(keyed_rows(group_frames, keys)) if keys else None
    monthly = to_part_bytes(keyed_rows(monthly_frames, keys)) if keys else None
    return RunOutput(run_ids=tuple(task.run_id for task, _, _ in done),
                     duration_s=duration, runs=to_part_bytes(run_rows(schema, rows), compress=False),
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


def execute_batch(tasks: list[RunTask]) -> RunOutput:
    """Run tasks that share their structure as one batch (see :func:`kube_sim.model.run.run_batch`).

    Each run's rows equal what :func:`execute` gives for the task alone, but its ``duration_s``: the
    batch's time shared equally among its runs. If the batch raises (one run's error stops them all),
    every task is run alone, so only the runs that fail are recorded as failed.

    Args:
        tasks: Runs with the same structure and months (see :func:`same_batch_key`).

    Returns:
        The batch's rows, its runs in the order given.
    """
    first = tasks[0]
    start = time.perf_counter()
    try:
        results = runner.run_batch([task.params for task in tasks], [task.seed for task in tasks],
                                   months=first.months, scenario=[task.scenario for task in tasks])
        done: list[tuple[RunTask, runner.RunResult | None, str]] = [
            (task, result, "") for task, result in zip(tasks, results, strict=True)]
    except Exception as exc:  # some run fails: find which, run by run
        if len(tasks) == 1:
            done = [(first, None, _error_text(exc))]
        else:
            done = [_run_alone(task) for task in tasks]
    return _output(done, (time.perf_counter() - start) / len(tasks))


def _run_alone(task: RunTask) -> tuple[RunTask, runner.RunResult | None, str]:
    try:
        return task, runner.run_model(task.params, seed=task.seed, months=task.months, scenario=task.scenario), ""
    except Exception as exc:  # any model error is recorded; the sweep goes on
        return task, None, _error_text(exc)


def execute(task: RunTask) -> RunOutput:
    """Run one task and serialise its rows.

    Args:
        task: The run.

    Returns:
        The run's rows as Arrow IPC bytes; a run that raised gives a ``"failed"`` row with its error.
    """
    return execute_batch([task])
