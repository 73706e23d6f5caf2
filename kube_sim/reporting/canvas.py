"""Figures without pyplot: an Agg canvas and seaborn's styling, so drawing works headless."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


@contextmanager
def style(font_scale: float) -> Iterator[None]:
    """Seaborn's whitegrid style and notebook context, for the figures built inside.

    Args:
        font_scale: Scale of the notebook context's font sizes.

    Yields:
        Nothing; the style holds inside the ``with`` block.
    """
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=font_scale):
        yield


def new_figure(**kwargs: Any) -> Figure:
    """A new figure on an Agg canvas (no pyplot, no display needed, no global figure state).

    Args:
        **kwargs: Passed to :class:`matplotlib.figure.Figure` (e.g. ``figsize``).

    Returns:
        The figure, with constrained layout.
    """
    fig = Figure(layout="constrained", **kwargs)
    FigureCanvasAgg(fig)
    return fig
