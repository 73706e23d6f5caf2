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
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd
import solara
import solara.lab

from kube_sim.app import state
from kube_sim.app.charts import ARM_COLOURS, SeriesChart
from kube_sim.app.compare import REPLICATIONS, paired_replications
from kube_sim.app.labels import LANGUAGES, label

if TYPE_CHECKING:
    from kube_sim.model.model import KubeModel

STATE_COLOURS: dict[str, str] = {"training": "#f2c14e", "active": "#4a9c5d", "conflict": "#e07b39",
                                 "failed": "#9e9e9e"}
"""Fill colour of a group chip by state."""

MAX_MONTH = 120
"""Play stops at this month."""

REPLICATION_MONTHS = 36
"""Default months per replication in the side-by-side view."""

PRESETS: dict[str, tuple[str, str]] = {"preset_staff": ("baseline", "ratio_1_5"),
                                       "preset_equipment": ("baseline", "equipment_grant")}
"""Side-by-side presets: label key and the two scenarios."""

# Slider scale for each control: (minimum, maximum, step, factor from parameter units to slider units).
_SLIDERS: dict[str, tuple[float, float, float, float]] = {
    "facilitators.groups_per_facilitator": (0, 40, 1, 1.0),
    "facilitators.hours_per_month": (0, 160, 5, 1.0),
    "grants.equipment_rp": (0, 15, 0.5, 1e-6),
    "members.initial_inactive_share": (0, 0.8, 0.05, 1.0),
    "grants.uep_per_member_rp": (0.5, 5, 0.25, 1e-6),
}

CSS = """
.kube-district { display: flex; flex-wrap: wrap; gap: 5px; }
.kube-kec { border: 1px solid #d7dde2; border-radius: 6px; padding: 4px 5px; width: 166px; background: #fbfcfd; }
.kube-kec-name { font-size: 12px; font-weight: 600; color: #36454f; }
.kube-kec-remote { font-size: 10px; color: #8a5a00; margin-left: 4px; }
.kube-villages { display: flex; flex-wrap: wrap; gap: 3px; margin-top: 3px; }
.kube-village { min-width: 12px; min-height: 12px; border: 1px solid #e3e7ea; border-radius: 3px;
                display: flex; gap: 2px; padding: 1px; background: white; }
.kube-group-chip.v-btn { min-width: 0 !important; height: 20px !important; padding: 0 3px !important;
                         font-size: 10px; letter-spacing: 0; text-transform: none; color: white;
                         box-shadow: none; }
.kube-unvisited.v-btn { outline: 2px solid #c62828; outline-offset: 1px; }
.kube-selected.v-btn { outline: 3px solid #1a237e; outline-offset: 1px; }
.kube-legend span.kube-swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px;
                                margin: 0 3px 0 10px; vertical-align: middle; }
.kube-chart-data { font-size: 12px; color: #36454f; }
.kube-story table, .kube-caseloads table { font-size: 12px; }
.kube-story { max-height: 980px; overflow-y: auto; }
.kube-table { border-collapse: collapse; font-size: 12px; margin: 4px 0 8px 0; }
.kube-table th, .kube-table td { padding: 2px 8px; border-bottom: 1px solid #eceff1; text-align: left; }
.kube-table td:not(:first-child) { text-align: right; }
.kube-story-events .kube-table td:nth-child(2) { text-align: left; }
.kube-ctl { margin-top: 6px; }
.kube-ctl-label { font-size: 13px; color: #36454f; }
.kube-ctl .v-input__slot { margin-bottom: 0; }
.kube-ctl .v-messages { display: none; }
.kube-description, .kube-help { font-size: 12px; color: #555; margin: 4px 0; }
.kube-month-box { font-size: 26px; margin-left: 24px; color: #36454f; }
.kube-month { font-weight: 700; }
.kube-chart-image { width: 100%; max-width: 1120px; }
.kube-alert { color: #c62828; font-weight: 700; }
.kube-caseloads .kube-table th { text-align: right; }
"""

language = solara.reactive("en")
mode = solara.reactive("single")
settings = solara.reactive(state.Settings())
arms = solara.reactive(PRESETS["preset_staff"])
playing = solara.reactive(False)
speed = solara.reactive(3)
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


@solara.lab.task
def replicate(scenario_a: str, scenario_b: str, seed: int, months: int, district: str = "") -> pd.DataFrame:
    """Run the paired replications of the side-by-side view (in a thread, off the page's event loop)."""
    replications_done.set(0)
    a = state.make_params(state.Settings(scenario=scenario_a, district=district))
    b = state.make_params(state.Settings(scenario=scenario_b, district=district))
    seeds = [seed + r for r in range(REPLICATIONS)]
    return paired_replications(a, b, seeds=seeds, months=months, on_done=replications_done.set)


def _build(current_mode: str, current: state.Settings, current_arms: tuple[str, str]) -> list[KubeModel]:
    if current_mode == "single":
        return [state.build_model(current)]
    return [state.build_model(state.Settings(scenario=name, seed=current.seed, district=current.district))
            for name in current_arms]


def _fmt(value: float, key: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if key.startswith(("survival", "share", "mean_share")):
        return f"{value:.0%}"
    if key == "cost_to_date_rp":
        return f"Rp {value / 1e6:,.0f} juta"
    if key.endswith("_rp"):
        return f"Rp {value:,.0f}"
    return f"{value:,.0f}"


def _latest(model: KubeModel) -> list[tuple[str, str]]:
    """The charts' latest values as ``(label, formatted value)``; survival at 12 months once groups are that old."""
    monthly = state.monthly_series(model)
    survival = state.survival_curve(model)
    out = []
    for key in state.SERIES:
        if key == "survival":
            if len(survival) > 12:
                out.append((_t("survival_12"), _fmt(float(survival.iloc[12]), key)))
            else:
                out.append((_t(key), _fmt(float(survival.iloc[-1]) if len(survival) else math.nan, key)))
        else:
            out.append((_t(key), _fmt(float(monthly[key].iloc[-1]) if len(monthly) else math.nan, key)))
    return out


@solara.component
def Controls() -> None:
    """Policy controls: scenario, the policy levers and the seed; changing one resets the run."""
    current = settings.value
    params = state.make_params(current)
    names = solara.use_memo(state.scenario_names, [])

    def set_scenario(name: str) -> None:
        settings.set(dataclasses.replace(current, scenario=name, values={}))
        selected.set(-1)

    def set_value(key: str, value: Any) -> None:
        settings.set(dataclasses.replace(current, values={**current.values, key: value}))
        selected.set(-1)

    solara.HTML(tag="h3", unsafe_innerHTML=_t("controls"))
    with solara.Div(classes=["kube-ctl-scenario"]):
        solara.Select(_t("scenario"), values=names, value=current.scenario, on_value=set_scenario)
    solara.HTML(tag="p", unsafe_innerHTML=html.escape(state.scenario_description(current.scenario)),
                classes=["kube-description"])
    for key, (low, high, step, factor) in _SLIDERS.items():
        value = params.get(key) * factor
        slug = key.split(".")[1]
        shown = f"{value:g}" if key != "members.initial_inactive_share" else f"{value:.0%}"
        with solara.Div(classes=[f"kube-ctl-{slug}", "kube-ctl"]):
            solara.HTML(tag="div", unsafe_innerHTML=f"{_t(key)}: <b class='kube-value'>{shown}</b>",
                        classes=["kube-ctl-label"])
            if isinstance(step, int) and isinstance(low, int):
                solara.SliderInt("", value=int(value), min=int(low), max=int(high), step=int(step),
                                 on_value=functools.partial(_set_whole, set_value, key))
            else:
                solara.SliderFloat("", value=float(value), min=low, max=high, step=step,
                                   on_value=functools.partial(_set_scaled, set_value, key, factor))
        if key == "facilitators.hours_per_month":
            with solara.Div(classes=["kube-ctl-pattern"]):
                solara.Select(_t("facilitators.pattern"), values=list(state.VISIT_PATTERNS),
                              value=params.get("facilitators.pattern"),
                              on_value=lambda v: set_value("facilitators.pattern", v))


@solara.component
def DistrictChoice() -> None:
    """The district the runs are in (both arms): the starting one and the shipped ones."""
    current = settings.value
    choices = solara.use_memo(state.district_choices, [])
    value = current.district or choices[0]

    def set_district(choice: str) -> None:
        settings.set(dataclasses.replace(current, district=choice))
        selected.set(-1)

    with solara.Div(classes=["kube-ctl-district"]):
        solara.Select(_t("district_choice"), values=choices, value=value, on_value=set_district)


@solara.component
def ArmControls() -> None:
    """Side-by-side controls: the two arms' scenarios and the presets."""
    names = solara.use_memo(state.scenario_names, [])
    a, b = arms.value
    solara.HTML(tag="h3", unsafe_innerHTML=_t("presets"))
    for key, pair in PRESETS.items():
        solara.Button(_t(key), on_click=lambda p=pair: arms.set(p), outlined=arms.value != pair, color="primary",
                      classes=[f"kube-{key}"], style="margin: 2px 0; width: 100%;")
    with solara.Div(classes=["kube-arm-a"]):
        solara.Select(_t("arm_a"), values=names, value=a, on_value=lambda v: arms.set((v, arms.value[1])))
    with solara.Div(classes=["kube-arm-b"]):
        solara.Select(_t("arm_b"), values=names, value=b, on_value=lambda v: arms.set((arms.value[0], v)))


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
def Transport(models: list[KubeModel], version: int) -> None:
    """Play, pause, step, reset and speed; steps every model together.

    The play loop steps in a thread; a lock makes pause final: once the click returns, no step follows.
    """
    month = models[0].month
    lock = solara.use_memo(threading.Lock, [])

    def step() -> None:
        for model in models:
            model.step()
        tick.set(tick.value + 1)

    def play_loop() -> None:
        while playing.value and models[0].month < MAX_MONTH:
            time.sleep(1.0 / max(speed.value, 1))
            with lock:
                if not playing.value:
                    return
                step()
        playing.set(False)

    def pause() -> None:
        with lock:
            playing.set(False)

    solara.lab.use_task(play_loop, dependencies=[playing.value, id(models)], prefer_threaded=True)

    def reset() -> None:
        pause()
        selected.set(-1)
        generation.set(generation.value + 1)

    with solara.Row(style="align-items: center; flex-wrap: wrap;", classes=["kube-transport"]):
        if playing.value:
            solara.Button(_t("pause"), icon_name="mdi-pause", on_click=pause, color="primary",
                          classes=["kube-pause"])
        else:
            solara.Button(_t("play"), icon_name="mdi-play", on_click=lambda: playing.set(True), color="primary",
                          classes=["kube-play"], disabled=month >= MAX_MONTH)
        solara.Button(_t("step"), icon_name="mdi-step-forward", on_click=step, outlined=True,
                      classes=["kube-step"], disabled=playing.value or month >= MAX_MONTH)
        solara.Button(_t("reset"), icon_name="mdi-restore", on_click=reset, outlined=True, classes=["kube-reset"])
        with solara.Div(style="width: 260px; margin-left: 16px;", classes=["kube-speed"]):
            solara.HTML(tag="div", unsafe_innerHTML=f"{_t('speed')}: <b>{speed.value}</b>", classes=["kube-ctl-label"])
            solara.SliderInt("", value=speed, min=1, max=12)
        solara.HTML(tag="div", unsafe_innerHTML=f"{_t('month')} <span class='kube-month'>{month}</span>",
                    classes=["kube-month-box"])


@solara.component
def Legend(counts: dict[str, int]) -> None:
    """Colour key of the group states, with how many groups are in each."""
    parts = [f"<span class='kube-swatch' style='background:{STATE_COLOURS[s]}'></span>{_t(s)} "
             f"<b class='kube-count-{s}'>{counts[s]}</b>" for s in state.GROUP_STATES]
    parts.append("<span class='kube-swatch' style='background:white; outline:2px solid #c62828'></span>"
                 f"{_t('unvisited')} <b class='kube-count-unvisited'>{counts['unvisited']}</b>")
    solara.HTML(tag="div", unsafe_innerHTML=" ".join(parts), classes=["kube-legend"])


@solara.component
def GroupChip(group: state.GroupView, is_selected: bool) -> None:
    """One group, coloured by state and labelled with its facilitator; a click opens its story."""
    classes = ["kube-group-chip", f"kube-state-{group.state}"]
    if group.unvisited:
        classes.append("kube-unvisited")
    if is_selected:
        classes.append("kube-selected")
    name = f"F{group.facilitator}" if group.facilitator >= 0 else "–"
    solara.Button(name, on_click=lambda: selected.set(group.index), color=STATE_COLOURS[group.state],
                  classes=classes)


@solara.component
def District(model: KubeModel, version: int) -> None:
    """The district: every kecamatan with its villages and their groups."""
    view = state.district_view(model)
    with solara.Card(_t("district"), margin=0, classes=["kube-district-card"]):
        solara.HTML(tag="p", unsafe_innerHTML=_t("district_help"), classes=["kube-help"])
        Legend(state.state_counts(model))
        with solara.Div(classes=["kube-district"]):
            for kec in view:
                with solara.Div(classes=["kube-kec"]):
                    remote = f"<span class='kube-kec-remote'>{_t('remote')}</span>" if kec.remote else ""
                    solara.HTML(tag="div", unsafe_innerHTML=f"<span class='kube-kec-name'>{kec.name}</span>{remote}")
                    with solara.Div(classes=["kube-villages"]):
                        for village in kec.villages:
                            with solara.Div(classes=["kube-village"]):
                                for group in village.groups:
                                    GroupChip(group, group.index == selected.value)


@solara.component
def Caseloads(model: KubeModel, version: int) -> None:
    """Each facilitator's running groups and how many of them went unvisited for a quarter."""
    rows = state.caseloads(model)
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
def StoryCard(model: KubeModel, version: int) -> None:
    """The selected group's story: members, money, stock, equipment, visits, conflicts and its events."""
    with solara.Card(_t("story"), margin=0, classes=["kube-story"]):
        if not 0 <= selected.value < model.groups.size:
            solara.HTML(tag="p", unsafe_innerHTML=_t("story_help"))
            return
        story = state.group_story(model, selected.value)
        facts = [[_t(key), _t(value) if key in ("state", "business") else value] for key, value in story.facts]
        solara.HTML(tag="div", unsafe_innerHTML=f"<b>{_t('group')} {story.index}</b>" + _table(["", ""], facts),
                    classes=["kube-story-facts"])
        if story.cause != "none":
            solara.Error(f"{_t('why_failed')}: {_t('cause_' + story.cause)}", classes=["kube-story-cause"])
        members = " ".join(
            f"<span title='{m}' style='color:{'#4a9c5d' if active and inside else '#c62828' if inside else '#9e9e9e'}'>"
            f"●</span>" for m, active, inside in story.members)
        solara.HTML(tag="div", unsafe_innerHTML=f"<b>{_t('members')}</b>: {members} "
                    f"<small>(● {_t('member_active')} / <span style='color:#c62828'>● {_t('member_inactive')}</span> / "
                    f"<span style='color:#9e9e9e'>● {_t('member_left')}</span>)</small>")
        lines = []
        for month, kind, value in story.events:
            if kind == "failure":
                detail = _t("cause_" + state.FAILURE_CAUSES[int(value)])
            elif kind == "visit":
                detail = f"F{int(value)}"
            elif value:
                detail = f"{value:,.0f}"
            else:
                detail = ""
            lines.append([month, _t(kind), detail])
        solara.HTML(tag="div", unsafe_innerHTML=f"<b>{_t('events')}</b>" + _table([_t("month"), "", ""], lines),
                    classes=["kube-story-events"])


@solara.component
def Charts(models: list[KubeModel], names: list[str]) -> None:
    """The monthly charts, the arms overlaid, with the latest values as text."""
    chart = solara.use_memo(lambda: SeriesChart(names, language.value), [tuple(names), language.value])
    version = (tick.value, tuple(id(m) for m in models), chart)

    def draw() -> bytes:
        chart.update([(name, state.monthly_series(m), state.survival_curve(m))
                      for name, m in zip(names, models, strict=True)])
        return chart.png()

    image = solara.use_memo(draw, [version])
    with solara.Card(_t("charts"), margin=0, classes=["kube-charts"], style="margin-top: 8px;"):
        solara.Image(image, classes=["kube-chart-image"])
        lines = []
        for i, (name, model) in enumerate(zip(names, models, strict=True)):
            values = " · ".join(f"{name}: <b>{value}</b>" for name, value in _latest(model))
            lines.append(f"<div><span style='color:{ARM_COLOURS[i % 2]}'>■</span> <b>{name}</b> "
                         f"({_t('month')} {model.month}) — {values}</div>")
        solara.HTML(tag="div", unsafe_innerHTML="".join(lines), classes=["kube-chart-data"])


@solara.component
def Replications() -> None:
    """The button that runs paired replications of both arms, and the difference with its interval."""
    a, b = arms.value
    seed = settings.value.seed
    with solara.Card(_t("replications"), margin=0, classes=["kube-replications"], style="margin-top: 8px;"):
        with solara.Row(style="align-items: center;"):
            solara.Button(_t("replicate"), icon_name="mdi-repeat", color="primary", classes=["kube-replicate"],
                          disabled=replicate.pending,
                          on_click=lambda: replicate(a, b, seed, replication_months.value,
                                                     settings.value.district))
            with solara.Div(style="width: 260px; margin-left: 16px;", classes=["kube-ctl"]):
                solara.HTML(tag="div", unsafe_innerHTML=f"{_t('months_run')}: <b>{replication_months.value}</b>",
                            classes=["kube-ctl-label"])
                solara.SliderInt("", value=replication_months, min=24, max=96, step=12)
        if replicate.pending:
            solara.ProgressLinear(replications_done.value / REPLICATIONS * 100)
            solara.Text(f"{_t('replicating')}: {replications_done.value} / {REPLICATIONS}")
        elif replicate.finished and replicate.value is not None:
            table = replicate.value
            lines = []
            for row in table.itertuples():
                clear = row.low > 0 or row.high < 0
                verdict = _t("clear_difference") if clear else _t("no_clear_difference")
                lines.append([_t(row.outcome), _fmt(row.mean_a, row.outcome), _fmt(row.mean_b, row.outcome),
                              _fmt_diff(row.diff, row.outcome),
                              f"{_fmt_diff(row.low, row.outcome)} … {_fmt_diff(row.high, row.outcome)}",
                              f"<b>{verdict}</b>" if clear else verdict])
            solara.HTML(tag="div", unsafe_innerHTML=f"A = {a}, B = {b}, n = {int(table['n'].min())}" + _table(
                [_t("outcome"), "A", "B", _t("difference"), _t("interval"), ""], lines),
                        classes=["kube-replication-table"])
        elif replicate.error:
            solara.Error(str(replicate.exception))


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table class='kube-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt_diff(value: float, key: str) -> str:
    if math.isnan(value):
        return "-"
    if key.startswith(("survival", "share", "mean_share")):
        return f"{value * 100:+.1f} pp"
    if key.endswith("_rp"):
        return f"{value:+,.0f}"
    return f"{value:+.1f}"


@solara.component
def Page() -> None:
    """The whole page."""
    models = solara.use_memo(lambda: _build(mode.value, settings.value, arms.value),
                             [mode.value, settings.value, arms.value, generation.value])
    version = tick.value
    solara.Style(CSS)
    solara.Title(_t("title"))
    district_name = state.district(settings.value.district).name
    with solara.AppBarTitle():
        solara.Text(f"{_t('title')} — {_t('subtitle').format(district=district_name)}")
    with solara.AppBar():
        with solara.Div(classes=["kube-language"], style="width: 190px;"):
            solara.Select(_t("language"), values=list(LANGUAGES), value=language, dense=True)
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
    Transport(models, version)
    if mode.value == "single":
        model = models[0]
        with solara.Columns([5, 2]):
            with solara.Column(gap="0px"):
                District(model, version)
                Caseloads(model, version)
            StoryCard(model, version)
        Charts(models, [settings.value.scenario])
    else:
        solara.Info(_t("compare_help"))
        Charts(models, [f"A: {arms.value[0]}", f"B: {arms.value[1]}"])
        Replications()
