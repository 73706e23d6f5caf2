"""Scenarios: named TOML files holding only the changes from the default parameters.

A scenario file has top-level ``name`` and ``description`` strings, then one table per parameter
section with the changed values, for example::

    name = "ratio_1_20"
    description = "One facilitator for 20 groups: does a doubled caseload cut survival?"

    [facilitators]
    groups_per_facilitator = 20

Shipped scenarios live in ``scenarios/`` at the repository root; the environment variable
``KUBE_SIM_SCENARIOS`` points elsewhere. ``--set KEY=VALUE`` assignments on the command line are
parsed by :func:`parse_assignments` and applied on top with :func:`apply_overrides`.

Every problem with a file or an assignment raises :class:`~kube_sim.common.errors.InputError` (or its
subclass :class:`~kube_sim.common.errors.ParameterError`) naming the file (or ``--set``) and the key.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kube_sim.common.errors import InputError
from kube_sim.model.parameters import PARAMETER_SPECS, SECTIONS, Parameters, coerce_value, make_parameters

SCENARIO_ENV = "KUBE_SIM_SCENARIOS"
"""Environment variable naming a folder of scenario files to use instead of the shipped one."""

SET_SOURCE = "--set"
"""Source named in errors about command-line assignments."""

META_KEYS: tuple[str, ...] = ("name", "description")
"""Top-level keys every scenario file must have (non-empty strings)."""


@dataclass(frozen=True)
class Scenario:
    """A named set of parameter changes and the parameters they give.

    Attributes:
        name: Short name (the file stem for shipped scenarios).
        description: What the scenario tests and why.
        path: The file it was read from (None for one built in code).
        overrides: Every change from the defaults, ``{dotted key: value}`` (file first, then ``--set``).
        params: The validated parameters.
        sources: Where each override came from (``{dotted key: file path or "--set"}``).
    """

    name: str
    description: str
    path: Path | None
    overrides: dict[str, Any]
    params: Parameters
    sources: dict[str, str] = field(default_factory=dict)


def scenario_dir() -> Path:
    """Return the folder scenario names are looked up in.

    Returns:
        ``$KUBE_SIM_SCENARIOS`` if set and non-empty, else ``scenarios/`` at the repository root.
    """
    env = os.environ.get(SCENARIO_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[2] / "scenarios"


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


def list_scenarios() -> list[Scenario]:
    """Load every ``*.toml`` scenario in :func:`scenario_dir`, sorted by file name.

    Returns:
        The scenarios (empty if the folder does not exist).

    Raises:
        InputError: If a file in the folder is invalid.
    """
    folder = scenario_dir()
    if not folder.is_dir():
        return []
    return [load_scenario(path) for path in sorted(folder.glob("*.toml"))]


def _scenario_names(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.toml"))


def _looks_like_path(text: str) -> bool:
    return text.endswith(".toml") or "/" in text or os.sep in text


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    """Find the file of a scenario given by path or by name.

    A value ending in ``.toml`` or holding a folder separator is a path; anything else is the name
    of a file in :func:`scenario_dir`.

    Args:
        name_or_path: A scenario name (``"ratio_1_20"``) or a path to a TOML file.

    Returns:
        The path of an existing file.

    Raises:
        InputError: If no such file exists (suggesting close scenario names).
    """
    folder = scenario_dir()
    if isinstance(name_or_path, Path) or _looks_like_path(str(name_or_path)):
        path = Path(name_or_path).expanduser()
        if path.is_file():
            return path
        if path.is_dir():
            raise InputError("is a folder, not a scenario file", source=display_path(path))
        wanted = path.stem
    else:
        wanted = str(name_or_path)
        path = folder / f"{wanted}.toml"
        if path.is_file():
            return path
    names = _scenario_names(folder)
    close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.5)
    if close:
        hint = f" (did you mean {', '.join(repr(c) for c in close)}?)"
    elif names:
        hint = f" (scenarios in {display_path(folder)}: {', '.join(names)})"
    else:
        hint = f" (no scenarios in {display_path(folder)})"
    raise InputError(f"no such scenario file{hint}", source=display_path(path))


def _read_toml(path: Path, source: str) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", source=source) from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", source=source) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"malformed TOML: {exc}", source=source) from None


def _closest_key_for_name(name: str) -> str | None:
    """The dotted key whose parameter name is closest to a bare name (for misplaced top-level keys)."""
    by_name = {spec.name: key for key, spec in PARAMETER_SPECS.items()}
    close = difflib.get_close_matches(name, by_name, n=1, cutoff=0.6)
    return by_name[close[0]] if close else None


def _flatten_sections(data: dict[str, Any], source: str) -> dict[str, Any]:
    """Turn the section tables of a parsed file into checked ``{dotted key: value}`` overrides."""
    overrides: dict[str, Any] = {}
    for section, table in data.items():
        if section in META_KEYS:
            continue
        if section not in SECTIONS:
            if isinstance(table, dict):
                close = difflib.get_close_matches(section, SECTIONS, n=1, cutoff=0.5)
                hint = f" (did you mean '{close[0]}'?)" if close else f" (sections: {', '.join(SECTIONS)})"
                raise InputError(f"unknown section{hint}", source=source, key=section)
            closest = _closest_key_for_name(section)
            hint = (f" (did you mean '{closest}', written as [{closest.split('.')[0]}] then "
                    f"{closest.split('.')[1]} = ...?)" if closest else " (only name and description go at the top)")
            raise InputError(f"unknown top-level key{hint}", source=source, key=section)
        if not isinstance(table, dict):
            raise InputError(f"expected a table of parameters ([{section}] then key = value lines), "
                             f"got {table!r}", source=source, key=section)
        for name, value in table.items():
            key = f"{section}.{name}"
            try:
                overrides[key] = coerce_value(key, value)
            except InputError as exc:
                raise exc.located(source) from None
    return overrides


def _meta(data: dict[str, Any], key: str, source: str) -> str:
    if key not in data:
        raise InputError(f"missing: a scenario file needs a top-level {key} = \"...\"", source=source, key=key)
    value = data[key]
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"expected a non-empty string, got {value!r}", source=source, key=key)
    return value.strip()


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Read, check and build a scenario.

    Args:
        name_or_path: A scenario name (a file in :func:`scenario_dir`) or a path to a TOML file.

    Returns:
        The :class:`Scenario`, with validated parameters.

    Raises:
        InputError: For a missing file, malformed TOML, a missing name or description, an unknown
            section or key, a wrong type or a value out of range; the message names the file and key.
    """
    path = resolve_scenario_path(name_or_path)
    source = display_path(path)
    data = _read_toml(path, source)
    name = _meta(data, "name", source)
    description = _meta(data, "description", source)
    overrides = _flatten_sections(data, source)
    try:
        params = make_parameters(overrides)
    except InputError as exc:
        raise exc.located(source) from None
    return Scenario(name=name, description=description, path=path, overrides=overrides, params=params,
                    sources=dict.fromkeys(overrides, source))


def parse_value(text: str) -> Any:
    """Parse the value of a ``KEY=VALUE`` assignment as a TOML value; bare words become strings.

    Args:
        text: The text after ``=`` (``5000000``, ``true``, ``[4, 3, 1]``, ``needs_based``, ``"a b"``).

    Returns:
        The parsed value.
    """
    text = text.strip()
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_assignments(assignments: list[str] | tuple[str, ...] | None, source: str = SET_SOURCE) -> dict[str, Any]:
    """Parse and check ``KEY=VALUE`` assignments (the ``--set`` option).

    Args:
        assignments: Strings such as ``"grants.equipment_rp=5000000"``; later ones win.
        source: What errors name as the input's origin.

    Returns:
        ``{dotted key: checked value}``.

    Raises:
        InputError: For a missing ``=``, an unknown key (suggesting the closest), a wrong type or a
            value out of range.
    """
    out: dict[str, Any] = {}
    for item in assignments or ():
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"expected KEY=VALUE (e.g. facilitators.groups_per_facilitator=20), got {item!r}",
                             source=source)
        try:
            out[key] = coerce_value(key, parse_value(text))
        except InputError as exc:
            raise exc.located(source) from None
    return out


def apply_overrides(scenario: Scenario, overrides: dict[str, Any], source: str = SET_SOURCE) -> Scenario:
    """Return a copy of a scenario with more parameter changes on top.

    Args:
        scenario: The scenario to start from.
        overrides: ``{dotted key: value}``, e.g. from :func:`parse_assignments`.
        source: What errors (and :attr:`Scenario.sources`) name as the changes' origin.

    Returns:
        A new :class:`Scenario` with merged overrides and rebuilt parameters.

    Raises:
        InputError: For an unknown key, a wrong type, a value out of range or an inconsistency.
    """
    if not overrides:
        return scenario
    try:
        checked = {key: coerce_value(key, value) for key, value in overrides.items()}
        params = make_parameters(checked, base=scenario.params)
    except InputError as exc:
        raise exc.located(source) from None
    return dataclasses.replace(
        scenario,
        overrides={**scenario.overrides, **checked},
        params=params,
        sources={**scenario.sources, **dict.fromkeys(checked, source)},
    )


def toml_value(value: Any) -> str:
    """Format a parameter value as TOML text (so it can be pasted into a file or ``--set``).

    Args:
        value: A parameter value.

    Returns:
        The value as TOML (``true``, ``"round_robin"``, ``1_000_000``, ``[4, 3, 1]``).
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, int):
        return f"{value:_d}"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return f"{value:_.1f}"
        return repr(value)
    return repr(value)
