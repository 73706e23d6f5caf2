"""The teaching page (Solara): policy controls, the district, charts over time, a group's story, two arms side by side.

Served by ``kube-sim app``. Nothing here builds a model at import: models are built when a page
opens, one set per browser tab. Everything the page reads from a model goes through
:mod:`kube_sim.app.state`.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

import pandas as pd
import solara
import solara.lab

from kube_sim.app import exports, state, svg_charts
from kube_sim.app.charts import ARM_COLOURS, SeriesChart
from kube_sim.app.clock import MAX_MONTH, Clock
from kube_sim.app.compare import REPLICATION_MONTHS, REPLICATIONS, paired_replications, replication_seeds
from kube_sim.app.labels import LANGUAGES, label
from kube_sim.common import keys
from kube_sim.common.i18n import fmt_fixed, localize, speaking
from kube_sim.reporting.formats import fmt_juta, fmt_percent, fmt_rp, fmt_signed

if TYPE_CHECKING:
    from kube_sim.model.model import KubeModel

STATE_COLOURS: dict[str, str] = {"training": "#f2c14e", "active": "#4a9c5d", "conflict": "#e07b39",
                                 "failed": "#9e9e9e"}
"""Fill colour of a group chip by state."""

STATE_SYMBOLS: dict[str, str] = {"training": "◔", "active": "", "conflict": "!", "failed": "✕"}
"""A mark beside the chip's label by state, so that colour is never the only sign."""

MEMBER_MARKS: dict[str, tuple[str, str]] = {"member_active": ("●", "#4a9c5d"), "member_inactive": ("◐", "#c62828"),
                                            "member_left": ("○", "#757575")}
"""A member's mark and colour in a group's story: active, inactive, left."""

MONEY_EVENTS: frozenset[str] = frozenset({"funded", "sale", "payout", "equipment_purchase", "equipment_grant",
                                          "follow_up_support"})
"""Event kinds whose value is an amount of money (Rp)."""

PLAY_TO_MONTH = 36
"""Where Play stops unless the teacher sets another month."""

PRESETS: dict[str, tuple[str, str]] = {"preset_staff": ("baseline", "ratio_1_5"),
                                       "preset_equipment": ("baseline", "equipment_grant")}
"""Side-by-side presets: label key and the two scenarios."""

# Slider scale for each control: (minimum, maximum, step, factor from parameter units to slider units).
_SLIDERS: dict[str, tuple[float, float, float, float]] = {
    keys.CASELOAD: (0, 40, 1, 1.0),
    keys.HOURS: (0, 160, 5, 1.0),
    keys.EQUIPMENT: (0, 15, 0.5, 1e-6),
    keys.INACTIVE_SHARE: (0, 0.8, 0.05, 1.0),
    keys.UEP_PER_MEMBER: (0.5, 5, 0.25, 1e-6),
}

CSS = """
.kube-district { display: flex; flex-wrap: wrap; gap: 5px; }
.kube-kec { border: 1px solid #d7dde2; border-radius: 6px; padding: 4px 5px; width: 166px; background: #fbfcfd; }
.kube-kec-name { font-size: 12px; font-weight: 600; color: #36454f; }
.kube-kec-remote { font-size: 10px; color: #8a5a00; margin-left: 4px; }
.kube-villages { display: flex; flex-wrap: wrap; gap: 3px; margin-top: 3px; }
.kube-village-name { font-size: 9px; color: #607080; line-height: 12px; padding: 0 1px; }
.kube-village { min-width: 12px; min-height: 12px; border: 1px solid #e3e7ea; border-radius: 3px;
                display: flex; gap: 2px; padding: 1px; background: white; }
.kube-group-chip { min-width: 0; height: 20px; padding: 0 3px; border: 0; border-radius: 3px; font-size: 10px;
                   color: white; cursor: pointer; font-family: inherit; line-height: 20px; }
.kube-group-chip.kube-unvisited { outline: 2px solid #c62828; outline-offset: 1px; }
.kube-group-chip.kube-selected { outline: 3px solid #1a237e; outline-offset: 1px; }
.kube-legend span.kube-swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px;
                                margin: 0 3px 0 10px; vertical-align: middle; }
.kube-chart-data { font-size: 12px; color: #36454f; }
.kube-story table, .kube-caseloads table { font-size: 12px; }
.kube-story { max-height: 980px; overflow-y: auto; }
.kube-table { border-collapse: collapse; font-size: 12px; margin: 4px 0 8px 0; }
.kube-table th, .kube-table td { padding: 2px 8px; border-bottom: 1px solid #eceff1; text-align: left; }
.kube-table td:not(:first-child) { text-align: right; white-space: nowrap; }
.kube-story-events .kube-table td:nth-child(2) { text-align: left; white-space: normal; }
.kube-ctl { margin-top: 6px; }
.kube-ctl-label { font-size: 13px; color: #36454f; }
.kube-ctl .v-input__slot { margin-bottom: 0; }
.kube-ctl .v-messages { display: none; }
.kube-description, .kube-help { font-size: 12px; color: #555; margin: 4px 0; }
.kube-month-box { font-size: 26px; margin-left: 24px; color: #36454f; }
.kube-month { font-weight: 700; }
.kube-chart-image { width: 100%; }
.kube-alert { color: #c62828; font-weight: 700; }
.kube-stale { color: #8a5a00; background: #fff4e0; border-left: 4px solid #e0a030; padding: 6px 10px; margin: 6px 0; }
.kube-caseloads .kube-table th { text-align: right; }
"""

PROJECTOR_CSS = """
.kube-kec { width: 232px; padding: 6px 7px; }
.kube-kec-name { font-size: 18px; }
.kube-kec-remote { font-size: 15px; }
.kube-villages { gap: 5px; }
.kube-village-name { font-size: 14px; line-height: 18px; }
.kube-group-chip { height: 30px; line-height: 30px; font-size: 18px; padding: 0 6px; font-weight: 600; }
.kube-group-chip.kube-unvisited { outline: 4px solid #c62828; outline-offset: 2px; }
.kube-group-chip.kube-selected { outline: 5px solid #1a237e; outline-offset: 2px; }
.kube-legend, .kube-chart-data, .kube-table, .kube-story table, .kube-caseloads table, .kube-stale,
.kube-story { font-size: 18px; }
.kube-help { font-size: 16px; }
.kube-legend span.kube-swatch { width: 18px; height: 18px; }
.kube-month-box { font-size: 36px; }
.kube-svg-charts { grid-template-columns: repeat(2, minmax(0, 1fr)); max-width: none; }
.kube-svg-title { font-size: 15px; }
.kube-svg-tick, .kube-svg-axis { font-size: 11px; }
.kube-svg-line { stroke-width: 4; }
.kube-svg-legend { font-size: 20px; }
.kube-latest { margin: 4px 0 8px 0; }
"""
"""Projector mode's styles, added after the page's own: text readable from the back of a classroom.

The charts' panels go two to a row, so their text (in the panels' own units) is drawn about twice as
large as on a laptop's screen; the groups' chips, their labels and the rings of unvisited groups grow.
"""

PROJECTOR_PARAMETER = "projector"
"""The page's address carries projector mode (``http://127.0.0.1:8765/?projector=1``): a reload or a
bookmark keeps it, and each tab has its own."""


def projector_on(search: str | None) -> bool:
    """Whether the address's query string (``a=1&projector=1``) turns projector mode on."""
    return dict(parse_qsl(search or "")).get(PROJECTOR_PARAMETER) == "1"


def projector_address(path: str, search: str | None, on: bool) -> str:
    """The page's address with projector mode turned on or off, other query parameters kept.

    Args:
        path: The address's path (``/``).
        search: Its query string, without the ``?``.
        on: Projector mode wanted.

    Returns:
        E.g. ``/?projector=1``.
    """
    pairs = [(name, value) for name, value in parse_qsl(search or "") if name != PROJECTOR_PARAMETER]
    if on:
        pairs.append((PROJECTOR_PARAMETER, "1"))
    return (path or "/") + ("?" + urlencode(pairs) if pairs else "")


language = solara.reactive("en")
mode = solara.reactive("single")
settings = solara.reactive(state.Settings())
arms = solara.reactive(PRESETS["preset_staff"])
speed = solara.reactive(3)
play_to = solara.reactive(PLAY_TO_MONTH)
selected = solara.reactive(-1)
tick = solara.reactive(0)
generation = solara.reactive(0)
replication_months = solara.reactive(REPLICATION_MONTHS)
replications_done = solara.reactive(0)


def _set_whole(set_value: Callable[[str, Any], None], key: str, shown: float) -> None:
    """A whole-number slider sets its parameter to the value shown."""
    set_value(key, int(shown))


def _set_scaled(set_value: Callable[[str, Any], None], key: str, factor: float, shown: float) -> None:
    """A slider showing ``value x factor`` (say Rp juta) sets its parameter to ``shown / factor``."""
    set_value(key, round(float(shown) / factor, 6))


def _t(key: str) -> str:
    return label(key, language.value)


def _menu(text: str, items: list[tuple[str, str]], value: str, on_value: Callable[[str], None],
          dense: bool = False) -> None:
    """A drop-down list that shows plain words and hands back the code: ``items`` are ``(code, words)``."""
    solara.v.Select(label=text, items=[{"text": words, "value": code} for code, words in items], v_model=value,
                    on_v_model=on_value, dense=dense)


def policy_name(current: state.Settings, lang: str) -> str:
    """The current policy in words: the scenario's title, marked as changed when a control moved it off its values.

    Args:
        current: The controls.
        lang: The language.

    Returns:
        E.g. "Baseline" or "Baseline (changed)" ("Dasar (diubah)").
    """
    title = state.scenario_title(current.scenario, lang)
    return label("changed", lang).format(name=title) if state.changed_keys(current) else title


def _chart_names(current_mode: str, current: state.Settings, current_arms: tuple[str, str], lang: str) -> list[str]:
    """What the charts call each line: the policy in one district, ``A: <title>`` and ``B: <title>`` side by side."""
    if current_mode == "single":
        return [policy_name(current, lang)]
    return [f"{arm}: {state.scenario_title(name, lang)}" for arm, name in zip("AB", current_arms, strict=True)]


def village_label(name: str, number: int, lang: str) -> str:
    """A village's name, else "Village 3" ("Desa 3"): its place in its kecamatan."""
    return name or label("village_n", lang).format(n=number)


@solara.lab.task
def replicate(inputs: tuple[str, str, int, int, str]) -> tuple[tuple[str, str, int, int, str], pd.DataFrame]:
    """Run the paired replications of the side-by-side view (in a thread, off the page's event loop).

    Args:
        inputs: ``(scenario A, scenario B, seed, months, district)``, as from :func:`_replication_inputs`.

    Returns:
        The inputs and the table, so that the page can tell when the table no longer matches its inputs.
    """
    scenario_a, scenario_b, seed, months, district = inputs
    replications_done.set(0)
    a = state.make_params(state.Settings(scenario=scenario_a, district=district))
    b = state.make_params(state.Settings(scenario=scenario_b, district=district))
    return inputs, paired_replications(a, b, seeds=replication_seeds(seed), months=months,
                                       on_done=replications_done.set)


def _replication_inputs() -> tuple[str, str, int, int, str]:
    """What the replication table depends on: both arms, the seed, the months and the district."""
    a, b = arms.value
    return a, b, settings.value.seed, replication_months.value, settings.value.district


def _build(current_mode: str, current: state.Settings, current_arms: tuple[str, str]) -> list[KubeModel]:
    if current_mode == "single":
        return [state.build_model(current)]
    return [state.build_model(state.Settings(scenario=name, seed=current.seed, district=current.district))
            for name in current_arms]


def _fmt(value: float, key: str, lang: str | None = None) -> str:
    """A value as the page shows it, in the language's number format: ``83%``, ``Rp 1.234.567``, ``Rp 708 juta``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    with speaking(lang or language.value):
        if key.startswith(("survival", "share", "mean_share")):
            return str(fmt_percent(value, 0))
        if key == "cost_to_date_rp":
            return str(fmt_juta(value))
        if key.endswith("_rp"):
            return str(fmt_rp(value))
        return fmt_fixed(value, 0)


def _latest(snap: state.Snapshot) -> list[tuple[str, str]]:
    """The charts' latest values as ``(label, formatted value)``; survival at 12 months once groups are that old.

    Survival is named as on its chart ("Survival since funding"), with the months it is read at.
    """
    monthly = snap.monthly
    survival = snap.survival
    out = []
    for key in state.SERIES:
        if key == "survival":
            if len(survival) > 12:
                out.append((_t("survival_12"), _fmt(float(survival.iloc[12]), key)))
            elif len(survival):
                out.append((_t("survival_at").format(months=int(survival.index[-1])),
                            _fmt(float(survival.iloc[-1]), key)))
            else:
                out.append((_t(key), _fmt(math.nan, key)))
        else:
            out.append((_t(key), _fmt(float(monthly[key].iloc[-1]) if len(monthly) else math.nan, key)))
    return out


@solara.component
def Controls() -> None:
    """Policy controls: scenario, the policy levers and the seed; changing one resets the run."""
    current = settings.value
    params = state.make_params(current)
    lang = language.value
    menu = solara.use_memo(lambda: state.scenario_menu(lang), [lang])
    description = solara.use_memo(lambda: state.scenario_description(current.scenario, lang),
                                  [current.scenario, lang])

    def set_scenario(name: str) -> None:
        settings.set(dataclasses.replace(current, scenario=name, values={}))
        selected.set(-1)

    def set_value(key: str, value: Any) -> None:
        set_values({**current.values, key: value})

    def set_values(values: dict[str, Any]) -> None:
        settings.set(dataclasses.replace(current, values=values))
        selected.set(-1)

    solara.HTML(tag="h3", unsafe_innerHTML=_t("controls"))
    with solara.Div(classes=["kube-ctl-scenario"]):
        _menu(_t("scenario"), menu, current.scenario, set_scenario)
    solara.HTML(tag="p", unsafe_innerHTML=html.escape(description), classes=["kube-description"])
    solara.Button(_t("scenario_values"), icon_name="mdi-backup-restore", outlined=True, small=True,
                  disabled=not current.values, classes=["kube-scenario-values"],
                  on_click=lambda: set_values({}), style="margin: 0 0 4px 0;")
    for key, (low, high, step, factor) in _SLIDERS.items():
        value = params.get(key) * factor
        slug = key.split(".")[1]
        with speaking(lang):
            shown = localize(f"{value:g}") if key != keys.INACTIVE_SHARE else str(fmt_percent(value, 0))
        with solara.Div(classes=[f"kube-ctl-{slug}", "kube-ctl"]):
            solara.HTML(tag="div", unsafe_innerHTML=f"{_t(key)}: <b class='kube-value'>{shown}</b>",
                        classes=["kube-ctl-label"])
            if isinstance(step, int) and isinstance(low, int):
                solara.SliderInt("", value=int(value), min=int(low), max=int(high), step=int(step),
                                 on_value=functools.partial(_set_whole, set_value, key))
            else:
                solara.SliderFloat("", value=float(value), min=low, max=high, step=step,
                                   on_value=functools.partial(_set_scaled, set_value, key, factor))
        if key == keys.HOURS:
            with solara.Div(classes=["kube-ctl-pattern"]):
                _menu(_t(keys.PATTERN), [(p, _t(p)) for p in state.VISIT_PATTERNS], params.get(keys.PATTERN),
                      lambda v: set_value(keys.PATTERN, v))


@solara.component
def DistrictChoice() -> None:
    """The district the runs are in (both arms): the starting one and the shipped ones."""
    current = settings.value
    menu = solara.use_memo(state.district_menu, [])
    value = current.district or menu[0][0]

    def set_district(choice: str) -> None:
        settings.set(dataclasses.replace(current, district=choice))
        selected.set(-1)

    with solara.Div(classes=["kube-ctl-district"]):
        _menu(_t("district_choice"), menu, value, set_district)


@solara.component
def ArmControls() -> None:
    """Side-by-side controls: the two arms' scenarios and the presets."""
    lang = language.value
    menu = solara.use_memo(lambda: state.scenario_menu(lang), [lang])
    a, b = arms.value
    solara.HTML(tag="h3", unsafe_innerHTML=_t("presets"))
    for key, pair in PRESETS.items():
        solara.Button(_t(key), on_click=lambda p=pair: arms.set(p), outlined=arms.value != pair, color="primary",
                      classes=[f"kube-{key}"], style="margin: 2px 0; width: 100%;")
    with solara.Div(classes=["kube-arm-a"]):
        _menu(_t("arm_a"), menu, a, lambda v: arms.set((v, arms.value[1])))
    with solara.Div(classes=["kube-arm-b"]):
        _menu(_t("arm_b"), menu, b, lambda v: arms.set((arms.value[0], v)))


@solara.component
def SeedInput() -> None:
    """The run seed, shared by both arms."""
    current = settings.value

    def set_seed(value: int | None) -> None:
        if value is not None and value >= 0:
            settings.set(dataclasses.replace(current, seed=int(value)))

    with solara.Div(classes=["kube-ctl-seed"], style="margin: 8px 0 12px 0;"):
        solara.InputInt(_t("seed"), value=current.seed, on_value=set_seed)


@solara.component
def Transport(clock: Clock, month: int, playing: bool) -> None:
    """Play, pause, step, reset, the speed and the month Play stops at; every click goes through the clock.

    A click only tells the clock where to head (see :mod:`kube_sim.app.clock`), so clicks never queue
    up behind drawing, and Reset always lands on month 0 of the current settings.
    """

    def play() -> None:
        clock.play(speed.value, play_to.value)  # the clock draws the page when Play has started

    def pause() -> None:
        clock.pause()

    def reset() -> None:
        clock.pause()
        selected.set(-1)
        generation.set(generation.value + 1)

    def set_speed(value: int) -> None:
        speed.set(value)
        clock.set_speed(value)

    def set_play_to(value: int | None) -> None:
        if value is not None and 1 <= value <= MAX_MONTH:
            play_to.set(int(value))
            clock.set_stop_at(int(value))

    with solara.Row(style="align-items: center; flex-wrap: wrap;", classes=["kube-transport"]):
        if playing:
            solara.Button(_t("pause"), icon_name="mdi-pause", on_click=pause, color="primary",
                          classes=["kube-pause"])
        else:
            target = play_to.value if play_to.value > month else MAX_MONTH
            solara.Button(_t("play_until").format(month=target), icon_name="mdi-play", on_click=play,
                          color="primary", classes=["kube-play"], disabled=month >= MAX_MONTH)
        solara.Button(_t("step"), icon_name="mdi-step-forward", on_click=clock.step, outlined=True,
                      classes=["kube-step"], disabled=playing or month >= MAX_MONTH)
        solara.Button(_t("reset"), icon_name="mdi-restore", on_click=reset, outlined=True, classes=["kube-reset"])
        with solara.Div(style="width: 170px; margin-left: 12px;", classes=["kube-play-to"]):
            solara.InputInt(_t("play_to"), value=play_to.value, on_value=set_play_to, dense=True,
                            continuous_update=True)  # a Play right after typing already heads for the new month
        with solara.Div(style="width: 240px; margin-left: 12px;", classes=["kube-speed"]):
            solara.HTML(tag="div", unsafe_innerHTML=f"{_t('speed')}: <b>{speed.value}</b>", classes=["kube-ctl-label"])
            solara.SliderInt("", value=speed.value, min=1, max=12, on_value=set_speed)
        solara.HTML(tag="div", unsafe_innerHTML=f"{_t('month')} <span class='kube-month'>{month}</span>",
                    classes=["kube-month-box"])


@solara.component
def Legend(counts: dict[str, int]) -> None:
    """Colour key of the group states, with how many groups are in each."""
    parts = [f"<span class='kube-swatch' style='background:{STATE_COLOURS[s]}'>{STATE_SYMBOLS[s]}</span>{_t(s)} "
             f"<b class='kube-count-{s}'>{counts[s]}</b>" for s in state.GROUP_STATES]
    parts.append("<span class='kube-swatch' style='background:white; outline:2px solid #c62828'></span>"
                 f"{_t('unvisited')} <b class='kube-count-unvisited'>{counts['unvisited']}</b>")
    solara.HTML(tag="div", unsafe_innerHTML=" ".join(parts), classes=["kube-legend"])


def _chip(group: state.GroupView) -> dict[str, Any]:
    """What the district's template needs of one group: its index, state, colour, label and hover text."""
    text = f"F{group.facilitator}" if group.facilitator >= 0 else "–"
    if STATE_SYMBOLS[group.state]:
        text = f"{STATE_SYMBOLS[group.state]} {text}"
    title = f"{_t('group')} {group.index}: {_t(group.state)}" + (f", {_t('unvisited')}" if group.unvisited else "")
    return {"index": group.index, "state": group.state, "colour": STATE_COLOURS[group.state], "text": text,
            "title": title, "unvisited": group.unvisited}


def district_data(view: list[state.KecamatanView], lang: str | None = None) -> list[dict[str, Any]]:
    """The district as plain data for its template: kecamatan, their villages and the villages' groups.

    A village's ``name`` (its hover text) is its name from the district file, else "Village 3" ("Desa 3"),
    its place in its kecamatan; ``label``, shown in its box, is the file's name only ("" without one).
    """
    lang = lang or language.value
    return [{"name": kec.name, "remote": kec.remote,
             "villages": [{"key": village.index, "name": village_label(village.name, village.number, lang),
                           "label": village.name, "groups": [_chip(group) for group in village.groups]}
                          for village in kec.villages]}
            for kec in view]


@solara.component_vue("district.vue")
def DistrictMap(kecamatan: list[dict[str, Any]], selected: int, remote: str,
                event_select: Callable[[int], None]) -> None:
    """Every kecamatan with its villages and their groups, drawn by the browser from plain data (one widget).

    Args:
        kecamatan: As from :func:`district_data`.
        selected: The selected group's index (-1 for none).
        remote: The word shown beside a remote kecamatan.
        event_select: Called with a group's index when its chip is clicked.
    """


@solara.component
def District(snap: state.Snapshot) -> None:
    """The district: every kecamatan with its villages and their groups; a click on a group opens its story."""
    data = solara.use_memo(lambda: district_data(snap.view), [snap.view, language.value])
    with solara.Card(_t("district"), margin=0, classes=["kube-district-card"]):
        solara.HTML(tag="p", unsafe_innerHTML=_t("district_help"), classes=["kube-help"])
        Legend(snap.counts)
        DistrictMap(kecamatan=data, selected=selected.value, remote=_t("remote"),
                    event_select=lambda index: selected.set(int(index)))


@solara.component
def Caseloads(snap: state.Snapshot) -> None:
    """Each facilitator's running groups and how many of them went unvisited for a quarter."""
    rows = snap.caseloads
    if not rows:
        return
    table = _table([_t("facilitator")] + [f"F{c.facilitator}" for c in rows],
                   [[_t("caseload_row")] + [c.groups for c in rows],
                    [_t("unvisited")] + [f"<span class='kube-alert'>{c.unvisited}</span>" if c.unvisited
                                         else "0" for c in rows],
                    [_t("visits_total")] + [c.visits for c in rows]])
    with solara.Card(_t("caseloads"), margin=0, classes=["kube-caseloads"], style="margin-top: 8px;"):
        solara.HTML(tag="div", unsafe_innerHTML=table)


@solara.component
def StoryCard(snap: state.Snapshot) -> None:
    """The selected group's story: members, money, stock, equipment, visits, conflicts and its events."""
    with solara.Card(_t("story"), margin=0, classes=["kube-story"]):
        story = snap.story
        if story is None:
            solara.HTML(tag="p", unsafe_innerHTML=_t("story_help"))
            return
        lang = language.value
        facts = [[_t(key), _t(value) if key in ("state", "business")
                  else html.escape(village_label(*story.village, lang)) if key == "village" else value]
                 for key, value in story.facts]
        solara.HTML(tag="div", unsafe_innerHTML=f"<b>{_t('group')} {story.index}</b>" + _table(["", ""], facts),
                    classes=["kube-story-facts"])
        if story.cause != "none":
            solara.Error(f"{_t('why_failed')}: {_t('cause_' + story.cause)}", classes=["kube-story-cause"])
        def mark(key: str) -> str:
            symbol, colour = MEMBER_MARKS[key]
            return f"<span class='kube-{key}' title='{_t(key)}' style='color:{colour}'>{symbol}</span>"

        members = " ".join(mark(state.member_kind(active, inside)) for _, active, inside in story.members)
        counts = story.member_counts
        key_text = " / ".join(f"{mark(key)} {_t(key)} <b class='kube-{key}-count'>{counts[key]}</b>"
                              for key in MEMBER_MARKS)
        solara.HTML(tag="div", unsafe_innerHTML=f"<b>{_t('members')}</b>: <span class='kube-member-marks'>{members}"
                    f"</span> <small>({key_text})</small>")
        lines = [[month, _t(kind), _event_detail(kind, value, lang)] for month, kind, value in story.events]
        solara.HTML(tag="div", unsafe_innerHTML=f"<b>{_t('events')}</b>" + _table([_t("month"), "", ""], lines),
                    classes=["kube-story-events"])


def _event_detail(kind: str, value: float, lang: str) -> str:
    """What an event of a group's story adds: the cause, the facilitator, an amount (always in Rp) or a number."""
    if kind == "failure":
        return label("cause_" + state.FAILURE_CAUSES[int(value)], lang)
    if kind == "visit":
        return f"F{int(value)}"
    if not value:
        return ""
    with speaking(lang):
        return f"Rp {fmt_fixed(value, 0)}" if kind in MONEY_EVENTS else fmt_fixed(value, 0)


def charts_png(names: list[str], snaps: list[state.Snapshot], lang: str) -> bytes:
    """The charts as one PNG picture (drawn with matplotlib), for the Save button: only when it is clicked."""
    chart = SeriesChart(names, lang)
    chart.update(_arms(names, snaps))
    return chart.png()


def _arms(names: list[str], snaps: list[state.Snapshot]) -> list[tuple[str, pd.DataFrame, pd.Series]]:
    """Each arm as the charts take it: ``(name, monthly series, survival curve)``."""
    return [(name, snap.monthly, snap.survival) for name, snap in zip(names, snaps, strict=True)]


@solara.component
def LatestValues(snaps: list[state.Snapshot], names: list[str]) -> None:
    """The charts' latest values as text, one line per arm (the arm's colour and line as its mark)."""
    lines = []
    for i, (name, snap) in enumerate(zip(names, snaps, strict=True)):
        values = " · ".join(f"{name}: <b>{value}</b>" for name, value in _latest(snap))
        lines.append(f"<div><span style='color:{ARM_COLOURS[i % 2]}'>{'■' if i % 2 == 0 else '▲'}</span> "
                     f"<b>{name}</b> ({_t('month')} {snap.month}) — {values}</div>")
    solara.HTML(tag="div", unsafe_innerHTML="".join(lines), classes=["kube-chart-data"])


@solara.component
def Charts(snaps: list[state.Snapshot], names: list[str], with_values: bool = True) -> None:
    """The monthly charts (SVG drawn by the browser), the arms overlaid, a Save button and the latest values.

    Args:
        snaps: One snapshot per arm.
        names: The arms' names, as the legend shows them.
        with_values: Show the latest values under the charts (projector mode shows them at the top).
    """
    arms_data = _arms(names, snaps)
    lang = language.value
    markup = solara.use_memo(lambda: svg_charts.charts_html(names, arms_data, lang),
                             [tuple(id(snap) for snap in snaps), tuple(names), lang])
    with solara.Card(_t("charts"), margin=0, classes=["kube-charts"], style="margin-top: 8px;"):
        solara.HTML(tag="div", unsafe_innerHTML=markup, classes=["kube-chart-image"])
        # One callable for the tab's life, reading the charts shown when it is called: the button's inputs
        # then stay the same month after month, so it is not redrawn each month (nor a download cancelled).
        shown = solara.use_ref((names, snaps, lang))
        shown.current = (names, snaps, lang)
        draw = solara.use_memo(lambda: lambda: charts_png(*shown.current), [])
        with solara.Row(style="align-items: center;"):
            with solara.Div(classes=["kube-save-png"]):
                solara.FileDownload(draw, filename=exports.file_name("kube-charts", None, ".png"),
                                    label=_t("save_charts"), icon_name="mdi-image", mime_type="image/png")
        if with_values:
            LatestValues(snaps, names)


@solara.component
def Replications() -> None:
    """The button that runs paired replications of both arms, and the difference with its interval.

    The table is shown only while its inputs (both arms, the seed, the months, the district) are the
    page's: after any change it gives way to an "out of date" notice until Run is pressed again.
    """
    inputs = _replication_inputs()
    with solara.Card(_t("replications"), margin=0, classes=["kube-replications"], style="margin-top: 8px;"):
        with solara.Row(style="align-items: center;"):
            solara.Button(_t("replicate"), icon_name="mdi-repeat", color="primary", classes=["kube-replicate"],
                          disabled=replicate.pending, on_click=lambda: replicate(_replication_inputs()))
            with solara.Div(style="width: 260px; margin-left: 16px;", classes=["kube-ctl"]):
                solara.HTML(tag="div", unsafe_innerHTML=f"{_t('months_run')}: <b>{replication_months.value}</b>",
                            classes=["kube-ctl-label"])
                solara.SliderInt("", value=replication_months, min=24, max=96, step=12)
        if replicate.pending:
            solara.ProgressLinear(replications_done.value / REPLICATIONS * 100)
            solara.Text(f"{_t('replicating')}: {replications_done.value} / {REPLICATIONS}")
        elif replicate.finished and replicate.value is not None:
            done_for, table = replicate.value
            if done_for != inputs:
                solara.HTML(tag="div", unsafe_innerHTML=_t("out_of_date"), classes=["kube-stale"])
                return
            a, b = done_for[:2]
            lines = []
            for row in table.itertuples():
                clear = row.low > 0 or row.high < 0
                verdict = _t("clear_difference") if clear else _t("no_clear_difference")
                lines.append([_t(row.outcome), _fmt(row.mean_a, row.outcome), _fmt(row.mean_b, row.outcome),
                              _fmt_diff(row.diff, row.outcome),
                              f"{_fmt_diff(row.low, row.outcome)} … {_fmt_diff(row.high, row.outcome)}",
                              f"<b>{verdict}</b>" if clear else verdict])
            lang = language.value
            titles = f"A = {state.scenario_title(a, lang)}, B = {state.scenario_title(b, lang)}"
            solara.HTML(tag="div", unsafe_innerHTML=f"{html.escape(titles)}, n = {int(table['n'].min())}" + _table(
                [_t("outcome"), "A", "B", _t("difference"), _t("interval"), ""], lines),
                        classes=["kube-replication-table"])
            SaveTable(done_for, table)
        elif replicate.error:
            solara.Error(str(replicate.exception))


@solara.component
def SaveTable(inputs: exports.ReplicationInputs, table: pd.DataFrame) -> None:
    """Save buttons of the replication table: CSV and Excel, exact numbers, each row naming its inputs."""
    lang = language.value

    def frame() -> pd.DataFrame:
        return exports.replication_table(inputs, table, {key: label(key, lang) for key in table["outcome"]})

    # the same callables while the table stands: a new one would cancel a download in flight
    csv_data, xlsx_data = solara.use_memo(lambda: (lambda: exports.csv_bytes(frame()),
                                                   lambda: exports.xlsx_bytes(frame())), [inputs, id(table), lang])
    with solara.Row(classes=["kube-save-table"]):
        with solara.Div(classes=["kube-save-csv"]):
            solara.FileDownload(csv_data, label=_t("save_csv"), mime_type="text/csv",
                                filename=exports.file_name("kube-replications", inputs, ".csv"), icon_name="mdi-table")
        with solara.Div(classes=["kube-save-xlsx"]):
            solara.FileDownload(xlsx_data, label=_t("save_xlsx"),
                                filename=exports.file_name("kube-replications", inputs, ".xlsx"),
                                mime_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                icon_name="mdi-file-excel")


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table class='kube-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt_diff(value: float, key: str, lang: str | None = None) -> str:
    """A difference B - A, signed, in the language's number format: ``+12.5 pp`` (``+12,5 poin``), ``+Rp 1.2 juta``."""
    if math.isnan(value):
        return "-"
    lang = lang or language.value
    with speaking(lang):
        if key.startswith(("survival", "share", "mean_share")):
            return f"{fmt_signed(value * 100, 1)} {label('pp', lang)}"
        if key.endswith("_rp"):
            return str(fmt_rp(value, signed=True))
        return str(fmt_signed(value, 1))


@solara.component
def Layout(children: list[Any] | None = None) -> None:
    """The page's frame: Solara's app layout, its sidebar folded in projector mode (the results get the width)."""
    router = solara.use_router()
    solara.AppLayout(children=children or [], sidebar_open=not projector_on(router.search))


@solara.component
def ProjectorSwitch() -> None:
    """The app bar's projector switch: it turns ``?projector=1`` in the address on or off."""
    router = solara.use_router()
    on = projector_on(router.search)
    with solara.Div(classes=["kube-projector-switch"], style="margin-right: 16px;"):
        solara.Switch(label=_t("projector"), value=on,
                      on_value=lambda wanted: router.push(projector_address(router.path, router.search, wanted)))


@solara.component
def Page() -> None:
    """The whole page."""
    projector = projector_on(solara.use_router().search)
    clock = solara.use_memo(lambda: Clock(notify=lambda: tick.set(tick.value + 1)), [])
    solara.use_effect(lambda: clock.close, [])
    key = (mode.value, settings.value, arms.value, generation.value)
    clock.models_for(key, lambda: _build(mode.value, settings.value, arms.value))
    version = tick.value
    picked = selected.value if mode.value == "single" else -1
    lang = language.value
    snaps = solara.use_memo(lambda: clock.read(lambda models: [state.snapshot(m, picked, lang) for m in models]),
                            [version, key, picked, id(clock.models), lang])
    names = solara.use_memo(lambda: _chart_names(mode.value, settings.value, arms.value, lang),
                            [mode.value, settings.value, arms.value, lang])  # read once per change, not per month
    solara.Style(CSS + svg_charts.CSS + (PROJECTOR_CSS if projector else ""))
    solara.Title(_t("title"))
    district_name = state.district(settings.value.district).name
    with solara.AppBarTitle():
        solara.Text(f"{_t('title')} — {_t('subtitle').format(district=district_name)}")
    with solara.AppBar():
        ProjectorSwitch()
        with solara.Div(classes=["kube-language"], style="width: 190px;"):
            _menu(_t("language"), list(LANGUAGES.items()), language.value, language.set, dense=True)
    with solara.Sidebar():
        with solara.Div(classes=["kube-mode"]):
            solara.ToggleButtonsSingle(value=mode,
                                       children=[solara.Button(_t("mode_single"), value="single"),
                                                 solara.Button(_t("mode_compare"), value="compare",
                                                               classes=["kube-mode-compare"])])
        SeedInput()
        DistrictChoice()
        if mode.value == "single":
            Controls()
        else:
            ArmControls()
    Transport(clock, snaps[0].month, clock.playing)
    if projector:  # the results first, in large type: the latest values, then the district or the replications
        with solara.Div(classes=["kube-latest"]):
            LatestValues(snaps, names)
    if mode.value == "single":
        with solara.Columns([3, 1] if projector else [5, 2]):
            with solara.Column(gap="0px"):
                District(snaps[0])
                Caseloads(snaps[0])
            StoryCard(snaps[0])
        Charts(snaps, names, with_values=not projector)
    elif projector:
        Replications()
        Charts(snaps, names, with_values=False)
    else:
        solara.Info(_t("compare_help"))
        Charts(snaps, names)
        Replications()
