"""Sweeps over a calibrated ensemble: which parameters a member replaces, and the interval's decomposition."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kube_sim.analysis.ensemble import ENSEMBLE_COLUMN, decompose, ensemble_differences, has_ensemble
from kube_sim.cli.main import main
from kube_sim.common.errors import InputError
from kube_sim.experiments.scenario import apply_overrides, load_scenario
from kube_sim.experiments.sweep import plan_comparison, run_sweep, with_ensemble
from kube_sim.store import sweep_folder as store

SMALL = {"district.villages": 40}
ENSEMBLE_TEXT = """name = "tiny_calibration"
description = "two parameter sets"
base = "defaults"

[district]
villages = 40

[ensemble]
keys = ["groups.min_active_share", "facilitators.groups_per_facilitator"]
members = [[0.3, 10], [0.5, 12], [0.45, 8]]
"""


# --- the decomposition on constructed differences ---------------------------------------------------

def _layout(param_sd: float, seed_sd: float, members: int = 12, seeds: int = 4, mean: float = -0.05):
    rng = np.random.default_rng(7)
    effect = mean + rng.normal(0, param_sd, members)
    d = np.repeat(effect, seeds) + rng.normal(0, seed_sd, members * seeds)
    return d, np.repeat(np.arange(members), seeds)


def test_parameter_share_tells_the_two_sources_apart():
    mostly_params = decompose(*_layout(param_sd=0.05, seed_sd=0.005))
    mostly_seeds = decompose(*_layout(param_sd=0.0, seed_sd=0.05))
    assert mostly_params["param_share"] > 0.9
    assert mostly_seeds["param_share"] < 0.3
    assert mostly_params["param_sd"] == pytest.approx(0.05, rel=0.5)
    assert mostly_seeds["seed_sd"] == pytest.approx(0.05, rel=0.3)


def test_clustered_interval_is_wider_than_the_naive_one_when_parameters_matter():
    d, m = _layout(param_sd=0.05, seed_sd=0.01)
    found = decompose(d, m)
    naive_half = 1.96 * d.std(ddof=1) / np.sqrt(len(d))
    assert (found["ci_high"] - found["ci_low"]) / 2 > 1.5 * naive_half
    assert found["ci_low"] < found["mean_diff"] < found["ci_high"]
    assert found["members"] == 12 and found["n_pairs"] == 48
    assert found["member_p05"] < found["mean_diff"] < found["member_p95"]


def test_one_member_gives_no_interval():
    found = decompose(np.array([0.1, 0.2]), np.array([0, 0]))
    assert np.isnan(found["ci_low"]) and found["mean_diff"] == pytest.approx(0.15)


# --- the plan -------------------------------------------------------------------------------------

@pytest.fixture()
def ensemble(tmp_path):
    path = tmp_path / "tiny_calibration.toml"
    path.write_text(ENSEMBLE_TEXT, encoding="utf-8")
    return load_scenario(path)


def _arms(ensemble):
    a = load_scenario(ensemble.path)
    b = apply_overrides(a, {"facilitators.groups_per_facilitator": 20})
    return a, b


def test_members_replace_inherited_values_but_not_an_arms_own(ensemble):
    a, b = _arms(ensemble)
    plan = with_ensemble(plan_comparison(a, b, replications=6, months=24, master_seed=1), ensemble)
    assert plan.members_used == 3
    for replication in range(6):
        member = ensemble.ensemble[replication % 3]
        task_a, task_b = plan.task(replication), plan.task(plan.replications + replication)
        assert task_a.seed == task_b.seed
        assert task_a.factors[ENSEMBLE_COLUMN] == task_b.factors[ENSEMBLE_COLUMN] == replication % 3
        for params in (task_a.params, task_b.params):
            assert params.groups.min_active_share == member["groups.min_active_share"]
        assert task_a.params.facilitators.groups_per_facilitator == member["facilitators.groups_per_facilitator"]
        assert task_b.params.facilitators.groups_per_facilitator == 20   # B's own change stays
    assert plan.fingerprint() != plan_comparison(a, b, replications=6, months=24, master_seed=1).fingerprint()


def test_members_used_leave_two_seeds_each(ensemble):
    a, b = _arms(ensemble)
    assert with_ensemble(plan_comparison(a, b, replications=4, months=24, master_seed=1), ensemble).members_used == 2
    assert with_ensemble(plan_comparison(a, b, replications=40, months=24, master_seed=1), ensemble).members_used == 3


def test_a_scenario_without_ensemble_is_refused():
    a = load_scenario("baseline")
    with pytest.raises(InputError, match=r"--ensemble: baseline: has no \[ensemble\]"):
        with_ensemble(plan_comparison(a, a, replications=2, months=12, master_seed=1), a)


def test_sweep_over_ensemble_is_repeatable_and_analysable(ensemble, tmp_path):
    a, b = _arms(ensemble)
    plan = with_ensemble(plan_comparison(a, b, replications=4, months=24, master_seed=5), ensemble)
    tables = []
    for name in ("one", "two"):
        run_sweep(plan, tmp_path / name, workers=1, progress=False)
        tables.append(store.load_runs(tmp_path / name))
    first, second = tables
    assert has_ensemble(first)
    assert list(first[ENSEMBLE_COLUMN]) == [0, 1, 0, 1] * 2
    outcomes = ["visits_per_group_month", "cost_total_rp"]
    pd.testing.assert_frame_equal(first[outcomes], second[outcomes])
    found = ensemble_differences(first, 0, outcomes)
    assert set(found["outcome"]) == set(outcomes) and (found["members"] == 2).all()
    ok = first.set_index(["arm", "replication"])
    d = ok.loc[1, "cost_total_rp"] - ok.loc[0, "cost_total_rp"]
    by_member = d.groupby(ok.loc[0, ENSEMBLE_COLUMN]).mean()
    row = found[found["outcome"] == "cost_total_rp"].iloc[0]
    assert row["mean_diff"] == pytest.approx(by_member.mean())


def test_compare_prints_the_decomposition(ensemble, capsys):
    code = main(["compare", str(ensemble.path), str(ensemble.path), "--replications", "4", "--months", "24",
                 "--workers", "1", "--no-progress", "--ensemble", str(ensemble.path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "from parameters" in out and "calibrated parameter sets" in out
    assert main(["compare", "baseline", "baseline", "--ensemble", "baseline", "--replications", "2"]) == 2


def test_report_on_an_ensemble_sweep_splits_the_uncertainty(ensemble, tmp_path):
    from kube_sim.reporting.report import write_report

    a, b = _arms(ensemble)
    plan = with_ensemble(plan_comparison(a, b, replications=4, months=24, master_seed=5), ensemble)
    run_sweep(plan, tmp_path / "sweep", workers=1, progress=False)
    write_report(tmp_path / "sweep", tmp_path / "report")
    text = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "Parameter uncertainty (calibrated ensemble)" in text and "tiny_calibration" in text
    table = pd.read_csv(tmp_path / "report" / "ensemble_differences.csv")
    assert (table["members"] == 2).all() and table["param_share"].between(0, 1).all()


def test_planning_answers_default_to_the_calibrated_ensemble_and_say_so(capsys):
    base = ["--replications", "4", "--months", "24", "--workers", "1", "--no-progress", "--set",
            "district.villages=30"]
    assert main(["compare", "baseline", "ratio_1_20", *base]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Answered over the calibrated ensemble 'calibrated' (" in out and "parameter sets, with seed noise" in out
    assert "from parameters" in out
    assert "comes from the parameters" in out or "too few parameter sets or seeds" in out
    assert main(["compare", "baseline", "ratio_1_20", *base, "--point"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Answered at the calibrated point alone (--point)" in out and "from parameters" not in out
