"""The page's charts: six small panels over time, one line per arm (drawn with matplotlib, no browser libraries).

A :class:`SeriesChart` keeps its figure and lines and only replaces the lines' data each month,
so redrawing after a step costs a render, not a new figure.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from kube_sim.app.labels import label
from kube_sim.app.state import SERIES

ARM_COLOURS: tuple[str, ...] = ("#1f6f8b", "#d1495b")
"""Line colour of arm A and arm B."""

ARM_STYLES: tuple[str, ...] = ("-", "--")
"""Line style of arm A and arm B."""

_SCALE: dict[str, float] = {"cost_to_date_rp": 1e-6}
_SHARES: tuple[str, ...] = ("survival", "share_unvisited_quarter")

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
        if len(names) > 1:
            self.axes[SERIES[0]].legend(fontsize=8, frameon=False, loc="lower right")

    def update(self, arms: Sequence[Arm]) -> None:
        """Replace every line's data with the arms' current series.

        Args:
            arms: One entry per arm, in the order of the names given at construction.
        """
        for key, ax in self.axes.items():
            top, right = 0.0, 12.0
            for line, (_, monthly, survival) in zip(self.lines[key], arms, strict=True):
                data = survival if key == "survival" else monthly.get(key)
                if data is None or len(data) == 0:
                    line.set_data([], [])
                    continue
                values = data.to_numpy(dtype=float) * _SCALE.get(key, 1.0)
                line.set_data(data.index.to_numpy(), values)
                top = max(top, float(np.nanmax(values, initial=0.0)))
                right = max(right, float(data.index.max()))
            ax.set_xlim(0, right)
            ax.set_ylim((-0.02, 1.02) if key in _SHARES else (0, top * 1.08 if top > 0 else 1.0))

    def png(self) -> bytes:
        """Return the figure as PNG bytes."""
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png")
        return buffer.getvalue()
