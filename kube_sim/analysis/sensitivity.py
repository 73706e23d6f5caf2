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

LIFTED = "poverty_lifted_end"
COST = "cost_total_rp"
LIFTED_PER_MILIAR = "lifted_per_miliar"
"""Households lifted out of poverty per Rp 1 miliar of programme cost, at the reference variant."""

EFFECT_PREFIX = "effect_"
"""Prefix of a policy effect: the difference between two variants of a policy-effects design."""

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


def policy_effects(columns: Iterable[str] = COLUMNS) -> dict[str, tuple[str, str, str]]:
    """The policy effects of a policy-effects design: name to (variant, minus variant, column).

    Args:
        columns: Outcome columns available (picks the income column).

    Returns:
        ``effect_1_5_vs_1_10_survival_36`` (survival at 36 months at 1:5 minus the reference 1:10),
        ``effect_1_10_vs_1_20_survival_36`` (the reference minus 1:20) and ``effect_equipment_income``
        (income with the equipment grant minus without).
    """
    return {
        f"{EFFECT_PREFIX}1_5_vs_1_10_survival_36": ("ratio_1_5", "reference", "survival_36"),
        f"{EFFECT_PREFIX}1_10_vs_1_20_survival_36": ("reference", "ratio_1_20", "survival_36"),
        f"{EFFECT_PREFIX}equipment_income": ("equipment_grant", "reference", income_outcome(columns)),
    }


EFFECT_LABELS: dict[str, str] = {
    f"{EFFECT_PREFIX}1_5_vs_1_10_survival_36": "survival at 36 months, 1:5 minus 1:10",
    f"{EFFECT_PREFIX}1_10_vs_1_20_survival_36": "survival at 36 months, 1:10 minus 1:20",
    f"{EFFECT_PREFIX}equipment_income": "income, equipment grant minus none",
    LIFTED_PER_MILIAR: "households lifted out of poverty per Rp 1 miliar",
}
"""Plain names of the policy effects."""


def effect_outcomes(columns: Iterable[str] = COLUMNS) -> list[str]:
    """The outcomes of a policy-effects design: the levels, then the policy effects.

    Args:
        columns: Outcome columns available.

    Returns:
        survival_36, income and cost per surviving group (at the reference), the policy effects and
        :data:`LIFTED_PER_MILIAR`.
    """
    columns = list(columns)
    return [*default_outcomes(columns)[:3], *policy_effects(columns), LIFTED_PER_MILIAR]


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
        if name in EFFECT_LABELS:
            continue
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
    if name in EFFECT_LABELS:
        return EFFECT_LABELS[name]
    if name.startswith(DIFFERENCE_PREFIX):
        return (f"{label_of(name.removeprefix(DIFFERENCE_PREFIX))}, "
                f"1:{caseloads[1]} minus 1:{caseloads[0]}")
    return label_of(name)


def _by_variant(runs: pd.DataFrame, sensitivity: Mapping[str, Any], column: str) -> np.ndarray:
    """A column by point (the anchor last, if any), variant and replication (failed runs are NaN)."""
    n_variants = len(sensitivity.get("variants") or sensitivity["caseloads"])
    points = int(sensitivity["points"]) + (1 if sensitivity.get("anchor") else 0)
    replications = int(runs["replication"].max()) + 1 if len(runs) else 1
    grid = np.full((points * n_variants, replications), np.nan)
    if column in runs.columns:
        ok = runs["status"] == "ok" if "status" in runs.columns else np.ones(len(runs), dtype=bool)
        part = runs.loc[ok]
        grid[part["arm"].to_numpy(int), part["replication"].to_numpy(int)] = part[column].to_numpy(float)
    return grid.reshape(points, n_variants, replications)


def _all_values(runs: pd.DataFrame, sensitivity: Mapping[str, Any], outcome: str) -> np.ndarray:
    """An outcome by point (the anchor last, if any) and replication."""
    effects = policy_effects(runs.columns)
    if outcome in effects:
        first, second, column = effects[outcome]
        variants = list(sensitivity.get("variants") or [])
        by_variant = _by_variant(runs, sensitivity, column)
        return by_variant[:, variants.index(first), :] - by_variant[:, variants.index(second), :]
    if outcome == LIFTED_PER_MILIAR:
        lifted = _by_variant(runs, sensitivity, LIFTED)[:, 0, :]
        cost = _by_variant(runs, sensitivity, COST)[:, 0, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(cost > 0, lifted / cost * 1e9, np.nan)
    by_caseload = _by_variant(runs, sensitivity, outcome.removeprefix(DIFFERENCE_PREFIX))
    if outcome.startswith(DIFFERENCE_PREFIX):
        return by_caseload[:, 1, :] - by_caseload[:, 0, :]
    return by_caseload[:, 0, :]


def replicate_values(runs: pd.DataFrame, sensitivity: Mapping[str, Any], outcome: str) -> np.ndarray:
    """An outcome by design point and replication (failed or missing runs are NaN).

    Args:
        runs: The runs table.
        sensitivity: The manifest's ``sensitivity`` entry.
        outcome: A column (at the reference), ``delta_<column>``, a policy effect (see
            :func:`policy_effects`) or :data:`LIFTED_PER_MILIAR`.

    Returns:
        A ``(points, replications)`` array (the anchor point left out).
    """
    return _all_values(runs, sensitivity, outcome)[: int(sensitivity["points"])]


def anchor_values(runs: pd.DataFrame, sensitivity: Mapping[str, Any], outcome: str) -> np.ndarray | None:
    """An outcome at the anchor point (the base scenario) by replication, if the design has one.

    Args:
        runs: The runs table.
        sensitivity: The manifest's ``sensitivity`` entry.
        outcome: As for :func:`replicate_values`.

    Returns:
        One value per replication, or None.
    """
    if not sensitivity.get("anchor"):
        return None
    return _all_values(runs, sensitivity, outcome)[int(sensitivity["points"])]


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


END_SHARE = 0.25
"""A factor is at its low (high) end in the design points whose unit value is at most (at least one minus) this."""


def ends(runs: pd.DataFrame, manifest: Mapping[str, Any], outcomes: Sequence[str],
         factors: Sequence[str] | None = None) -> pd.DataFrame:
    """Each outcome with a factor at the low and the high end of its range, against the calibrated point.

    The value at an end is the mean over the design's points with the factor in the lowest (highest)
    quarter of its range (the other factors anywhere in theirs): a conditional mean, so it carries the
    other factors' spread. An answer is *reversed* when an end's value has the other sign than the
    calibrated point's (the anchor), and *halved* when it has the same sign and less than half its size.

    Args:
        runs: The runs table of a sensitivity sweep.
        manifest: Its manifest.
        outcomes: Outcome names.
        factors: Factors to show (default: all).

    Returns:
        One row per outcome and factor: ``outcome``, ``factor``, ``low``, ``high`` (the factor's ends),
        ``at_low``, ``at_high``, ``at_point`` (the anchor's mean, NaN without one), ``at_point_se``,
        ``reverses`` and ``halves``.
    """
    sens = manifest["sensitivity"]
    names = [f["name"] for f in sens["factors"]]
    bounds = {f["name"]: (f["low"], f["high"]) for f in sens["factors"]}
    unit = np.asarray(sens["unit_design"], dtype=float)
    rows = []
    for outcome in outcomes:
        means = _mean_over_replications(replicate_values(runs, sens, outcome))
        anchor = anchor_values(runs, sens, outcome)
        finite = anchor[np.isfinite(anchor)] if anchor is not None else np.array([])
        point = float(finite.mean()) if len(finite) else float("nan")
        point_se = float(finite.std(ddof=1) / np.sqrt(len(finite))) if len(finite) > 1 else float("nan")
        for name in factors or names:
            column = unit[:, names.index(name)]
            at_low = float(np.nanmean(means[column <= END_SHARE])) if np.any(column <= END_SHARE) else np.nan
            at_high = (float(np.nanmean(means[column >= 1 - END_SHARE])) if np.any(column >= 1 - END_SHARE)
                       else np.nan)
            end_values = [v for v in (at_low, at_high) if np.isfinite(v)]
            known = np.isfinite(point) and point != 0
            reverses = bool(known and any(np.sign(v) == -np.sign(point) for v in end_values))
            halves = bool(known and any(np.sign(v) == np.sign(point) and abs(v) < abs(point) / 2
                                        for v in end_values))
            rows.append({"outcome": outcome, "factor": name, "low": bounds[name][0], "high": bounds[name][1],
                         "at_low": at_low, "at_high": at_high, "at_point": point, "at_point_se": point_se,
                         "reverses": reverses, "halves": halves})
    return pd.DataFrame(rows)
