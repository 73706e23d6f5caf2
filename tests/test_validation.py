"""Tests of pattern-oriented validation: the check rules, the measurements, the design and the command."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from kube_sim.analysis.patterns import (
    RESULT_COLUMNS,
    Band,
    Check,
    Direction,
    Exceeds,
    PairedRatio,
    StratifiedRateRatio,
    evaluate,
)
from kube_sim.cli.main import main
from kube_sim.experiments import validation as v
from kube_sim.model.parameters import make_parameters
from kube_sim.model.run import run_model

SMALL = {"district.villages": 40}
"""A small district, for quick runs."""
SMALL_MONTHS = 72


def _table(arms: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per-run measurements ``x`` for each arm, replications 0..n-1."""
    return pd.concat([pd.DataFrame({"arm": arm, "replication": np.arange(len(x)), "x": x}) for arm, x in arms.items()],
                     ignore_index=True)


def _one(rule, table: pd.DataFrame, unit: str = "number") -> pd.Series:
    return evaluate([Check("p", "s", "m", rule, unit)], table).iloc[0]


# --- rules on constructed measurements -------------------------------------------------------------

def test_band_passes_inside_and_fails_outside():
    rng = np.random.default_rng(1)
    table = _table({"base": 0.75 + rng.normal(0, 0.02, 30)})
    inside = _one(Band("x", "base", 0.70, 0.80), table)
    assert inside["result"] == "pass"
    assert inside["ci_low"] < inside["estimate"] < inside["ci_high"]
    assert _one(Band("x", "base", 0.50, 0.60), table)["result"] == "fail"
    assert _one(Band("x", "base", high=0.5), table)["result"] == "fail"
    assert _one(Band("x", "base", low=0.5), table)["result"] == "pass"


def test_missing_measurement_is_not_estimable():
    table = _table({"base": np.full(5, np.nan)})
    assert _one(Band("x", "base", 0, 1), table)["result"] == "n/a"
    with pytest.raises(KeyError, match="nosuch"):
        _one(Band("nosuch", "base", 0, 1), table)


def test_exceeds_needs_the_whole_interval_above():
    rng = np.random.default_rng(2)
    assert _one(Exceeds("x", "base", 0.0), _table({"base": 0.3 + rng.normal(0, 0.05, 20)}))["result"] == "pass"
    assert _one(Exceeds("x", "base", 0.0), _table({"base": rng.normal(0.01, 0.2, 20)}))["result"] == "fail"
    assert _one(Exceeds("x", "base", 0.0), _table({"base": np.zeros(10)}))["result"] == "fail"


def test_paired_direction_detects_a_shift_of_the_right_sign_only():
    rng = np.random.default_rng(3)
    reference = rng.normal(10, 3, 25)  # large spread between replications, removed by pairing
    table = _table({"base": reference, "arm": reference + 0.5 + rng.normal(0, 0.3, 25)})
    up = _one(Direction("x", "arm", +1, "base"), table)
    assert up["result"] == "pass" and up["p_value"] < 0.05
    assert up["ci_low"] < up["estimate"] < up["ci_high"]
    assert abs(up["estimate"] - 0.5) < 0.2
    assert _one(Direction("x", "arm", -1, "base"), table)["result"] == "fail"
    same = _table({"base": reference, "arm": reference + rng.normal(0, 0.3, 25)})
    assert _one(Direction("x", "arm", +1, "base"), same)["result"] == "fail"


def test_direction_of_one_arm_tests_against_zero():
    rng = np.random.default_rng(4)
    assert _one(Direction("x", "base", +1), _table({"base": 0.1 + rng.normal(0, 0.05, 20)}))["result"] == "pass"
    assert _one(Direction("x", "base", +1), _table({"base": -0.1 + rng.normal(0, 0.05, 20)}))["result"] == "fail"


def test_paired_ratio_is_a_geometric_mean_of_arm_over_reference():
    rng = np.random.default_rng(5)
    reference = rng.uniform(1, 5, 20)
    table = _table({"base": reference, "arm": reference * 2.5 * np.exp(rng.normal(0, 0.05, 20))})
    found = _one(PairedRatio("x", "arm", "base", 2.0, 3.0), table, "ratio")
    assert found["result"] == "pass"
    assert abs(found["estimate"] - 2.5) < 0.1
    assert found["ci_low"] < found["estimate"] < found["ci_high"]
    assert _one(PairedRatio("x", "arm", "base", 3.0, 4.0), table)["result"] == "fail"


def _strata_table(strata: dict[str, tuple[float, float, float, float]], runs: int = 10) -> pd.DataFrame:
    """Per-run counts (the same in every run) of each stratum: fail and months unvisited, then visited."""
    table = {"arm": "base", "replication": np.arange(runs)}
    for name, values in strata.items():
        for suffix, value in zip(("fail_unvisited", "months_unvisited", "fail_visited", "months_visited"), values,
                                 strict=True):
            table[f"h_{name}_{suffix}"] = value
    return pd.DataFrame(table)


def test_rate_ratio_pools_counts_over_runs():
    table = _strata_table({"all": (5.0, 100.0, 20.0, 1000.0)}, runs=40)  # one stratum: the pooled ratio
    found = _one(StratifiedRateRatio("h_", ("all",), "base", 2.0, 3.0), table, "ratio")
    assert found["estimate"] == pytest.approx(2.5)
    assert found["result"] == "pass"
    assert found["ci_low"] < 2.5 < found["ci_high"]
    assert _one(StratifiedRateRatio("h_", ("all",), "base", 3.0, 4.0), table)["result"] == "fail"


def test_stratified_rate_ratio_compares_within_strata_only():
    # Within each stratum the unvisited hazard is 3x; the pooled ratio is pulled down by a stratum with a
    # low hazard that is only unvisited (like the months after support), and up by one only visited.
    table = _strata_table({"young": (3, 100, 10, 1000), "old": (6, 200, 2, 200), "late": (50, 5000, 0, 0)})
    found = _one(StratifiedRateRatio("h_", ("young", "old", "late"), "base", 2.5, 3.5), table, "ratio")
    assert found["estimate"] == pytest.approx(3.0)
    assert found["result"] == "pass" and found["ci_low"] < 3.0 < found["ci_high"]
    pooled = _one(StratifiedRateRatio("h_", ("all",), "base"), _strata_table({"all": (59, 5300, 12, 1200)}, runs=1))
    assert pooled["estimate"] < 2.0  # what pooling would have said
    none = _strata_table({"late": (50, 5000, 0, 0)})
    assert _one(StratifiedRateRatio("h_", ("late",), "base", 2, 3), none)["result"] == "n/a"


def test_every_check_is_graded_and_a_failure_reads_by_grade():
    from kube_sim.analysis.patterns import GRADES, ROLES

    assert {c.grade for c in v.CHECKS} <= set(GRADES)
    assert all(c.basis for c in v.CHECKS), "every check says who set its target, or cites it"
    roles = {c.role(v.FITTED_PATTERNS) for c in v.CHECKS}
    assert roles == set(ROLES)
    assert sum(c.role(v.FITTED_PATTERNS) == "independent" for c in v.CHECKS) >= 10
    rng = np.random.default_rng(6)
    measured = _table({"base": 5 + rng.normal(0, 0.1, 10)})
    checks = [Check("on data", "s", "m", Band("x", "base", 0, 1), grade="data", basis="b"),
              Check("on assumption", "s", "m", Band("x", "base", 0, 1), grade="assumption", basis="b"),
              Check("fitted", "s", "m", Band("x", "base", 4, 6), grade="study", basis="b")]
    rows = evaluate(checks, measured, fitted=("fitted",)).set_index("pattern")
    assert rows.loc["on data", "result"] == rows.loc["on assumption", "result"] == "fail"
    assert rows.loc["on data", "reading"] != rows.loc["on assumption", "reading"]
    assert "data" in rows.loc["on data", "reading"] and "assum" in rows.loc["on assumption", "reading"]
    assert rows.loc["fitted", "role"] == "fitted" and "no evidence" in rows.loc["fitted", "reading"]
    with pytest.raises(ValueError, match="grade"):
        Check("p", "s", "m", Band("x", "base"), grade="hearsay")


def test_calibration_fits_exactly_the_fitted_patterns():
    from kube_sim.experiments.calibration import targets

    assert [c.pattern for c in targets()] == list(v.FITTED_PATTERNS)
    assert set(v.FITTED_PATTERNS) <= {c.pattern for c in v.CHECKS}


# --- measurements of one run -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_run():
    params = make_parameters(SMALL)
    return run_model(params, seed=11, months=SMALL_MONTHS), params


def test_new_table_columns_are_consistent(small_run):
    result, _ = small_run
    g, m, agencies = result.groups, result.members, result.agencies
    assert (m["months_inactive"] >= 0).all() and (m["months_inactive"] <= m["member_months"]).all()
    assert (m["months_inactive"] > 0).any()
    assert (g["stock_value_rp"] >= 0).all()
    assert (g.loc[g["status"] == "failed", "stock_value_rp"] == 0).all()
    assert int(agencies["groups_funded"].sum()) == len(g)
    assert (agencies["proposals_verified"] <= agencies["proposals_received"]).all()


def test_measurements_are_in_range(small_run):
    result, params = small_run
    row = v.measure(result, params, SMALL_MONTHS)
    for key in ("survival_12", "survival_24", "survival_36", "share_unaccompanied", "inactive_share",
                "inactive_persistence", "verification_pass_rate", "funded_per_quota"):
        assert 0.0 <= row[key] <= 1.0, key
    assert math.isnan(row["survival_60"]) or 0.0 <= row["survival_60"] <= 1.0
    assert row["survival_12"] >= row["survival_24"] >= row["survival_36"]
    # Every month a started group ran counts once, as visited or unvisited.
    running = v.months_running(result.groups, SMALL_MONTHS).sum()
    assert row["months_visited"] + row["months_unvisited"] == running
    assert row["fail_visited"] + row["fail_unvisited"] == (result.groups["failed_month"] >= 0).sum()
    # The strata split those same group-months and failures from age 3 on, each once; before age 3 every
    # month is visited (the funding counts as contact).
    for count in ("fail_unvisited", "months_unvisited"):
        assert sum(row[f"visit_hazard_{s}_{count}"] for s in v.HAZARD_STRATA) == row[count]
    g = result.groups
    young = np.minimum(np.where(g["failed_month"] >= 0, g["failed_month"], SMALL_MONTHS), g["funded_month"] + 2)
    early = np.maximum(young - g["start_month"] + 1, 0).sum()
    assert sum(row[f"visit_hazard_{s}_months_visited"] for s in v.HAZARD_STRATA) == row["months_visited"] - early
    # No group is visited once off its caseload (after support): those months are unvisited from age support + 3.
    support = params.facilitators.support_months
    late = [s for s in v.HAZARD_STRATA if s.endswith("_after") and not s.startswith(("age_12_14", "age_3", "age_6",
                                                                                       "age_9"))]
    assert support == 12 and all(row[f"visit_hazard_{s}_months_visited"] == 0 for s in late)
    # The caseload's unvisited share is measured on fewer group-months than the programme's, and is lower.
    assert row["share_unaccompanied"] < row["share_unvisited_all"]


def test_survival_is_zero_once_every_group_failed():
    groups = pd.DataFrame({"funded_month": [1, 1, 13], "failed_month": [5, 9, 30]})
    found = v.survival(groups, 96)
    assert found["survival_12"] == pytest.approx(1 / 3)
    assert found["survival_36"] == 0.0 and found["survival_60"] == 0.0
    censored = pd.DataFrame({"funded_month": [1, 1], "failed_month": [5, -1]})
    assert math.isnan(v.survival(censored, 30)["survival_36"])


def test_directional_check_detects_no_facilitators_against_one_per_ten():
    params = {arm: make_parameters({**SMALL, "facilitators.groups_per_facilitator": per})
              for arm, per in (("base", 10), ("none", 0))}
    rows = [v.measure_task(v.ValidationTask(arm, rep, 500 + rep, SMALL_MONTHS, p, "test"))
            for rep in range(8) for arm, p in params.items()]
    table = pd.DataFrame(rows)
    fewer = _one(Direction("survival_36", "none", -1, "base"), table, "share")
    assert fewer["result"] == "pass", fewer.to_dict()
    assert _one(Direction("survival_36", "none", +1, "base"), table)["result"] == "fail"


# --- the design, resumed, and the command ----------------------------------------------------------

def test_small_validation_table_and_resume(tmp_path):
    found = v.run_validation(tmp_path, replications=2, seed=5, months=SMALL_MONTHS, base=SMALL, progress=False)
    table = found.table
    assert list(table.columns) == list(RESULT_COLUMNS)
    assert len(table) == len(v.CHECKS)
    assert list(table["pattern"]) == [c.pattern for c in v.CHECKS]
    assert set(table["result"]) <= {"pass", "fail", "n/a"}
    both = table.dropna(subset=["ci_low", "ci_high"])
    assert len(both) > len(table) // 2
    assert ((both["ci_low"] <= both["estimate"]) & (both["estimate"] <= both["ci_high"])).all()
    assert len(found.measurements) == len(v.ARMS) * 2
    assert found.measurements.groupby("arm")["seed"].apply(tuple).nunique() == 1  # paired seeds
    lines = (tmp_path / v.RUNS_FILE).read_text().splitlines()
    assert len(lines) == len(v.ARMS) * 2

    with (tmp_path / v.RUNS_FILE).open("a") as log:
        log.write('{"torn": ')  # a run stopped mid-line
    again = v.run_validation(tmp_path, replications=2, seed=5, months=SMALL_MONTHS, base=SMALL, progress=False,
                             resume=True)
    assert again.resumed == len(v.ARMS) * 2
    pd.testing.assert_frame_equal(again.table, table)

    other = v.make_design(replications=3, seed=6, months=SMALL_MONTHS, base=SMALL)
    assert v.read_finished(tmp_path, other["fingerprint"]) == []  # another design's runs are not resumed


def test_validate_command_writes_table_and_manifest(tmp_path, capsys):
    out = tmp_path / "val"
    assert main(["validate", "--replications", "2", "--workers", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "checks pass" in printed and "survival at 12 months" in printed
    csv = pd.read_csv(out / "validation.csv")
    assert list(csv.columns) == list(RESULT_COLUMNS) and len(csv) == len(v.CHECKS)
    assert (out / "validation.md").read_text().startswith("| pattern |")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["design"]["seeds"] == v.make_design(2, 1)["seeds"]
    assert "git_commit" in manifest["environment"] and manifest["runs"] == 2 * len(v.ARMS)
    assert len(pd.read_csv(out / "measurements.csv")) == 2 * len(v.ARMS)


@pytest.mark.parametrize("args", [["--replications", "1"], ["--workers", "0"], ["--seed", "-2"]])
def test_validate_bad_options_give_one_line_and_exit_2(capsys, args):
    assert main(["validate", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and args[0] in err


def test_validate_out_must_be_a_folder(tmp_path, capsys):
    file = tmp_path / "a_file"
    file.write_text("x")
    assert main(["validate", "--replications", "2", "--out", str(file)]) == 2
    assert "--out" in capsys.readouterr().err
