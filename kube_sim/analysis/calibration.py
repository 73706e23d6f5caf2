"""Calibration statistics: how far a parameter set's measurements are from the targets, and ABC-SMC weights.

A target is a validation :class:`~kube_sim.analysis.patterns.Check` whose rule is a band (``Band`` or
``PairedRatio``). A parameter set's *distance* is the root mean square of its standardised misses:
for a band with both ends, ``(estimate - middle) / half-width`` (so the middle is preferred); for a
one-sided band, how far the estimate falls short of its bound, over a tenth of the bound. The
sequential Monte Carlo weights are those of approximate Bayesian computation with a population of
particles (Toni et al. 2009; Beaumont et al. 2009): a uniform prior on the unit cube and a Gaussian
perturbation kernel with twice the weighted covariance of the previous population. Nothing here runs
or imports the model.

References:
    Toni, T., Welch, D., Strelkowa, N., Ipsen, A. & Stumpf, M. P. H. (2009). Approximate Bayesian
    computation scheme for parameter inference and model selection in dynamical systems. *J. R. Soc.
    Interface* 6, 187-202.
    Beaumont, M. A., Cornuet, J.-M., Marin, J.-M. & Robert, C. P. (2009). Adaptive approximate Bayesian
    computation. *Biometrika* 96(4), 983-990.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from kube_sim.analysis.patterns import Band, Check, PairedRatio

ONE_SIDED_SCALE = 0.1
"""A one-sided target's miss is measured in tenths of its bound."""

MISSING_PENALTY = 3.0
"""Standardised miss charged for a target that cannot be estimated (no groups to measure, say)."""


def target_bounds(check: Check) -> tuple[float, float]:
    """The band of a calibration target.

    Args:
        check: A check with a ``Band`` or ``PairedRatio`` rule.

    Returns:
        ``(low, high)``; ``-inf`` or ``inf`` for an open end.

    Raises:
        TypeError: For a rule that is not a band.
    """
    if not isinstance(check.rule, Band | PairedRatio):
        raise TypeError(f"{check.pattern!r}: only band targets can be calibrated to")
    return check.rule.low, check.rule.high


def standardised_miss(estimate: float, low: float, high: float) -> float:
    """How far an estimate is from its target band, in the band's own scale.

    Args:
        estimate: The simulated value.
        low: The band's lower end (``-inf`` for none).
        high: The band's upper end (``inf`` for none).

    Returns:
        ``(estimate - middle) / half-width`` for a closed band; for a one-sided band, the shortfall
        beyond the bound over a tenth of it (0 inside); :data:`MISSING_PENALTY` when not estimable.
    """
    if not math.isfinite(estimate):
        return MISSING_PENALTY
    if math.isfinite(low) and math.isfinite(high):
        return (estimate - (low + high) / 2) / ((high - low) / 2)
    bound = low if math.isfinite(low) else high
    scale = max(ONE_SIDED_SCALE * abs(bound), 1e-9)
    return max(0.0, low - estimate) / scale if math.isfinite(low) else max(0.0, estimate - high) / scale


def fit_table(checks: Sequence[Check], measurements: pd.DataFrame) -> pd.DataFrame:
    """Each target's estimate (with its 95% interval) for one parameter set, and its standardised miss.

    Args:
        checks: The targets.
        measurements: That parameter set's runs: ``arm``, ``replication`` and the measurements.

    Returns:
        One row per target: ``pattern, target, source, estimate, ci_low, ci_high, low, high, miss, in_band``.
    """
    rows = []
    for check in checks:
        low, high = target_bounds(check)
        found = check.rule.evaluate(measurements)
        miss = standardised_miss(found.estimate, low, high)
        rows.append({"pattern": check.pattern, "target": check.rule.target(check.unit), "source": check.source,
                     "unit": check.unit, "estimate": found.estimate, "ci_low": found.ci_low, "ci_high": found.ci_high,
                     "low": low, "high": high, "miss": miss, "in_band": bool(found.passed)})
    return pd.DataFrame(rows)


def distance(checks: Sequence[Check], measurements: pd.DataFrame) -> float:
    """A parameter set's distance from the targets: the root mean square standardised miss.

    Args:
        checks: The targets.
        measurements: That parameter set's runs.

    Returns:
        The distance (0 when every closed band is hit in its middle and every one-sided bound is met).
    """
    misses = fit_table(checks, measurements)["miss"].to_numpy(dtype=float)
    return float(np.sqrt(np.mean(misses ** 2))) if misses.size else math.nan


def kernel_covariance(unit: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Twice the weighted covariance of a population (Beaumont et al. 2009's perturbation kernel).

    Args:
        unit: Particles on the unit cube, one row each.
        weights: Their normalised weights.

    Returns:
        A ``k x k`` covariance, with a small ridge so it stays positive definite.
    """
    cov = np.atleast_2d(np.cov(unit, rowvar=False, aweights=weights))
    return 2.0 * cov + 1e-8 * np.eye(unit.shape[1])


def smc_weights(new: np.ndarray, previous: np.ndarray, previous_weights: np.ndarray,
                covariance: np.ndarray) -> np.ndarray:
    """ABC-SMC importance weights of perturbed particles under a uniform prior on the unit cube.

    ``w_i ∝ prior(θ_i) / Σ_j w_j K(θ_i | θ_j)``, with ``K`` the Gaussian kernel; particles outside
    the cube have prior 0.

    Args:
        new: The accepted particles of this generation.
        previous: The previous generation's particles.
        previous_weights: Their normalised weights.
        covariance: The kernel's covariance.

    Returns:
        Normalised weights.
    """
    inside = np.all((new >= 0) & (new <= 1), axis=1)
    density = np.zeros(len(new))
    for particle, weight in zip(previous, previous_weights, strict=True):
        density += weight * stats.multivariate_normal.pdf(new, mean=particle, cov=covariance, allow_singular=True)
    weights = np.where(inside & (density > 0), 1.0 / np.maximum(density, 1e-300), 0.0)
    total = weights.sum()
    return weights / total if total > 0 else np.full(len(new), 1.0 / len(new))


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size of a weighted population.

    Args:
        weights: Normalised weights.

    Returns:
        ``1 / Σ w²``.
    """
    return float(1.0 / np.sum(np.asarray(weights) ** 2))


def systematic_resample(weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n`` equally weighted draws from a weighted population (systematic resampling).

    Args:
        weights: Normalised weights.
        n: Draws.
        rng: The generator (one uniform draw).

    Returns:
        ``n`` indices into the population, sorted.
    """
    positions = (rng.random() + np.arange(n)) / n
    cumulative = np.cumsum(weights)
    cumulative[-1] = 1.0
    return np.searchsorted(cumulative, positions, side="left")
