"""One writer at a time per results folder: an advisory lock with its holder's PID and command.

A command that writes a results folder holds ``<folder>/.kube-sim.lock`` (an exclusive ``flock``
from the :mod:`fcntl` module) from before it looks at the folder's contents until it has written
its last file. The file holds the holder's PID, host, command line and start time, so a second
writer, ``--overwrite`` included, is refused with one line naming the running command
(:class:`FolderBusy`), and a reader such as ``kube-sim report`` can say that the folder is still
being written (:func:`holder`).

The operating system drops the lock when its process ends, however it ends, so a lock file left by
a process that was killed is stale: the next writer takes it over (:attr:`FolderLock.took_over`
names the dead holder). The holder removes the file when it is done. Within one process the lock
is re-entrant: a command may hold its folder while the sweep it runs takes the same lock.

Usage::

    with hold(folder, ["kube-sim", "sweep", "staffing"]):
        ...  # write the folder
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kube_sim.common.errors import InputError
from kube_sim.common.i18n import _
from kube_sim.common.provenance import now_iso

LOCK_FILE = ".kube-sim.lock"
"""The lock file's name inside a results folder."""


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) a folder's lock.

    Attributes:
        pid: The process id.
        host: The machine it runs on.
        command: Its command line.
        started: When it took the lock (ISO 8601).
    """

    pid: int | None
    host: str
    command: tuple[str, ...]
    started: str

    def describe(self) -> str:
        """The holder in words: ``'kube-sim sweep staffing' (PID 123 on host, since ...)``."""
        elsewhere = self.host and self.host != socket.gethostname()
        where = (_("PID {pid} on {host}") if elsewhere else _("PID {pid}")).format(pid=self.pid, host=self.host)
        command = " ".join(self.command) or _("another command")
        return _("'{command}' ({where}, since {started})").format(command=command, where=where,
                                                                 started=self.started or _("an unknown time"))

    @classmethod
    def from_text(cls, text: str) -> Holder | None:
        """Read a lock file's content (None when it is empty or unreadable)."""
        try:
            data: Any = json.loads(text)
        except json.JSONDecodeError:
            return None
        if not isinstance(data, dict):
            return None
        pid = data.get("pid")
        return cls(pid=pid if isinstance(pid, int) else None, host=str(data.get("host") or ""),
                   command=tuple(str(c) for c in data.get("command") or ()), started=str(data.get("started") or ""))


class FolderBusy(InputError):
    """Another command is writing the results folder.

    Attributes:
        holder: Who holds the folder.
    """

    def __init__(self, folder: Path, holder: Holder | None, option: str = "--out") -> None:
        """Create the error.

        Args:
            folder: The folder.
            holder: Its holder, if known.
            option: The option that named the folder.
        """
        self.holder = holder
        who = holder.describe() if holder else _("another command")
        super().__init__(_("is being written by {who}; wait for it to finish or stop it, or choose another {option}")
                         .format(who=who, option=option), source=option, key=str(folder))


_HELD: dict[str, FolderLock] = {}
"""Locks this process holds, by the folder's real path (for re-entrance)."""


class FolderLock:
    """The advisory lock of one results folder (see the module's text).

    Args:
        folder: The results folder (created if missing).
        command: The command line recorded as the holder.
        option: The option that named the folder, for messages.
    """

    def __init__(self, folder: Path, command: Sequence[str], option: str = "--out") -> None:
        self.folder = Path(folder)
        self.command = tuple(command)
        self.option = option
        self.took_over: Holder | None = None
        self._fd: int | None = None
        self._depth = 0

    @property
    def path(self) -> Path:
        """The lock file."""
        return self.folder / LOCK_FILE

    def acquire(self) -> FolderLock:
        """Take the lock, or raise :class:`FolderBusy` at once if another process holds it.

        Returns:
            The lock actually held (this one, or the one this process already holds on the folder).

        Raises:
            FolderBusy: If another process holds the folder.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        key = os.path.realpath(self.folder)
        held = _HELD.get(key)
        if held is not None:
            held._depth += 1
            return held
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                text = _read(fd)
                os.close(fd)
                raise FolderBusy(self.folder, Holder.from_text(text), self.option) from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the holder removed the file between our open and our lock: try again
        self.took_over = Holder.from_text(_read(fd))
        record = {"pid": os.getpid(), "host": socket.gethostname(), "command": list(self.command),
                  "started": now_iso()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode("utf-8"), 0)
        self._fd, self._depth = fd, 1
        _HELD[key] = self
        return self

    def release(self) -> None:
        """Let the lock go (the last release of a re-entrant lock removes the file)."""
        if self._fd is None:
            return
        self._depth -= 1
        if self._depth > 0:
            return
        _HELD.pop(os.path.realpath(self.folder), None)
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = None


def _read(fd: int) -> str:
    try:
        return os.pread(fd, 64 * 1024, 0).decode("utf-8", errors="replace")
    except OSError:
        return ""


@contextlib.contextmanager
def hold(folder: Path, command: Sequence[str], option: str = "--out") -> Iterator[FolderLock]:
    """Hold a results folder's lock for the duration of a ``with`` block.

    Args:
        folder: The results folder (created if missing).
        command: The command line recorded as the holder.
        option: The option that named the folder, for messages.

    Yields:
        The lock held.

    Raises:
        FolderBusy: If another process holds the folder.
    """
    lock = FolderLock(folder, command, option).acquire()
    try:
        yield lock
    finally:
        lock.release()


def holder(folder: Path) -> Holder | None:
    """Who is writing a folder now (None when nobody is, or the folder has no lock file).

    Args:
        folder: A results folder.

    Returns:
        The holder, or None.
    """
    path = Path(folder) / LOCK_FILE
    key = os.path.realpath(folder)
    if key in _HELD:
        lock = _HELD[key]
        return Holder(pid=os.getpid(), host=socket.gethostname(), command=lock.command, started="")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return Holder.from_text(_read(fd)) or Holder(pid=None, host="", command=(), started="")
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
