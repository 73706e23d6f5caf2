"""How a difference over a calibrated ensemble is shown: one set of cells for ``compare`` and the report."""

from __future__ import annotations

from typing import Any

import pandas as pd

from kube_sim.reporting.formats import MISSING, fmt_diff, fmt_p

HEADER: tuple[str, ...] = ("difference (95% CI, seeds + parameters)", "p", "from parameters",
                           "across parameter sets (5-95%)")
"""Column titles of :func:`ensemble_cells`."""

READING = ("The interval is a t-interval on the parameter sets' mean differences; 'from parameters' is the share "
           "of its variance that the spread between parameter sets gives, the rest is seed noise (a one-way "
           "random-effects decomposition); the last column is the range of the effect across parameter sets.")
"""How to read the cells."""


def ensemble_cells(outcome: str, row: pd.Series | dict[str, Any]) -> list[str]:
    """The cells of one row of :func:`kube_sim.analysis.ensemble.ensemble_differences`.

    Args:
        outcome: The outcome column (decides the format).
        row: The row.

    Returns:
        Difference with its interval, p, the share from parameters, the range across parameter sets.
    """
    share = MISSING if pd.isna(row["param_share"]) else f"{row['param_share']:.0%}"
    return [f"{fmt_diff(outcome, row['mean_diff'])} ({fmt_diff(outcome, row['ci_low'])} to "
            f"{fmt_diff(outcome, row['ci_high'])})", fmt_p(row["pvalue"]), share,
            f"{fmt_diff(outcome, row['member_p05'])} to {fmt_diff(outcome, row['member_p95'])}"]
