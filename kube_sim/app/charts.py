"""The page's charts: six small panels over time, one line per arm (drawn with matplotlib, no browser libraries).

A :class:`SeriesChart` keeps its figure and lines and only replaces the lines' data each month. Its
axes move in whole steps (the months in years, the values to a round number with room above), so most
months leave them as they are: the panels, their text and grid are then drawn once and kept as a
picture, and a month's redraw is the lines on that picture (milliseconds, where drawing the whole
figure takes a large part of a second: with a class of tabs on one server, that is the difference).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from kube_sim.app.labels import label
from kube_sim.app.state import SERIES

ARM_COLOURS: tuple[str, ...] = ("#1f6f8b", "#d1495b")
"""Line colour of arm A and arm B."""

ARM_STYLES: tuple[str, ...] = ("-", "--")
"""Line style of arm A and arm B."""

SCALE: dict[str, float] = {"cost_to_date_rp": 1e-6}
"""Factor from a series' unit to its axis' unit (cost in Rp juta)."""

SHARES: tuple[str, ...] = ("survival", "share_unvisited_quarter")
"""Series that are shares (their axis runs from 0 to 1)."""

MONTH_STEP = 12
"""The months axis ends on a whole number of years, at least one."""

HEADROOM = 1.08
"""A value axis leaves at least this much room above the highest value."""

Arm = tuple[str, pd.DataFrame, pd.Series]
"""``(name, monthly series, survival curve)``, as from :func:`kube_sim.app.state.monthly_series` and
:func:`kube_sim.app.state.survival_curve`."""


class SeriesChart:
    """Six panels (the :data:`~kube_sim.app.state.SERIES`), with one line per arm.

    Args:
        names: Arm names (one or two).
        language: Label language.
    """

    def __init__(self, names: Sequence[str], language: str = "en") -> None:
        self.figure = Figure(figsize=(13.5, 5.4), dpi=80)
        self.figure.subplots_adjust(left=0.05, right=0.99, top=0.93, bottom=0.1, wspace=0.18, hspace=0.45)
        self.axes = dict(zip(SERIES, self.figure.subplots(2, 3).ravel(), strict=True))
        self.lines: dict[str, list] = {}
        for key, ax in self.axes.items():
            self.lines[key] = [ax.plot([], [], ARM_STYLES[i % 2], color=ARM_COLOURS[i % 2], lw=2, label=name)[0]
                               for i, name in enumerate(names)]
            ax.set_title(label(key, language), fontsize=10, loc="left")
            ax.set_xlabel(label("months_since_funding" if key == "survival" else "month", language), fontsize=8)
            ax.tick_params(labelsize=8)
            ax.grid(alpha=0.3)
            ax.spines[["top", "right"]].set_visible(False)
            for line in self.lines[key]:
                line.set_animated(True)  # drawn over the kept picture of the panels, not into it
        if len(names) > 1:
            self.axes[SERIES[0]].legend(fontsize=8, frameon=False, loc="lower right")
        self.canvas = FigureCanvasAgg(self.figure)
        self._background: object | None = None
        self.full_draws = 0
        """How many times the whole figure was drawn (the axes moved); the other redraws are the lines only."""

    def update(self, arms: Sequence[Arm]) -> None:
        """Replace every line's data with the arms' current series.

        Args:
            arms: One entry per arm, in the order of the names given at construction.
        """
        for key, ax in self.axes.items():
            for line, arm in zip(self.lines[key], arms, strict=True):
                data = series_of(key, arm)
                if data is None or len(data) == 0:
                    line.set_data([], [])
                else:
                    line.set_data(data.index.to_numpy(), data.to_numpy(dtype=float) * SCALE.get(key, 1.0))
            xlim, ylim = axis_limits(key, arms)
            if ax.get_xlim() != xlim or ax.get_ylim() != ylim:
                ax.set_xlim(*xlim)
                ax.set_ylim(*ylim)
                self._background = None

    def render(self) -> None:
        """Draw the figure into its canvas: the panels only when they moved, then the lines on them."""
        if self._background is None:
            self.canvas.draw()
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
            self.full_draws += 1
        else:
            self.canvas.restore_region(self._background)
        for lines in self.lines.values():
            for line in lines:
                self.figure.draw_artist(line)

    def png(self) -> bytes:
        """Return the figure as PNG bytes."""
        self.render()
        width, height = self.canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        image.save(buffer, format="png", compress_level=1)
        return buffer.getvalue()


def series_of(key: str, arm: Arm) -> pd.Series | None:
    """An arm's series ``key``: the survival curve, or a column of its monthly series (None when absent)."""
    _, monthly, survival = arm
    return survival if key == "survival" else monthly.get(key)


def axis_limits(key: str, arms: Sequence[Arm]) -> tuple[tuple[float, float], tuple[float, float]]:
    """A panel's ``(x limits, y limits)``: whole years of months, and shares 0-1 or a round top with headroom.

    Args:
        key: The series.
        arms: One entry per arm.

    Returns:
        ``((0, months), (bottom, top))``.
    """
    top, right = 0.0, 12.0
    for arm in arms:
        data = series_of(key, arm)
        if data is None or len(data) == 0:
            continue
        top = max(top, float(np.nanmax(data.to_numpy(dtype=float) * SCALE.get(key, 1.0), initial=0.0)))
        right = max(right, float(data.index.max()))
    xlim = (0.0, float(MONTH_STEP * max(1, math.ceil(right / MONTH_STEP))))
    ylim = (-0.02, 1.02) if key in SHARES else (0.0, round_up(top * HEADROOM) if top > 0 else 1.0)
    return xlim, ylim


def round_up(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 or 10 times a power of ten that is at least ``value`` (> 0)."""
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if step * power >= value * (1 - 1e-12):
            return step * power
    return 10.0 * power
