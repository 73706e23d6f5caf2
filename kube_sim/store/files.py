"""Files written whole or not at all, and the project's JSON form.

Every results file (run folders, sweep folders, reports) goes through :func:`atomic_write`: the data
is written under a temporary name in the same folder and renamed into place, so a writer killed at any
moment leaves either the old file or the new one, never half a file. Temporary names start with a dot
and end in ``.tmp`` (see :data:`TEMPORARY_GLOB`).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from kube_sim.common.errors import InputError

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


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Write a file through a temporary name in the same folder, then rename it into place.

    Args:
        path: Final file path (its folder is created if needed).
        write: Called with the temporary path; must write the whole file there.

    Returns:
        ``path``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_bytes(path: Path, data: bytes) -> Path:
    """Write a binary file atomically.

    Args:
        path: Final file path.
        data: File contents.

    Returns:
        ``path``.
    """
    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    return atomic_write(path, write)


def write_text(path: Path, text: str) -> Path:
    """Write a text file atomically (UTF-8).

    Args:
        path: Final file path.
        text: File contents.

    Returns:
        ``path``.
    """
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, data: Any) -> Path:
    """Write data as indented strict JSON (see :func:`dumps`), atomically.

    Args:
        path: Final file path.
        data: JSON-able data.

    Returns:
        ``path``.
    """
    return write_text(path, dumps(data))


def read_json(path: Path, what: str = "results") -> dict[str, Any]:
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
        raise InputError(f"no {path.name} here (not {what} folder?)", source=str(path.parent)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", source=str(path)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"malformed JSON: {exc}", source=str(path)) from None
    if not isinstance(data, dict):
        raise InputError("expected a JSON object", source=str(path))
    return data
