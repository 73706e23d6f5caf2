"""What the page reads from a model, as plain values: the only module of the app that knows the model's tables.

Everything here is a pure function of a :class:`~kube_sim.model.model.KubeModel` (or of settings), so
the page stays free of the model's internals and the adapter can be tested without a browser.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kube_sim.common import keys
from kube_sim.common.i18n import _, fmt_fixed, speaking
from kube_sim.experiments.district_file import DEFAULT_DISTRICT, list_district_names, load_district, use_district
from kube_sim.experiments.scenario import list_scenarios, load_scenario
from kube_sim.model.codes import FAILURE_CAUSES, GroupStatus
from kube_sim.model.geography import DistrictMap
from kube_sim.model.model import KubeModel
from kube_sim.model.parameters import BUSINESS_TYPES, Parameters, make_parameters
from kube_sim.model.parameters import VISIT_PATTERNS as VISIT_PATTERNS  # passed on to the page

CONTROL_KEYS: tuple[str, ...] = (
    keys.CASELOAD,
    keys.HOURS,
    keys.PATTERN,
    keys.EQUIPMENT,
    keys.INACTIVE_SHARE,
    keys.UEP_PER_MEMBER,
)
"""Parameters the page's controls set, on top of the chosen scenario."""

DISTRICT_ENV = "KUBE_SIM_APP_DISTRICT"
"""Environment variable through which ``kube-sim app --district FILE`` names the page's starting district."""

GROUP_STATES: tuple[str, ...] = ("training", "active", "conflict", "failed")
"""States a group is shown in: training, business running, running with an open conflict, failed."""

SERIES: tuple[str, ...] = ("groups_running", "survival", "income_per_member_rp", "visits",
                           "share_unvisited_quarter", "cost_to_date_rp")
"""The monthly series the page charts (``survival`` is by months since funding, the others by month)."""


@dataclass(frozen=True)
class GroupView:
    """One group as the district view shows it.

    Attributes:
        index: Group index in the model.
        state: One of :data:`GROUP_STATES`.
        facilitator: Facilitator index (-1 for none).
        unvisited: Running and not visited for a quarter or more.
    """

    index: int
    state: str
    facilitator: int
    unvisited: bool


@dataclass(frozen=True)
class VillageView:
    """A village and its groups (empty when none was funded there).

    Attributes:
        index: Village index in the model.
        groups: Its groups.
        name: Its name from the district file ("" when the file gives none: the page then says "Village 3").
        number: Its place in its kecamatan, from 1.
    """

    index: int
    groups: tuple[GroupView, ...]
    name: str = ""
    number: int = 0


@dataclass(frozen=True)
class KecamatanView:
    """A kecamatan (sub-district) with its villages."""

    name: str
    remote: bool
    villages: tuple[VillageView, ...]


@dataclass(frozen=True)
class Caseload:
    """One facilitator's caseload this month.

    Attributes:
        facilitator: Facilitator index.
        groups: Running groups on the caseload.
        unvisited: Of those, groups with no visit for a quarter or more.
        visits: Visits made since hiring.
    """

    facilitator: int
    groups: int
    unvisited: int
    visits: int


@dataclass(frozen=True)
class Story:
    """One group's story: who it is, what it holds and what happened to it.

    Attributes:
        index: Group index.
        facts: Ordered ``(label key, value)`` pairs (values already formatted).
        members: ``(member index, active, still in the group)`` for each member household.
        events: ``(month, event kind name, value)`` in time order.
        cause: Failure cause name, ``"none"`` while running.
        village: ``(name, number in its kecamatan)`` of the group's village (name "" when the file gives none).
    """

    index: int
    facts: tuple[tuple[str, str], ...]
    members: tuple[tuple[int, bool, bool], ...]
    events: tuple[tuple[int, str, float], ...]
    cause: str
    village: tuple[str, int] = ("", 0)

    @property
    def member_counts(self) -> dict[str, int]:
        """How many members are active, inactive and gone (:data:`MEMBER_KINDS`), as the member marks show them."""
        counts = dict.fromkeys(MEMBER_KINDS, 0)
        for _member, active, inside in self.members:
            counts[member_kind(active, inside)] += 1
        return counts


MEMBER_KINDS: tuple[str, ...] = ("member_active", "member_inactive", "member_left")
"""What a member of a group's story is: active, inactive (still in the group) or gone (left, or the group failed)."""


def member_kind(active: bool, inside: bool) -> str:
    """A member's kind in :data:`MEMBER_KINDS`: gone when out of the group, else active or inactive."""
    return "member_left" if not inside else "member_active" if active else "member_inactive"


@dataclass(frozen=True)
class Settings:
    """What the controls hold: a starting scenario, parameter values on top of it and the seed.

    Attributes:
        scenario: Shipped scenario name.
        values: ``{dotted key: value}`` for the :data:`CONTROL_KEYS` (missing keys keep the scenario's value).
        seed: Run seed.
        district: A district file's name or path ("": :func:`default_district_choice`).
    """

    scenario: str = "baseline"
    values: dict[str, Any] = field(default_factory=dict)
    seed: int = 42
    district: str = ""


def scenario_names() -> list[str]:
    """Return the shipped scenarios' names, baseline first."""
    names = [s.name for s in list_scenarios()]
    return sorted(names, key=lambda n: (n != "baseline", n))


def scenario_menu(language: str = "en") -> list[tuple[str, str]]:
    """Return the scenarios as a menu shows them: ``(name, title in the language)``, baseline first.

    Args:
        language: A language code (``"en"``, ``"id"``); titles are translated through the message catalog.

    Returns:
        The pairs, in the order of :func:`scenario_names`.
    """
    by_name = {s.name: s for s in list_scenarios()}
    with speaking(language):
        return [(name, _(by_name[name].shown_title)) for name in scenario_names()]


def scenario_title(name: str, language: str = "en") -> str:
    """Return a scenario's title in a language (its name when it has none)."""
    with speaking(language):
        return _(load_scenario(name).shown_title)


def scenario_description(name: str, language: str = "en") -> str:
    """Return a scenario's description in a language (translated through the message catalog)."""
    with speaking(language):
        return _(load_scenario(name).description)


def changed_keys(settings: Settings) -> list[str]:
    """Return the controls whose value differs from the scenario's own (a slider moved and left elsewhere).

    Args:
        settings: The controls.

    Returns:
        The dotted keys, in the order of :data:`CONTROL_KEYS`.
    """
    if not settings.values:
        return []
    own = make_params(Settings(scenario=settings.scenario, district=settings.district))
    now = make_params(settings)
    return [key for key in CONTROL_KEYS if now.get(key) != own.get(key)]


def default_district_choice() -> str:
    """Return the district the page starts in: the one ``kube-sim app --district`` gave, else Polewali Mandar."""
    return os.environ.get(DISTRICT_ENV, "").strip() or DEFAULT_DISTRICT


def district_choices() -> list[str]:
    """Return the districts the page offers: the starting one first, then the shipped ones."""
    first = default_district_choice()
    return [first, *(name for name in list_district_names() if name != first)]


def district_menu() -> list[tuple[str, str]]:
    """Return the districts as a menu shows them: ``(choice, the district's name from its file)``.

    Two districts of the same name are told apart by their choice (the file's name or path) in brackets.

    Returns:
        The pairs, in the order of :func:`district_choices`.
    """
    choices = district_choices()
    names = [district(choice).name for choice in choices]
    return [(choice, f"{name} ({choice})" if names.count(name) > 1 else name)
            for choice, name in zip(choices, names, strict=True)]


def district(choice: str = "") -> DistrictMap:
    """Return a district by name or path ("": the starting one), read once.

    Args:
        choice: A district file's name or path.

    Returns:
        The district.

    Raises:
        InputError: For a missing or bad file.
    """
    return _read_district(choice or default_district_choice())


@functools.lru_cache(maxsize=32)
def _read_district(choice: str) -> DistrictMap:
    return load_district(choice)


def make_params(settings: Settings) -> Parameters:
    """Return the parameters of a scenario in the chosen district with the controls' values on top.

    Args:
        settings: The controls.

    Returns:
        Validated parameters.
    """
    base = use_district(load_scenario(settings.scenario), district(settings.district)).params
    return make_parameters(settings.values, base=base)


def build_model(settings: Settings) -> KubeModel:
    """Build a fresh model (month 0) from the controls.

    Args:
        settings: The controls.

    Returns:
        The model.
    """
    return KubeModel(make_params(settings), seed=settings.seed)


def _group_states(model: KubeModel) -> np.ndarray:
    g = model.groups
    states = np.where(g.status == GroupStatus.TRAINING, 0, 1)
    states = np.where((g.status == GroupStatus.ACTIVE) & g.conflict_open, 2, states)
    return np.where(g.status == GroupStatus.FAILED, 3, states)


def _unvisited(model: KubeModel) -> np.ndarray:
    g = model.groups
    quarter = model.params.facilitators.unvisited_after_months
    return (g.status != GroupStatus.FAILED) & (model.month - g.last_visit >= quarter)


def state_counts(model: KubeModel) -> dict[str, int]:
    """Return how many groups are in each of :data:`GROUP_STATES`, plus ``unvisited``."""
    states = _group_states(model)
    counts = {name: int(np.sum(states == i)) for i, name in enumerate(GROUP_STATES)}
    counts["unvisited"] = int(np.sum(_unvisited(model)))
    return counts


def district_view(model: KubeModel) -> list[KecamatanView]:
    """Return the district: every kecamatan, its villages and their groups.

    Args:
        model: The model.

    Returns:
        One :class:`KecamatanView` per kecamatan, in the district's order.
    """
    d = model.district
    g = model.groups
    states = _group_states(model)
    unvisited = _unvisited(model)
    by_village: dict[int, list[GroupView]] = {}
    for i in range(g.size):
        by_village.setdefault(int(g.village[i]), []).append(
            GroupView(i, GROUP_STATES[states[i]], int(g.facilitator[i]), bool(unvisited[i])))
    villages_of = [np.flatnonzero(d.village_kecamatan == k) for k in range(len(d.kecamatan_names))]
    names = village_names(model)
    return [
        KecamatanView(
            name=d.kecamatan_names[k],
            remote=bool(d.kecamatan_remote[k]),
            villages=tuple(VillageView(int(v), tuple(by_village.get(int(v), ())), *names[int(v)])
                           for v in villages_of[k]),
        )
        for k in range(len(d.kecamatan_names))
    ]


def village_names(model: KubeModel) -> list[tuple[str, int]]:
    """Every village's name from the district file and its place in its kecamatan (from 1).

    The name is "" where the file gives none, or where ``district.villages`` spread another number of
    villages over the kecamatan than the file names.

    Args:
        model: The model.

    Returns:
        ``(name, number)`` by village index.
    """
    d = model.district
    geo = model.params.geography.kecamatan
    out: list[tuple[str, int]] = [("", 0)] * d.n_villages
    for k in range(len(d.kecamatan_names)):
        villages = np.flatnonzero(d.village_kecamatan == k)
        given = geo[k % len(geo)].village_names
        for number, v in enumerate(villages, 1):
            out[int(v)] = (given[number - 1] if len(given) == len(villages) else "", number)
    return out


def caseloads(model: KubeModel) -> list[Caseload]:
    """Return every facilitator's caseload of running groups this month."""
    g = model.groups
    running = g.status != GroupStatus.FAILED
    unvisited = _unvisited(model)
    return [
        Caseload(f, int(np.sum(running & (g.facilitator == f))), int(np.sum(unvisited & (g.facilitator == f))),
                 int(model.facilitators.visits_made[f]))
        for f in range(model.facilitators.size)
    ]


def survival_curve(model: KubeModel) -> pd.Series:
    """Share of groups still running by months since funding, among groups funded at least that long ago.

    Args:
        model: The model.

    Returns:
        Survival indexed by months since funding (0 to the oldest group's age); empty before funding.
    """
    g = model.groups
    if g.size == 0:
        return pd.Series(dtype=float, name="survival")
    age = model.month - g.funded_month
    failed_age = np.where(g.status == GroupStatus.FAILED, g.failed_month - g.funded_month, np.iinfo(np.int32).max)
    months = np.arange(0, int(age.max()) + 1)
    values = [float(np.mean(failed_age[age >= a] > a)) for a in months]
    return pd.Series(values, index=pd.Index(months, name="months_since_funding"), name="survival")


def monthly_series(model: KubeModel) -> pd.DataFrame:
    """Return the charted monthly series, one row per month run (empty at month 0).

    Args:
        model: The model.

    Returns:
        Columns ``groups_running, income_per_member_rp, visits, share_unvisited_quarter,
        cost_to_date_rp``, indexed by month.
    """
    frame = model.datacollector.get_model_vars_dataframe()
    out = pd.DataFrame(index=pd.Index(np.arange(1, len(frame) + 1), name="month"))
    if len(frame):
        out["groups_running"] = (frame["groups_funded"] - frame["groups_failed"]).to_numpy()
        for column in ("income_per_member_rp", "visits", "share_unvisited_quarter", "cost_to_date_rp"):
            out[column] = frame[column].to_numpy(dtype=float)
    return out


def group_story(model: KubeModel, index: int) -> Story:
    """Return one group's story from the model's tables and event log.

    Args:
        model: The model.
        index: Group index.

    Returns:
        The :class:`Story`; its numbers are written in the language spoken (:func:`kube_sim.common.i18n.speaking`).

    Raises:
        IndexError: If there is no such group.
    """
    g = model.groups
    if not 0 <= index < g.size:
        raise IndexError(f"no group {index}")
    d = model.district
    m = model.members
    rows = np.flatnonzero(m.group == index)
    state = GROUP_STATES[_group_states(model)[index]]
    cause = FAILURE_CAUSES[int(g.cause[index])]
    members = tuple((int(r), bool(m.active[r]), bool(m.in_group[r])) for r in rows)
    village = village_names(model)[int(g.village[index])]
    story = Story(index=index, facts=(), members=members, events=tuple(model.event_log.for_group(index)),
                  cause=cause, village=village)
    counts = story.member_counts
    facts = (
        ("state", state),
        ("kecamatan", d.kecamatan_names[int(g.kecamatan[index])]),
        ("village", village[0] or str(village[1])),
        ("business", BUSINESS_TYPES[int(g.business[index])]),
        ("facilitator", f"F{int(g.facilitator[index])}" if g.facilitator[index] >= 0 else "-"),
        ("funded_month", str(int(g.funded_month[index]))),
        # counted from the same members as the marks beside them: a failed group's members have all gone
        ("members_active", f"{counts['member_active']} / {len(members)}"),
        ("members_inactive", str(counts["member_inactive"])),
        ("members_left", str(counts["member_left"])),
        ("cash", f"Rp {fmt_fixed(g.cash[index], 0)}"),
        ("stock", fmt_fixed(int(g.units[index]), 0)),
        ("equipment", fmt_fixed(100 * g.equipment[index], 0) + "%"),
        ("visits_total", str(int(g.visits[index]))),
        ("conflicts", str(int(g.conflicts[index]))),
        ("cohesion", fmt_fixed(g.cohesion[index], 2, grouped=False)),
    )
    return dataclasses.replace(story, facts=facts)


@dataclass(frozen=True)
class Snapshot:
    """Everything the page shows of one model at one month, read at once (the model may move on meanwhile).

    Attributes:
        month: The model's month.
        groups: Groups funded so far.
        view: The district (:func:`district_view`).
        counts: Groups by state (:func:`state_counts`).
        caseloads: Facilitators' caseloads (:func:`caseloads`).
        monthly: The charted monthly series (:func:`monthly_series`).
        survival: The survival curve (:func:`survival_curve`).
        story: The selected group's story, or None.
    """

    month: int
    groups: int
    view: list[KecamatanView]
    counts: dict[str, int]
    caseloads: list[Caseload]
    monthly: pd.DataFrame
    survival: pd.Series
    story: Story | None


def snapshot(model: KubeModel, selected: int = -1, language: str = "en") -> Snapshot:
    """Read everything the page shows of a model.

    Args:
        model: The model.
        selected: The group whose story is shown (-1: none).
        language: The language the story's numbers are written in (``"en"``, ``"id"``).

    Returns:
        The :class:`Snapshot`.
    """
    with speaking(language):
        story = group_story(model, selected) if 0 <= selected < model.groups.size else None
    return Snapshot(month=model.month, groups=model.groups.size, view=district_view(model),
                    counts=state_counts(model), caseloads=caseloads(model), monthly=monthly_series(model),
                    survival=survival_curve(model), story=story)
