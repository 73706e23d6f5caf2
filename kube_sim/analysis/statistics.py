"""Statistics of a sweep's results: arm means with intervals, paired differences, survival, log-rank.

Every function works on the tables a sweep writes (see ``kube_sim.store.sweep_folder``): the runs table (one row
per run), the groups table (one row per group per run, with ``duration_months`` and ``failed``) and
the manifest. Nothing here runs or imports the model or Mesa.

Conventions:

* Only runs with ``status == "ok"`` count; missing outcomes (NaN) are dropped per outcome, so
  ``n`` may differ between outcomes of the same arm.
* Confidence intervals of means are Student-t intervals over replications (runs are independent
  draws of the model's randomness, so the replication is the unit of analysis).
* Arms are *paired* by replication: replication ``i`` uses the same seed in every arm (common
  random numbers), so ``paired_differences`` compares arm and baseline replication by replication.
* Kaplan-Meier curves pool the groups of every replication of an arm; their bands treat groups as
  independent and are therefore somewhat narrower than the between-replication intervals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from kube_sim.common.survival import SURVIVAL_HORIZONS, censored, survival_band, survival_curve

META_COLUMNS: tuple[str, ...] = (
    "run_id", "arm", "arm_label", "replication", "seed", "status", "error", "duration_s",
    "scenario", "months", "members",
)
"""Columns of the runs table that are bookkeeping, not outcomes."""

KEY_OUTCOMES: tuple[str, ...] = (
    "poverty_lifted_end", "survival_36", "mean_member_income_rp", "cost_per_surviving_group_rp",
)
"""The outcomes a planner reads first (the report's summary table and factor-effect figure)."""

SUMMARY_COLUMNS: tuple[str, ...] = ("arm", "arm_label", "outcome", "n", "mean", "sd", "ci_low", "ci_high")
PAIRED_COLUMNS: tuple[str, ...] = (
    "arm", "arm_label", "baseline_arm", "outcome", "n_pairs", "baseline_mean", "arm_mean",
    "mean_diff", "sd_diff", "ci_low", "ci_high", "pvalue", "pvalue_holm",
)
KM_COLUMNS: tuple[str, ...] = ("arm", "month", "survival", "lower", "upper")
LOGRANK_COLUMNS: tuple[str, ...] = (
    "arm", "arm_label", "baseline_arm", "groups", "failed", "baseline_groups", "baseline_failed",
    "statistic", "pvalue",
)


# ----------------------------------------------------------------------------------------------
# Small building blocks
# ----------------------------------------------------------------------------------------------

def ok_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Return the runs that finished (``status == "ok"``; all runs if there is no status column).

    Args:
        runs: The runs table.

    Returns:
        The rows of finished runs.
    """
    if "status" not in runs.columns:
        return runs
    return runs[runs["status"] == "ok"]


def factor_columns(runs: pd.DataFrame) -> list[str]:
    """Return the factor columns of a runs table (dotted parameter keys), in table order.

    Args:
        runs: The runs table.

    Returns:
        Column names containing a dot.
    """
    return [c for c in runs.columns if "." in str(c)]


def outcome_columns(runs: pd.DataFrame) -> list[str]:
    """Return the numeric outcome columns of a runs table (not bookkeeping, not factors).

    Args:
        runs: The runs table.

    Returns:
        Column names, in table order.
    """
    factors = set(factor_columns(runs))
    out = []
    for column in runs.columns:
        if column in META_COLUMNS or column in factors:
            continue
        if pd.api.types.is_bool_dtype(runs[column]) or not pd.api.types.is_numeric_dtype(runs[column]):
            continue
        out.append(column)
    return out


def t_interval(values: Iterable[float], confidence: float = 0.95) -> tuple[int, float, float, float, float]:
    """Mean and Student-t confidence interval of a sample, ignoring NaN.

    The interval is ``mean ± t_{(1+c)/2, n-1} · sd / sqrt(n)`` with ``sd`` the sample standard
    deviation (``ddof=1``). With one value the interval is undefined (NaN); with none the mean is too.

    Args:
        values: The sample.
        confidence: Confidence level, in (0, 1).

    Returns:
        ``(n, mean, sd, low, high)``.
    """
    x = np.asarray(list(values) if not isinstance(values, np.ndarray | pd.Series) else values, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return 0, np.nan, np.nan, np.nan, np.nan
    mean = float(x.mean())
    if n == 1:
        return 1, mean, np.nan, np.nan, np.nan
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * sd / np.sqrt(n)
    return n, mean, sd, mean - half, mean + half


def _labels(runs: pd.DataFrame) -> dict[int, str]:
    """Map each arm to its label (the arm number as text when there is no label column)."""
    if "arm_label" not in runs.columns:
        return {int(a): str(a) for a in runs["arm"].unique()}
    first = runs.drop_duplicates("arm")
    return {int(a): str(lab) for a, lab in zip(first["arm"], first["arm_label"], strict=True)}


def _resolve_outcomes(runs: pd.DataFrame, outcomes: Sequence[str] | str | None) -> list[str]:
    if outcomes is None:
        return outcome_columns(runs)
    if isinstance(outcomes, str):
        outcomes = [outcomes]
    missing = [o for o in outcomes if o not in runs.columns]
    if missing:
        raise KeyError(f"outcome(s) not in the runs table: {', '.join(missing)}")
    return list(outcomes)


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (NaN stay NaN).

    Args:
        pvalues: Unadjusted p-values.

    Returns:
        Adjusted p-values, in the input order.
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = finite.size
    if m == 0:
        return out
    order = finite[np.argsort(p[finite], kind="stable")]
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adjusted, 1.0)
    return out


# ----------------------------------------------------------------------------------------------
# Outcomes per arm
# ----------------------------------------------------------------------------------------------

def arm_summary(runs: pd.DataFrame, outcomes: Sequence[str] | str | None = None,
                confidence: float = 0.95) -> pd.DataFrame:
    """Mean, standard deviation and t-interval of each outcome in each arm (finished runs only).

    Args:
        runs: The runs table.
        outcomes: Outcome columns (all numeric outcome columns when None).
        confidence: Confidence level of the intervals.

    Returns:
        One row per arm and outcome: ``arm, arm_label, outcome, n, mean, sd, ci_low, ci_high``
        (arms in ascending order, outcomes in the given order).
    """
    names = _resolve_outcomes(runs, outcomes)
    labels = _labels(runs)
    ok = ok_runs(runs)
    rows = []
    for arm in sorted(labels):
        sub = ok[ok["arm"] == arm]
        for outcome in names:
            n, mean, sd, low, high = t_interval(sub[outcome].to_numpy(dtype=float), confidence)
            rows.append((arm, labels[arm], outcome, n, mean, sd, low, high))
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def paired_differences(runs: pd.DataFrame, baseline_arm: int, outcomes: Sequence[str] | str | None = None,
                       confidence: float = 0.95) -> pd.DataFrame:
    """Paired differences (arm minus baseline) of each outcome, replication by replication.

    For each other arm and outcome, the replications where both the arm and the baseline finished
    and have the outcome form the pairs; the table gives the mean difference, its t-interval and
    the two-sided paired t-test p-value (one-sample t-test of the differences against 0). When all
    differences are equal the test is degenerate: p is 1 if they are all zero, else 0.
    ``pvalue_holm`` adjusts the p-values of one outcome across the arms (Holm).

    Args:
        runs: The runs table.
        baseline_arm: The arm every other arm is compared with.
        outcomes: Outcome columns (all numeric outcome columns when None).
        confidence: Confidence level of the intervals.

    Returns:
        One row per (other) arm and outcome, columns :data:`PAIRED_COLUMNS`.

    Raises:
        KeyError: If the baseline arm is not in the runs table.
    """
    names = _resolve_outcomes(runs, outcomes)
    labels = _labels(runs)
    if baseline_arm not in labels:
        raise KeyError(f"baseline arm {baseline_arm} is not in the runs table (arms: {sorted(labels)})")
    ok = ok_runs(runs)
    rows = []
    for outcome in names:
        wide = ok.pivot_table(index="replication", columns="arm", values=outcome, aggfunc="mean", dropna=False)
        for arm in sorted(labels):
            if arm == baseline_arm:
                continue
            if arm in wide.columns and baseline_arm in wide.columns:
                pair = wide[[arm, baseline_arm]].dropna()
                a, b = pair[arm].to_numpy(dtype=float), pair[baseline_arm].to_numpy(dtype=float)
            else:
                a = b = np.empty(0)
            d = a - b
            n, mean, sd, low, high = t_interval(d, confidence)
            scale = max(float(np.abs(a).max()), float(np.abs(b).max())) if n else 0.0
            if n < 2:
                p = np.nan
            elif not np.isfinite(sd) or sd <= 1e-12 * scale:
                # Every difference is the same (up to rounding): the t-test is degenerate.
                p = 1.0 if abs(mean) <= 1e-12 * scale else 0.0
            else:
                p = float(stats.ttest_1samp(d, 0.0).pvalue)
            rows.append([arm, labels[arm], baseline_arm, outcome, n,
                         float(b.mean()) if n else np.nan, float(a.mean()) if n else np.nan,
                         mean, sd, low, high, p, np.nan])
    frame = pd.DataFrame(rows, columns=list(PAIRED_COLUMNS))
    for _, index in frame.groupby("outcome", sort=False).groups.items():
        frame.loc[index, "pvalue_holm"] = holm(frame.loc[index, "pvalue"].to_numpy())
    return frame


def factor_effects(runs: pd.DataFrame, outcome: str, factors: Sequence[str] | None = None,
                   confidence: float = 0.95, max_levels: int = 10) -> pd.DataFrame:
    """Mean of an outcome at each level of each factor (pooled over the other factors).

    Each level's mean is over every finished run at that level, whatever the other factors, so it
    is the factor's *marginal* effect in this design. A numeric factor with more than
    ``max_levels`` distinct values (Latin hypercube or Sobol designs) is cut into ``max_levels``
    bins of equal counts, each labelled by the median value in it.

    Args:
        runs: The runs table.
        outcome: The outcome column.
        factors: Factor columns (every dotted column with more than one value when None).
        confidence: Confidence level of the intervals.
        max_levels: Most levels shown per factor before binning.

    Returns:
        Columns ``factor, level, n, mean, sd, ci_low, ci_high``; levels in ascending order.
    """
    ok = ok_runs(runs)
    if outcome not in runs.columns:
        raise KeyError(f"outcome not in the runs table: {outcome}")
    if factors is None:
        factors = [f for f in factor_columns(runs) if runs[f].nunique(dropna=True) > 1]
    rows = []
    for factor in factors:
        values = ok[factor]
        if pd.api.types.is_numeric_dtype(values) and values.nunique() > max_levels:
            bins = pd.qcut(values, max_levels, duplicates="drop")
            keys = values.groupby(bins, observed=True).transform("median")
        else:
            keys = values
        for level, sub in ok.groupby(keys, sort=True, observed=True):
            n, mean, sd, low, high = t_interval(sub[outcome].to_numpy(dtype=float), confidence)
            rows.append((factor, level, n, mean, sd, low, high))
    return pd.DataFrame(rows, columns=["factor", "level", "n", "mean", "sd", "ci_low", "ci_high"])


# ----------------------------------------------------------------------------------------------
# Survival of groups
# ----------------------------------------------------------------------------------------------

def _durations(groups: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Durations and failure flags of a groups table (rows with a missing duration are dropped)."""
    duration = groups["duration_months"].to_numpy(dtype=float)
    failed = groups["failed"].to_numpy(dtype=bool)
    keep = np.isfinite(duration)
    return duration[keep], failed[keep]


def km_by_arm(groups: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Kaplan-Meier survival of groups in each arm, month by month, with a pointwise band.

    The groups of every replication of an arm are pooled. Time is months since a group's own
    funding; groups still running at the end of their run are censored there (see
    :mod:`kube_sim.common.survival`).

    Args:
        groups: The groups table (``arm``, ``duration_months``, ``failed``).
        confidence: Confidence level of the band.

    Returns:
        Columns ``arm, month, survival, lower, upper``; months 0 to the arm's longest follow-up.
    """
    parts = [survival_curve(*_durations(sub), confidence).assign(arm=int(arm))[list(KM_COLUMNS)]
             for arm, sub in groups.groupby("arm", sort=True)]
    if not parts:
        return pd.DataFrame(columns=list(KM_COLUMNS))
    return pd.concat(parts, ignore_index=True)


def survival_table(groups: pd.DataFrame, horizons: Sequence[int] = SURVIVAL_HORIZONS,
                   confidence: float = 0.95) -> pd.DataFrame:
    """Kaplan-Meier share of groups still active at given months since funding, per arm.

    Args:
        groups: The groups table.
        horizons: Months since funding.
        confidence: Confidence level of the band.

    Returns:
        Columns ``arm, horizon, survival, lower, upper, at_risk, groups, failed``; survival is 0 once
        every group of the arm has failed, and NaN where no group was followed that long while some were
        still active.
    """
    rows = []
    times = np.asarray(horizons, dtype=float)
    for arm, sub in groups.groupby("arm", sort=True):
        duration, failed = _durations(sub)
        survival, lower, upper = survival_band(duration, failed, times, confidence)
        for i, h in enumerate(horizons):
            rows.append((int(arm), int(h), survival[i], lower[i], upper[i], int((duration >= h).sum()),
                         int(duration.size), int(failed.sum())))
    return pd.DataFrame(rows, columns=["arm", "horizon", "survival", "lower", "upper", "at_risk", "groups",
                                       "failed"])


def logrank(groups: pd.DataFrame, arm_a: int, arm_b: int) -> tuple[float, float]:
    """Log-rank test that groups in two arms have the same survival (``scipy.stats.logrank``).

    Args:
        groups: The groups table.
        arm_a: First arm.
        arm_b: Second arm.

    Returns:
        ``(statistic, pvalue)``: SciPy's signed statistic (its square is the usual chi-squared with
        one degree of freedom; negative when arm ``a`` fails less than expected) and the two-sided
        p-value. Both NaN when neither arm has a failure or either arm has no groups.
    """
    da, fa = _durations(groups[groups["arm"] == arm_a])
    db, fb = _durations(groups[groups["arm"] == arm_b])
    if da.size == 0 or db.size == 0 or not (fa.any() or fb.any()):
        return np.nan, np.nan
    with np.errstate(all="ignore"):
        result = stats.logrank(censored(da, fa), censored(db, fb))
    return float(result.statistic), float(result.pvalue)


def logrank_all(groups: pd.DataFrame, baseline_arm: int, labels: Mapping[int, str] | None = None) -> pd.DataFrame:
    """Log-rank test of every other arm against the baseline arm.

    Args:
        groups: The groups table.
        baseline_arm: The reference arm.
        labels: Arm labels (the arm number as text when None).

    Returns:
        One row per other arm, columns :data:`LOGRANK_COLUMNS`.
    """
    base = groups[groups["arm"] == baseline_arm]
    db, fb = _durations(base)
    rows = []
    for arm in sorted(int(a) for a in groups["arm"].unique()):
        if arm == baseline_arm:
            continue
        da, fa = _durations(groups[groups["arm"] == arm])
        stat, p = logrank(groups, arm, baseline_arm)
        label = labels.get(arm, str(arm)) if labels else str(arm)
        rows.append((arm, label, baseline_arm, int(da.size), int(fa.sum()), int(db.size), int(fb.sum()), stat, p))
    return pd.DataFrame(rows, columns=list(LOGRANK_COLUMNS))


# ----------------------------------------------------------------------------------------------
# The baseline arm
# ----------------------------------------------------------------------------------------------

def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _base_values(base: Any) -> dict[str, Any]:
    """Parameter values of the manifest's base scenario as ``{dotted key: value}``, if it gives any."""
    if isinstance(base, Mapping):
        for key in ("parameters", "params", "overrides"):
            if isinstance(base.get(key), Mapping):
                return _flatten(base[key])
        return {k: v for k, v in _flatten(base).items() if "." in k and k.split(".")[0] not in ("name",)}
    return {}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return bool(np.isclose(float(a), float(b), rtol=1e-9, atol=0.0))
    return a == b


def base_scenario_arm(manifest: Mapping[str, Any] | None) -> int | None:
    """Return the first arm whose parameters equal the base scenario's, if any.

    An arm's parameters are compared with the base scenario's own values where it sets them and the
    model defaults elsewhere (numbers to a relative tolerance of 1e-9).

    Args:
        manifest: The results manifest (``base_scenario``, ``arms``), or None.

    Returns:
        The arm, or None when no arm matches (or the manifest lists no arms).
    """
    if not manifest or not manifest.get("arms"):
        return None
    base = _base_values(manifest.get("base_scenario"))
    defaults = {key: note.get("default") for key, note in (manifest.get("parameter_notes") or {}).items()}
    for arm in manifest["arms"]:
        params = _flatten(arm.get("parameters") or {})
        if not params:
            if not base:  # an arm with no changes, over a base scenario with none either
                return int(arm["arm"])
            continue
        reference = {key: base.get(key, defaults.get(key)) for key in params}
        if all(ref is not None and _same(params[key], ref) for key, ref in reference.items()):
            return int(arm["arm"])
    return None


def default_baseline_arm(manifest: Mapping[str, Any] | None, runs: pd.DataFrame | None = None) -> int:
    """Choose the arm every other arm is compared with.

    The baseline is the experiment's reference arm when the manifest names one (``reference_arm``,
    from the experiment file's ``reference``); else the first arm whose parameters equal the base
    scenario's (see :func:`base_scenario_arm`); failing that, arm 0 (or the smallest arm present in
    the runs table).

    Args:
        manifest: The results manifest (``base_scenario``, ``arms``), or None.
        runs: The runs table, used to fall back to the smallest arm present.

    Returns:
        The baseline arm.
    """
    if manifest and manifest.get("reference_arm") is not None:
        return int(manifest["reference_arm"])
    match = base_scenario_arm(manifest)
    if match is not None:
        return match
    if runs is not None and len(runs) and "arm" in runs.columns:
        present = sorted(int(a) for a in runs["arm"].unique())
        return 0 if 0 in present else present[0]
    return 0
