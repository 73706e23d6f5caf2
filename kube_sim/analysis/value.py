"""Value for money of a sweep's arms: costs, what each arm buys per Rp 100 juta, and comparisons at equal cost.

Options rarely cost the same, so a difference in outcomes alone can mislead a planner. Two measures
put arms on one footing, both from the runs table, paired by replication (common random numbers):

* **Per Rp 100 juta spent** (average): what an arm buys for every Rp 100 juta of its total programme
  cost, worked out run by run (``count / cost x 10^8``) and averaged over replications. The
  *difference at equal cost* is the paired difference of that measure between an arm and the
  reference: what one budget of Rp 100 juta buys more (or less) under the arm, assuming the
  programme scales in proportion to its budget.
* **Per extra Rp 100 juta** (incremental): the arm's extra outcome over the reference divided by its
  extra cost, ``(E_arm - E_ref) / (C_arm - C_ref) x 10^8``, with Fieller's interval for a ratio of
  paired means. It answers "what does the extra money buy?"; it is undefined when the costs do not
  clearly differ.

The headline is the households lifted out of poverty (poor on their own income, at or above the line
with the programme, in the same run): never-poor and still-poor households count zero. Shares are
turned into the things they count before dividing by money: survival at 36 months times the groups
funded is the groups still active 36 months after funding. Each arm's own mean per Rp 100 juta comes
with its interval over replications; a district budget reads it per Rp 1 miliar (ten times as much).

Nothing here runs or imports the model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from kube_sim.analysis.statistics import ok_runs, t_interval
from kube_sim.common.i18n import N_

PER_RP = 1e8
"""The budget unit: Rp 100 juta (100 million rupiah)."""

PER_MILIAR = 1e9
"""The unit of a district budget: Rp 1 miliar (a thousand million rupiah), ten times :data:`PER_RP`."""

COST = "cost_total_rp"

BOUGHT: dict[str, tuple[str, str, str | None]] = {
    "households_lifted": (N_("households lifted out of poverty (end of run)"), "poverty_lifted_end", None),
    "groups_active_end": (N_("groups still active at the end"), "groups_active_end", None),
    "groups_active_36": (N_("groups active 36 months after funding"), "survival_36", "groups_funded"),
    "members": (N_("member households reached"), "members", None),
}
"""What a budget buys, by name: (label in English, outcome column, column it is a share of, or None for a count)."""

VALUE_COLUMNS: tuple[str, ...] = (
    "outcome", "label", "n_pairs", "reference_per_100m", "reference_low", "reference_high", "arm_per_100m",
    "arm_low", "arm_high", "diff_per_100m", "diff_low", "diff_high",
    "pvalue", "cost_diff", "cost_diff_low", "cost_diff_high", "extra_per_100m", "extra_low", "extra_high",
)


def bought(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs table with one column per thing bought (see :data:`BOUGHT`) that it can give.

    Args:
        runs: The runs table.

    Returns:
        A copy with the columns of :data:`BOUGHT` added (NaN where an input is missing).
    """
    out = runs.copy()
    for name, (_, column, of) in BOUGHT.items():
        if column not in runs.columns or (of is not None and of not in runs.columns):
            continue
        value = runs[column].astype(float)
        out[name] = value * runs[of].astype(float) if of is not None else value
    return out


def _pairs(runs: pd.DataFrame, reference: int, arm: int, columns: Sequence[str]) -> pd.DataFrame:
    """One row per replication finished in both arms: ``<column>_ref`` and ``<column>_arm``."""
    ok = ok_runs(runs)
    ref = ok[ok["arm"] == reference].set_index("replication")[list(columns)]
    other = ok[ok["arm"] == arm].set_index("replication")[list(columns)]
    return ref.add_suffix("_ref").join(other.add_suffix("_arm"), how="inner")


def fieller(d_effect: np.ndarray, d_cost: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Ratio of two paired mean differences with Fieller's interval.

    The interval holds every ratio ``r`` for which the paired t-test of ``d_effect - r d_cost`` does
    not reject 0 at the given level. It is bounded only when the cost difference itself is clearly
    non-zero; otherwise both ends are NaN.

    Args:
        d_effect: Per-replication differences in the outcome.
        d_cost: Per-replication differences in cost (same replications).
        confidence: Confidence level.

    Returns:
        ``(ratio, low, high)``; the ratio is NaN when the mean cost difference is 0.
    """
    e, c = np.asarray(d_effect, float), np.asarray(d_cost, float)
    keep = np.isfinite(e) & np.isfinite(c)
    e, c = e[keep], c[keep]
    n = e.size
    if n < 2 or np.mean(c) == 0:
        return math.nan, math.nan, math.nan
    me, mc = float(e.mean()), float(c.mean())
    ratio = me / mc
    t2 = float(stats.t.ppf((1 + confidence) / 2, n - 1)) ** 2
    vee, vcc = float(e.var(ddof=1)) / n, float(c.var(ddof=1)) / n
    vec = float(np.cov(e, c, ddof=1)[0, 1]) / n
    # (me - r mc)^2 <= t2 (vee - 2 r vec + r^2 vcc): a quadratic a r^2 + b r + k <= 0.
    a = mc * mc - t2 * vcc
    b = -2 * (me * mc - t2 * vec)
    k = me * me - t2 * vee
    disc = b * b - 4 * a * k
    if a <= 0 or disc < 0:  # the cost difference is not clearly non-zero: the interval is unbounded
        return ratio, math.nan, math.nan
    root = math.sqrt(disc)
    return ratio, (-b - root) / (2 * a), (-b + root) / (2 * a)


def value_for_money(runs: pd.DataFrame, reference: int, arm: int, confidence: float = 0.95) -> pd.DataFrame:
    """What an arm buys per Rp 100 juta against the reference: at equal cost, and per extra Rp 100 juta.

    Args:
        runs: The runs table (with ``cost_total_rp``).
        reference: The reference arm.
        arm: The arm compared with it.
        confidence: Confidence level of the intervals.

    Returns:
        One row per thing bought that the runs can give, columns :data:`VALUE_COLUMNS`: the mean per
        Rp 100 juta spent in each arm with its interval over replications, their paired difference (the
        difference at equal cost) with its interval and paired t-test p-value, the mean cost difference
        with its interval, and the extra outcome per extra Rp 100 juta with Fieller's interval (NaN ends
        when the cost difference is not clear).
    """
    table = bought(runs)
    names = [name for name in BOUGHT if name in table.columns]
    if COST not in table.columns or not names:
        return pd.DataFrame(columns=list(VALUE_COLUMNS))
    pairs = _pairs(table, reference, arm, [COST, *names])
    cost_ref, cost_arm = pairs[f"{COST}_ref"].to_numpy(float), pairs[f"{COST}_arm"].to_numpy(float)
    _, cost_diff, _, cost_low, cost_high = t_interval(cost_arm - cost_ref, confidence)
    rows = []
    for name in names:
        ref, other = pairs[f"{name}_ref"].to_numpy(float), pairs[f"{name}_arm"].to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            per_ref = np.where(cost_ref > 0, ref / cost_ref * PER_RP, np.nan)
            per_arm = np.where(cost_arm > 0, other / cost_arm * PER_RP, np.nan)
        d = per_arm - per_ref
        n, diff, sd, low, high = t_interval(d, confidence)
        finite = d[np.isfinite(d)]
        if n < 2:
            p = math.nan
        elif not np.isfinite(sd) or sd == 0:
            p = 1.0 if diff == 0 else 0.0
        else:
            p = float(stats.ttest_1samp(finite, 0.0).pvalue)
        ratio, r_low, r_high = fieller(other - ref, cost_arm - cost_ref, confidence)
        _, ref_mean, _, ref_low, ref_high = t_interval(per_ref, confidence)
        _, arm_mean, _, arm_low, arm_high = t_interval(per_arm, confidence)
        rows.append((name, BOUGHT[name][0], n, ref_mean, ref_low, ref_high, arm_mean, arm_low, arm_high,
                     diff, low, high, p, cost_diff, cost_low, cost_high, ratio * PER_RP, r_low * PER_RP,
                     r_high * PER_RP))
    return pd.DataFrame(rows, columns=list(VALUE_COLUMNS))
