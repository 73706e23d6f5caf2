"""The budget frontier from a saved frontier sweep: outcomes per allocation, Pareto frontier, bootstrap intervals.

Read from the sweep's runs and monthly tables and its manifest (its ``frontier`` entry: the budget, the
years, today's arm, every allocation); nothing here runs or imports the model.

Per run:

* ``surviving_groups``: groups still active at the end of the run (``groups_active_end``);
* ``eligible_income_rp``: income the groups paid out to eligible households over the run, the monthly
  payouts summed (``payouts_rp``) times the share that went to eligible households
  (``share_income_to_eligible``): what the programme added to poor households' income;
* ``cost_per_year_rp``: the programme's simulated cost over the run divided by its years of funding rounds
  (the budget's period: a year of funding rounds);
* ``households_lifted``: eligible households lifted out of poverty at the end of the run (poor on their own
  income, at or above the line with the programme), and ``lifted_per_miliar``: the same per Rp 1 miliar of
  the run's simulated cost. Both are reported with bootstrap intervals but are not objectives of the frontier.

An allocation is *on the frontier* when its mean yearly cost is within the budget and no other such
allocation has at least as many surviving groups, at least as much eligible income and at most its
cost, and is better in one. Intervals come from a paired bootstrap over replications (a resample keeps
every allocation's run of each drawn replication, since they share its seed): each allocation's means,
its differences from today's allocation, and how often it is on the frontier across resamples.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

BOOTSTRAP_RESAMPLES = 1000
"""Bootstrap resamples of the replications."""

METRICS: dict[str, bool] = {"surviving_groups": True, "eligible_income_rp": True, "cost_per_year_rp": False}
"""The frontier's objectives and whether higher is better."""

EXTRA: tuple[str, ...] = ("groups_funded", "facilitators", "members")
"""Other run outcomes averaged per allocation."""

REPORTED: tuple[str, ...] = ("households_lifted", "lifted_per_miliar")
"""Outcomes given with bootstrap intervals and differences from today, that are not the frontier's objectives."""


def run_metrics(runs: pd.DataFrame, monthly: pd.DataFrame, years: int) -> pd.DataFrame:
    """The frontier's outcomes of each finished run.

    Args:
        runs: The runs table.
        monthly: The monthly table (``run_id``, ``payouts_rp``).
        years: Years of funding rounds (the cost is divided by them).

    Returns:
        One row per finished run: ``arm``, ``replication``, the :data:`METRICS` and :data:`EXTRA`.
    """
    ok = runs[runs["status"] == "ok"] if "status" in runs.columns else runs
    payouts = monthly.groupby("run_id")["payouts_rp"].sum() if len(monthly) else pd.Series(dtype=float)
    share = ok["share_income_to_eligible"].fillna(0.0).to_numpy(float)
    paid = payouts.reindex(ok["run_id"]).fillna(0.0).to_numpy(float)
    out = pd.DataFrame({
        "arm": ok["arm"].to_numpy(int), "replication": ok["replication"].to_numpy(int),
        "surviving_groups": ok["groups_active_end"].to_numpy(float),
        "eligible_income_rp": paid * share,
        "cost_per_year_rp": ok["cost_total_rp"].to_numpy(float) / max(int(years), 1),
    })
    if "poverty_lifted_end" in ok.columns:  # sweeps saved before poverty was counted this way lack it
        lifted = ok["poverty_lifted_end"].to_numpy(float)
        cost = ok["cost_total_rp"].to_numpy(float)
        out["households_lifted"] = lifted
        with np.errstate(divide="ignore", invalid="ignore"):
            out["lifted_per_miliar"] = np.where(cost > 0, lifted / cost * 1e9, np.nan)
    for column in EXTRA:
        out[column] = ok[column].to_numpy(float) if column in ok.columns else np.nan
    return out


def pareto_mask(values: np.ndarray, higher_is_better: tuple[bool, ...], eligible: np.ndarray | None = None
                ) -> np.ndarray:
    """Which points no other eligible point dominates.

    Args:
        values: ``(points, objectives)``.
        higher_is_better: Per objective.
        eligible: Points allowed (others are never on the frontier and dominate nothing); all when None.

    Returns:
        A boolean mask over the points.
    """
    signs = np.where(np.asarray(higher_is_better), 1.0, -1.0)
    x = np.asarray(values, dtype=float) * signs
    ok = np.ones(len(x), dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool)
    ok = ok & np.all(np.isfinite(x), axis=1)
    mask = np.zeros(len(x), dtype=bool)
    for i in np.flatnonzero(ok):
        others = x[ok]
        dominated = np.any(np.all(others >= x[i], axis=1) & np.any(others > x[i], axis=1))
        mask[i] = not dominated
    return mask


def _grid(metrics: pd.DataFrame, column: str, arms: int, reps: int) -> np.ndarray:
    grid = np.full((arms, reps), np.nan)
    grid[metrics["arm"].to_numpy(int), metrics["replication"].to_numpy(int)] = metrics[column].to_numpy(float)
    return grid


def _nanmean(values: np.ndarray, axis: int) -> np.ndarray:
    counts = np.sum(np.isfinite(values), axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, np.nansum(values, axis=axis) / np.maximum(counts, 1), np.nan)


def frontier_table(metrics: pd.DataFrame, budget: float, today_arm: int = 0, confidence: float = 0.95,
                   resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> pd.DataFrame:
    """Each allocation's outcomes with intervals, its difference from today's, and whether it is on the frontier.

    Args:
        metrics: From :func:`run_metrics`.
        budget: Yearly budget (Rp); allocations whose mean yearly cost exceeds it are not on the frontier.
        today_arm: Today's allocation's arm.
        confidence: Level of the two-sided bootstrap intervals.
        resamples: Bootstrap resamples.
        seed: Seed of the bootstrap.

    Returns:
        One row per arm: ``arm``, ``runs``, for each metric ``<m>``, ``<m>_low``, ``<m>_high``, ``diff_<m>``,
        ``diff_<m>_low``, ``diff_<m>_high``; the :data:`EXTRA` means; ``within_budget``, ``on_frontier`` and
        ``frontier_share`` (share of resamples in which it is on the frontier).
    """
    arms = int(metrics["arm"].max()) + 1
    reps = int(metrics["replication"].max()) + 1
    reported = [m for m in REPORTED if m in metrics.columns]
    names = [*METRICS, *reported]
    senses = tuple(METRICS.values())
    objectives = len(METRICS)
    grids = np.stack([_grid(metrics, m, arms, reps) for m in names])  # (metrics, arms, reps)
    means = _nanmean(grids, axis=2)  # (metrics, arms)
    diffs = grids - grids[:, today_arm:today_arm + 1, :]
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, reps, size=(resamples, reps))
    boot = _nanmean(grids[:, :, draws], axis=3)  # (metrics, arms, resamples)
    boot_diff = _nanmean(diffs[:, :, draws], axis=3)
    alpha = (1.0 - confidence) / 2
    cost = names.index("cost_per_year_rp")
    within = means[cost] <= budget
    on = pareto_mask(means[:objectives].T, senses, within)
    share = np.zeros(arms)
    for b in range(resamples):
        share += pareto_mask(boot[:objectives, :, b].T, senses, boot[cost, :, b] <= budget)
    table = pd.DataFrame({"arm": np.arange(arms), "runs": np.sum(np.isfinite(grids[0]), axis=1)})
    for i, m in enumerate(names):
        table[m] = means[i]
        table[f"{m}_low"] = np.nanquantile(boot[i], alpha, axis=1)
        table[f"{m}_high"] = np.nanquantile(boot[i], 1 - alpha, axis=1)
        table[f"diff_{m}"] = _nanmean(diffs[i], axis=1)
        table[f"diff_{m}_low"] = np.nanquantile(boot_diff[i], alpha, axis=1)
        table[f"diff_{m}_high"] = np.nanquantile(boot_diff[i], 1 - alpha, axis=1)
    for column in EXTRA:
        table[column] = _nanmean(_grid(metrics, column, arms, reps), axis=1) if column in metrics else np.nan
    table["within_budget"] = within
    table["on_frontier"] = on
    table["frontier_share"] = share / resamples
    return table


def frontier_from_sweep(runs: pd.DataFrame, monthly: pd.DataFrame, manifest: Mapping[str, Any],
                        resamples: int = BOOTSTRAP_RESAMPLES) -> pd.DataFrame:
    """The frontier table of a saved frontier sweep, with each allocation's description.

    Args:
        runs: Its runs table.
        monthly: Its monthly table.
        manifest: Its manifest (with the ``frontier`` entry).
        resamples: Bootstrap resamples.

    Returns:
        :func:`frontier_table`'s table joined with the manifest's allocations (``label``, ``today``, shares and
        parameters); the bootstrap is seeded by the sweep's master seed.
    """
    spec = manifest["frontier"]
    metrics = run_metrics(runs, monthly, int(spec["years"]))
    table = frontier_table(metrics, float(spec["budget_rp"]), int(spec["today_arm"]), resamples=resamples,
                           seed=int(manifest.get("master_seed") or 0))
    allocations = pd.DataFrame(spec["allocations"])
    return allocations.merge(table, on="arm", how="right")
