"""Survival: Kaplan-Meier against a hand-computed case, censoring, horizons past the follow-up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kube_sim.common.survival import durations, survival_at, survival_band, survival_curve


def test_kaplan_meier_hand_computed():
    # Failures at 2, 2, 5; censored at 3, 6, 8 (six groups).
    # S(t) = 1 until 2; at 2: 6 at risk, 2 fail -> 4/6; at 5: 3 at risk (2,2,3 gone), 1 fails -> 4/6 * 2/3 = 4/9.
    duration = np.array([2, 2, 3, 5, 6, 8], dtype=float)
    failed = np.array([True, True, False, True, False, False])
    s = survival_at(duration, failed, horizons=(1, 2, 4, 5, 8, 9))
    assert s["1"] == pytest.approx(1.0)
    assert s["2"] == pytest.approx(4 / 6)
    assert s["4"] == pytest.approx(4 / 6)
    assert s["5"] == pytest.approx(4 / 9)
    assert s["8"] == pytest.approx(4 / 9)
    assert s["9"] is None  # nobody followed that long


def test_no_failures_means_full_survival():
    s = survival_at(np.array([10.0, 20.0]), np.array([False, False]), horizons=(12, 24))
    assert s == {"12": 1.0, "24": None}


def test_survival_is_zero_not_missing_after_the_last_group_failed():
    # Failures at 2 and 5, censored at 3: the last group at risk fails at 5, so S(t) = 0 for t >= 5.
    duration = np.array([2.0, 3.0, 5.0])
    failed = np.array([True, False, True])
    assert survival_at(duration, failed, horizons=(2, 5, 12, 60)) == {
        "2": pytest.approx(2 / 3), "5": 0.0, "12": 0.0, "60": 0.0}


def test_survival_is_missing_past_a_censored_last_group():
    duration = np.array([2.0, 3.0, 5.0])
    failed = np.array([True, True, False])
    s = survival_at(duration, failed, horizons=(5, 6))
    assert s["5"] == pytest.approx(1 / 3) and s["6"] is None


def test_survival_band_past_the_follow_up():
    survival, lower, upper = survival_band(np.array([2.0, 5.0]), np.array([True, True]), np.array([1.0, 9.0]))
    assert survival.tolist() == [1.0, 0.0] and lower[1] == upper[1] == 0.0
    survival, lower, upper = survival_band(np.array([2.0, 5.0]), np.array([True, False]), np.array([9.0]))
    assert np.isnan([survival[0], lower[0], upper[0]]).all()


def test_no_groups_no_estimate():
    assert survival_at(np.array([]), np.array([], dtype=bool), horizons=(12,)) == {"12": None}


def test_run_with_every_group_failed_reports_zero_survival():
    from kube_sim.model.parameters import make_parameters
    from kube_sim.model.run import run_model

    # A cohesion floor no group can reach: every group fails as soon as its business starts.
    result = run_model(make_parameters({"groups.collapse_cohesion": 1.0}), seed=102, months=72)
    duration, failed = durations(result.groups["funded_month"].to_numpy(), result.groups["failed_month"].to_numpy(), 72)
    assert failed.all() and duration.max() < 36
    assert result.summary["survival"]["36"] == 0.0 and result.summary["survival"]["60"] == 0.0


def test_durations_censor_at_run_end():
    d, failed = durations(np.array([1, 13, 25]), np.array([10, -1, -1]), 48)
    assert d.tolist() == [9.0, 35.0, 23.0]
    assert failed.tolist() == [True, False, False]


def test_survival_curve_band_contains_estimate():
    rng = np.random.default_rng(0)
    duration = rng.integers(1, 40, 200).astype(float)
    failed = rng.random(200) < 0.6
    curve = survival_curve(duration, failed)
    assert (curve["lower"] <= curve["survival"] + 1e-12).all()
    assert (curve["survival"] <= curve["upper"] + 1e-12).all()
    assert curve["survival"].is_monotonic_decreasing


# --------------------------------------------------------------------------------------------
# The declaration of outcomes
# --------------------------------------------------------------------------------------------

def test_declared_outcomes_are_exactly_what_a_run_gives(baseline_run):
    from kube_sim.common import outputs
    from kube_sim.model.run import flat_outcomes

    summary = baseline_run.summary
    assert tuple(summary) == ("scenario", "seed", *outputs.SUMMARY_KEYS)  # same keys, same order
    flat = [k for k in flat_outcomes(summary) if k not in ("scenario", "seed")]
    assert tuple(flat) == outputs.COLUMNS
    for outcome in outputs.OUTCOMES:
        key = outcome.summary_key
        value = summary[key] if isinstance(key, str) else summary[key[0]][key[1]]
        assert value is None or isinstance(value, int | float), outcome.column


def test_declared_families_match_the_model(baseline_run):
    from kube_sim.common import outputs
    from kube_sim.model.codes import FAILURE_CAUSES

    assert tuple(outputs.FAILURE_CAUSES) == FAILURE_CAUSES[1:]  # "none" is not a cause of failure
    assert tuple(outputs.COST_ITEMS) == tuple(baseline_run.summary["cost_by_item_rp"])


def test_sweep_columns_come_from_the_declaration_without_running_the_model(monkeypatch):
    from kube_sim.common import outputs
    from kube_sim.experiments import rows
    from kube_sim.model import run

    def no_run(*args, **kwargs):
        raise AssertionError("the model was run")

    monkeypatch.setattr(run, "run_model", no_run)
    assert rows.all_outcome_columns() == ("scenario", *outputs.COLUMNS)
    assert rows.kept_outcomes(["survival_36"]) == ("scenario", "months", "survival_36")


def test_every_outcome_is_declared_with_a_known_kind_and_meaning():
    from kube_sim.common import outputs

    assert len(outputs.COLUMNS) == len(set(outputs.COLUMNS))
    for outcome in outputs.OUTCOMES:
        assert outcome.kind in outputs.KINDS, outcome.column
        assert outcome.unit and outcome.label and outcome.meaning, outcome.column
        assert (outcome.kind == "rp") == outcome.column.endswith("_rp"), outcome.column


def test_outcome_table_in_docs_is_up_to_date(tmp_path):
    import importlib.util
    from pathlib import Path

    from kube_sim.common import outputs

    path = Path(__file__).resolve().parents[1] / "docs" / "make_outcome_table.py"
    spec = importlib.util.spec_from_file_location("make_outcome_table", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    written = (path.parent / "OUTCOMES.md").read_text(encoding="utf-8")
    assert written == script.render(), "docs/OUTCOMES.md is stale: run python docs/make_outcome_table.py"
    assert all(f"`{column}`" in written for column in outputs.COLUMNS)
    assert script.main(["--check", "--output", str(tmp_path / "x.md")]) == 1


def test_poverty_is_measured_on_eligible_households_against_their_own_income(baseline_run):
    members, poverty = baseline_run.members, baseline_run.summary["poverty"]
    line = members.attrs["poverty_line_rp"]
    eligible = members[members["eligible"]]
    assert poverty["eligible_households"] == len(eligible) < len(members)
    assert poverty["headcount_without"] == pytest.approx(np.mean(eligible["baseline_income_rp"] < line))
    assert poverty["headcount_with"] == pytest.approx(np.mean(eligible["income_per_person_rp"] < line))
    shortfall = np.maximum(line - eligible["income_per_person_rp"], 0) / line
    assert poverty["gap_with"] == pytest.approx(shortfall.mean())
    # Group income only adds: the programme cannot deepen poverty.
    assert poverty["headcount_with"] <= poverty["headcount_without"]
    assert 0 < poverty["gap_with"] <= poverty["gap_without"] < 1
    assert baseline_run.summary["share_above_poverty_line"] == pytest.approx(1 - poverty["headcount_with"])


def _known_households() -> pd.DataFrame:
    """Five eligible households whose status is known, one ineligible, against a line of Rp 100,000 a person.

    Income per person (without -> with, at the end; at 36 months): never poor (120k -> 130k; 125k),
    lifted (80k -> 110k; 105k), still poor (60k -> 90k; 70k), pushed below (105k -> 95k; 95k), lifted at
    the end but not followed 36 months (90k -> 100k exactly at the line; NaN), and an ineligible poor
    household lifted (70k -> 120k), which is not counted.
    """
    members = pd.DataFrame({
        "eligible": [True, True, True, True, True, False],
        "baseline_income_rp": [120e3, 80e3, 60e3, 105e3, 90e3, 70e3],
        "income_per_person_rp": [130e3, 110e3, 90e3, 95e3, 100e3, 120e3],
        "income_per_person_at_horizon_rp": [125e3, 105e3, 70e3, 95e3, np.nan, 120e3],
    })
    members.attrs.update(poverty_line_rp=100e3, household_size=5.0)
    return members


def test_poverty_status_puts_each_known_household_in_its_one_class():
    from kube_sim.model.outcomes import poverty_status

    members = _known_households()
    status = poverty_status(members["baseline_income_rp"], members["income_per_person_rp"], 100e3)
    expected = {"never_poor": [0], "lifted": [1, 4, 5], "still_poor": [2], "pushed_below": [3]}
    for name, rows in expected.items():
        assert list(np.flatnonzero(status[name])) == rows, name
    assert (sum(status[name].astype(int) for name in status) == 1).all()


def test_households_lifted_out_of_poverty_count_only_the_poor_the_programme_lifts():
    from kube_sim.model.outcomes import poverty_measures

    poverty = poverty_measures(_known_households())
    assert poverty["eligible_households"] == 5
    assert poverty["poor_without"] == 3  # lifted, still poor, lifted-but-not-followed
    # End of run: the lifted household and the one that reaches the line exactly; never poor, still poor
    # and the ineligible one count zero, and the household pushed below is counted apart.
    assert poverty["lifted_end"] == 2
    assert poverty["pushed_below_end"] == 1
    # 36 months after funding: only the four followed that long; the lifted one is still above the line.
    assert poverty["followed_36"] == 4
    assert poverty["lifted_36"] == 1
    assert poverty["pushed_below_36"] == 1
    # Gap closed, Rp a month for whole households (5 persons): still poor 40k -> 10k, lifted 20k -> 0,
    # 10k -> 0 at the line, pushed below 0 -> 5k; never poor 0 -> 0.
    assert poverty["gap_closed_end_rp"] == pytest.approx((30e3 + 20e3 + 10e3 - 5e3) * 5)
    assert poverty["gap_closed_36_rp"] == pytest.approx((10e3 + 20e3 - 5e3) * 5)


def test_households_lifted_in_a_run_match_their_own_incomes_and_need_a_group(baseline_run):
    members, poverty = baseline_run.members, baseline_run.summary["poverty"]
    line = members.attrs["poverty_line_rp"]
    eligible = members[members["eligible"]]
    poor = eligible["baseline_income_rp"] < line
    lifted = poor & (eligible["income_per_person_rp"] >= line)
    assert poverty["lifted_end"] == int(lifted.sum())
    assert poverty["pushed_below_end"] == 0  # group income is never negative
    assert poverty["lifted_end"] <= poverty["poor_without"] == int(poor.sum())
    # Counted at 36 months only for households whose group was funded 36 months before the end.
    funded = baseline_run.groups["funded_month"].reindex(eligible["group"]).to_numpy()
    assert poverty["followed_36"] == int(np.sum(funded + 36 <= baseline_run.summary["months"]))
    assert poverty["followed_36"] > 0 and poverty["lifted_36"] <= poverty["followed_36"]
    # The share above the line counts the never-poor too: it is far larger than the share lifted.
    assert baseline_run.summary["share_above_poverty_line"] * len(eligible) > 3 * poverty["lifted_end"]


def test_no_facilitators_no_groups_lifts_no_one():
    from kube_sim.model.parameters import make_parameters
    from kube_sim.model.run import run_model

    result = run_model(make_parameters({"funding.rounds": 0}), seed=3, months=24)
    poverty = result.summary["poverty"]
    assert poverty["lifted_end"] == poverty["lifted_36"] == poverty["followed_36"] == 0
    assert poverty["gap_closed_end_rp"] == 0.0
