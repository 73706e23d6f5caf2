"""Where a sweep's runs execute: in this process, in a pool of local processes, or on Dask.

Every executor has one interface: :meth:`Executor.map` takes a function and an iterator of tasks and
yields results as they finish, keeping only a few tasks in flight (about twice the number of
workers), so neither the tasks nor the results pile up in the driver's memory. Results are yielded
in completion order; the driver does not depend on it.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from kube_sim.common.errors import InputError
from kube_sim.common.i18n import _

BACKENDS: tuple[str, ...] = ("local", "dask")
IN_FLIGHT_PER_WORKER = 2


class Executor(Protocol):
    """Runs tasks and yields their results as they finish."""

    name: str
    workers: int

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        """Yield ``fn(task)`` for every task, in completion order."""
        ...

    def close(self, cancel: bool = False) -> None:
        """Release the workers; ``cancel`` drops tasks not yet started."""
        ...

    def describe(self) -> str:
        """One line naming the backend and its workers."""
        ...


class InProcessExecutor:
    """Runs every task in the calling process, one after another."""

    name = "local"
    workers = 1

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        """Yield ``fn(task)`` for every task, in order.

        Args:
            fn: The task function.
            tasks: The tasks.

        Yields:
            Results.
        """
        for task in tasks:
            yield fn(task)

    def close(self, cancel: bool = False) -> None:
        """Nothing to release."""

    def describe(self) -> str:
        """One line naming the backend."""
        return _("local backend, 1 worker (this process)")


def _alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _exit_when_orphaned(driver: int, interval: float = 1.0) -> None:
    """End this worker once the driver is gone (killed drivers otherwise leave workers waiting forever)."""
    while True:
        time.sleep(interval)
        if not _alive(driver):
            os._exit(1)


def _warm_up(driver: int) -> None:
    """Prepare a fresh worker: import the model, and watch the driver so as not to outlive it.

    Args:
        driver: Process id of the sweep's driver.
    """
    import kube_sim.experiments.tasks  # noqa: F401

    threading.Thread(target=_exit_when_orphaned, args=(driver,), name="kube-sim-driver-watch", daemon=True).start()


def _ready() -> None:
    """A task that does nothing: submitted once so that the pool starts its workers."""


def _bounded(submit: Callable[[Any], Any], wait_one: Callable[[], Iterable[Any]], tasks: Iterable[Any],
             limit: int) -> Iterator[Any]:
    """Submit tasks keeping at most ``limit`` in flight; yield finished futures."""
    iterator = iter(tasks)
    in_flight = 0
    exhausted = False
    while True:
        while not exhausted and in_flight < limit:
            try:
                task = next(iterator)
            except StopIteration:
                exhausted = True
                break
            submit(task)
            in_flight += 1
        if in_flight == 0:
            return
        for future in wait_one():
            in_flight -= 1
            yield future


def _process_context() -> multiprocessing.context.BaseContext:
    """Fork on Linux when this process runs no other thread, else forkserver where available, else spawn.

    A forked worker starts at once with the model already imported; fork is safe only while the
    process has a single thread (the pool launches every worker when it is made, before the progress
    bar's or Dask's threads start). Otherwise forkserver (the model is imported once, in the server,
    then workers fork from it), or spawn where there is none.
    """
    methods = multiprocessing.get_all_start_methods()
    if sys.platform.startswith("linux") and "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["kube_sim.experiments.tasks"])
        return context
    return multiprocessing.get_context("spawn")


class ProcessPoolExecutor:
    """Runs tasks in ``workers`` local processes (forkserver, or spawn where there is none).

    Args:
        workers: Number of worker processes (>= 1).
    """

    name = "local"

    def __init__(self, workers: int) -> None:
        self.workers = workers
        context = _process_context()
        self._pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                            initializer=_warm_up, initargs=(os.getpid(),))
        self._pending: set[cf.Future] = set()
        if context.get_start_method() == "fork":
            self._pool.submit(_ready)  # launches every worker now, while this process has one thread
        else:  # launching waits until the forkserver has imported the model: the driver goes on meanwhile
            threading.Thread(target=self._pool.submit, args=(_ready,), name="kube-sim-pool-start",
                             daemon=True).start()

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        """Yield ``fn(task)`` for every task as the workers finish them.

        Args:
            fn: The task function (importable by the workers).
            tasks: The tasks.

        Yields:
            Results, in completion order.
        """
        def submit(task: Any) -> None:
            self._pending.add(self._pool.submit(fn, task))

        def wait_one() -> Iterable[cf.Future]:
            done, self._pending = cf.wait(self._pending, return_when=cf.FIRST_COMPLETED)
            return done

        for future in _bounded(submit, wait_one, tasks, self.workers * IN_FLIGHT_PER_WORKER):
            yield future.result()

    def close(self, cancel: bool = False) -> None:
        """Shut the pool down.

        Args:
            cancel: Drop tasks not yet started and do not wait for running ones.
        """
        if cancel:
            for future in self._pending:
                future.cancel()
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=not cancel, cancel_futures=cancel)
        if cancel:
            # A run in progress is only lost work (nothing of it is saved yet): end the workers now, so
            # that an interrupted command exits at once instead of waiting for them at interpreter exit.
            for process in processes:
                if process.is_alive():
                    process.terminate()
            for process in processes:
                process.join(timeout=5)

    def describe(self) -> str:
        """One line naming the backend and its workers."""
        return _("local backend, {workers} worker processes").format(workers=self.workers)


class DaskExecutor:
    """Runs tasks on Dask distributed: a local cluster, or the scheduler at ``address``.

    Args:
        workers: Worker processes of a local cluster (ignored with an address).
        address: Scheduler address such as ``tcp://10.0.0.5:8786`` (None: start a local cluster).
        processes: Local cluster workers as processes (True) or threads in this process (False).
    """

    name = "dask"

    def __init__(self, workers: int = 1, address: str | None = None, processes: bool = True) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise InputError("the dask backend needs dask.distributed: pip install 'kube-sim[dask]'",
                             source="--backend", key="dask") from None
        self._cluster = None
        self.address = address
        if address:
            try:
                self._client = Client(address, timeout="20s")
            except (OSError, TimeoutError) as exc:
                raise InputError(f"cannot reach the Dask scheduler: {exc}", source="--scheduler",
                                 key=address) from None
        else:
            self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes,
                                         dashboard_address=None, silence_logs=logging.ERROR)
            self._client = Client(self._cluster)
        self.workers = max(1, sum(self._client.nthreads().values()))

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        """Yield ``fn(task)`` for every task as the cluster finishes them.

        Args:
            fn: The task function (importable on the workers: kube-sim must be installed there).
            tasks: The tasks.

        Yields:
            Results, in completion order.
        """
        from dask.distributed import as_completed

        finished = as_completed()
        iterator: Iterator[Any] | None = None

        def submit(task: Any) -> None:
            future = self._client.submit(fn, task, pure=False)
            finished.add(future)

        def wait_one() -> Iterable[Any]:
            nonlocal iterator
            if iterator is None:
                iterator = iter(finished)
            return [next(iterator)]

        for future in _bounded(submit, wait_one, tasks, self.workers * IN_FLIGHT_PER_WORKER):
            result = future.result()
            future.release()
            yield result

    def close(self, cancel: bool = False) -> None:
        """Close the client (and the local cluster, if this executor started one).

        Args:
            cancel: Unused; closing the client drops its tasks.
        """
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def describe(self) -> str:
        """One line naming the backend and its workers."""
        where = _("scheduler {address}").format(address=self.address) if self.address else _("local cluster")
        return _("dask backend ({where}), {workers} worker threads").format(where=where, workers=self.workers)


SCHEDULER_TIMEOUT_S = 5.0
"""How long the check of a Dask scheduler's address waits for it to answer."""


def check_scheduler(address: str, timeout: float = SCHEDULER_TIMEOUT_S) -> None:
    """Check that a Dask scheduler listens at ``address`` before any work starts.

    Addresses over TCP (``tcp://``, ``tls://``, ``ws://``, ``wss://`` or a bare ``host:port``) are
    checked by opening a connection; other transports are left to Dask.

    Args:
        address: The ``--scheduler`` value.
        timeout: Seconds to wait for the connection.

    Raises:
        InputError: If the address is malformed or nothing answers there.
    """
    import socket
    from urllib.parse import urlsplit

    text = address.strip()
    scheme, _sep, rest = text.rpartition("://")
    if scheme and scheme not in ("tcp", "tls", "ws", "wss"):
        return
    try:
        parts = urlsplit(f"//{rest}")
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if not host or port is None:
        raise InputError("expected a scheduler address such as tcp://10.0.0.5:8786", source="--scheduler",
                         key=address)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise InputError(f"cannot reach the Dask scheduler: {reason}", source="--scheduler", key=address) from None


def make_executor(backend: str = "local", workers: int = 1, scheduler: str | None = None,
                  dask_processes: bool = True) -> Executor:
    """Create the executor of a backend.

    Args:
        backend: ``"local"`` or ``"dask"``.
        workers: Workers (local processes, or local Dask cluster workers).
        scheduler: Dask scheduler address (dask only; None starts a local cluster).
        dask_processes: Local Dask workers as processes (False: threads, for tests).

    Returns:
        The executor.

    Raises:
        InputError: For an unknown backend or a scheduler with the local backend.
    """
    if backend not in BACKENDS:
        raise InputError(f"unknown backend (choose {' or '.join(BACKENDS)})", source="--backend", key=backend)
    if backend == "dask":
        return DaskExecutor(workers=workers, address=scheduler, processes=dask_processes)
    if scheduler:
        raise InputError("--scheduler needs --backend dask", source="--scheduler", key=scheduler)
    return InProcessExecutor() if workers <= 1 else ProcessPoolExecutor(workers)
