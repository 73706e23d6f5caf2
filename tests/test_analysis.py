"""Statistics of sweep results, checked against hand-computed and known cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kube_sim.analysis import statistics as analysis


def _runs(values: dict[int, list[float]], outcome: str = "y") -> pd.DataFrame:
    """A runs table: one row per (arm, replication), all finished."""
    rows = []
    for arm, ys in values.items():
        for rep, y in enumerate(ys):
            rows.append({"run_id": f"{arm}-{rep}", "arm": arm, "arm_label": f"arm {arm}", "replication": rep,
                         "seed": 100 + rep, "status": "ok", "error": None, "duration_s": 0.1,
                         "facilitators.groups_per_facilitator": 5 * (arm + 1), outcome: y})
    return pd.DataFrame(rows)


def _groups(arm: int, duration: list[float], failed: list[bool]) -> pd.DataFrame:
    return pd.DataFrame({"arm": arm, "replication": 0, "group": range(len(duration)),
                         "duration_months": np.asarray(duration, dtype=float), "failed": np.asarray(failed, bool)})


# --------------------------------------------------------------------------------------------
# Kaplan-Meier
# --------------------------------------------------------------------------------------------

# Six groups: durations 1, 2, 2+, 3, 4+, 5 ("+" = censored, still running at the end).
#   t=1: at risk 6, 1 fails      S = 5/6                     = 0.8333
#   t=2: at risk 5, 1 fails (the censored 2+ still counts as at risk at t=2)
#                                S = 5/6 * 4/5 = 4/6         = 0.6667
#   t=3: at risk 3, 1 fails      S = 4/6 * 2/3 = 8/18        = 0.4444
#   t=4: censored only           S = 0.4444
#   t=5: at risk 1, 1 fails      S = 0
# Greenwood variance: Var S(t) = S(t)^2 * sum_{t_i <= t} d_i / (n_i (n_i - d_i)).
#   t=1: 0.8333^2 * 1/(6*5)               = 0.023148 -> se 0.15215 -> lower 0.8333 - 1.96*0.15215 = 0.5351
#   t=2: 0.6667^2 * (1/30 + 1/(5*4))      = 0.037037 -> se 0.19245 -> lower 0.6667 - 1.96*0.19245 = 0.2895
#   t=3: 0.4444^2 * (1/30 + 1/20 + 1/(3*2)) = 0.049383 -> se 0.22222 -> 0.4444 -/+ 0.4355 = 0.0089, 0.8800
KM_DURATION = [1, 2, 2, 3, 4, 5]
KM_FAILED = [True, True, False, True, False, True]


def test_km_matches_hand_computed_product_limit():
    km = analysis.km_by_arm(_groups(0, KM_DURATION, KM_FAILED))
    assert list(km["month"]) == [0, 1, 2, 3, 4, 5]
    assert km["survival"].to_numpy() == pytest.approx([1, 5 / 6, 4 / 6, 8 / 18, 8 / 18, 0])
    z = stats.norm.ppf(0.975)
    row = km.set_index("month")
    assert row.loc[1, "lower"] == pytest.approx(5 / 6 - z * math.sqrt((5 / 6) ** 2 / 30))
    assert row.loc[1, "upper"] == 1.0  # clipped at 1
    assert row.loc[2, "lower"] == pytest.approx(4 / 6 - z * math.sqrt((4 / 6) ** 2 * (1 / 30 + 1 / 20)))
    se3 = math.sqrt((8 / 18) ** 2 * (1 / 30 + 1 / 20 + 1 / 6))
    assert row.loc[3, "lower"] == pytest.approx(8 / 18 - z * se3)
    assert row.loc[3, "upper"] == pytest.approx(8 / 18 + z * se3)
    assert row.loc[5, "lower"] == row.loc[5, "upper"] == 0.0  # band collapses once every group failed


def test_km_pools_replications_and_separates_arms():
    a = _groups(0, KM_DURATION[:3], KM_FAILED[:3])
    b = _groups(0, KM_DURATION[3:], KM_FAILED[3:]).assign(replication=1)
    other = _groups(1, [10, 10], [False, False])
    km = analysis.km_by_arm(pd.concat([a, b, other]))
    pooled = km[km["arm"] == 0]
    assert pooled["survival"].to_numpy() == pytest.approx([1, 5 / 6, 4 / 6, 8 / 18, 8 / 18, 0])
    none_failed = km[km["arm"] == 1]
    assert list(none_failed["month"]) == list(range(11))
    assert (none_failed[["survival", "lower", "upper"]] == 1.0).all().all()


def test_survival_table_at_horizons():
    table = analysis.survival_table(_groups(0, KM_DURATION, KM_FAILED), horizons=(2, 4, 12))
    assert table["survival"].iloc[0] == pytest.approx(4 / 6)
    assert table["survival"].iloc[1] == pytest.approx(8 / 18)
    # Nobody was followed 12 months, but the last group at risk failed at 5: survival is known to be 0.
    assert table[["survival", "lower", "upper"]].iloc[2].tolist() == [0.0, 0.0, 0.0]
    assert list(table["at_risk"]) == [5, 2, 0]
    assert table["groups"].iloc[0] == 6 and table["failed"].iloc[0] == 4


def test_survival_table_undefined_past_a_censored_last_group():
    table = analysis.survival_table(_groups(0, [1, 2, 6], [True, False, False]), horizons=(6, 12))
    assert table["survival"].iloc[0] == pytest.approx(2 / 3)
    assert table[["survival", "lower", "upper"]].iloc[1].isna().all()  # a group still active when followed last


# --------------------------------------------------------------------------------------------
# Log-rank
# --------------------------------------------------------------------------------------------

def test_logrank_hand_computed():
    # x fails at 1 and 2, y at 3 and 4 (no censoring).
    #   t=1: N=4, Nx=2, O=1: E_x = 1/2, V = 1/2 * 3/4 * 2/3 = 1/4
    #   t=2: N=3, Nx=1, O=1: E_x = 1/3, V = 1/3 * 2/3 * 2/2 = 2/9
    #   t=3, 4: Nx = 0, no contribution.
    #   Z = (2 - 5/6) / sqrt(1/4 + 2/9) = 1.6977, two-sided p = 0.0896
    groups = pd.concat([_groups(0, [1, 2], [True, True]), _groups(1, [3, 4], [True, True])])
    stat, p = analysis.logrank(groups, 0, 1)
    z = (2 - 5 / 6) / math.sqrt(1 / 4 + 2 / 9)
    assert abs(stat) == pytest.approx(z)
    assert p == pytest.approx(2 * stats.norm.sf(z))


def test_logrank_identical_arms_not_significant():
    rng = np.random.default_rng(1)
    d = np.minimum(rng.exponential(30, 200).round() + 1, 60)
    f = d < 60
    groups = pd.concat([_groups(0, d, f), _groups(1, d, f)])
    stat, p = analysis.logrank(groups, 0, 1)
    assert stat == pytest.approx(0.0)
    assert p == pytest.approx(1.0)


def test_logrank_very_different_arms_significant():
    rng = np.random.default_rng(2)
    short = np.minimum(rng.exponential(10, 150).round() + 1, 60)
    long = np.minimum(rng.exponential(60, 150).round() + 1, 60)
    groups = pd.concat([_groups(0, short, short < 60), _groups(1, long, long < 60)])
    _, p = analysis.logrank(groups, 0, 1)
    assert p < 0.01
    table = analysis.logrank_all(groups, baseline_arm=0, labels={1: "long-lived"})
    assert list(table["arm"]) == [1]
    assert table["arm_label"].iloc[0] == "long-lived"
    assert table["pvalue"].iloc[0] == pytest.approx(p)
    assert table["statistic"].iloc[0] < 0  # arm 1 fails less than expected
    assert table["groups"].iloc[0] == 150 and table["baseline_groups"].iloc[0] == 150


def test_logrank_without_failures_is_nan():
    groups = pd.concat([_groups(0, [5, 6], [False, False]), _groups(1, [5, 6], [False, False])])
    stat, p = analysis.logrank(groups, 0, 1)
    assert np.isnan(stat) and np.isnan(p)


# --------------------------------------------------------------------------------------------
# Means and intervals
# --------------------------------------------------------------------------------------------

def test_t_interval_against_hand_formula():
    # x = 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sum of squares about the mean 32, sd = sqrt(32/7) = 2.13809
    # t_{0.975, 7} = 2.364624; half-width = 2.364624 * 2.13809 / sqrt(8) = 1.78749 -> [3.21251, 6.78749]
    n, mean, sd, low, high = analysis.t_interval([2, 4, 4, 4, 5, 5, 7, 9])
    assert (n, mean) == (8, 5.0)
    assert sd == pytest.approx(math.sqrt(32 / 7))
    assert low == pytest.approx(3.21251, abs=1e-5)
    assert high == pytest.approx(6.78749, abs=1e-5)
    assert analysis.t_interval([3.0])[1] == 3.0 and np.isnan(analysis.t_interval([3.0])[3])
    assert analysis.t_interval([])[0] == 0


def test_arm_summary_uses_finished_runs_only_and_ignores_nan():
    runs = _runs({0: [2, 4, 4, 4, 5, 5, 7, 9], 1: [1.0, np.nan, 3.0]})
    failed = runs.iloc[[0]].assign(run_id="x", replication=99, status="failed", error="boom", y=1e9)
    runs = pd.concat([runs, failed], ignore_index=True)
    summary = analysis.arm_summary(runs, "y").set_index("arm")
    assert summary.loc[0, "n"] == 8
    assert summary.loc[0, "mean"] == 5.0
    assert summary.loc[0, "ci_low"] == pytest.approx(3.21251, abs=1e-5)
    assert summary.loc[1, "n"] == 2
    assert summary.loc[1, "mean"] == 2.0
    assert summary.loc[1, "arm_label"] == "arm 1"
    assert list(summary.reset_index().columns) == list(analysis.SUMMARY_COLUMNS)


def test_outcome_columns_skip_bookkeeping_and_factors():
    runs = _runs({0: [1.0, 2.0]})
    assert analysis.outcome_columns(runs) == ["y"]
    assert analysis.factor_columns(runs) == ["facilitators.groups_per_facilitator"]
    with pytest.raises(KeyError):
        analysis.arm_summary(runs, "nope")


# --------------------------------------------------------------------------------------------
# Paired differences
# --------------------------------------------------------------------------------------------

def test_paired_differences_known_effect():
    rng = np.random.default_rng(3)
    base = rng.normal(100, 30, 10)  # large replication-to-replication spread, common to both arms
    effect = 2.0 + np.array([0.1, -0.1, 0.2, -0.2, 0.05, -0.05, 0.15, -0.15, 0.0, 0.0])
    runs = _runs({0: list(base), 1: list(base + effect)})
    diff = analysis.paired_differences(runs, baseline_arm=0, outcomes="y")
    row = diff.iloc[0]
    assert row["arm"] == 1 and row["baseline_arm"] == 0 and row["n_pairs"] == 10
    assert row["mean_diff"] == pytest.approx(2.0)
    assert row["ci_low"] < 2.0 < row["ci_high"]
    assert row["ci_low"] > 1.8 and row["ci_high"] < 2.2  # pairing removes the spread of 30
    assert row["pvalue"] < 1e-6
    assert row["pvalue"] == pytest.approx(stats.ttest_rel(base + effect, base).pvalue)
    assert row["baseline_mean"] == pytest.approx(base.mean())


def test_paired_differences_zero_effect_covers_zero():
    rng = np.random.default_rng(4)
    base = rng.normal(100, 30, 8)
    noise = np.array([0.3, -0.3, 0.1, -0.1, 0.5, -0.5, 0.2, -0.2])  # mean exactly 0
    runs = _runs({0: list(base), 1: list(base + noise), 2: list(base)})
    diff = analysis.paired_differences(runs, baseline_arm=0, outcomes=["y"]).set_index("arm")
    assert diff.loc[1, "mean_diff"] == pytest.approx(0.0, abs=1e-12)
    assert diff.loc[1, "ci_low"] < 0 < diff.loc[1, "ci_high"]
    assert diff.loc[1, "pvalue"] > 0.5
    assert diff.loc[2, "mean_diff"] == 0.0 and diff.loc[2, "pvalue"] == 1.0  # identical arm
    assert (diff["pvalue_holm"] >= diff["pvalue"]).all()


def test_paired_differences_only_use_replications_present_in_both():
    runs = _runs({0: [1.0, 2.0, 3.0, 4.0], 1: [2.0, 3.0, 4.0, 100.0]})
    runs.loc[(runs["arm"] == 0) & (runs["replication"] == 3), "status"] = "failed"
    runs.loc[(runs["arm"] == 0) & (runs["replication"] == 3), "y"] = np.nan
    row = analysis.paired_differences(runs, 0, "y").iloc[0]
    assert row["n_pairs"] == 3
    assert row["mean_diff"] == 1.0
    assert row["pvalue"] == 0.0  # every difference is exactly 1
    with pytest.raises(KeyError):
        analysis.paired_differences(runs, 7, "y")


def test_holm_adjustment():
    assert analysis.holm([0.01, 0.04, 0.03, np.nan])[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert np.isnan(analysis.holm([0.01, np.nan])[1])


# --------------------------------------------------------------------------------------------
# Factor effects and the baseline arm
# --------------------------------------------------------------------------------------------

def test_factor_effects_by_level():
    runs = _runs({0: [1.0, 3.0], 1: [5.0, 7.0], 2: [9.0, 11.0]})
    runs["facilitators.hours_per_month"] = [40, 80, 40, 80, 40, 80]
    effects = analysis.factor_effects(runs, "y")
    ratio = effects[effects["factor"] == "facilitators.groups_per_facilitator"]
    assert list(ratio["level"]) == [5, 10, 15]
    assert list(ratio["mean"]) == [2.0, 6.0, 10.0]
    hours = effects[effects["factor"] == "facilitators.hours_per_month"]
    assert list(hours["mean"]) == [5.0, 7.0]
    assert (hours["n"] == 3).all()


def test_factor_effects_bins_continuous_factors():
    rng = np.random.default_rng(5)
    runs = _runs({a: [float(a)] for a in range(40)})
    runs["grant.amount_rp"] = rng.uniform(0, 1e7, 40)
    effects = analysis.factor_effects(runs, "y", factors=["grant.amount_rp"], max_levels=5)
    assert len(effects) == 5
    assert effects["n"].sum() == 40


def test_default_baseline_arm():
    runs = _runs({0: [1.0], 1: [1.0], 2: [1.0]})
    notes = {"facilitators.groups_per_facilitator": {"unit": "groups", "default": 10, "meaning": "caseload"}}
    manifest = {"base_scenario": "baseline", "parameter_notes": notes, "arms": [
        {"arm": 0, "arm_label": "5", "parameters": {"facilitators.groups_per_facilitator": 5}},
        {"arm": 1, "arm_label": "10", "parameters": {"facilitators.groups_per_facilitator": 10}},
        {"arm": 2, "arm_label": "20", "parameters": {"facilitators.groups_per_facilitator": 20}},
    ]}
    assert analysis.default_baseline_arm(manifest, runs) == 1  # the model default is 10
    manifest["base_scenario"] = {"name": "x", "parameters": {"facilitators.groups_per_facilitator": 5}}
    assert analysis.default_baseline_arm(manifest, runs) == 0  # the base scenario's recorded values win
    manifest["base_scenario"] = {"name": "x", "overrides": {"facilitators.groups_per_facilitator": 20}}
    assert analysis.default_baseline_arm(manifest, runs) == 2
    manifest["base_scenario"] = {"name": "x", "overrides": {"facilitators.groups_per_facilitator": 7}}
    assert analysis.default_baseline_arm(manifest, runs) == 0
    assert analysis.default_baseline_arm(None, runs.iloc[1:]) == 1


def test_base_scenario_arm_none_when_no_arm_matches():
    manifest = {"base_scenario": {"name": "baseline", "path": None, "overrides": {}}, "arms": [
        {"arm": 0, "arm_label": "a", "parameters": {"facilitators.groups_per_facilitator": 5}},
        {"arm": 1, "arm_label": "b", "parameters": {"facilitators.groups_per_facilitator": 30}},
    ]}
    assert analysis.base_scenario_arm(manifest) is None
    assert analysis.default_baseline_arm(manifest) == 0
    comparison = {"base_scenario": {"name": "a", "overrides": {"facilitators.groups_per_facilitator": 20}}, "arms": [
        {"arm": 0, "arm_label": "scenario=a", "parameters": {"facilitators.groups_per_facilitator": 20}},
        {"arm": 1, "arm_label": "scenario=b", "parameters": {"members.initial_inactive_share": 0.3}},
    ]}
    assert analysis.base_scenario_arm(comparison) == 0


# --- value for money -------------------------------------------------------------------------------

def test_fieller_interval_holds_exactly_the_ratios_the_paired_test_accepts():
    from kube_sim.analysis.value import fieller

    rng = np.random.default_rng(5)
    cost = rng.normal(1e8, 2e7, 30)
    effect = 2.0e-8 * cost + rng.normal(0, 0.5, 30)
    ratio, low, high = fieller(effect, cost)
    assert ratio == pytest.approx(effect.mean() / cost.mean())
    assert low < ratio < high
    for r in np.linspace(low * 0.5, high * 1.5, 41):  # inside the interval <=> the t-test keeps r
        p = stats.ttest_1samp(effect - r * cost, 0.0).pvalue
        if low + 1e-12 < r < high - 1e-12:
            assert p > 0.05 - 1e-9
        elif r < low - 1e-12 or r > high + 1e-12:
            assert p < 0.05 + 1e-9
    # A cost difference that is not clearly non-zero gives no bounded interval.
    _, low, high = fieller(effect, rng.normal(0, 1e7, 30))
    assert np.isnan(low) and np.isnan(high)
