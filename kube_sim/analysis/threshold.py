"""The staffing threshold from a saved threshold sweep: a monotone survival curve, its bootstrap and the answer.

Read from the sweep's groups table and manifest (its ``threshold`` entry: caseloads, target, horizon,
confidence); nothing here runs or imports the model.

Method:

1. Each run's Kaplan-Meier survival at the horizon, from its groups (:mod:`kube_sim.common.survival`).
2. The curve: mean survival by caseload, made non-increasing in the caseload by isotonic regression
   (weighted by the runs at each caseload), since a facilitator with more groups cannot help them more.
3. A paired bootstrap over replications: each resample draws replications with replacement and keeps
   every caseload's run of a drawn replication (they share its seed), then refits the curve.
4. The answer: the largest caseload whose lower one-sided bound (the ``1 - confidence`` quantile of the
   bootstrap curves) is at or above the target. Since every bootstrap curve is non-increasing, so is the
   bound, and every smaller caseload of the grid passes too.
5. The crossing point, where the fitted curve (linear between caseloads) falls below the target, with a
   two-sided bootstrap interval at the same confidence. A crossing outside the grid is reported as
   below its smallest or above its largest caseload.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import isotonic_regression

from kube_sim.common.errors import InputError
from kube_sim.common.survival import survival_estimate

BOOTSTRAP_RESAMPLES = 2000
"""Bootstrap resamples of the replications."""

FOUND, NONE, ALL = "found", "none", "all"
"""Kinds of answer: a threshold inside the grid, no caseload reaching the target, every caseload reaching it."""

CURVE_COLUMNS: tuple[str, ...] = ("caseload", "runs", "mean", "fitted", "lower", "band_low", "band_high", "passes")
"""Columns of the curve table."""


@dataclass(frozen=True)
class Threshold:
    """The answer to the staffing question.

    Attributes:
        status: :data:`FOUND`, :data:`NONE` (no caseload of the grid reaches the target) or :data:`ALL`
            (every caseload does).
        caseload: Largest caseload whose lower bound reaches the target (None when none does).
        crossing: Caseload where the fitted curve crosses the target, linear between grid points (None
            when it does not cross inside the grid).
        crossing_low: Lower end of the crossing's interval (None: below the smallest caseload).
        crossing_high: Upper end of the crossing's interval (None: above the largest caseload).
        curve: One row per caseload, :data:`CURVE_COLUMNS`.
        target: Survival to keep.
        horizon: Months after funding.
        confidence: Confidence level.
        replications: Replications used.
        resamples: Bootstrap resamples.
    """

    status: str
    caseload: int | None
    crossing: float | None
    crossing_low: float | None
    crossing_high: float | None
    curve: pd.DataFrame
    target: float
    horizon: int
    confidence: float
    replications: int
    resamples: int


def run_survival(groups: pd.DataFrame, horizon: int) -> pd.Series:
    """Each run's Kaplan-Meier survival at the horizon.

    Args:
        groups: A sweep's groups table (``run_id``, ``duration_months``, ``failed``).
        horizon: Months after funding.

    Returns:
        Survival by ``run_id`` (NaN where undefined: no group, or none followed that long while some ran).
    """
    out = {}
    for run_id, part in groups.groupby("run_id", sort=True):
        value = survival_estimate(part["duration_months"].to_numpy(float), part["failed"].to_numpy(bool),
                                  np.array([float(horizon)]))
        out[int(run_id)] = float(value[0])
    return pd.Series(out, name="survival", dtype=float)


def survival_grid(runs: pd.DataFrame, groups: pd.DataFrame, caseload_key: str, caseloads: Sequence[int],
                  horizon: int) -> np.ndarray:
    """Survival at the horizon by caseload and replication.

    Args:
        runs: The runs table (``run_id``, ``replication``, ``status``, the caseload column).
        groups: The groups table.
        caseload_key: The caseload's column.
        caseloads: The grid, in order.
        horizon: Months after funding.

    Returns:
        A ``(len(caseloads), replications)`` array; NaN for a failed or missing run, or an undefined estimate.
    """
    ok = runs[runs["status"] == "ok"] if "status" in runs.columns else runs
    reps = int(runs["replication"].max()) + 1 if len(runs) else 0
    grid = np.full((len(caseloads), reps), np.nan)
    survival = run_survival(groups[groups["run_id"].isin(ok["run_id"])], horizon) if len(groups) else pd.Series()
    position = {int(c): i for i, c in enumerate(caseloads)}
    for run_id, caseload, rep in zip(ok["run_id"], ok[caseload_key], ok["replication"], strict=True):
        if int(caseload) in position and int(run_id) in survival.index:
            grid[position[int(caseload)], int(rep)] = survival[int(run_id)]
    return grid


def monotone_curve(means: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Isotonic (non-increasing) fit of mean survival over the caseloads.

    Args:
        means: Mean survival at each caseload (NaN where unknown).
        weights: Runs behind each mean.

    Returns:
        The fitted curve; unknown points take the fit of their neighbours.
    """
    known = np.isfinite(means) & (weights > 0)
    if not known.any():
        return np.full(means.shape, np.nan)
    fit = isotonic_regression(means[known], weights=weights[known], increasing=False).x
    positions = np.arange(len(means))
    return np.interp(positions, positions[known], fit)


def crossing_point(curve: np.ndarray, caseloads: Sequence[float], target: float) -> float:
    """Where a non-increasing curve falls below the target, linear between caseloads.

    Args:
        curve: Survival at each caseload.
        caseloads: The grid.
        target: The target.

    Returns:
        The caseload; ``-inf`` when even the smallest is below the target, ``inf`` when the largest is not.
    """
    x = np.asarray(caseloads, dtype=float)
    below = np.flatnonzero(curve < target)
    if len(below) == 0:
        return float("inf")
    i = int(below[0])
    if i == 0:
        return float("-inf")
    y0, y1 = curve[i - 1], curve[i]
    return float(x[i - 1] + (y0 - target) / (y0 - y1) * (x[i] - x[i - 1])) if y0 > y1 else float(x[i - 1])


def _means(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    counts = np.sum(np.isfinite(values), axis=-1)
    sums = np.nansum(values, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan), counts


def find_threshold(values: np.ndarray, caseloads: Sequence[int], *, target: float, confidence: float,
                   horizon: int = 36, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> Threshold:
    """The largest caseload keeping survival at or above the target with the stated confidence.

    Args:
        values: Survival by caseload (rows, in the order of ``caseloads``) and replication (columns): replication
            ``j`` of every caseload shares a seed.
        caseloads: The grid, increasing.
        target: Survival to keep.
        confidence: One-sided confidence level of the answer, e.g. 0.9.
        horizon: Months after funding (recorded in the answer).
        resamples: Bootstrap resamples.
        seed: Seed of the bootstrap.

    Returns:
        The :class:`Threshold`.

    Raises:
        InputError: If no run gives a survival estimate.
    """
    values = np.asarray(values, dtype=float)
    grid = [int(c) for c in caseloads]
    if values.ndim != 2 or values.shape[0] != len(grid):
        raise ValueError("values must have one row per caseload")
    if not np.isfinite(values).any():
        raise InputError(f"no run gives survival at {horizon} months (runs too short, or every run failed)",
                         source="--horizon", key=str(horizon))
    means, counts = _means(values)
    fitted = monotone_curve(means, counts.astype(float))
    rng = np.random.default_rng(seed)
    reps = values.shape[1]
    draws = rng.integers(0, reps, size=(resamples, reps))
    boot_means, boot_counts = _means(values[:, draws])  # (caseloads, resamples)
    curves = np.array([monotone_curve(boot_means[:, b], boot_counts[:, b].astype(float)) for b in range(resamples)])
    alpha = 1.0 - confidence
    lower = np.nanquantile(curves, alpha, axis=0)
    band_low = np.nanquantile(curves, alpha / 2, axis=0)
    band_high = np.nanquantile(curves, 1 - alpha / 2, axis=0)
    passes = lower >= target
    curve = pd.DataFrame({"caseload": grid, "runs": counts.astype(int), "mean": means, "fitted": fitted,
                          "lower": lower, "band_low": band_low, "band_high": band_high, "passes": passes})
    if not passes.any():
        status, caseload = NONE, None
    elif passes.all():
        status, caseload = ALL, grid[-1]
    else:
        status, caseload = FOUND, grid[int(np.flatnonzero(passes).max())]
    crossing = crossing_point(fitted, grid, target)
    # A crossing outside the grid is an open end: stand in a value beyond any caseload for the quantiles.
    outside = 10.0 * grid[-1] + 1.0
    boot = np.clip([crossing_point(c, grid, target) for c in curves], -outside, outside)
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return Threshold(status=status, caseload=caseload,
                     crossing=crossing if np.isfinite(crossing) else None,
                     crossing_low=float(low) if abs(low) < outside else None,
                     crossing_high=float(high) if abs(high) < outside else None,
                     curve=curve, target=target, horizon=horizon, confidence=confidence,
                     replications=reps, resamples=resamples)


def threshold_from_sweep(runs: pd.DataFrame, groups: pd.DataFrame, manifest: Mapping[str, Any],
                         resamples: int = BOOTSTRAP_RESAMPLES) -> Threshold:
    """The answer of a saved threshold sweep.

    Args:
        runs: Its runs table.
        groups: Its groups table.
        manifest: Its manifest (with the ``threshold`` entry).
        resamples: Bootstrap resamples.

    Returns:
        The :class:`Threshold` (the bootstrap is seeded by the sweep's master seed).
    """
    spec = manifest["threshold"]
    values = survival_grid(runs, groups, spec["caseload_key"], spec["caseloads"], int(spec["horizon"]))
    return find_threshold(values, spec["caseloads"], target=float(spec["target"]),
                          confidence=float(spec["confidence"]), horizon=int(spec["horizon"]), resamples=resamples,
                          seed=int(manifest.get("master_seed") or 0))
