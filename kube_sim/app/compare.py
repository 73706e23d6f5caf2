"""Paired replications of two arms: same seeds in both, the difference with a paired t interval.

The model draws each kind of randomness from its own seeded stream, so two arms run with the same
seed differ only where their policies act; the per-seed differences are then far less noisy than
the arms themselves.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from kube_sim.analysis.statistics import t_interval
from kube_sim.model.parameters import Parameters
from kube_sim.model.run import flat_outcomes, run_model

COMPARED_OUTCOMES: tuple[str, ...] = (
    "survival_12",
    "survival_24",
    "groups_active_end",
    "mean_member_income_rp",
    "share_income_to_eligible",
    "mean_share_unvisited_quarter",
    "cost_per_surviving_group_rp",
)
"""Outcomes the side-by-side view compares over replications."""

REPLICATIONS = 20
"""Paired replications run by the side-by-side view's button."""

REPLICATION_MONTHS = 36
"""Default months per replication in the side-by-side view."""


def replication_seeds(seed: int, replications: int = REPLICATIONS) -> list[int]:
    """Return the seeds of the side-by-side view's replications: the page's seed and the ones after it.

    Args:
        seed: The page's seed.
        replications: How many replications.

    Returns:
        ``seed, seed + 1, ...``, one per replication.
    """
    return [seed + r for r in range(replications)]


def paired_replications(arm_a: Parameters, arm_b: Parameters, *, seeds: list[int], months: int,
                        on_done: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Run both arms once per seed and return each outcome's paired difference (B minus A).

    Args:
        arm_a: Parameters of arm A.
        arm_b: Parameters of arm B.
        seeds: One seed per replication, used by both arms.
        months: Months per run.
        on_done: Called with the number of replications finished, after each one.

    Returns:
        One row per outcome of :data:`COMPARED_OUTCOMES`: ``outcome, n, mean_a, mean_b, diff, low,
        high`` (95% paired t interval of the difference).
    """
    rows = []
    for done, seed in enumerate(seeds, start=1):
        a = flat_outcomes(run_model(arm_a, seed=seed, months=months).summary)
        b = flat_outcomes(run_model(arm_b, seed=seed, months=months).summary)
        rows.append({f"{side}_{key}": _number(run.get(key)) for side, run in (("a", a), ("b", b))
                     for key in COMPARED_OUTCOMES})
        if on_done is not None:
            on_done(done)
    runs = pd.DataFrame(rows)
    table = []
    for key in COMPARED_OUTCOMES:
        n, diff, _, low, high = t_interval(runs[f"b_{key}"] - runs[f"a_{key}"])
        table.append({"outcome": key, "n": n, "mean_a": runs[f"a_{key}"].mean(), "mean_b": runs[f"b_{key}"].mean(),
                      "diff": diff, "low": low, "high": high})
    return pd.DataFrame(table)


def _number(value: float | None) -> float:
    return float("nan") if value is None else float(value)
