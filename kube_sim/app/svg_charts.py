"""The page's charts as SVG: six small panels over time, one line per arm, drawn by the browser.

The server sends each month a few kilobytes of SVG text (the panels' axes, ticks and the lines as
polylines); the browser draws them. Building that text takes about a millisecond, where drawing the
same panels with matplotlib and sending them as a PNG took most of a step's time on the server: with
a class of tabs on one server, that is the difference between steps under a second and steps that
queue. The panels follow the same axes as the PNG export (:class:`kube_sim.app.charts.SeriesChart`):
both take their limits from :func:`kube_sim.app.charts.axis_limits`. Text sizes are set by the
page's CSS (classes ``kube-svg-title``, ``kube-svg-tick``, ``kube-svg-axis``), so projector mode can
enlarge them.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

import numpy as np
from matplotlib.ticker import MaxNLocator

from kube_sim.app.charts import ARM_COLOURS, SCALE, SHARES, Arm, axis_limits, series_of
from kube_sim.app.labels import label
from kube_sim.app.state import SERIES
from kube_sim.common.i18n import speaking
from kube_sim.reporting.formats import fmt_number, fmt_percent

WIDTH, HEIGHT = 360.0, 190.0
"""A panel's size in SVG units (the browser scales it to the page's width)."""

MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 52.0, 10.0, 26.0, 34.0
"""Room around a panel's plotting area for the title, the ticks and the axis label."""

ARM_DASHES: tuple[str, ...] = ("", "7 4")
"""Line dash of arm A (solid) and arm B (dashed), so that the arms differ by more than colour."""

def ticks(low: float, high: float, bins: int = 4) -> list[float]:
    """Round tick values between ``low`` and ``high`` (matplotlib's choice of nice steps).

    Args:
        low: The axis' lower limit.
        high: The axis' upper limit.
        bins: At most this many intervals.

    Returns:
        The tick values within the limits.
    """
    values = MaxNLocator(nbins=bins, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)
    return [float(v) for v in values if low - 1e-9 <= v <= high + 1e-9]


def tick_text(key: str, value: float, language: str) -> str:
    """A tick label in the page's language: shares as percentages, other values as plain numbers."""
    with speaking(language):
        return str(fmt_percent(value, 0) if key in SHARES else fmt_number(value))


def _polylines(x: np.ndarray, y: np.ndarray, to_px: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
               ) -> list[str]:
    """The ``points`` attributes of the unbroken runs of finite values."""
    px, py = to_px(x, y)
    finite = np.isfinite(px) & np.isfinite(py)
    runs, current = [], []
    for ok, a, b in zip(finite, px, py, strict=True):
        if ok:
            current.append(f"{a:.1f},{b:.1f}")
        elif current:
            runs.append(" ".join(current))
            current = []
    if current:
        runs.append(" ".join(current))
    return runs


def panel_svg(key: str, arms: Sequence[Arm], language: str) -> str:
    """One panel as an ``<svg>`` element: title, grid, ticks, axis label and one line per arm.

    Args:
        key: The series (one of :data:`~kube_sim.app.state.SERIES`).
        arms: One entry per arm.
        language: Label language.

    Returns:
        The SVG markup.
    """
    (x0, x1), (y0, y1) = axis_limits(key, arms)
    left, right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
    top, bottom = MARGIN_TOP, HEIGHT - MARGIN_BOTTOM

    def to_px(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return left + (x - x0) / (x1 - x0) * (right - left), bottom - (y - y0) / (y1 - y0) * (bottom - top)

    parts = [f"<svg class='kube-svg-panel kube-svg-{key}' viewBox='0 0 {WIDTH:g} {HEIGHT:g}' "
             f"role='img' aria-label='{html.escape(label(key, language))}'>",
             f"<text class='kube-svg-title' x='{left - 40:g}' y='16'>{html.escape(label(key, language))}</text>"]
    for value in ticks(y0, y1):
        _, py = to_px(np.array([x0]), np.array([value]))
        parts.append(f"<line class='kube-svg-grid' x1='{left:g}' x2='{right:g}' y1='{py[0]:.1f}' y2='{py[0]:.1f}'/>"
                     f"<text class='kube-svg-tick' x='{left - 5:g}' y='{py[0] + 4:.1f}' text-anchor='end'>"
                     f"{tick_text(key, value, language)}</text>")
    for value in ticks(x0, x1, bins=6):
        px, _ = to_px(np.array([value]), np.array([y0]))
        parts.append(f"<line class='kube-svg-grid' x1='{px[0]:.1f}' x2='{px[0]:.1f}' y1='{top:g}' y2='{bottom:g}'/>"
                     f"<text class='kube-svg-tick' x='{px[0]:.1f}' y='{bottom + 14:g}' text-anchor='middle'>"
                     f"{tick_text('month', value, language)}</text>")
    parts.append(f"<line class='kube-svg-frame' x1='{left:g}' x2='{right:g}' y1='{bottom:g}' y2='{bottom:g}'/>"
                 f"<line class='kube-svg-frame' x1='{left:g}' x2='{left:g}' y1='{top:g}' y2='{bottom:g}'/>")
    axis = label("months_since_funding" if key == "survival" else "month", language)
    parts.append(f"<text class='kube-svg-axis' x='{(left + right) / 2:g}' y='{HEIGHT - 4:g}' "
                 f"text-anchor='middle'>{html.escape(axis)}</text>")
    for i, arm in enumerate(arms):
        data = series_of(key, arm)
        if data is None or len(data) == 0:
            continue
        x = data.index.to_numpy(dtype=float)
        y = data.to_numpy(dtype=float) * SCALE.get(key, 1.0)
        dash = f" stroke-dasharray='{ARM_DASHES[i % 2]}'" if ARM_DASHES[i % 2] else ""
        for points in _polylines(x, y, to_px):
            parts.append(f"<polyline class='kube-svg-line kube-svg-arm-{i}' fill='none' "
                         f"stroke='{ARM_COLOURS[i % 2]}'{dash} points='{points}'/>")
    parts.append("</svg>")
    return "".join(parts)


def legend_html(names: Sequence[str]) -> str:
    """A key of the arms: each name beside a sample of its line (colour and dash)."""
    items = []
    for i, name in enumerate(names):
        dash = f" stroke-dasharray='{ARM_DASHES[i % 2]}'" if ARM_DASHES[i % 2] else ""
        items.append(f"<span class='kube-svg-key kube-svg-key-{i}'><svg viewBox='0 0 30 10' width='30' height='10'>"
                     f"<line x1='0' x2='30' y1='5' y2='5' stroke='{ARM_COLOURS[i % 2]}' stroke-width='3'{dash}/>"
                     f"</svg> {html.escape(name)}</span>")
    return f"<div class='kube-svg-legend'>{''.join(items)}</div>"


def charts_html(names: Sequence[str], arms: Sequence[Arm], language: str) -> str:
    """The six panels and the key of the arms, as HTML for the page.

    Args:
        names: Arm names, in the order of ``arms``.
        arms: One entry per arm.
        language: Label language.

    Returns:
        The markup: the key, then a grid of the six panels.
    """
    panels = "".join(panel_svg(key, arms, language) for key in SERIES)
    return f"{legend_html(names)}<div class='kube-svg-charts'>{panels}</div>"


CSS = """
.kube-svg-charts { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 4px 14px; max-width: 1180px; }
.kube-svg-panel { width: 100%; height: auto; display: block; }
.kube-svg-title { font-size: 13px; font-weight: 600; fill: #36454f; }
.kube-svg-tick { font-size: 10px; fill: #555; }
.kube-svg-axis { font-size: 10px; fill: #555; }
.kube-svg-grid { stroke: #e3e7ea; stroke-width: 1; }
.kube-svg-frame { stroke: #9aa5ad; stroke-width: 1; }
.kube-svg-line { stroke-width: 2.5; stroke-linejoin: round; }
.kube-svg-legend { font-size: 13px; margin: 2px 0 4px 0; }
.kube-svg-key { margin-right: 18px; white-space: nowrap; }
"""
"""The charts' styles (the page adds them to its own)."""

