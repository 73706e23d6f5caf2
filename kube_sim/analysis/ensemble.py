"""Paired differences over a calibrated ensemble: the interval, and how much of it is parameter uncertainty.

In a sweep run with ``--ensemble``, replication ``i`` runs ensemble member ``i mod K`` with seed
``i`` in every arm (column :data:`ENSEMBLE_COLUMN`). Per replication the arm's difference from the
reference arm is taken (paired seeds and paired parameters). The differences are grouped by member
and read as a one-way random-effects layout:

* the mean difference is the mean of the member means, with a Student-t interval on ``K - 1``
  degrees of freedom: it carries both seed noise and the spread of the effect over plausible
  parameter sets;
* the within-member mean square estimates the seed noise ``s_seed²``; the between-member mean
  square, less its share of seed noise, the variance of the effect over members ``s_param²``
  (ANOVA estimator, truncated at 0);
* ``param_share`` is the part of the mean's variance that parameter uncertainty gives:
  ``(s_param² / K) / (s_param² / K + s_seed² / (K n))`` with ``n`` seeds per member;
* ``member_p05`` and ``member_p95`` give the range of the member means: what the effect looks like
  across the calibrated parameter sets.

Nothing here runs or imports the model.

References:
    Searle, S. R., Casella, G. & McCulloch, C. E. (1992). *Variance Components*, ch. 3 (one-way
    classification, ANOVA estimators). Wiley.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

ENSEMBLE_COLUMN = "ensemble_member"
"""The runs table's column naming a run's ensemble member (as the sweep engine writes it)."""

ENSEMBLE_COLUMNS: tuple[str, ...] = (
    "arm", "baseline_arm", "outcome", "n_pairs", "members", "mean_diff", "ci_low", "ci_high", "pvalue", "seed_sd",
    "param_sd", "param_share", "member_p05", "member_p95",
)
"""Columns of :func:`ensemble_differences`."""


def has_ensemble(runs: pd.DataFrame) -> bool:
    """Whether a runs table comes from a sweep over an ensemble."""
    return ENSEMBLE_COLUMN in runs.columns and runs[ENSEMBLE_COLUMN].notna().any()


def decompose(differences: np.ndarray, members: np.ndarray, confidence: float = 0.95) -> dict[str, float]:
    """Mean, clustered interval and variance components of paired differences grouped by member.

    Args:
        differences: One paired difference per replication.
        members: The ensemble member of each replication.
        confidence: Confidence level of the interval.

    Returns:
        ``n_pairs, members, mean_diff, ci_low, ci_high, pvalue, seed_sd, param_sd, param_share,
        member_p05, member_p95`` (NaN where too few members or seeds to estimate).
    """
    frame = pd.DataFrame({"d": np.asarray(differences, dtype=float), "m": np.asarray(members)}).dropna()
    groups = frame.groupby("m")["d"]
    means, counts = groups.mean().to_numpy(), groups.size().to_numpy()
    k, n_total = len(means), len(frame)
    out = dict.fromkeys(("mean_diff", "ci_low", "ci_high", "pvalue", "seed_sd", "param_sd", "param_share",
                         "member_p05", "member_p95"), math.nan)
    out.update(n_pairs=n_total, members=k)
    if k == 0:
        return out
    out["mean_diff"] = float(means.mean())
    out["member_p05"], out["member_p95"] = (float(v) for v in np.quantile(means, [0.05, 0.95]))
    if k >= 2:
        se = float(means.std(ddof=1) / math.sqrt(k))
        half = float(stats.t.ppf((1 + confidence) / 2, k - 1)) * se
        out["ci_low"], out["ci_high"] = out["mean_diff"] - half, out["mean_diff"] + half
        if se > 0:
            out["pvalue"] = float(2 * stats.t.sf(abs(out["mean_diff"]) / se, k - 1))
        else:
            out["pvalue"] = 1.0 if out["mean_diff"] == 0 else 0.0
    within_df = n_total - k
    if within_df > 0 and k >= 2:
        within = float(((frame["d"] - groups.transform("mean")) ** 2).sum() / within_df)
        between = float((counts * (means - frame["d"].mean()) ** 2).sum() / (k - 1))
        n0 = (n_total - (counts ** 2).sum() / n_total) / (k - 1)
        param_var = max(0.0, (between - within) / n0)
        seeds_per_member = n_total / k
        out["seed_sd"], out["param_sd"] = math.sqrt(within), math.sqrt(param_var)
        total = param_var / k + within / (k * seeds_per_member)
        out["param_share"] = param_var / k / total if total > 0 else 0.0
    return out


def ensemble_differences(runs: pd.DataFrame, baseline_arm: int, outcomes: Sequence[str],
                         confidence: float = 0.95) -> pd.DataFrame:
    """Each arm's paired difference from the reference arm over the ensemble, with its decomposition.

    Args:
        runs: The runs table of a sweep over an ensemble (successful runs are used).
        baseline_arm: The reference arm.
        outcomes: Outcome columns.
        confidence: Confidence level of the intervals.

    Returns:
        One row per other arm and outcome, columns :data:`ENSEMBLE_COLUMNS`.

    Raises:
        KeyError: If the runs have no ensemble column or the reference arm is missing.
    """
    if ENSEMBLE_COLUMN not in runs.columns:
        raise KeyError(f"the runs have no {ENSEMBLE_COLUMN} column: not a sweep over an ensemble")
    ok = runs[runs["status"] == "ok"] if "status" in runs.columns else runs
    arms = sorted(ok["arm"].unique())
    if baseline_arm not in arms:
        raise KeyError(f"reference arm {baseline_arm} has no finished runs")
    member = ok.groupby("replication")[ENSEMBLE_COLUMN].first()
    rows = []
    for outcome in outcomes:
        if outcome not in ok.columns:
            continue
        wide = ok.pivot_table(index="replication", columns="arm", values=outcome, aggfunc="mean", dropna=False)
        for arm in arms:
            if arm == baseline_arm:
                continue
            pair = wide[[arm, baseline_arm]].dropna()
            d = (pair[arm] - pair[baseline_arm]).to_numpy(dtype=float)
            found = decompose(d, member.reindex(pair.index).to_numpy(), confidence)
            rows.append({"arm": arm, "baseline_arm": baseline_arm, "outcome": outcome, **found})
    return pd.DataFrame(rows, columns=list(ENSEMBLE_COLUMNS))
