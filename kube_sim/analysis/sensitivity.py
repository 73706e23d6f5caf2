"""Sensitivity indices from a saved sensitivity sweep: Morris screening and Sobol first-order and total indices.

Everything is read from the sweep's runs table and manifest (its ``sensitivity`` entry holds the
factors, the caseloads and the design on the unit cube); nothing here runs or imports the model.

Outcomes are the runs table's columns, measured at the reference caseload (the first one), and
*differences*: ``delta_<column>`` is the column at the second caseload minus the reference, computed
per design point and replication (both runs share a seed), then averaged.

Noise: every point is replicated with seeds shared by all points, and the indices are computed on the
replication means. What seed noise is left is measured, not assumed away: for Morris, each factor's
``noise`` is the mu* that seed noise alone would give, from the spread of its elementary effects
over replications (a factor whose mu* is within two standard errors of it cannot be told from
noise); for Sobol,
``noise_share`` is the share of the variance of the point means that seed noise alone would give
(indices of that size are noise).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from kube_sim.common.errors import InputError
from kube_sim.common.outputs import COLUMNS, label_of

DIFFERENCE_PREFIX = "delta_"
"""Prefix of an outcome that is the difference between the second caseload and the reference."""

FALLBACK_INCOME = "mean_member_income_rp"
"""Income outcome used when the runs carry no eligible households' income gain."""

MORRIS_COLUMNS: tuple[str, ...] = ("mu_star", "mu_star_conf", "mu", "sigma", "noise", "above_noise")
SOBOL_COLUMNS: tuple[str, ...] = ("S1", "S1_conf", "ST", "ST_conf", "noise_share")
BOOTSTRAP_RESAMPLES = 1000
Z95 = 1.959964


def income_outcome(columns: Iterable[str]) -> str:
    """The eligible households' income gain if the outcomes have one, else the members' mean income.

    Args:
        columns: Outcome columns available.

    Returns:
        A column name.
    """
    columns = list(columns)
    gains = [c for c in columns if "eligible" in c and "income" in c and c.endswith("_rp")]
    return gains[0] if gains else FALLBACK_INCOME


def default_outcomes(columns: Iterable[str] = COLUMNS) -> list[str]:
    """The planner's outcomes: survival at 36 months, income, cost per surviving group, and 1:20 against 1:10.

    Args:
        columns: Outcome columns available (default: every declared outcome).

    Returns:
        Outcome names.
    """
    return ["survival_36", income_outcome(columns), "cost_per_surviving_group_rp",
            f"{DIFFERENCE_PREFIX}survival_36"]


def check_outcomes(names: Sequence[str], columns: Iterable[str] = COLUMNS) -> list[str]:
    """Check outcome names: declared columns or ``delta_`` plus a declared column.

    Args:
        names: Names asked for.
        columns: Outcome columns available.

    Returns:
        The names.

    Raises:
        InputError: Naming the first unknown outcome.
    """
    known = set(columns)
    for name in names:
        if name.removeprefix(DIFFERENCE_PREFIX) not in known:
            raise InputError(f"unknown outcome (one of the outcome columns, or {DIFFERENCE_PREFIX}<column> for "
                             "the difference between the caseloads)", source="--outcomes", key=name)
    return list(names)


def outcome_label(name: str, caseloads: Sequence[int]) -> str:
    """A plain-language name of an outcome.

    Args:
        name: Outcome name.
        caseloads: The compared caseloads.

    Returns:
        The label (a difference names its caseloads).
    """
    if name.startswith(DIFFERENCE_PREFIX):
        return (f"{label_of(name.removeprefix(DIFFERENCE_PREFIX))}, "
                f"1:{caseloads[1]} minus 1:{caseloads[0]}")
    return label_of(name)


def replicate_values(runs: pd.DataFrame, sensitivity: Mapping[str, Any], outcome: str) -> np.ndarray:
    """An outcome by design point and replication (failed or missing runs are NaN).

    Args:
        runs: The runs table.
        sensitivity: The manifest's ``sensitivity`` entry.
        outcome: A column, or ``delta_<column>``.

    Returns:
        A ``(points, replications)`` array.
    """
    n_caseloads = len(sensitivity["caseloads"])
    points = int(sensitivity["points"])
    column = outcome.removeprefix(DIFFERENCE_PREFIX)
    replications = int(runs["replication"].max()) + 1 if len(runs) else 1
    grid = np.full((points * n_caseloads, replications), np.nan)
    if column in runs.columns:
        ok = runs["status"] == "ok" if "status" in runs.columns else np.ones(len(runs), dtype=bool)
        part = runs.loc[ok]
        grid[part["arm"].to_numpy(int), part["replication"].to_numpy(int)] = part[column].to_numpy(float)
    by_caseload = grid.reshape(points, n_caseloads, replications)
    if outcome.startswith(DIFFERENCE_PREFIX):
        return by_caseload[:, 1, :] - by_caseload[:, 0, :]
    return by_caseload[:, 0, :]


def _mean_over_replications(values: np.ndarray) -> np.ndarray:
    counts = np.sum(np.isfinite(values), axis=1)
    sums = np.nansum(values, axis=1)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def morris_indices(unit: np.ndarray, values: np.ndarray, names: Sequence[str], seed: int = 0) -> pd.DataFrame:
    """Morris elementary-effect statistics from trajectories on the unit cube.

    Each step of a trajectory moves one factor by ``delta``; its elementary effect is the change of
    the replication mean divided by ``delta``, so an effect is the change over the factor's whole range.

    Args:
        unit: The design, ``(trajectories * (k + 1), k)``, trajectories one after another.
        values: The outcome by point and replication, ``(points, replications)``.
        names: Factor names (columns of ``unit``).
        seed: Seed of the bootstrap.

    Returns:
        One row per factor (index ``factor``): ``mu_star`` (mean absolute effect), ``mu_star_conf``
        (half-width of its bootstrap 95% interval over trajectories), ``mu`` (mean effect), ``sigma``
        (spread of the effects: interaction or non-linearity), ``noise`` (the mu* of a factor without
        effect: sqrt(2/pi) times the root mean square standard error of its effects over replications, the
        mean absolute value of pure noise; NaN with one replication) and ``above_noise`` (mu* lies more
        than two of its standard errors under noise alone above ``noise``).
    """
    k = len(names)
    unit = np.asarray(unit, dtype=float)
    trajectories = len(unit) // (k + 1)
    means = _mean_over_replications(values)
    effects: list[list[float]] = [[] for _ in range(k)]
    noise: list[list[float]] = [[] for _ in range(k)]
    for t in range(trajectories):
        for j in range(t * (k + 1), (t + 1) * (k + 1) - 1):
            step = unit[j + 1] - unit[j]
            factor = int(np.argmax(np.abs(step)))
            delta = step[factor]
            effects[factor].append((means[j + 1] - means[j]) / delta)
            per_rep = (values[j + 1] - values[j]) / delta
            per_rep = per_rep[np.isfinite(per_rep)]
            noise[factor].append(np.std(per_rep, ddof=1) / np.sqrt(len(per_rep)) if len(per_rep) > 1 else np.nan)
    rng = np.random.default_rng(seed)
    rows = []
    for i, name in enumerate(names):
        ee = np.asarray(effects[i], dtype=float)
        ee = ee[np.isfinite(ee)]
        se = np.asarray(noise[i], dtype=float)
        if len(ee) == 0:
            rows.append({"factor": name, **dict.fromkeys(MORRIS_COLUMNS, np.nan)})
            continue
        boot = np.abs(ee[rng.integers(0, len(ee), size=(BOOTSTRAP_RESAMPLES, len(ee)))]).mean(axis=1)
        mu_star, conf = float(np.abs(ee).mean()), float(Z95 * boot.std())
        rms = float(np.sqrt(np.nanmean(se ** 2))) if np.isfinite(se).any() else np.nan
        floor = np.sqrt(2 / np.pi) * rms
        # under noise alone mu* is a mean of len(ee) absolute normals: mean `floor`, this standard error
        floor_se = np.sqrt(1 - 2 / np.pi) * rms / np.sqrt(len(ee))
        rows.append({"factor": name, "mu_star": mu_star, "mu_star_conf": conf, "mu": float(ee.mean()),
                     "sigma": float(ee.std(ddof=1)) if len(ee) > 1 else np.nan, "noise": floor,
                     "above_noise": bool(mu_star > floor + 2 * floor_se) if np.isfinite(floor) else True})
    return pd.DataFrame(rows).set_index("factor")


def noise_share(values: np.ndarray) -> float:
    """The share of the variance of the replication means that seed noise alone gives.

    Args:
        values: The outcome by point and replication.

    Returns:
        Mean over points of (variance over replications / replications), over the variance of the
        point means; NaN with one replication or no spread.
    """
    counts = np.sum(np.isfinite(values), axis=1)
    if values.shape[1] < 2 or not np.any(counts > 1):
        return float("nan")
    within = np.nanvar(values[counts > 1], axis=1, ddof=1) / counts[counts > 1]
    total = np.nanvar(_mean_over_replications(values), ddof=1)
    return float(np.mean(within) / total) if total > 0 else float("nan")


def sobol_indices(values: np.ndarray, names: Sequence[str], seed: int = 0) -> pd.DataFrame:
    """First-order and total Sobol indices with 95% bootstrap intervals (Saltelli design, no second order).

    Args:
        values: The outcome by point and replication, points in the design's order.
        names: Factor names.
        seed: Seed of the bootstrap.

    Returns:
        One row per factor (index ``factor``): ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (half-widths)
        and the outcome's ``noise_share``; all NaN when a point has no value or the outcome never varies.
    """
    from SALib.analyze import sobol

    means = _mean_over_replications(values)
    share = noise_share(values)
    if not np.all(np.isfinite(means)) or np.nanvar(means) == 0:
        frame = pd.DataFrame(np.nan, index=pd.Index(list(names), name="factor"), columns=list(SOBOL_COLUMNS))
        frame["noise_share"] = share
        return frame
    problem = {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}
    found = sobol.analyze(problem, means, calc_second_order=False, num_resamples=BOOTSTRAP_RESAMPLES,
                          conf_level=0.95, seed=seed)
    frame = pd.DataFrame({key: np.asarray(found[key], dtype=float) for key in ("S1", "S1_conf", "ST", "ST_conf")},
                         index=pd.Index(list(names), name="factor"))
    frame["noise_share"] = share
    return frame


def ranking(runs: pd.DataFrame, manifest: Mapping[str, Any], outcomes: Sequence[str]) -> pd.DataFrame:
    """The indices of every factor for every outcome, ranked within each outcome.

    Args:
        runs: The runs table of a sensitivity sweep.
        manifest: Its manifest.
        outcomes: Outcome names (columns or ``delta_<column>``).

    Returns:
        A long table: ``method``, ``outcome``, ``rank`` (1 = most influential: by ``mu_star`` for
        Morris, ``ST`` for Sobol), ``factor``, ``unit`` and the method's indices.

    Raises:
        InputError: If the manifest is not a sensitivity sweep's.
    """
    sensitivity = manifest.get("sensitivity")
    if not isinstance(sensitivity, Mapping):
        raise InputError("is not a sensitivity sweep's manifest (no 'sensitivity' entry)", source="manifest.json",
                         key="sensitivity")
    method = sensitivity["method"]
    names = [f["name"] for f in sensitivity["factors"]]
    units = {f["name"]: f["unit"] for f in sensitivity["factors"]}
    unit = np.asarray(sensitivity["unit_design"], dtype=float)
    tables = []
    for outcome in outcomes:
        values = replicate_values(runs, sensitivity, outcome)
        if method == "morris":
            frame, key = morris_indices(unit, values, names), "mu_star"
        else:
            frame, key = sobol_indices(values, names), "ST"
        frame = frame.sort_values(key, ascending=False, na_position="last").reset_index()
        frame.insert(0, "rank", np.arange(1, len(frame) + 1))
        frame.insert(0, "outcome", outcome)
        frame.insert(0, "method", method)
        frame.insert(4, "unit", frame["factor"].map(units))
        tables.append(frame)
    return pd.concat(tables, ignore_index=True)


def overall_order(table: pd.DataFrame) -> list[str]:
    """Factors from most to least influential over all outcomes.

    A factor's score is its largest index across outcomes, each outcome's indices divided by that
    outcome's largest (``mu_star`` for Morris, ``ST`` for Sobol), so outcomes in different units weigh alike.

    Args:
        table: From :func:`ranking`.

    Returns:
        Factor names, most influential first.
    """
    return list(overall_scores(table).index)


def overall_scores(table: pd.DataFrame) -> pd.Series:
    """Each factor's largest relative index across outcomes, sorted from the largest.

    Args:
        table: From :func:`ranking`.

    Returns:
        Scores from 0 to 1 by factor.
    """
    key = "mu_star" if "mu_star" in table.columns else "ST"
    score = table[key].clip(lower=0) / table.groupby("outcome")[key].transform("max")
    scores = score.fillna(0.0).groupby(table["factor"], sort=False).max()
    return scores.sort_values(ascending=False, kind="stable")
