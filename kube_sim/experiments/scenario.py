"""Scenarios: named TOML files holding only the changes from another scenario (by default the baseline).

A scenario file has one table per parameter section with the changed values, after optional
top-level ``name`` (default: the file's name without ``.toml``), ``title`` (a few plain words for
menus, e.g. "Baseline"; default: the name), ``description`` and ``base`` strings, for example::

    name = "ratio_1_20"
    title = "One facilitator per 20 groups"
    description = "One facilitator for 20 groups: does a doubled caseload cut survival?"

    [facilitators]
    groups_per_facilitator = 20

A file holding only ``[facilitators]`` then ``groups_per_facilitator = 20`` is a scenario too.

``base`` names the scenario the changes apply to: ``"baseline"`` when absent, ``"defaults"`` for the
model's own defaults (the parameter registry), or any scenario name or path. The shipped baseline
sits on ``calibrated`` (the values ``kube-sim calibrate`` fitted), which sits on the defaults, so
every shipped scenario is the calibrated baseline plus its own changes.

A file written by ``kube-sim calibrate`` also carries two tables that are not parameters:
``[calibration]`` (its provenance: method, targets, fit, date; kept as read) and ``[ensemble]``
(``keys``, a list of dotted keys, and ``members``, a list of value lists, one per accepted parameter
set), which ``--ensemble NAME`` runs replications over.
Shipped scenarios live in ``scenarios/`` at the repository root (see
:mod:`kube_sim.experiments.files`); the environment variable ``KUBE_SIM_SCENARIOS`` points
elsewhere. ``--set KEY=VALUE`` assignments on the command line are parsed by
:func:`parse_assignments` and applied on top with :func:`apply_overrides`.

Every problem with a file or an assignment raises :class:`~kube_sim.common.errors.InputError` (or its
subclass :class:`~kube_sim.common.errors.ParameterError`) naming the file (or ``--set``) and the key.
"""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kube_sim.common.errors import InputError
from kube_sim.common.i18n import N_, _, ngettext
from kube_sim.experiments.files import (
    TomlFiles,
    display_path,
    file_name,
    looks_like_path,
    optional_text,
    parse_toml,
    read_text,
    shipped_folder,
    suggestion,
)
from kube_sim.model.parameters import PARAMETER_SPECS, SECTIONS, Parameters, coerce_value, make_parameters

SET_SOURCE = "--set"
"""Source named in errors about command-line assignments."""

META_KEYS: tuple[str, ...] = ("name", "title", "description", "base")
"""Top-level keys a scenario file may have (non-empty strings); the name defaults to the file's name."""

META_TABLES: tuple[str, ...] = ("calibration", "ensemble")
"""Top-level tables that are not parameter sections: a calibration's provenance and its ensemble."""

DEFAULT_BASE = "baseline"
"""The scenario a file's changes apply to when it names no ``base``."""

DEFAULTS_BASE = "defaults"
"""The ``base`` that means the model's own defaults."""


@dataclass(frozen=True)
class Scenario:
    """A named set of parameter changes and the parameters they give.

    Attributes:
        name: Short name (the file's name without ``.toml`` unless the file sets one).
        title: Plain words for menus and legends, in English ("" when the file has none: see :attr:`shown_title`).
        description: What the scenario tests and why ("" when the file has none).
        path: The file it was read from (None for one built in code).
        overrides: Every change from the defaults, ``{dotted key: value}`` (file first, then ``--set``).
        params: The validated parameters.
        sources: Where each override came from (``{dotted key: file path or "--set"}``).
        base: The scenario it is built on (``"defaults"`` for the model's defaults).
        calibration: The file's ``[calibration]`` provenance table (empty for most scenarios).
        ensemble: The file's accepted parameter sets (``{dotted key: value}`` each; empty for most).
    """

    name: str
    description: str
    path: Path | None
    overrides: dict[str, Any]
    params: Parameters
    sources: dict[str, str] = field(default_factory=dict)
    base: str = DEFAULTS_BASE
    calibration: dict[str, Any] = field(default_factory=dict)
    ensemble: tuple[dict[str, Any], ...] = ()
    title: str = ""

    @property
    def shown_title(self) -> str:
        """The title, else the name: what a menu shows (in English; the catalog translates it)."""
        return self.title or self.name


SCENARIO_FILES = TomlFiles(kind=N_("scenario"), folder_name=N_("scenarios"), env="KUBE_SIM_SCENARIOS")
"""Scenario files: by name in ``$KUBE_SIM_SCENARIOS`` or the shipped folder, or by path."""

scenario_dir = SCENARIO_FILES.folder


def list_scenarios() -> list[Scenario]:
    """Load every ``*.toml`` scenario in :func:`scenario_dir`, sorted by file name.

    Returns:
        The scenarios (empty if the folder does not exist).

    Raises:
        InputError: If a file in the folder is invalid.
    """
    return [load_scenario(path) for path in SCENARIO_FILES.paths()]


def _closest_key_for_name(name: str) -> str | None:
    """The dotted key whose parameter name is closest to a bare name (for misplaced top-level keys)."""
    by_name = {spec.name: key for key, spec in PARAMETER_SPECS.items()}
    close = difflib.get_close_matches(name, by_name, n=1, cutoff=0.6)
    return by_name[close[0]] if close else None


def _flatten_sections(data: dict[str, Any], source: str) -> dict[str, Any]:
    """Turn the section tables of a parsed file into checked ``{dotted key: value}`` overrides."""
    overrides: dict[str, Any] = {}
    for section, table in data.items():
        if section in META_KEYS or section in META_TABLES:
            continue
        if section not in SECTIONS:
            if isinstance(table, dict):
                hint = suggestion(section, tuple(SECTIONS), N_("sections"))
                raise InputError(_("unknown section{hint}").format(hint=hint), source=source, key=section)
            closest = _closest_key_for_name(section)
            hint = (_(" (did you mean '{key}', written as [{section}] then {name} = ...?)").format(
                key=closest, section=closest.split(".")[0], name=closest.split(".")[1]) if closest
                else _(" (only name, title, description and base go at the top)"))
            raise InputError(_("unknown top-level key{hint}").format(hint=hint), source=source, key=section)
        if not isinstance(table, dict):
            reason = _("expected a table of parameters ([{section}] then key = value lines), got {value}")
            raise InputError(reason.format(section=section, value=repr(table)), source=source, key=section)
        for name, value in table.items():
            key = f"{section}.{name}"
            try:
                overrides[key] = coerce_value(key, value)
            except InputError as exc:
                raise exc.located(source) from None
    return overrides


def _ensemble(data: dict[str, Any], source: str) -> tuple[dict[str, Any], ...]:
    """The ``[ensemble]`` table as checked parameter sets (empty when the file has none)."""
    table = data.get("ensemble")
    if table is None:
        return ()
    if not isinstance(table, dict) or set(table) != {"keys", "members"}:
        raise InputError(_("expected a table with 'keys' (dotted keys) and 'members' (lists of values)"),
                         source=source, key="ensemble")
    keys, members = table["keys"], table["members"]
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
        raise InputError(_("expected a non-empty list of dotted parameter keys"), source=source, key="ensemble.keys")
    if not isinstance(members, list) or not members:
        raise InputError(_("expected a non-empty list of parameter sets"), source=source, key="ensemble.members")
    out = []
    for i, values in enumerate(members):
        where = f"ensemble.members[{i}]"
        if not isinstance(values, list) or len(values) != len(keys):
            raise InputError(_("expected a list of {n} values (one per key)").format(n=len(keys)), source=source,
                             key=where)
        member = {}
        for key, value in zip(keys, values, strict=True):
            try:
                member[key] = coerce_value(key, value)
            except InputError as exc:
                raise InputError(exc.reason, source=source, key=f"{where}: {key}") from None
        try:
            make_parameters(member)
        except InputError as exc:
            raise InputError(exc.reason, source=source, key=f"{where}: {exc.key or ''}".rstrip(": ")) from None
        out.append(member)
    return tuple(out)


def _calibration(data: dict[str, Any], source: str) -> dict[str, Any]:
    table = data.get("calibration", {})
    if not isinstance(table, dict):
        raise InputError(_("expected a table (the calibration's provenance)"), source=source, key="calibration")
    return table


def _find_base(base_name: str, path: Path, source: str) -> Path:
    """The file of a ``base``.

    A path (relative to the file's folder), else a name in the scenario folder, else a shipped scenario.
    """
    if looks_like_path(base_name):
        candidate = Path(base_name).expanduser()
        if not candidate.is_absolute() and (path.parent / candidate).is_file():
            return path.parent / candidate
    try:
        return SCENARIO_FILES.find(base_name)
    except InputError as exc:
        shipped = shipped_folder(SCENARIO_FILES.folder_name) / f"{base_name}.toml"
        if not looks_like_path(base_name) and shipped.is_file():
            return shipped
        raise InputError(_("base scenario not found: {why}").format(why=exc.reason), source=source,
                         key="base") from None


def load_scenario(name_or_path: str | Path, _seen: tuple[Path, ...] = ()) -> Scenario:
    """Read, check and build a scenario, on top of the scenario it names as its ``base``.

    Args:
        name_or_path: A scenario name (a file in :func:`scenario_dir`) or a path to a TOML file.
        _seen: Files already being loaded further down the chain of bases (to catch a cycle).

    Returns:
        The :class:`Scenario`, with validated parameters: its base's changes, then its own.

    Raises:
        InputError: For a missing file, malformed TOML, an empty name, title or description, an unknown
            section or key, a wrong type or a value out of range, a base that is missing or leads
            back to the file; the message names the file and key.
    """
    path = SCENARIO_FILES.find(name_or_path)
    source = display_path(path)
    data = parse_toml(read_text(path, source), source)
    name = file_name(data, path, source, "scenario")
    title = optional_text(data, "title", source)
    description = optional_text(data, "description", source)
    base_name = optional_text(data, "base", source) or DEFAULT_BASE
    overrides = _flatten_sections(data, source)
    ensemble = _ensemble(data, source)
    calibration = _calibration(data, source)
    inherited: dict[str, Any] = {}
    sources: dict[str, str] = {}
    if base_name != DEFAULTS_BASE:
        resolved = path.resolve()
        base_path = _find_base(base_name, path, source)
        if base_path.resolve() in (*_seen, resolved):
            raise InputError(_("'{name}' leads back to this file; write base = \"defaults\" or name another "
                               "scenario").format(name=base_name), source=source, key="base")
        parent = load_scenario(base_path, (*_seen, resolved))
        inherited, sources = dict(parent.overrides), dict(parent.sources)
    try:
        params = make_parameters({**inherited, **overrides})
    except InputError as exc:
        raise exc.located(source) from None
    return Scenario(name=name, description=description, path=path, overrides={**inherited, **overrides},
                    params=params, sources={**sources, **dict.fromkeys(overrides, source)}, base=base_name,
                    calibration=calibration, ensemble=ensemble, title=title)


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
            raise InputError(_("expected KEY=VALUE (e.g. facilitators.groups_per_facilitator=20), got {value}").format(
                value=repr(item)),
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


def parameter_value(params: Parameters, key: str) -> Any:
    """The value of one dotted parameter key in a set of parameters.

    Args:
        params: The parameters.
        key: ``section.name``.

    Returns:
        The value.
    """
    section, name = key.split(".", 1)
    return getattr(getattr(params, section), name)


def unchanged_keys(scenario: Scenario, overrides: dict[str, Any]) -> list[str]:
    """The changes that change nothing: each key whose new value equals the scenario's own.

    Args:
        scenario: The scenario the changes go on.
        overrides: ``{dotted key: value}`` (checked values, as :func:`parse_assignments` gives).

    Returns:
        The keys, in order.
    """
    return [key for key, value in overrides.items() if parameter_value(scenario.params, key) == value]


def unreached_changes(params: Parameters, months: int, keys: Iterable[str] | None = None) -> list[str]:
    """Levers set so that they act only after a run of ``months`` months ends: one sentence each.

    Args:
        params: The parameters of the run.
        months: Length of the run.
        keys: Only the levers among these dotted keys (the changes asked for); None: every lever.

    Returns:
        Sentences naming the key and why the run never reaches it (empty when all act within the run).
    """
    out = []
    f = params.funding
    last_round = 1 + 12 * (f.rounds - 1)
    if f.rounds > 1 and last_round > months:
        held = 1 + (months - 1) // 12
        out.append(f"funding.rounds={f.rounds}: " + ngettext(
            "a run of {months} months holds only {held} yearly round (round {rounds} would be in month {last})",
            "a run of {months} months holds only {held} yearly rounds (round {rounds} would be in month {last})",
            held).format(months=months, held=held, rounds=f.rounds, last=last_round))
    g = params.grants
    if g.equipment_rp > 0 and g.equipment_month > 0 and 1 + g.equipment_month > months:
        out.append(f"grants.equipment_month={g.equipment_month}: " + _(
            "the equipment grant would arrive after the run's {months} months end, so no group gets it").format(
            months=months))
    if params.training.enabled and params.training.months >= months:
        out.append(f"training.months={params.training.months}: " + _(
            "no business starts within the run's {months} months").format(months=months))
    wanted = None if keys is None else set(keys)
    return [sentence for sentence in out if wanted is None or sentence.split("=", 1)[0] in wanted]
