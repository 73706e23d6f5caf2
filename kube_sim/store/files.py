"""Files written whole or not at all, and the project's JSON form.

Every results file (run folders, sweep folders, reports, calibrated scenarios) goes through
:func:`atomic_write`: the data is written under a temporary name in the same folder, flushed to the
disk (``fsync``) and renamed into place, so a writer killed at any moment, or a machine that loses
power, leaves either the old file or the new one, never half a file. Temporary names start with a
dot and end in ``.tmp`` (see :data:`TEMPORARY_GLOB`).

The writer replaces only what is ours to replace: nothing, or a regular file owned by the user
running the command. A device, a pipe, a socket, a folder or another user's file in the way is left
as it is and the write fails with :class:`NotReplaced` (a symbolic link is followed to its file, and
that file is what is checked and replaced).
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from kube_sim.common.errors import InputError
from kube_sim.common.i18n import N_, _

TEMPORARY_GLOB = ".*.tmp"
"""Pattern of the temporary files a killed writer may leave behind."""


def jsonable(value: Any) -> Any:
    """Convert a value to plain JSON types: tuples to lists, numpy scalars to Python, NaN/inf to None.

    Args:
        value: Any nesting of dicts, lists, tuples, numbers, strings, paths.

    Returns:
        The same data, safe for ``json.dumps(..., allow_nan=False)``.
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def dumps(data: Any) -> str:
    """Serialise data as indented JSON (strict: no NaN), ending in a newline.

    Args:
        data: JSON-able data (see :func:`jsonable`).

    Returns:
        The JSON text.
    """
    return json.dumps(jsonable(data), indent=2, allow_nan=False) + "\n"


class NotReplaced(InputError):
    """A file the writer will not replace: not a regular file, or another user's."""


_KINDS = ((stat.S_ISDIR, N_("a folder")), (stat.S_ISCHR, N_("a character device")),
          (stat.S_ISBLK, N_("a block device")), (stat.S_ISFIFO, N_("a named pipe")), (stat.S_ISSOCK, N_("a socket")),
          (stat.S_ISLNK, N_("a symbolic link")))


def safe_name(text: str, separator: str = "_", *, lower: bool = False) -> str:
    """Text as part of a file or folder name: letters, digits, ``.``, ``-`` and ``_``; other runs become ``separator``.

    Args:
        text: A scenario's, experiment's or district's name.
        separator: What stands for each run of other characters.
        lower: Lower-case the text first.

    Returns:
        The name, without separators or dots at its ends (empty when nothing is left).
    """
    return re.sub(r"[^A-Za-z0-9._-]+", separator, text.lower() if lower else text).strip("._-")


def kind_of(mode: int) -> str:
    """Name the kind of file a mode describes (``"a character device"``, ``"a regular file"``, ...).

    Args:
        mode: ``st_mode`` of an ``lstat`` or ``stat``.

    Returns:
        The kind, with its article.
    """
    for test, name in _KINDS:
        if test(mode):
            return _(name)
    return _("a regular file") if stat.S_ISREG(mode) else _("a special file")


def replace_problem(path: Path) -> str | None:
    """Why ``path`` may not be replaced by a written file, or None when it may (absent, or our regular file).

    Args:
        path: The file to replace (symbolic links already followed).

    Returns:
        The reason, in a few words, or None.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return _("cannot be checked: {reason}").format(reason=exc.strerror or exc)
    if not stat.S_ISREG(info.st_mode):
        return _("is {kind}, not a regular file; it is left as it is").format(kind=kind_of(info.st_mode))
    if info.st_uid != os.geteuid():
        return _("belongs to another user; it is left as it is")
    return None


def final_path(path: Path) -> Path:
    """The file a write to ``path`` replaces: ``path`` itself, or the file its symbolic links lead to.

    Args:
        path: The path as given.

    Returns:
        The path written.
    """
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    except OSError:
        if not directory:  # some file systems cannot sync a folder; the file itself must reach the disk
            raise
    finally:
        os.close(fd)


def atomic_write(path: Path, write: Callable[[Path], None], *, durable: bool = True) -> Path:
    """Write a file through a temporary name in the same folder, then rename it into place.

    Args:
        path: Final file path (its folder is created if needed; a symbolic link is followed).
        write: Called with the temporary path; must write the whole file there.
        durable: Flush the file to the disk before the rename, and the folder after it (results and
            calibrated scenarios; False for what can be drawn again, such as figures).

    Returns:
        ``path``.

    Raises:
        NotReplaced: If something other than our own regular file is in the way.
    """
    target = final_path(path)
    problem = replace_problem(target)
    if problem:
        raise NotReplaced(problem, source=str(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        if durable:
            _fsync(tmp)
        problem = replace_problem(target)  # checked again: something may have appeared while writing
        if problem:
            raise NotReplaced(problem, source=str(path))
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        _fsync(target.parent, directory=True)
    return path


def write_bytes(path: Path, data: bytes, *, durable: bool = True) -> Path:
    """Write a binary file atomically.

    Args:
        path: Final file path.
        data: File contents.
        durable: Flush it to the disk before the rename (see :func:`atomic_write`).

    Returns:
        ``path``.
    """
    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    return atomic_write(path, write, durable=durable)


def write_text(path: Path, text: str, *, durable: bool = True) -> Path:
    """Write a text file atomically (UTF-8).

    Args:
        path: Final file path.
        text: File contents.
        durable: Flush it to the disk before the rename (see :func:`atomic_write`).

    Returns:
        ``path``.
    """
    return write_bytes(path, text.encode("utf-8"), durable=durable)


def write_json(path: Path, data: Any) -> Path:
    """Write data as indented strict JSON (see :func:`dumps`), atomically.

    Args:
        path: Final file path.
        data: JSON-able data.

    Returns:
        ``path``.
    """
    return write_text(path, dumps(data))


def read_json(path: Path, what: str = N_("a results")) -> dict[str, Any]:
    """Read a JSON object written by :func:`write_json`.

    Args:
        path: The file.
        what: What the folder should be, for the message when the file is missing (e.g. ``"a run"``).

    Returns:
        The object.

    Raises:
        InputError: If the file is missing, unreadable, malformed or not a JSON object.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(_("no {name} here (not {what} folder?)").format(name=path.name, what=_(what)),
                         source=str(path.parent)) from None
    except OSError as exc:
        raise InputError(_("cannot read: {reason}").format(reason=exc.strerror or exc), source=str(path)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(_("malformed JSON: {reason}").format(reason=exc), source=str(path)) from None
    if not isinstance(data, dict):
        raise InputError("expected a JSON object", source=str(path))
    return data
