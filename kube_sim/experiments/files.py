"""Finding and reading the files of scenarios, experiments and districts, by name or by path.

A name (``ratio_1_20``) is a file in a folder of its kind: the folder an environment variable
names (``KUBE_SIM_SCENARIOS``, ``KUBE_SIM_EXPERIMENTS``), else the shipped one. The shipped
folders are the repository's ``scenarios/`` and ``experiments/`` in a source checkout, and the
copies below the package :mod:`kube_sim.shipped` in an installed wheel (found with
:mod:`importlib.resources`). A value ending in ``.toml`` or holding a folder separator is a path.
District files (``.csv``, ``KUBE_SIM_DISTRICTS``) live below :mod:`kube_sim.shipped` in both.

Every problem raises :class:`~kube_sim.common.errors.InputError` naming the file.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from kube_sim.common.errors import InputError
from kube_sim.common.i18n import _

SHIPPED_PACKAGE = "kube_sim.shipped"
"""The package whose folders hold the shipped files in an installed wheel."""

REPOSITORY = Path(__file__).resolve().parents[2]
"""The source checkout's root (the folder holding the package ``kube_sim``)."""


def display_path(path: Path) -> str:
    """Return a path as short as is still clear: relative to the working folder when inside it.

    Args:
        path: Any path.

    Returns:
        The path as text.
    """
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def shipped_folder(name: str) -> Path:
    """Return the folder of the shipped files of one kind.

    Args:
        name: ``"scenarios"``, ``"experiments"`` or ``"districts"``.

    Returns:
        The installed package's copy when there is one, else the source checkout's top-level folder.
    """
    packaged = resources.files(SHIPPED_PACKAGE) / name
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    return REPOSITORY / name


def looks_like_path(text: str) -> bool:
    """Tell a path (ending in ``.toml`` or holding a folder separator) from a name.

    Args:
        text: A name or a path.

    Returns:
        True for a path.
    """
    return text.endswith(".toml") or "/" in text or os.sep in text


@dataclass(frozen=True)
class TomlFiles:
    """The files of one kind (TOML unless ``suffix`` says otherwise), found by name in a folder or by path.

    Attributes:
        kind: What one file holds, as messages name it (``"scenario"``).
        folder_name: The shipped folder's name (``"scenarios"``).
        env: Environment variable naming a folder to use instead of the shipped one.
        suffix: The files' suffix (``".toml"``; ``".csv"`` for districts).
    """

    kind: str
    folder_name: str
    env: str
    suffix: str = ".toml"

    def folder(self) -> Path:
        """Return the folder names are looked up in.

        Returns:
            The folder the environment variable names when it is set and not empty, else the shipped one.
        """
        env = os.environ.get(self.env, "").strip()
        return Path(env).expanduser() if env else shipped_folder(self.folder_name)

    def paths(self) -> list[Path]:
        """Return the files with :attr:`suffix` in :meth:`folder`, sorted by name (none if it does not exist)."""
        folder = self.folder()
        return sorted(p for p in folder.glob(f"*{self.suffix}") if p.is_file()) if folder.is_dir() else []

    def names(self) -> list[str]:
        """Return the names (file stems) of the files in :meth:`folder`, sorted."""
        return [path.stem for path in self.paths()]

    def find(self, name_or_path: str | Path) -> Path:
        """Find a file given by name or by path.

        Args:
            name_or_path: A name (``"ratio_1_20"``) or a path to a file.

        Returns:
            The path of an existing file.

        Raises:
            InputError: If no such file exists (suggesting close names) or the path is a folder.
        """
        folder = self.folder()
        text = str(name_or_path)
        if isinstance(name_or_path, Path) or looks_like_path(text) or text.endswith(self.suffix):
            path = Path(name_or_path).expanduser()
            if path.is_file():
                return path
            if path.is_dir():
                raise InputError(_("is a folder; expected a {kind} file").format(kind=_(self.kind)),
                                 source=display_path(path))
            wanted = path.stem
        else:
            wanted = str(name_or_path)
            path = folder / f"{wanted}{self.suffix}"
            if path.is_file():
                return path
        names = self.names()
        close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.5)
        if close:
            hint = _(" (did you mean {names}?)").format(names=", ".join(repr(c) for c in close))
        elif names:
            hint = _(" ({what} in {folder}: {names})").format(what=_(self.folder_name),
                                                             folder=os.path.join(display_path(folder), ""),
                                                             names=", ".join(names))
        else:
            hint = _(" (no {what} in {folder})").format(what=_(self.folder_name),
                                                       folder=os.path.join(display_path(folder), ""))
        raise InputError(_("no such {kind} file{hint}").format(kind=_(self.kind), hint=hint), source=display_path(path))


def suggestion(word: str, choices: Sequence[str], label: str, prefix: str = "") -> str:
    """Return the hint for an unknown word in a file: the closest choice, else every choice.

    Args:
        word: The unknown word.
        choices: The words allowed there.
        label: What the choices are, when listed (``"sections"``).
        prefix: Put before the closest choice (``"design."``).

    Returns:
        Text such as `` (did you mean 'design.kind'?)`` or `` (sections: a, b)``.
    """
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    if close:
        return _(" (did you mean '{key}'?)").format(key=f"{prefix}{close[0]}")
    return f" ({_(label)}: {', '.join(choices)})"


def read_text(path: Path, source: str) -> str:
    """Read a file as UTF-8 text.

    Args:
        path: The file.
        source: The file as errors name it.

    Returns:
        The text.

    Raises:
        InputError: If it cannot be read or is not UTF-8.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(_("cannot read: {why}").format(why=exc.strerror or exc), source=source) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(_("not UTF-8 text (byte {byte})").format(byte=exc.start), source=source) from None


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """Parse TOML text.

    Args:
        text: The text.
        source: The file as errors name it.

    Returns:
        The parsed tables.

    Raises:
        InputError: If the text is not valid TOML (naming the line).
    """
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(toml_problem(str(exc)), source=source) from None


_TOML_WHERE = re.compile(r"^(?P<what>.*?) \((?:at line (?P<line>\d+), column (?P<column>\d+)|at end of document)\)$")


def toml_problem(message: str) -> str:
    """The TOML reader's complaint in the language spoken: where it is, then the reader's own words, quoted.

    Args:
        message: The reader's message, e.g. ``Invalid value (at line 3, column 5)``.

    Returns:
        E.g. ``malformed TOML at line 3, column 5: "Invalid value"``.
    """
    match = _TOML_WHERE.match(message)
    if not match:
        return _("malformed TOML: {why}").format(why=message)
    what = f'"{match["what"]}"'
    if match["line"]:
        return _("malformed TOML at line {line}, column {column}: {why}").format(
            line=match["line"], column=match["column"], why=what)
    return _("malformed TOML at the end of the file: {why}").format(why=what)


def file_name(data: dict[str, Any], path: Path | None, source: str, kind: str) -> str:
    """Return the ``name`` of a scenario or experiment file: its top-level ``name``, else its file name.

    Args:
        data: The parsed file.
        path: The file (None for text not read from a file, which must then hold a name).
        source: The file as errors name it.
        kind: What the file holds, as messages name it.

    Returns:
        The name.

    Raises:
        InputError: If ``name`` is not a non-empty string, or is missing from text without a file.
    """
    if "name" not in data and path is not None:
        return path.stem
    return optional_text(data, "name", source, required=f'missing: give the {kind} a top-level name = "..."')


def optional_text(data: dict[str, Any], key: str, source: str, required: str = "") -> str:
    """Return a top-level string of a file, stripped ("" when absent).

    Args:
        data: The parsed file.
        key: The key.
        source: The file as errors name it.
        required: The error's reason when the key is absent and must be present ("": it may be absent).

    Returns:
        The string.

    Raises:
        InputError: If the value is not a non-empty string, or is absent when required.
    """
    if key not in data:
        if required:
            raise InputError(required, source=source, key=key)
        return ""
    value = data[key]
    if not isinstance(value, str) or not value.strip():
        raise InputError(_("expected a non-empty string, got {value}").format(value=repr(value)), source=source,
                         key=key)
    return value.strip()
