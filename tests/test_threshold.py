"""Staffing threshold: the search finds a known threshold on a synthetic monotone response, says so when no
caseload (or every one) reaches the target, reads a real sweep, and the command runs end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from kube_sim.analysis import threshold as analysis
from kube_sim.cli.main import main
from kube_sim.experiments import threshold as design
from kube_sim.experiments.scenario import load_scenario

GRID = [2, 4, 6, 8, 10, 12, 14, 16, 20, 25, 30, 40]


def _synthetic(truth, reps=40, noise=0.04, seed=3, grid=GRID):
    """Survival by caseload and replication: a known curve, seed noise shared by a replication's caseloads
    (common random numbers), and a little independent noise."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(0, noise, reps)
    own = rng.normal(0, noise / 3, (len(grid), reps))
    return np.clip(np.array([truth(c) for c in grid])[:, None] + shared[None, :] + own, 0, 1)


def _linear(c):
    return 0.70 - 0.02 * c  # crosses 0.5 at exactly 10 groups per facilitator


# --- the analysis ----------------------------------------------------------------------------------

def test_finds_the_known_threshold_and_its_crossing():
    answer = analysis.find_threshold(_synthetic(_linear), GRID, target=0.5, confidence=0.9, resamples=500)
    assert answer.status == analysis.FOUND
    # survival is 0.54 at 8 and 0.50 at 10: only a grid point clearly above the target passes
    assert answer.caseload == 8
    assert answer.crossing == pytest.approx(10, abs=0.8)
    assert answer.crossing_low < 10 < answer.crossing_high
    curve = answer.curve
    assert list(curve.columns) == list(analysis.CURVE_COLUMNS)
    assert np.all(np.diff(curve["fitted"]) <= 1e-12)  # monotone
    assert np.all(np.diff(curve["lower"]) <= 1e-12)
    assert np.all(curve["lower"] <= curve["fitted"] + 1e-12)
    assert curve["passes"].tolist() == [c <= 8 for c in GRID]


def test_higher_confidence_never_allows_a_larger_caseload():
    values = _synthetic(_linear, reps=12, noise=0.08)
    answers = [analysis.find_threshold(values, GRID, target=0.5, confidence=c, resamples=400) for c in (0.6, 0.9, 0.99)]
    found = [a.caseload or 0 for a in answers]
    assert found == sorted(found, reverse=True)


def test_a_noisy_non_monotone_response_still_gives_a_monotone_curve():
    values = _synthetic(lambda c: 0.6 - 0.01 * c + (0.05 if c == 14 else 0.0), reps=10)
    answer = analysis.find_threshold(values, GRID, target=0.45, confidence=0.9, resamples=300)
    assert np.all(np.diff(answer.curve["fitted"]) <= 1e-12)
    assert np.all(np.diff(answer.curve["band_high"]) <= 1e-12)


def test_says_when_no_caseload_or_every_caseload_reaches_the_target():
    low = analysis.find_threshold(_synthetic(lambda c: 0.3 - 0.002 * c), GRID, target=0.5, confidence=0.9,
                                  resamples=200)
    assert low.status == analysis.NONE and low.caseload is None
    assert low.crossing is None and low.crossing_low is None and low.crossing_high is None
    high = analysis.find_threshold(_synthetic(lambda c: 0.9 - 0.002 * c), GRID, target=0.5, confidence=0.9,
                                   resamples=200)
    assert high.status == analysis.ALL and high.caseload == GRID[-1]
    assert high.crossing is None and high.crossing_high is None


def test_crossing_point_is_linear_between_grid_points():
    assert analysis.crossing_point(np.array([0.8, 0.6, 0.4]), [1, 2, 3], 0.5) == pytest.approx(2.5)
    assert analysis.crossing_point(np.array([0.4, 0.3]), [1, 2], 0.5) == -np.inf
    assert analysis.crossing_point(np.array([0.8, 0.7]), [1, 2], 0.5) == np.inf


def test_missing_runs_are_left_out_not_counted_as_failures():
    values = _synthetic(_linear)
    holed = values.copy()
    holed[3, :20] = np.nan
    answer = analysis.find_threshold(holed, GRID, target=0.5, confidence=0.9, resamples=200)
    assert answer.curve.loc[3, "runs"] == 20
    assert answer.curve.loc[3, "mean"] == pytest.approx(np.nanmean(holed[3]))


def test_the_bootstrap_is_repeatable():
    values = _synthetic(_linear, reps=10)
    a = analysis.find_threshold(values, GRID, target=0.5, confidence=0.9, resamples=200, seed=5)
    b = analysis.find_threshold(values, GRID, target=0.5, confidence=0.9, resamples=200, seed=5)
    pd.testing.assert_frame_equal(a.curve, b.curve)
    assert (a.crossing_low, a.crossing_high) == (b.crossing_low, b.crossing_high)


# --- the plan --------------------------------------------------------------------------------------

def test_plan_pairs_every_caseload_with_the_same_seeds_at_the_hours_given():
    base = load_scenario("baseline")
    plan = design.plan_threshold(base, caseloads=[10, 2, 5, 5], hours=30.0, target=0.5, horizon=36,
                                 confidence=0.9, replications=3, months=64, master_seed=1)
    assert [a.factors[design.CASELOAD_KEY] for a in plan.arms] == [2, 5, 10]
    assert all(a.params.facilitators.hours_per_month == 30.0 for a in plan.arms)
    assert all(a.params.facilitators.groups_per_facilitator == c for a, c in zip(plan.arms, [2, 5, 10], strict=True))
    assert plan.manifest["threshold"]["caseloads"] == [2, 5, 10]
    assert design.default_months(base, 36) == 64


# --- the command, end to end -----------------------------------------------------------------------

TINY = ["threshold", "--caseloads", "1,5,30", "--replications", "3", "--months", "30", "--horizon", "12",
        "--workers", "1", "--no-progress"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("threshold") / "out"
    assert main([*TINY, "--out", str(folder)]) == 0
    return folder


def test_command_writes_its_answer_table_figure_and_manifest(tiny_run):
    for name in ("threshold.csv", "threshold.png", "threshold.json", "manifest.json", "runs.parquet",
                 "groups.parquet"):
        assert (tiny_run / name).is_file(), name
    manifest = json.loads((tiny_run / "manifest.json").read_text())
    assert manifest["threshold"]["horizon"] == 12 and manifest["runs_ok"] == 9
    answer = json.loads((tiny_run / "threshold.json").read_text())
    assert answer["status"] in {analysis.FOUND, analysis.NONE, analysis.ALL}
    curve = pd.read_csv(tiny_run / "threshold.csv")
    assert curve["caseload"].tolist() == [1, 5, 30]
    assert curve["runs"].tolist() == [3, 3, 3]


def test_per_run_survival_matches_the_runs_table_at_a_reported_horizon(tiny_run):
    from kube_sim.store import sweep_folder as store

    runs, groups = store.load_runs(tiny_run), store.read_table(tiny_run, "groups")
    survival = analysis.run_survival(groups, 12)
    np.testing.assert_allclose(survival.reindex(runs["run_id"]).to_numpy(), runs["survival_12"].to_numpy())


def test_same_seed_same_output(tiny_run, tmp_path, capsys):
    again = tmp_path / "again"
    assert main([*TINY, "--out", str(again)]) == 0
    assert (again / "threshold.csv").read_text() == (tiny_run / "threshold.csv").read_text()
    first = json.loads((tiny_run / "threshold.json").read_text())
    second = json.loads((again / "threshold.json").read_text())
    assert first == second


@pytest.mark.parametrize(("argv", "named"), [
    (["--target", "1.5"], "--target"),
    (["--confidence", "0"], "--confidence"),
    (["--caseloads", "5"], "--caseloads"),
    (["--hours", "-3"], "--hours"),
    (["--horizon", "40", "--months", "30"], "--horizon"),
    (["--scheduler", "tcp://x:1"], "--scheduler"),
    (["--scenario", "no_such_scenario"], "no_such_scenario"),
    (["--set", "facilitators.hours_per_mont=3"], "--set"),
])
def test_bad_options_are_one_line_errors(tmp_path, capsys, argv, named):
    status = main(["threshold", "--out", str(tmp_path / "x"), "--no-progress", *argv])
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named in err[0]
    assert not (tmp_path / "x").exists()
