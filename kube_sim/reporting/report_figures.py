"""Figures of a sweep's results: one function per figure, each returning a matplotlib Figure.

Every figure is drawn from the statistics in :mod:`kube_sim.analysis.statistics` (so a figure shows the same
numbers as the report's tables) or straight from the runs table. Figures are built on the Agg
canvas without pyplot, so they work headless and leave no global state behind; seaborn supplies
the styling. Nothing here runs the model.

Money axes are in Rp juta (millions) or, for small amounts such as monthly income per member, in
Rp ribu (thousands), with the unit in the axis label.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import Formatter, MaxNLocator

from kube_sim.analysis.statistics import arm_summary, factor_columns, factor_effects
from kube_sim.common import keys
from kube_sim.common.catalog import parameter_name
from kube_sim.common.i18n import _
from kube_sim.common.outputs import kind_of, label_of
from kube_sim.common.survival import SURVIVAL_HORIZONS
from kube_sim.reporting.canvas import new_figure, style
from kube_sim.reporting.formats import fmt_setting, localize

MAX_OVERLAID_ARMS = 6
"""Most arms drawn on one survival panel; more are drawn as small multiples."""

MANY_ARMS = 24
"""Beyond this many arms (sampling designs) arms are named by number and drawn as means with intervals
instead of boxes; survival curves share one panel as thin lines."""


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------

def _style() -> AbstractContextManager[None]:
    """The style of these figures."""
    return style(0.85)


def factor_label(key: str) -> str:
    """Return a readable name of a factor's dotted parameter key (the part after the section).

    Args:
        key: Dotted parameter key, e.g. ``facilitators.groups_per_facilitator``.

    Returns:
        E.g. ``groups per facilitator``.
    """
    name = _(parameter_name(key))
    return f"{name} (Rp)" if key.endswith("_rp") else name


def setting_label(key: str) -> str:
    """A factor's name for a legend or a label whose values are formatted (money already says Rp).

    Args:
        key: Dotted parameter key.

    Returns:
        E.g. ``equipment`` for ``grants.equipment_rp`` (its values read ``Rp 5 juta``).
    """
    return factor_label(key).removesuffix(" (Rp)")


_ASSIGNMENT = re.compile(r"([A-Za-z_][\w.]*)=([^,;\s]+)")


def short_label(label: str, width: int = 30) -> str:
    """Shorten an arm label for a figure: ``name = value`` per assignment, wrapped between words.

    ``facilitators.groups_per_facilitator=5, facilitators.hours_per_month=40`` becomes
    ``groups per facilitator = 5; hours per month = 40`` (wrapped at ``width``, never inside a word).

    Args:
        label: The arm label.
        width: Wrap width in characters.

    Returns:
        The label, possibly on several lines.
    """
    text = str(label)
    pairs = _ASSIGNMENT.findall(text)
    pieces = [f"{factor_label(key)} = {value}" for key, value in pairs] if pairs else text.split("; ")
    if len(pieces) == 1:
        return "\n".join(textwrap.wrap(pieces[0], width=width, break_long_words=False, break_on_hyphens=False)) \
            or text
    lines: list[str] = []
    for piece in pieces:  # keep each "name = value" whole; start a new line when it would overflow
        if lines and len(lines[-1]) + 2 + len(piece) <= width:
            lines[-1] += f"; {piece}"
        else:
            lines.append(piece)
    return "\n".join(lines)


def arm_palette(arms: Sequence[int]) -> dict[int, tuple[float, float, float]]:
    """Colours for arms: seaborn's colorblind palette up to 10 arms, viridis beyond.

    Args:
        arms: The arms, in display order.

    Returns:
        ``{arm: RGB}``.
    """
    n = len(arms)
    colours = sns.color_palette("colorblind", n) if n <= 10 else sns.color_palette("viridis", n)
    return {arm: colours[i] for i, arm in enumerate(arms)}


def rupiah_scale(values: Sequence[float] | np.ndarray) -> tuple[float, str]:
    """Choose the unit of a money axis: Rp juta (millions) from 1 million up, Rp ribu below.

    Args:
        values: The amounts on the axis.

    Returns:
        ``(divisor, unit name)``, e.g. ``(1e6, "Rp juta")``.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    top = float(np.abs(x).max()) if x.size else 0.0
    if top >= 1e6:
        return 1e6, "Rp juta"
    return 1e3, "Rp ribu"


class _ScaledFormatter(Formatter):
    """Tick labels of ``value / divisor`` with thousands separators and just enough decimals.

    The decimals are the fewest that show every tick exactly (37.5, not 38), so neighbouring
    ticks never share a label.
    """

    def __init__(self, divisor: float = 1.0, suffix: str = "") -> None:
        self.divisor = divisor
        self.suffix = suffix
        self.decimals = 0

    def _decimals(self, values: Sequence[float]) -> int:
        scaled = np.asarray(values, dtype=float) / self.divisor
        scaled = scaled[np.isfinite(scaled)]
        for decimals in range(5):
            shifted = scaled * 10**decimals
            if np.allclose(shifted, np.round(shifted), rtol=0, atol=1e-6 * max(1.0, float(np.abs(shifted).max(
                    initial=0)))):
                return decimals
        return 4

    def format_ticks(self, values: Sequence[float]) -> list[str]:
        self.decimals = self._decimals(values)
        return [self(v) for v in values]

    def __call__(self, x: float, pos: int | None = None) -> str:
        return localize(f"{x / self.divisor:,.{self.decimals}f}") + self.suffix


def _money_axis(ax: Axes, which: str, values: Sequence[float] | np.ndarray, label: str) -> None:
    """Format an axis holding Rp amounts in juta or ribu with thousands separators."""
    divisor, unit = rupiah_scale(values)
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    axis.set_major_formatter(_ScaledFormatter(divisor))
    (ax.set_xlabel if which == "x" else ax.set_ylabel)(f"{label} ({unit})")


def _percent_axis(ax: Axes, which: str) -> None:
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_formatter(_ScaledFormatter(0.01, "%"))


def _value_axis(ax: Axes, which: str, outcome: str, values: Sequence[float] | np.ndarray) -> None:
    """Label and format an axis for an outcome: percent, money or plain number."""
    label = label_of(outcome)
    if kind_of(outcome) == "share":
        _percent_axis(ax, which)
        (ax.set_xlabel if which == "x" else ax.set_ylabel)(label)
    elif kind_of(outcome) == "rp":
        _money_axis(ax, which, values, label)
    else:
        (ax.set_xlabel if which == "x" else ax.set_ylabel)(label)


def _no_data(ax: Axes, text: str | None = None) -> None:
    text = _("no data") if text is None else text
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def _arm_order(runs: pd.DataFrame, labels: Mapping[int, str]) -> list[int]:
    arms = sorted(labels) if labels else sorted(int(a) for a in runs["arm"].unique())
    return arms


def _display_labels(arms: Sequence[int], labels: Mapping[int, str], baseline_arm: int | None,
                    width: int = 28) -> dict[int, str]:
    out = {}
    for arm in arms:
        text = _("arm {arm}").format(arm=arm) if len(arms) > MANY_ARMS else short_label(labels.get(arm, str(arm)),
                                                                                          width)
        if arm == baseline_arm:
            text += _(" (reference)")
        out[arm] = text
    return out


def _rows_height(n_arms: int, per_row: float = 0.42) -> float:
    """Figure height for one row per arm (tighter rows when there are many arms)."""
    return 1.3 + (0.17 if n_arms > MANY_ARMS else per_row) * max(n_arms, 3)


# ----------------------------------------------------------------------------------------------
# Survival
# ----------------------------------------------------------------------------------------------

def _survival_axes(ax: Axes, x_max: float, horizons: Sequence[int]) -> None:
    for h in horizons:
        if h <= x_max:
            ax.axvline(h, color="0.55", linestyle=":", linewidth=0.9, zorder=0)
    ax.set_xlim(0, max(x_max, 1))
    ax.set_ylim(0, 1.02)
    _percent_axis(ax, "y")
    ticks = [0, *[h for h in horizons if h <= x_max]]
    ax.set_xticks(ticks)


def survival_figure(km: pd.DataFrame, labels: Mapping[int, str], baseline_arm: int | None = None,
                    horizons: Sequence[int] = SURVIVAL_HORIZONS) -> Figure:
    """Kaplan-Meier share of groups still active by months since funding, one curve per arm.

    Each curve has its 95% pointwise band. Up to :data:`MAX_OVERLAID_ARMS` arms share one panel;
    beyond that each arm gets its own small panel with the baseline arm's curve in grey behind it.

    Args:
        km: Output of :func:`kube_sim.analysis.statistics.km_by_arm`.
        labels: Arm labels.
        baseline_arm: The reference arm (marked in the legend; drawn behind every panel).
        horizons: Months marked with dotted lines.

    Returns:
        The figure.
    """
    arms = sorted(int(a) for a in km["arm"].unique()) if len(km) else []
    palette = arm_palette(arms)
    names = _display_labels(arms, labels, baseline_arm)
    x_max = float(km["month"].max()) if len(km) else 12.0
    with _style():
        if len(arms) <= MAX_OVERLAID_ARMS:
            fig = new_figure(figsize=(8.5, 4.8))
            ax = fig.subplots()
            if not arms:
                _no_data(ax, _("no groups were funded"))
            for arm in arms:
                c = km[km["arm"] == arm]
                colour = palette[arm]
                ax.fill_between(c["month"], c["lower"], c["upper"], step="post", color=colour, alpha=0.15,
                                linewidth=0)
                ax.plot(c["month"], c["survival"], drawstyle="steps-post", color=colour,
                        linewidth=2.4 if arm == baseline_arm else 1.8, label=names[arm])
            _survival_axes(ax, x_max, horizons)
            ax.set_xlabel(_("months since the group's own funding"))
            ax.set_ylabel(_("groups still active"))
            if arms:
                ax.legend(title="arm (shaded: 95% band)", loc="lower left", fontsize=8, title_fontsize=8,
                          frameon=True)
            return fig

        if len(arms) > MANY_ARMS:
            fig = new_figure(figsize=(8.5, 4.8))
            ax = fig.subplots()
            for arm in arms:
                if arm == baseline_arm:
                    continue
                c = km[km["arm"] == arm]
                ax.plot(c["month"], c["survival"], drawstyle="steps-post", color="0.6", linewidth=0.8, alpha=0.7)
            if baseline_arm in arms:
                c = km[km["arm"] == baseline_arm]
                ax.fill_between(c["month"], c["lower"], c["upper"], step="post", color=palette[baseline_arm],
                                alpha=0.2, linewidth=0)
                ax.plot(c["month"], c["survival"], drawstyle="steps-post", color=palette[baseline_arm],
                        linewidth=2.4)
            others = _("each of the other {n} arms").format(n=len(arms) - 1)
            handles = [Line2D([], [], color="0.6", linewidth=0.8, label=others),
                       Line2D([], [], color="C0" if baseline_arm is None else palette.get(baseline_arm, "C0"),
                              linewidth=2.4,
                              label=_("reference arm {arm} (shaded: 95% band)").format(arm=baseline_arm))]
            _survival_axes(ax, x_max, horizons)
            ax.set_xlabel(_("months since the group's own funding"))
            ax.set_ylabel(_("groups still active"))
            ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=True)
            return fig

        ncols = 4 if len(arms) > 9 else 3
        nrows = math.ceil(len(arms) / ncols)
        fig = new_figure(figsize=(3.2 * ncols, 2.5 * nrows + 0.6))
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, sharey=True)).ravel()
        base = km[km["arm"] == baseline_arm] if baseline_arm is not None else km.iloc[0:0]
        for ax, arm in zip(axes, arms, strict=False):
            if len(base) and arm != baseline_arm:
                ax.plot(base["month"], base["survival"], drawstyle="steps-post", color="0.55", linewidth=1.2,
                        linestyle="--")
            c = km[km["arm"] == arm]
            colour = palette[arm]
            ax.fill_between(c["month"], c["lower"], c["upper"], step="post", color=colour, alpha=0.25, linewidth=0)
            ax.plot(c["month"], c["survival"], drawstyle="steps-post", color=colour, linewidth=1.8)
            _survival_axes(ax, x_max, horizons)
            mark = _(" (reference)") if arm == baseline_arm else ""
            ax.set_title(short_label(labels.get(arm, str(arm)), 34) + mark, fontsize=8)
        for ax in axes[len(arms):]:
            ax.set_visible(False)
        fig.supxlabel(_("months since the group's own funding"), fontsize=9)
        fig.supylabel(_("groups still active"), fontsize=9)
        if len(base):
            handles = [Line2D([], [], color="0.3", linewidth=1.8, label=_("this arm (shaded: 95% band)")),
                       Line2D([], [], color="0.55", linewidth=1.2, linestyle="--", label=_("reference arm"))]
            fig.legend(handles=handles, loc="outside upper center", ncols=2, fontsize=8, frameon=False)
    return fig


# ----------------------------------------------------------------------------------------------
# Income
# ----------------------------------------------------------------------------------------------

def _box_strip(ax: Axes, runs: pd.DataFrame, outcome: str, arms: Sequence[int], names: Mapping[int, str],
               palette: Mapping[int, tuple[float, float, float]]) -> None:
    """Horizontal box plot with the individual runs as dots, one row per arm."""
    data = runs[["arm", outcome]].dropna()
    data = data.assign(name=data["arm"].map(names))
    order = [names[a] for a in arms]
    colours = {names[a]: palette[a] for a in arms}
    if data.empty:
        _no_data(ax)
        return
    samples = [data.loc[data["name"] == n, outcome].to_numpy(dtype=float) for n in order]
    boxes = ax.boxplot([x if x.size else [np.nan] for x in samples], positions=range(len(order)),
                       orientation="horizontal", widths=0.6, showfliers=False, patch_artist=True,
                       medianprops={"color": "0.15", "linewidth": 1.4}, whiskerprops={"color": "0.35"},
                       capprops={"color": "0.35"}, manage_ticks=False)
    for patch, name in zip(boxes["boxes"], order, strict=True):
        patch.set_facecolor((*colours[name], 0.35))
        patch.set_edgecolor("0.35")
    sns.stripplot(data=data, x=outcome, y="name", hue="name", order=order, hue_order=order, palette=colours,
                  ax=ax, size=3.5, alpha=0.8, jitter=0.18, edgecolor="0.2", linewidth=0.4, legend=False)
    means = data.groupby("name")[outcome].mean()
    ax.scatter([means.get(n, np.nan) for n in order], range(len(order)), marker="D", color="white",
               edgecolor="black", s=28, zorder=5, label=_("mean"))
    ax.set_ylabel("")
    _value_axis(ax, "x", outcome, data[outcome].to_numpy())


def income_figure(runs: pd.DataFrame, labels: Mapping[int, str], baseline_arm: int | None = None) -> Figure:
    """Income per member per month and share of members above the poverty line, by arm.

    One dot per run (replication); boxes show the median and quartiles, white diamonds the mean.

    Args:
        runs: The runs table (finished runs).
        labels: Arm labels.
        baseline_arm: The reference arm (marked in its label).

    Returns:
        The figure.
    """
    arms = _arm_order(runs, labels)
    palette = arm_palette(arms)
    names = _display_labels(arms, labels, baseline_arm)
    panels = [o for o in ("mean_member_income_rp", "poverty_lifted_end") if o in runs.columns]
    with _style():
        fig = new_figure(figsize=(11, _rows_height(len(arms))))
        axes = np.atleast_1d(fig.subplots(1, max(len(panels), 1), sharey=True))
        if not panels:
            _no_data(axes[0], _("no income outcomes in the runs table"))
        for ax, outcome in zip(axes, panels, strict=False):
            if len(arms) > MANY_ARMS:
                summary = arm_summary(runs, outcome)
                _ci_points(ax, summary, arms, names, palette)
                _value_axis(ax, "x", outcome, summary[["ci_low", "ci_high"]].to_numpy().ravel())
            else:
                _box_strip(ax, runs, outcome, arms, names, palette)
            ax.set_title(label_of(outcome), fontsize=10)
    return fig


# ----------------------------------------------------------------------------------------------
# Cost
# ----------------------------------------------------------------------------------------------

def _ci_points(ax: Axes, summary: pd.DataFrame, arms: Sequence[int], names: Mapping[int, str],
               palette: Mapping[int, tuple[float, float, float]]) -> None:
    """Means with t-interval whiskers, one row per arm (from ``analysis.arm_summary`` of one outcome)."""
    s = summary.set_index("arm")
    many = len(arms) > MANY_ARMS
    size, cap, width = (3.5, 0, 1.0) if many else (6, 4, 1.8)
    for i, arm in enumerate(arms):
        if arm not in s.index or not np.isfinite(s.loc[arm, "mean"]):
            continue
        mean, low, high = s.loc[arm, "mean"], s.loc[arm, "ci_low"], s.loc[arm, "ci_high"]
        if np.isfinite(low) and np.isfinite(high):
            ax.errorbar(mean, i, xerr=[[mean - low], [high - mean]], fmt="o", color=palette[arm], capsize=cap,
                        markersize=size, linewidth=width)
        else:
            ax.plot(mean, i, "o", color=palette[arm], markersize=size)
    ax.set_yticks(range(len(arms)), [names[a] for a in arms])
    ax.set_ylim(len(arms) - 0.5, -0.5)
    if many:
        ax.tick_params(axis="y", labelsize=7)


MARKERS = ("o", "s", "^", "D", "v", "P")


def _factor_encoding(runs: pd.DataFrame) -> tuple[str, str | None] | None:
    """Factors to colour and shape scatter points by: (first, second or None), if they have few levels."""
    varying = [f for f in factor_columns(runs) if runs[f].nunique() > 1]
    if not 1 <= len(varying) <= 2 or runs[varying[0]].nunique() > 10:
        return None
    if len(varying) == 2 and runs[varying[1]].nunique() > len(MARKERS):
        return None
    return varying[0], (varying[1] if len(varying) == 2 else None)


def _scatter_by_factors(ax: Axes, runs: pd.DataFrame, x: str, y: str, hue: str, style: str | None) -> None:
    """Scatter coloured by one factor's level and shaped by another's, with a legend for each."""
    levels = sorted(runs[hue].dropna().unique())
    colours = dict(zip(levels, sns.color_palette("viridis", len(levels)), strict=True))
    shapes = sorted(runs[style].dropna().unique()) if style else [None]
    marker = dict(zip(shapes, MARKERS, strict=False))
    for level in levels:
        for shape in shapes:
            sub = runs[(runs[hue] == level) & ((runs[style] == shape) if style else True)]
            if len(sub):
                ax.scatter(sub[x], sub[y], color=colours[level], marker=marker[shape], s=34, alpha=0.85,
                           edgecolor="0.2", linewidth=0.4)
    handles = [Line2D([], [], linestyle="", marker="o", color=colours[v], markeredgecolor="0.2",
                      label=fmt_setting(hue, v)) for v in levels]
    first = ax.legend(handles=handles, title=setting_label(hue), fontsize=7.5, title_fontsize=8, loc="upper left",
                      frameon=True)
    if style:
        ax.add_artist(first)
        handles = [Line2D([], [], linestyle="", marker=marker[v], color="0.4", label=fmt_setting(style, v))
                   for v in shapes]
        ax.legend(handles=handles, title=setting_label(style), fontsize=7.5, title_fontsize=8, loc="lower right",
                  frameon=True)


def cost_figure(runs: pd.DataFrame, summary: pd.DataFrame, labels: Mapping[int, str],
                baseline_arm: int | None = None) -> Figure:
    """Programme cost against groups still active at the end, and cost per surviving group.

    Left: one dot per run, total cost (Rp juta) against groups still active at the end, coloured
    by arm. Right: mean cost per surviving group per arm with its 95% confidence interval.

    Args:
        runs: The runs table (finished runs).
        summary: :func:`kube_sim.analysis.statistics.arm_summary` including ``cost_per_surviving_group_rp``.
        labels: Arm labels.
        baseline_arm: The reference arm.

    Returns:
        The figure.
    """
    arms = _arm_order(runs, labels)
    palette = arm_palette(arms)
    names = _display_labels(arms, labels, baseline_arm, width=24)
    with _style():
        fig = new_figure(figsize=(12, max(4.6, _rows_height(len(arms), 0.4))))
        left, right = fig.subplots(1, 2, width_ratios=[1.15, 1])
        if {"cost_total_rp", "groups_active_end"} <= set(runs.columns) and len(runs):
            by_factor = _factor_encoding(runs) if len(arms) > MAX_OVERLAID_ARMS else None
            if by_factor is None:
                for arm in arms:
                    sub = runs[runs["arm"] == arm]
                    left.scatter(sub["groups_active_end"], sub["cost_total_rp"], color=palette[arm], s=30,
                                 alpha=0.85, edgecolor="0.2", linewidth=0.4, label=names[arm])
                left.set_title(_("each dot is one run (colours as on the right)"), fontsize=10)
            else:
                _scatter_by_factors(left, runs, "groups_active_end", "cost_total_rp", *by_factor)
                left.set_title(_("each dot is one run"), fontsize=10)
            left.set_xlabel(_("groups still active at the end of the run"))
            _money_axis(left, "y", runs["cost_total_rp"].to_numpy(), "total programme cost")
        else:
            _no_data(left, _("no cost outcomes in the runs table"))
        outcome = "cost_per_surviving_group_rp"
        sub = summary[summary["outcome"] == outcome] if len(summary) else summary
        if len(sub) and np.isfinite(sub["mean"]).any():
            _ci_points(right, sub, arms, names, palette)
            values = np.concatenate([sub["ci_low"].to_numpy(float), sub["ci_high"].to_numpy(float),
                                     sub["mean"].to_numpy(float)])
            _money_axis(right, "x", values, label_of(outcome))
            right.set_title(_("mean and 95% confidence interval over replications"), fontsize=10)
        else:
            _no_data(right, _("no cost per surviving group"))
    return fig


# ----------------------------------------------------------------------------------------------
# Facilitator workload
# ----------------------------------------------------------------------------------------------

WORKLOAD_OUTCOMES: tuple[str, ...] = ("visits_per_group_month", "mean_share_unvisited_quarter")


def _line_by_level(ax: Axes, effects: pd.DataFrame, hue_effects: Mapping[Any, pd.DataFrame] | None,
                   palette_name: str = "colorblind") -> None:
    """Mean with CI whiskers against a numeric level, one line per hue value (or one line)."""
    series = dict(hue_effects) if hue_effects else {None: effects}
    colours = sns.color_palette(palette_name, max(len(series), 1))
    for i, (name, frame) in enumerate(series.items()):
        f = frame.sort_values("level")
        x = f["level"].to_numpy(dtype=float)
        y = f["mean"].to_numpy(dtype=float)
        err = np.vstack([y - f["ci_low"].to_numpy(float), f["ci_high"].to_numpy(float) - y])
        err = np.where(np.isfinite(err), err, 0.0)
        ax.errorbar(x, y, yerr=err, fmt="-o", color=colours[i], capsize=3, markersize=5, linewidth=1.6,
                    label=None if name is None else str(name))


def workload_figure(runs: pd.DataFrame, labels: Mapping[int, str], baseline_arm: int | None = None,
                    confidence: float = 0.95) -> Figure:
    """Facilitator workload: visits per group per month and groups left unvisited, by arm or by caseload.

    When groups per facilitator is a factor of the sweep, both are drawn against it (one line per
    level of one other factor, if there is exactly one); otherwise by arm.

    Args:
        runs: The runs table (finished runs).
        labels: Arm labels.
        baseline_arm: The reference arm.
        confidence: Confidence level of the whiskers.

    Returns:
        The figure.
    """
    panels = [o for o in WORKLOAD_OUTCOMES if o in runs.columns]
    arms = _arm_order(runs, labels)
    by_ratio = keys.CASELOAD in runs.columns and runs[keys.CASELOAD].nunique() > 1
    with _style():
        if by_ratio:
            fig = new_figure(figsize=(11, 4.4))
        else:
            fig = new_figure(figsize=(11, _rows_height(len(arms))))
        axes = np.atleast_1d(fig.subplots(1, max(len(panels), 1), sharey=not by_ratio))
        if not panels:
            _no_data(axes[0], _("no workload outcomes in the runs table"))
            return fig
        others = [f for f in factor_columns(runs) if f != keys.CASELOAD and runs[f].nunique() > 1]
        for ax, outcome in zip(axes, panels, strict=False):
            if by_ratio:
                hue = None
                if len(others) == 1 and runs[others[0]].nunique() <= 6:
                    hue = {f"{setting_label(others[0])} = {fmt_setting(others[0], level)}":
                           factor_effects(runs[runs[others[0]] == level], outcome, [keys.CASELOAD], confidence)
                           for level in sorted(runs[others[0]].dropna().unique())}
                effects = factor_effects(runs, outcome, [keys.CASELOAD], confidence)
                _line_by_level(ax, effects, hue)
                ax.set_xlabel(_("groups per facilitator"))
                _value_axis(ax, "y", outcome, effects["mean"].to_numpy())
                ax.set_ylim(bottom=0)
                if kind_of(outcome) == "share":
                    ax.set_ylim(0, max(1.0, float(np.nanmax(effects["ci_high"])) if len(effects) else 1.0))
                if hue:
                    ax.legend(fontsize=8)
                ax.set_title(label_of(outcome), fontsize=10)
            else:
                summary = arm_summary(runs, outcome, confidence)
                names = _display_labels(arms, labels, baseline_arm)
                _ci_points(ax, summary, arms, names, arm_palette(arms))
                _value_axis(ax, "x", outcome, summary["mean"].to_numpy())
                ax.set_xlim(left=0)
                if kind_of(outcome) == "share":
                    ax.set_xlim(0, 1)
                ax.set_title(label_of(outcome), fontsize=10)
    return fig


# ----------------------------------------------------------------------------------------------
# Factor effects
# ----------------------------------------------------------------------------------------------

def factor_effects_figure(effects: Mapping[str, pd.DataFrame]) -> Figure:
    """Mean of key outcomes at each level of each factor, with 95% confidence intervals.

    One row of panels per outcome, one column per factor; each point averages every run at that
    level whatever the other factors (the factor's marginal effect in this design).

    Args:
        effects: ``{outcome: analysis.factor_effects(runs, outcome)}``.

    Returns:
        The figure.
    """
    outcomes = [o for o, e in effects.items() if len(e)]
    factors: list[str] = []
    for o in outcomes:
        for f in effects[o]["factor"].unique():
            if f not in factors:
                factors.append(f)
    with _style():
        if not outcomes or not factors:
            fig = new_figure(figsize=(7, 3))
            _no_data(fig.subplots(), _("the sweep has no factor with more than one value"))
            return fig
        ncols, nrows = len(factors), len(outcomes)
        fig = new_figure(figsize=(max(3.6 * ncols, 6.0), 2.6 * nrows + 0.4))
        axes = np.asarray(fig.subplots(nrows, ncols, squeeze=False, sharex="col", sharey="row"))
        colour = sns.color_palette("colorblind")[0]
        for r, outcome in enumerate(outcomes):
            e = effects[outcome]
            for c, factor in enumerate(factors):
                ax = axes[r, c]
                f = e[e["factor"] == factor]
                if f.empty:
                    _no_data(ax)
                    continue
                numeric = pd.api.types.is_numeric_dtype(f["level"]) or all(
                    isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in f["level"])
                x = f["level"].to_numpy(dtype=float) if numeric else np.arange(len(f))
                y = f["mean"].to_numpy(dtype=float)
                err = np.vstack([y - f["ci_low"].to_numpy(float), f["ci_high"].to_numpy(float) - y])
                err = np.where(np.isfinite(err), err, 0.0)
                ax.errorbar(x, y, yerr=err, fmt="-o", color=colour, capsize=3, markersize=5, linewidth=1.6)
                if not numeric:
                    ax.set_xticks(x, [str(v) for v in f["level"]], rotation=20)
                _value_axis(ax, "y", outcome, np.concatenate([y, f["ci_high"].to_numpy(float)]))
                if c > 0:
                    ax.set_ylabel("")
                else:
                    ax.set_ylabel(textwrap.fill(ax.get_ylabel(), 26), fontsize=8)
                if r == nrows - 1:
                    if numeric and factor.endswith("_rp"):
                        _money_axis(ax, "x", x, factor_label(factor).removesuffix(" (Rp)"))
                    else:
                        ax.set_xlabel(factor_label(factor))
                        if numeric:
                            ax.ticklabel_format(axis="x", style="plain", useOffset=False)
                if r == 0:
                    ax.set_title(factor_label(factor), fontsize=10)
    return fig


# ----------------------------------------------------------------------------------------------
# Groups over time
# ----------------------------------------------------------------------------------------------

def groups_over_time_figure(monthly: pd.DataFrame, labels: Mapping[int, str], baseline_arm: int | None = None,
                            column: str = "groups_active") -> Figure:
    """Groups running month by month in each arm: mean over replications with the min-max range.

    Up to :data:`MAX_OVERLAID_ARMS` arms share one panel; up to :data:`MANY_ARMS` each arm gets a
    small panel with the baseline arm dashed behind it; beyond that every arm is a thin grey line
    and the baseline arm is highlighted.

    Args:
        monthly: The monthly table (``arm, replication, month`` and ``column``).
        labels: Arm labels.
        baseline_arm: The reference arm.
        column: The monthly column to draw.

    Returns:
        The figure.
    """
    ylabel = _("groups running") if column == "groups_active" else label_of(column)
    with _style():
        if monthly is None or monthly.empty or column not in monthly.columns:
            fig = new_figure(figsize=(8.5, 4.6))
            _no_data(fig.subplots(), _("no monthly series"))
            return fig
        arms = sorted(int(a) for a in monthly["arm"].unique())
        palette = arm_palette(arms)
        names = _display_labels(arms, labels, baseline_arm)
        stats = monthly.groupby(["arm", "month"])[column].agg(["mean", "min", "max"]).reset_index()
        base = stats[stats["arm"] == baseline_arm] if baseline_arm is not None else stats.iloc[0:0]
        x_lim = (float(stats["month"].min()), float(stats["month"].max()))
        y_top = float(stats["max"].max()) * 1.05 if len(stats) else 1.0

        def finish(ax: Axes) -> None:
            ax.set_xlim(*x_lim)
            ax.set_ylim(0, y_top if y_top > 0 else 1.0)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))

        if len(arms) <= MAX_OVERLAID_ARMS:
            fig = new_figure(figsize=(8.5, 4.6))
            ax = fig.subplots()
            for arm in arms:
                a = stats[stats["arm"] == arm]
                ax.fill_between(a["month"], a["min"], a["max"], color=palette[arm], alpha=0.12, linewidth=0)
                ax.plot(a["month"], a["mean"], color=palette[arm], linewidth=2.4 if arm == baseline_arm else 1.6,
                        label=names[arm])
            finish(ax)
            ax.set_xlabel(_("month of the programme"))
            ax.set_ylabel(ylabel)
            ax.legend(title="arm (mean; shaded: lowest to highest replication)", fontsize=8, title_fontsize=8,
                      loc="best", frameon=True)
            return fig

        if len(arms) > MANY_ARMS:
            fig = new_figure(figsize=(8.5, 4.6))
            ax = fig.subplots()
            for arm in arms:
                if arm != baseline_arm:
                    a = stats[stats["arm"] == arm]
                    ax.plot(a["month"], a["mean"], color="0.6", linewidth=0.8, alpha=0.7)
            handles = [Line2D([], [], color="0.6", linewidth=0.8, label=_("each other arm (mean)"))]
            if baseline_arm is not None and len(base):
                ax.fill_between(base["month"], base["min"], base["max"], color=palette[baseline_arm], alpha=0.2,
                                linewidth=0)
                ax.plot(base["month"], base["mean"], color=palette[baseline_arm], linewidth=2.4)
                handles.append(Line2D([], [], color=palette[baseline_arm], linewidth=2.4,
                                      label=_("reference arm {arm} (shaded: lowest to highest replication)").format(
                                          arm=baseline_arm)))
            finish(ax)
            ax.set_xlabel(_("month of the programme"))
            ax.set_ylabel(ylabel)
            ax.legend(handles=handles, fontsize=8, loc="best", frameon=True)
            return fig

        ncols = 4 if len(arms) > 9 else 3
        nrows = math.ceil(len(arms) / ncols)
        fig = new_figure(figsize=(3.2 * ncols, 2.3 * nrows + 0.6))
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, sharey=True)).ravel()
        for ax, arm in zip(axes, arms, strict=False):
            if len(base) and arm != baseline_arm:
                ax.plot(base["month"], base["mean"], color="0.55", linewidth=1.2, linestyle="--")
            a = stats[stats["arm"] == arm]
            ax.fill_between(a["month"], a["min"], a["max"], color=palette[arm], alpha=0.25, linewidth=0)
            ax.plot(a["month"], a["mean"], color=palette[arm], linewidth=1.8)
            finish(ax)
            ax.set_title(names[arm], fontsize=8)
        for ax in axes[len(arms):]:
            ax.set_visible(False)
        fig.supxlabel("month of the programme", fontsize=9)
        fig.supylabel(ylabel, fontsize=9)
        handles = [Line2D([], [], color="0.3", linewidth=1.8, label=_("this arm: mean (shaded: lowest to highest)"))]
        if len(base):
            handles.append(Line2D([], [], color="0.55", linewidth=1.2, linestyle="--", label=_("reference arm (mean)")))
        fig.legend(handles=handles, loc="outside upper center", ncols=2, fontsize=8, frameon=False)
    return fig
