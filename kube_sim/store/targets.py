"""Output targets, checked all together before any work starts.

Every command names what it will write (its results folders, its files) to :func:`check_outputs`
before it runs the model, keyed by the option the user typed::

    check_outputs({"--out": Target(folder),
                   "--write": Target(scenario_file, FILE),
                   "--xlsx": Target(args.xlsx, FILE)})

A target that cannot be used fails with one :class:`~kube_sim.common.errors.InputError` naming the
option and the path as typed (``--write: /dev/sda: is a block device, not a regular file``): exit 2
and one line, before minutes of work are spent, never naming a temporary file. A target is usable
when it is (or can be created as) a folder, or a regular file of the user's, in a folder the user may
write, and a path the user typed is not inside the installed kube-sim package. The atomic writer
(:func:`kube_sim.store.files.atomic_write`) checks the file again when it replaces it.

New output options register themselves by adding their entry to the mapping their command passes.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kube_sim.common.errors import InputError
from kube_sim.common.i18n import _
from kube_sim.store.files import kind_of, replace_problem

FOLDER = "folder"
"""A target that is a folder (created if missing)."""
FILE = "file"
"""A target that is one file (replaced whole if it exists)."""

PACKAGE_DIR = Path(__file__).resolve().parent.parent
"""The installed ``kube_sim`` package, where no typed output may go."""


@dataclass(frozen=True)
class Target:
    """One thing a command will write.

    Attributes:
        path: The path (as typed, or the default), or None when the option is not in use.
        kind: :data:`FOLDER` or :data:`FILE`.
        typed: The user typed the path (False: the command's default, which may lie in the package,
            e.g. the shipped scenarios folder of an installed wheel).
    """

    path: str | os.PathLike[str] | None
    kind: str = FOLDER
    typed: bool = True


def check_outputs(targets: Mapping[str, Target | str | os.PathLike[str] | None]) -> None:
    """Check every output target of a command; the first that cannot be used raises.

    Args:
        targets: ``{option: Target}``; a bare path stands for a typed folder, None for an unused option.

    Raises:
        InputError: Naming the option and the path as given, for the first unusable target.
    """
    for option, target in targets.items():
        if target is None:
            continue
        if not isinstance(target, Target):
            target = Target(target)
        if target.path is None:
            continue
        problem = target_problem(Path(target.path), target.kind, target.typed)
        if problem:
            raise InputError(problem, source=option, key=str(target.path))


def target_problem(path: Path, kind: str = FOLDER, typed: bool = True) -> str | None:
    """Why a path cannot be written as a folder or a file, or None when it can.

    Args:
        path: The path.
        kind: :data:`FOLDER` or :data:`FILE`.
        typed: Check that it is not inside the installed package.

    Returns:
        The reason, in a few words, or None.
    """
    if kind not in (FOLDER, FILE):
        raise ValueError(f"unknown kind of output target: {kind!r}")
    if not str(path).strip():
        return _("is empty; give a path")
    if typed and _inside(path, PACKAGE_DIR):
        return _("is inside the installed kube-sim package ({folder}); choose a place of your own").format(
            folder=PACKAGE_DIR)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.lexists(path):
            return _("is a symbolic link to nothing")
        return _creatable(path)
    except NotADirectoryError:
        return _creatable(path)
    except OSError as exc:
        return _("cannot be checked: {reason}").format(reason=exc.strerror or exc)
    if kind == FOLDER:
        if not stat.S_ISDIR(info.st_mode):
            return _("exists and is {kind}, not a folder").format(kind=kind_of(info.st_mode))
        if not os.access(path, os.W_OK | os.X_OK):
            return _("is a folder you cannot write in")
        return _probe(path, _("is a folder that cannot be written in"))
    if stat.S_ISDIR(info.st_mode):
        return _("is a folder; give a file name")
    problem = replace_problem(Path(os.path.realpath(path)))
    if problem:
        return problem
    parent = Path(os.path.realpath(path)).parent
    if not os.access(parent, os.W_OK | os.X_OK):
        return _("cannot be replaced: its folder {folder} is not writable").format(folder=parent)
    return _probe(parent, _("cannot be replaced: its folder {folder} cannot be written in").format(folder=parent))


def _creatable(path: Path) -> str | None:
    """Why a missing path cannot be created (its nearest existing ancestor is no writable folder)."""
    ancestor = Path(os.path.abspath(path)).parent
    while not os.path.lexists(ancestor) and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    try:
        info = os.stat(ancestor)
    except OSError as exc:
        return _("cannot be created: {folder}: {reason}").format(folder=ancestor, reason=exc.strerror or exc)
    if not stat.S_ISDIR(info.st_mode):
        return _("cannot be created: {folder} is {kind}, not a folder").format(folder=ancestor,
                                                                                kind=kind_of(info.st_mode))
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return _("cannot be created: {folder} is not writable").format(folder=ancestor)
    return _probe(ancestor, _("cannot be created in {folder}").format(folder=ancestor))


def _probe(folder: Path, what: str) -> str | None:
    """Why nothing can be made in ``folder``, found by making (and removing) an empty folder there.

    Permission bits do not tell everything: the superuser passes every access check, yet cannot make
    a folder in ``/proc`` or on a file system mounted read-only.
    """
    try:
        made = tempfile.mkdtemp(prefix=".kube-sim-check-", dir=folder)
    except OSError as exc:
        return f"{what}: {exc.strerror or exc}"
    os.rmdir(made)
    return None


def _inside(path: Path, folder: Path) -> bool:
    real = Path(os.path.realpath(path))
    return real == folder or folder in real.parents
