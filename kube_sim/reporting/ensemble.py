"""How a difference over a calibrated ensemble is shown: one set of cells for ``compare`` and the report."""

from __future__ import annotations

from typing import Any

import pandas as pd

from kube_sim.common.i18n import N_, _
from kube_sim.reporting.formats import fmt_diff, fmt_p, fmt_percent, fmt_range, missing

HEADER: tuple[str, ...] = (N_("difference (95% CI, seeds + parameters)"), "p", N_("from parameters"),
                           N_("across parameter sets (5-95%)"))
"""Column titles of :func:`ensemble_cells` (in English: :func:`header` gives them in the language spoken)."""

READING = N_("The interval is a t-interval on the parameter sets' mean differences; 'from parameters' is the share "
           "of its variance that the spread between parameter sets gives, the rest is seed noise (a one-way "
           "random-effects decomposition); the last column is the range of the effect across parameter sets.")
"""How to read the cells (in English: translate it with ``_`` where it is shown)."""


def header() -> list[str]:
    """The column titles of :func:`ensemble_cells` in the language spoken."""
    return [_(h) for h in HEADER]


def ensemble_cells(outcome: str, row: pd.Series | dict[str, Any]) -> list[str]:
    """The cells of one row of :func:`kube_sim.analysis.ensemble.ensemble_differences`.

    Args:
        outcome: The outcome column (decides the format).
        row: The row.

    Returns:
        Difference with its interval, p, the share from parameters, the range across parameter sets.
    """
    share = missing() if pd.isna(row["param_share"]) else fmt_percent(row["param_share"], 0)
    return [f"{fmt_diff(outcome, row['mean_diff'])} "
            f"({fmt_range(fmt_diff(outcome, row['ci_low']), fmt_diff(outcome, row['ci_high']))})",
            fmt_p(row["pvalue"]), share,
            fmt_range(fmt_diff(outcome, row["member_p05"]), fmt_diff(outcome, row["member_p95"]))]
