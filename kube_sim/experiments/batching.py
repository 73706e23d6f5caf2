"""How a sweep's runs are grouped into batches (runs of one model, see :mod:`kube_sim.model.batch`).

Runs with the same structure and months (any design points whose parameters differ only in
numbers, see :data:`~kube_sim.model.parameters.BATCH_STRUCTURE`) go in one batch; a batch is as
large as a worker's memory budget allows, small enough that every worker gets several batches
(so the progress bar moves and a stopped sweep loses little), and at most
:data:`MAX_BATCH` runs. A batch of runs takes much less time than its runs one by one: the monthly
steps' fixed cost of numpy calls is paid once for the batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass

MAX_BATCH = 100
"""Most runs in one batch: beyond this the time per run hardly falls (see ``benchmarks/bench_sweep.py``)."""

MODEL_MEMORY_FACTOR = 4
"""A run's model in memory takes about this many times its saved rows (tables, caches, event log)."""

BATCHES_PER_WORKER = 4
"""Each worker gets at least this many batches when there are runs enough."""

DEFAULT_WORKER_MEMORY_MIB = 1024
"""Memory a worker may use for one batch by default (MiB)."""



@dataclass(frozen=True)
class BatchSettings:
    """The batching of a sweep.

    Attributes:
        batch_size: Runs per batch (0: chosen from the memory budget and the runs to do).
        worker_memory_mib: Memory a worker may use for one batch (MiB).
    """

    batch_size: int = 0
    worker_memory_mib: int = DEFAULT_WORKER_MEMORY_MIB

    def size(self, run_bytes: int, runs: int, workers: int) -> int:
        """Runs per batch.

        Args:
            run_bytes: Bytes of one run's saved rows (measured on the sweep's first run).
            runs: Runs still to do.
            workers: Workers running batches.

        Returns:
            At least 1.
        """
        if self.batch_size > 0:
            return self.batch_size
        by_memory = self.worker_memory_mib * 2**20 // max(run_bytes * MODEL_MEMORY_FACTOR, 1)
        by_workers = math.ceil(runs / (BATCHES_PER_WORKER * max(workers, 1)))
        return int(max(1, min(MAX_BATCH, by_memory, by_workers)))


_current = BatchSettings()


def configure(settings: BatchSettings) -> None:
    """Set the batching every sweep of this process uses (the command line's ``--batch-size``, ``--worker-memory``).

    Args:
        settings: The settings.
    """
    global _current
    _current = settings


def current() -> BatchSettings:
    """The batching sweeps use (see :func:`configure`)."""
    return _current


def batches[T](items: Iterable[T], key: Callable[[T], Hashable], size: int) -> Iterator[list[T]]:
    """Items with the same key, in lists of at most ``size``, each in the order the items come.

    A list is given as soon as it is full; the lists not full at the end follow, in the order their
    first items came. Items of other keys in between (the design points of another structure) do
    not cut a list short.

    Args:
        items: The items, in order.
        key: What items of one batch share.
        size: Most items per batch.

    Yields:
        The batches.
    """
    open_batches: dict[Hashable, list[T]] = {}
    for item in items:
        item_key = key(item)
        batch = open_batches.setdefault(item_key, [])
        batch.append(item)
        if len(batch) >= size:
            yield batch
            del open_batches[item_key]
    yield from open_batches.values()


def run_bytes(parts: Sequence[bytes | None]) -> int:
    """Bytes of one run's saved rows.

    Args:
        parts: Its Arrow payloads.

    Returns:
        Their total size.
    """
    return sum(len(part) for part in parts if part)
