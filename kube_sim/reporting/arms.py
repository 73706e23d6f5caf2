"""Arms as a planner names them, and the reference arm a report compares every other arm with.

An experiment file may name its arms (``[arms]``) and its reference (``reference``); the sweep
records both in the manifest (each arm's ``name``, and ``reference_arm``). An arm without a name is
called by what it changes, in words: ``1:8 caseload, no equipment grant``, never
``groups_per_facilitator=8, equipment_rp=0``.

Nothing here runs or imports the model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from kube_sim.common import keys
from kube_sim.common.i18n import _
from kube_sim.reporting.formats import fmt_percent, fmt_rp, fmt_setting


def _number(value: Any) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool)


def _whole(value: Any) -> str:
    return fmt_setting("", value)


PHRASES: dict[str, Callable[[Any], str]] = {
    keys.CASELOAD: lambda v: _("no facilitators") if v == 0 else _(
        "{ratio} caseload").format(ratio=f"1:{_whole(v)}"),
    keys.HEADCOUNT: lambda v: _("staffed by caseload") if v == 0 else _("{n} facilitators").format(
        n=_whole(v)),
    keys.HOURS: lambda v: _("{hours} hours a month").format(hours=_whole(v)),
    keys.PATTERN: lambda v: _("{pattern} visits").format(pattern=str(v).replace("_", "-")),
    keys.TARGETS: lambda v: _("with targets") if v else _("without targets"),
    keys.EQUIPMENT: lambda v: _("no equipment grant") if v == 0 else _("{amount} equipment grant").format(
        amount=fmt_rp(v)),
    keys.EQUIPMENT_MONTH: lambda v: _("grant with the UEP") if v == 0 else _(
        "grant after {months} months").format(months=_whole(v)),
    keys.INACTIVE_SHARE: lambda v: _("{share} inactive at start").format(
        share=fmt_percent(v, 0)) if _number(v) else str(v),
    "scenario": str,
}
"""How a factor's value reads in an arm's name, for the levers planners use most."""


def phrase(key: str, value: Any) -> str:
    """One factor's value in words (``1:8 caseload``), or ``name value`` for other parameters.

    Args:
        key: Dotted parameter key (or ``scenario``).
        value: Its value.

    Returns:
        The words.
    """
    if key in PHRASES:
        try:
            return PHRASES[key](value)
        except (TypeError, ValueError):
            pass
    name = key.rsplit(".", 1)[-1].removesuffix("_rp").replace("_", " ")
    return f"{name} {fmt_setting(key, value)}"


def arm_names(arms: Sequence[int], manifest: Mapping[str, Any], factors: Sequence[str],
              values: Mapping[int, Mapping[str, Any]]) -> dict[int, str]:
    """Each arm's name: the one the experiment gave it, else what it changes in words.

    Args:
        arms: The arms, in order.
        manifest: The results manifest (each entry of ``arms`` may carry a ``name``).
        factors: The sweep's factors.
        values: Each arm's factor values.

    Returns:
        ``{arm: name}``; names are unique (a clash gets the arm number added).
    """
    given = {int(a["arm"]): str(a["name"]) for a in manifest.get("arms") or [] if a.get("name")}
    varying = [k for k in factors if len({repr(values.get(a, {}).get(k)) for a in arms}) > 1]
    names = {}
    for arm in arms:
        if arm in given:
            names[arm] = given[arm]
        elif varying:
            names[arm] = ", ".join(phrase(k, values.get(arm, {}).get(k, "?")) for k in varying)
        else:
            names[arm] = _("arm {arm}").format(arm=arm)
    counts: dict[str, int] = {}
    for name in names.values():
        counts[name] = counts.get(name, 0) + 1
    return {arm: (_("{name} (arm {arm})").format(name=name, arm=arm) if counts[name] > 1 else name)
            for arm, name in names.items()}


def resolve_arm(choice: int | str, names: Mapping[int, str]) -> int:
    """The arm a ``--baseline-arm`` value means: an arm number, or an arm's name.

    Args:
        choice: A number, or a name (or a number written as text).
        names: ``{arm: name}``.

    Returns:
        The arm.

    Raises:
        ValueError: If no arm has that number or name.
    """
    text = str(choice).strip()
    if text.isdigit() and int(text) in names:
        return int(text)
    for arm, name in names.items():
        if name == text:
            return arm
    listed = "; ".join(f"{arm}: {name}" for arm, name in names.items())
    raise ValueError(_("baseline arm {arm} is neither an arm's number nor its name (arms: {listed})").format(
        arm=repr(text), listed=listed))


def reference_reason(manifest: Mapping[str, Any], chosen: int, matching: int | None, by_option: bool) -> str:
    """Why the report compares every arm with ``chosen``, in one clause.

    Args:
        manifest: The results manifest.
        chosen: The reference arm used.
        matching: The arm equal to the base scenario, if any.
        by_option: Whether ``--baseline-arm`` chose it.

    Returns:
        E.g. ``the experiment file names it as its reference``.
    """
    named = manifest.get("reference_arm")
    if by_option:
        text = _("chosen for this report with --baseline-arm")
        if named is not None and int(named) != chosen:
            text += _(" (the experiment's own reference is arm {arm})").format(arm=named)
        return text
    if named is not None and int(named) == chosen:
        return _("the experiment file names it as its reference")
    if matching == chosen:
        return _("the experiment names no reference, and this arm has the base scenario's parameters")
    return _("the experiment names no reference and no arm has exactly the base scenario's parameters, so the first "
             "arm is used")


def names_from_manifest(manifest: Mapping[str, Any], arms: Sequence[int]) -> dict[int, str]:
    """Each arm's name from a results manifest alone (its ``arms`` entries: names and parameters).

    Args:
        manifest: The results manifest.
        arms: The arms to name.

    Returns:
        ``{arm: name}`` (see :func:`arm_names`).
    """
    values = {int(a["arm"]): dict(a.get("parameters") or {}) for a in manifest.get("arms") or []}
    factors = list(dict.fromkeys(key for entry in values.values() for key in entry))
    return arm_names(list(arms), manifest, factors, values)
