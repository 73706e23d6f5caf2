"""Calibration: the distance to the targets, the ABC-SMC weights and resampling, and the sampler end to end."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kube_sim.analysis.calibration import (
    MISSING_PENALTY,
    distance,
    effective_sample_size,
    fit_table,
    smc_weights,
    standardised_miss,
    systematic_resample,
)
from kube_sim.analysis.patterns import Band, Check, PairedRatio
from kube_sim.cli.main import main
from kube_sim.common.errors import InputError
from kube_sim.experiments import calibration as c
from kube_sim.experiments.scenario import load_scenario
from kube_sim.model.parameters import PARAMETER_SPECS

TINY = c.CalibrationSettings(particles=6, generations=2, keep=3, replications=2, refine=2, refine_replications=2,
                             ensemble_size=4, months=61, seed=3)
"""About 60 short runs."""


# --- distance --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("estimate", "low", "high", "expected"), [
    (0.75, 0.7, 0.8, 0.0), (0.8, 0.7, 0.8, 1.0), (0.6, 0.7, 0.8, -3.0),
    (0.6, 0.5, math.inf, 0.0), (0.45, 0.5, math.inf, 1.0), (0.2, -math.inf, 0.1, 10.0),
    (math.nan, 0.7, 0.8, MISSING_PENALTY),
])
def test_standardised_miss(estimate, low, high, expected):
    assert standardised_miss(estimate, low, high) == pytest.approx(expected)


def _measurements(x: np.ndarray, ratio: float) -> pd.DataFrame:
    n = len(x)
    base = pd.DataFrame({"arm": "base", "replication": np.arange(n), "x": x, "rate": 1.0})
    other = pd.DataFrame({"arm": "other", "replication": np.arange(n), "x": x, "rate": ratio})
    return pd.concat([base, other], ignore_index=True)


def test_distance_is_smaller_nearer_the_targets():
    checks = (Check("x", "s", "m", Band("x", "base", 0.4, 0.6), "share"),
              Check("r", "s", "m", PairedRatio("rate", "other", "base", 2.0, 3.0), "ratio"))
    rng = np.random.default_rng(0)
    near = _measurements(0.5 + rng.normal(0, 0.01, 8), 2.5)
    far = _measurements(0.7 + rng.normal(0, 0.01, 8), 4.0)
    assert distance(checks, near) < 0.1 < distance(checks, far)
    table = fit_table(checks, near)
    assert list(table["in_band"]) == [True, True]
    assert (table["ci_low"] <= table["estimate"]).all() and (table["estimate"] <= table["ci_high"]).all()


def test_only_band_targets_can_be_calibrated_to():
    direction = next(check for check in c.CHECKS if type(check.rule).__name__ == "Direction")
    with pytest.raises(TypeError):
        fit_table([direction], pd.DataFrame())


def test_targets_are_validation_bands_with_sources():
    found = c.targets()
    assert [t.pattern for t in found] == list(c.TARGET_PATTERNS)
    assert all(isinstance(t.rule, Band | PairedRatio) and t.source for t in found)


# --- ABC-SMC weights and resampling ----------------------------------------------------------------

def test_smc_weights_favour_particles_the_previous_population_rarely_proposes():
    previous = np.array([[0.2], [0.21], [0.19], [0.8]])
    weights = np.full(4, 0.25)
    cov = np.array([[0.01]])
    new = np.array([[0.2], [0.8], [1.2]])
    w = smc_weights(new, previous, weights, cov)
    assert w.sum() == pytest.approx(1.0)
    assert w[2] == 0.0                     # outside the prior
    assert w[1] > w[0]                     # 0.8 is proposed by one particle, 0.2 by three


def test_systematic_resampling_follows_the_weights():
    weights = np.array([0.5, 0.25, 0.25, 0.0])
    picks = systematic_resample(weights, 400, np.random.default_rng(1))
    counts = np.bincount(picks, minlength=4)
    assert list(counts) == [200, 100, 100, 0]
    assert effective_sample_size(np.full(10, 0.1)) == pytest.approx(10)


# --- priors ----------------------------------------------------------------------------------------

def test_priors_take_the_stated_range_else_a_span_of_two():
    base = load_scenario("baseline")
    stated = c.prior_factor("groups.min_active_share", base)
    assert (stated.low, stated.high) == (0.2, 0.6)
    spanned = c.prior_factor("groups.cohesion_decay_unvisited", base)
    default = PARAMETER_SPECS["groups.cohesion_decay_unvisited"].default
    assert (spanned.low, spanned.high) == pytest.approx((default / 2, default * 2))
    for key in c.CALIBRATED_PARAMETERS:
        factor = c.prior_factor(key, base)
        spec = PARAMETER_SPECS[key]
        assert factor.low < factor.high and "assumption" in spec.source.lower()
        assert (spec.low is None or factor.low >= spec.low) and (spec.high is None or factor.high <= spec.high)


@pytest.mark.parametrize(("key", "reason"), [("groups.nosuch", "unknown"), ("facilitators.pattern", "numeric")])
def test_unfittable_parameters_are_refused(key, reason):
    with pytest.raises(InputError, match=reason):
        c.prior_factor(key, load_scenario("baseline"))


def test_inconsistent_settings_name_the_option():
    with pytest.raises(InputError, match="--keep"):
        c.CalibrationSettings(particles=4, keep=5).check()
    with pytest.raises(InputError, match="--months"):
        c.CalibrationSettings(months=48).check()


# --- the sampler -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("calibration")
    return out, c.run_calibration(out, load_scenario("baseline"), TINY, progress=False)


def test_accepted_particles_are_the_nearest(tiny):
    _, result = tiny
    for generation in result.generations:
        accepted = generation.distances[generation.accepted]
        rejected = np.delete(generation.distances, generation.accepted)
        assert accepted.max() <= rejected.min()
        assert generation.weights.sum() == pytest.approx(1.0)
    assert result.runs == TINY.runs


def test_point_and_ensemble_lie_in_the_priors(tiny):
    _, result = tiny
    priors = {f.key: (f.low, f.high) for f in result.factors}
    for values in (result.point, *result.ensemble):
        assert set(values) == set(priors)
        for key, value in values.items():
            assert priors[key][0] <= value <= priors[key][1]
    assert len(result.ensemble) == TINY.ensemble_size
    assert result.refined["chosen"].sum() == 1


def test_a_stopped_calibration_resumes_without_rerunning(tiny):
    out, first = tiny
    again = c.run_calibration(out, load_scenario("baseline"), TINY, progress=False, resume=True)
    assert again.resumed == again.runs == first.runs
    assert again.point == first.point
    assert again.ensemble == first.ensemble


def test_the_written_scenario_reads_back_with_provenance_and_ensemble(tiny, tmp_path):
    _, result = tiny
    path = tmp_path / "calibrated.toml"
    path.write_text(c.calibrated_toml(result), encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.base == "defaults"
    for key, value in result.point.items():
        assert scenario.params.get(key) == pytest.approx(value, rel=1e-3)
    assert len(scenario.ensemble) == TINY.ensemble_size
    assert scenario.calibration["targets"] == len(c.TARGET_PATTERNS)
    assert {row["pattern"] for row in scenario.calibration["fit"]} == set(c.TARGET_PATTERNS)
    assert "ABC-SMC" in scenario.calibration["method"]


def test_command_writes_results_and_bad_options_exit_2(tmp_path, capsys):
    out, target = tmp_path / "cal", tmp_path / "cal.toml"
    code = main(["calibrate", "--quick", "--months", "61", "--workers", "1", "--no-progress", "--out", str(out),
                 "--write", str(target), "--parameters", "groups.min_active_share,members.dropout_probability"])
    assert code == 0
    assert {"particles.csv", "fit.csv", "fit.md", "manifest.json", "refined.csv"} <= {p.name for p in out.iterdir()}
    assert set(load_scenario(target).ensemble[0]) == {"groups.min_active_share", "members.dropout_probability"}
    assert "targets in their band" in capsys.readouterr().out
    assert main(["calibrate", "--particles", "2"]) == 2
    assert main(["calibrate", "--parameters", "groups.nosuch", "--out", str(tmp_path / "x")]) == 2
    assert "--parameters: groups.nosuch" in capsys.readouterr().err


def test_an_interrupted_calibration_stops_at_once_and_resumes(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from kube_sim.cli.common import EXIT_INTERRUPTED

    out = tmp_path / "cal"
    command = [sys.executable, "-m", "kube_sim.cli.main", "calibrate", "--quick", "--months", "61", "--no-write",
               "--workers", "2", "--no-progress", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    first = out / "generation_0.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not first.exists() or len(first.read_text().splitlines()) < 10):
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == EXIT_INTERRUPTED
    saved = sum(len(p.read_text().splitlines()) for p in out.glob("*.jsonl"))
    assert saved >= 10
    again = c.run_calibration(out, load_scenario("calibrated"), c.CalibrationSettings(
        particles=24, generations=2, keep=8, replications=2, refine=2, refine_replications=4, ensemble_size=8,
        months=61), progress=False, resume=True)
    assert again.resumed >= saved - 2 and again.runs == again.settings.runs
