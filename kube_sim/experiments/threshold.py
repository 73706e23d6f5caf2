"""The staffing threshold's sweep: the base scenario at a grid of caseloads, with paired seeds.

``kube-sim threshold`` asks for the largest number of groups per facilitator that keeps survival at a
horizon at or above a target. Its runs are one arm per caseload of the grid (at the facilitator hours
given, or the base scenario's), every arm with the same replication seeds (common random numbers), so
a difference between caseloads is computed within a replication. The plan runs on
:func:`kube_sim.experiments.sweep.run_sweep` (resumable, local processes or Dask); the question (target,
horizon, confidence, grid) goes into the manifest's ``threshold`` entry, from which
:mod:`kube_sim.analysis.threshold` answers it without the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from kube_sim.common import keys
from kube_sim.common.errors import InputError, ParameterError
from kube_sim.experiments.experiment import replication_seeds
from kube_sim.experiments.rows import kept_outcomes
from kube_sim.experiments.scenario import Scenario
from kube_sim.experiments.sweep import Arm, SweepPlan, parameter_notes, scenario_entry
from kube_sim.model.parameters import make_parameters

CASELOAD_KEY = keys.CASELOAD
"""The parameter searched (groups per facilitator)."""

HOURS_KEY = keys.HOURS
"""The facilitators' hours, held at the value asked for."""

DEFAULT_CASELOADS: tuple[int, ...] = (2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 25, 30, 35, 40)
"""Caseloads evaluated by default (groups per facilitator)."""

FOLLOW_UP_MARGIN = 4
"""Months added after the last cohort reaches the horizon, so its survival at the horizon is known."""


def default_months(base: Scenario, horizon: int) -> int:
    """Run length that follows every yearly cohort of the base scenario to the horizon.

    Args:
        base: The base scenario (its ``funding.rounds``).
        horizon: Months after funding at which survival is judged.

    Returns:
        ``horizon + 12 * (rounds - 1) + 4`` (64 months for 36 months and three rounds).
    """
    rounds = max(int(base.params.funding.rounds), 1)
    return horizon + 12 * (rounds - 1) + FOLLOW_UP_MARGIN


def run_length(base: Scenario, horizon: int, months: int | None) -> int:
    """The months each run lasts: those asked for, else :func:`default_months`; longer than the horizon.

    Args:
        base: The base scenario.
        horizon: Months after funding at which survival is judged.
        months: The run length asked for (None: the default).

    Returns:
        The run length.

    Raises:
        InputError: If the horizon is not shorter than the run.
    """
    length = months if months is not None else default_months(base, horizon)
    if horizon >= length:
        raise InputError(f"must be shorter than the run ({length} months); raise --months", source="--horizon",
                         key=str(horizon))
    return length


def plan_threshold(base: Scenario, *, caseloads: Sequence[int], hours: float | None, target: float, horizon: int,
                   confidence: float, replications: int, months: int, master_seed: int) -> SweepPlan:
    """The sweep of a staffing threshold: one arm per caseload, every arm with the same seeds.

    Args:
        base: The base scenario.
        caseloads: Groups per facilitator evaluated (distinct, at least 1 each).
        hours: Facilitator hours per month (None: the base scenario's).
        target: Survival at the horizon to keep (a share).
        horizon: Months after funding.
        confidence: One-sided confidence that survival is at or above the target.
        replications: Paired replications per caseload.
        months: Run length.
        master_seed: Seed the replication seeds derive from.

    Returns:
        The plan; arm ``i`` runs ``sorted(caseloads)[i]``.

    Raises:
        InputError: If a caseload or the hours give invalid parameters.
    """
    grid = sorted(set(int(c) for c in caseloads))
    hours_value = float(base.params.facilitators.hours_per_month if hours is None else hours)
    arms: list[Arm] = []
    for caseload in grid:
        overrides: dict[str, Any] = {CASELOAD_KEY: caseload, HOURS_KEY: hours_value}
        try:
            params = make_parameters(overrides, base=base.params)
        except ParameterError as exc:
            raise exc.located("--caseloads" if exc.key == CASELOAD_KEY else "--hours") from None
        arms.append(Arm(index=len(arms), label=f"1:{caseload}", params=params,
                        factors={CASELOAD_KEY: caseload}, scenario=base.name, parameters=overrides))
    threshold = {
        "caseload_key": CASELOAD_KEY,
        "caseloads": grid,
        "hours_per_month": hours_value,
        "target": float(target),
        "horizon": int(horizon),
        "confidence": float(confidence),
        "paired_by": ["replication"],
    }
    manifest = {
        "experiment_name": "threshold",
        "description": f"Survival at {horizon} months by groups per facilitator ({', '.join(map(str, grid))}) at "
                       f"{hours_value:g} facilitator hours a month, paired seeds; the largest caseload keeping it "
                       f"at or above {target:.0%} with {confidence:.0%} confidence.",
        "experiment_file": None,
        "experiment_text": None,
        "base_scenario": scenario_entry(base),
        "factors": {CASELOAD_KEY: grid},
        "parameter_notes": parameter_notes([CASELOAD_KEY, HOURS_KEY]),
        "master_seed": master_seed,
        "design": {"kind": "grid", "samples": None, "seed": None, "points": len(grid)},
        "threshold": threshold,
    }
    return SweepPlan(name="threshold", arms=tuple(arms), seeds=tuple(replication_seeds(master_seed, replications)),
                     months=months, factor_types={CASELOAD_KEY: pa.int64()}, outcomes=kept_outcomes(None),
                     manifest=manifest)
