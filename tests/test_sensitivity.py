"""Sensitivity: factors read from the registry, designs that cover the ranges, indices with a known answer,
and the command end to end, resumed after a stop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import patch_model_runs

from kube_sim.analysis import sensitivity as indices
from kube_sim.cli.main import main
from kube_sim.common.errors import InputError
from kube_sim.experiments import sensitivity as design
from kube_sim.experiments.scenario import load_scenario
from kube_sim.model.parameters import PARAMETER_SPECS

FOUR = ["facilitators.coordination", "members.dropout_probability", "groups.conflict_failure_months",
        "district.coast_fit"]


@pytest.fixture(scope="module")
def base():
    return load_scenario("baseline")


def _plan(base, method, unit_maker, *, only=FOUR, replications=3):
    factors, skipped = design.screen_factors(base, 2.0, only)
    unit = unit_maker(len(factors))
    return factors, design.plan_sensitivity(method, base, factors, unit, caseloads=[10, 20],
                                            replications=replications, months=12, master_seed=1,
                                            design={"trajectories": 8}, skipped=skipped)


def _synthetic_runs(plan, outcome_of_point, seed=0):
    """A runs table in the sweep's layout whose outcome depends on the design point as given, plus seed noise."""
    rng = np.random.default_rng(seed)
    unit = np.asarray(plan.manifest["sensitivity"]["unit_design"])
    rows = []
    for arm in plan.arms:
        point, caseload = divmod(arm.index, 2)
        for replication in range(plan.replications):
            rows.append({"arm": arm.index, "replication": replication, "status": "ok",
                         "survival_36": outcome_of_point(unit[point], caseload) + rng.normal(0, 0.01)})
    return pd.DataFrame(rows)


# --- factors and designs ---------------------------------------------------------------------------

def test_every_assumption_is_varied_or_skipped_with_a_reason(base):
    factors, skipped = design.screen_factors(base)
    varied = {f.key for f in factors}
    assumptions = {k for k, s in PARAMETER_SPECS.items() if design.is_assumption(s)}
    assert assumptions == varied | set(skipped)
    assert not varied & set(skipped)
    assert "district.replicas" in skipped and "funding.rounds" in skipped
    assert all(reason for reason in skipped.values())
    # a list parameter gives one factor per business type
    assert {f.name for f in factors if f.key == "district.coast_fit"} == {
        "district.coast_fit[cattle]", "district.coast_fit[nursery]", "district.coast_fit[kiosk]"}
    # nothing sourced (not an assumption) is varied
    assert "facilitators.groups_per_facilitator" not in varied and "grants.uep_per_member_rp" not in varied


def test_ranges_span_the_default_within_the_declared_range(base):
    factors, _ = design.screen_factors(base, 2.0, FOUR)
    by = {f.name: f for f in factors}
    dropout = base.params.get("members.dropout_probability")
    assert by["members.dropout_probability"].low == pytest.approx(dropout / 2)
    assert by["members.dropout_probability"].high == pytest.approx(min(2 * dropout, 1.0))
    assert by["facilitators.coordination"].high == 1.0  # 1.4 clipped to the declared maximum
    assert (by["groups.conflict_failure_months"].low, by["groups.conflict_failure_months"].high) == (2, 8)
    full, _ = design.screen_factors(base, None, FOUR)
    assert {f.name: (f.low, f.high) for f in full}["members.dropout_probability"] == (0.0, 1.0)


@pytest.mark.parametrize("method", ["morris", "sobol"])
def test_design_covers_every_range_and_sets_the_parameters(base, method):
    make = (lambda k: design.morris_design(k, 8, seed=3)) if method == "morris" else \
        (lambda k: design.sobol_design(k, 32, seed=3))
    factors, plan = _plan(base, method, make)
    assert len(plan.arms) == 2 * plan.manifest["sensitivity"]["points"]
    for factor in factors:
        values = [arm.factors[factor.name] for arm in plan.arms]
        assert min(values) >= factor.low and max(values) <= factor.high
        # both ends of the range are reached (Morris' grid holds them; Sobol comes within a tenth)
        tolerance = 0 if method == "morris" else 0.1 * (factor.high - factor.low)
        assert min(values) <= factor.low + tolerance and max(values) >= factor.high - tolerance
        if factor.kind == "int":
            assert all(isinstance(v, int) for v in values)
            whole = set(range(int(factor.low), int(factor.high) + 1))
            assert set(values) <= whole and (method == "morris" or set(values) == whole)
        for arm in plan.arms:
            got = arm.params.get(factor.key)
            assert (got if factor.entry is None else got[factor.entry]) == arm.factors[factor.name]
    # each point runs at 1:10 then 1:20, the rest equal
    for a, b in zip(plan.arms[::2], plan.arms[1::2], strict=True):
        assert (a.params.facilitators.groups_per_facilitator, b.params.facilitators.groups_per_facilitator) == (10, 20)
        assert a.factors[design.POINT_COLUMN] == b.factors[design.POINT_COLUMN]
        assert a.params.district == b.params.district and a.params.members == b.params.members


def test_unknown_or_unvariable_parameters_are_one_line_errors(base):
    with pytest.raises(InputError, match="unknown parameter"):
        design.screen_factors(base, 2.0, ["members.no_such"])
    with pytest.raises(InputError, match="structural"):
        design.screen_factors(base, 2.0, ["district.replicas"])


# --- indices with a known answer ---------------------------------------------------------------------

def test_morris_ranks_the_one_active_factor_first_and_inert_ones_near_zero(base):
    factors, plan = _plan(base, "morris", lambda k: design.morris_design(k, 8, seed=5))
    active = [f.name for f in factors].index("members.dropout_probability")
    # survival depends on one factor only; the caseload difference on another
    runs = _synthetic_runs(plan, lambda u, c: 0.2 + 0.5 * u[active] + c * 0.3 * u[0])
    table = indices.ranking(runs, plan.manifest, ["survival_36", "delta_survival_36"])
    surv = table[table["outcome"] == "survival_36"].set_index("factor")
    assert surv["rank"].idxmin() == "members.dropout_probability"
    assert surv.loc["members.dropout_probability", "mu_star"] == pytest.approx(0.5, abs=0.02)
    inert = surv.drop(index="members.dropout_probability")
    assert (inert["mu_star"] < 0.02).all()
    assert not inert["above_noise"].any()  # inert effects are told apart from seed noise
    assert surv.loc["members.dropout_probability", "above_noise"]
    delta = table[table["outcome"] == "delta_survival_36"].set_index("factor")
    assert delta["rank"].idxmin() == factors[0].name
    assert delta.loc[factors[0].name, "mu_star"] == pytest.approx(0.3, abs=0.02)
    assert indices.overall_order(table)[:2] == sorted([factors[0].name, "members.dropout_probability"],
                                                      key=lambda n: n != "members.dropout_probability")


def test_sobol_gives_the_variance_to_the_active_factor_with_intervals(base):
    factors, plan = _plan(base, "sobol", lambda k: design.sobol_design(k, 128, seed=5), replications=2)
    runs = _synthetic_runs(plan, lambda u, c: 0.2 + 0.5 * u[1] + 0.1 * u[2])
    table = indices.ranking(runs, plan.manifest, ["survival_36"]).set_index("factor")
    top = factors[1].name
    assert table["rank"].idxmin() == top
    expected = 0.25 / (0.25 + 0.01)  # variance shares of 0.5 u and 0.1 u
    assert abs(table.loc[top, "S1"] - expected) <= table.loc[top, "S1_conf"] + 0.05
    assert abs(table.loc[top, "ST"] - expected) <= table.loc[top, "ST_conf"] + 0.05
    others = table.drop(index=[top, factors[2].name])
    assert (others["ST"].abs() < 0.02).all()
    assert 0 < table["noise_share"].iloc[0] < 0.01


def test_failed_runs_are_missing_not_zero(base):
    _, plan = _plan(base, "morris", lambda k: design.morris_design(k, 2, seed=5), replications=2)
    runs = _synthetic_runs(plan, lambda u, c: 1.0)
    runs.loc[runs["arm"] == 0, "status"] = "failed"
    values = indices.replicate_values(runs, plan.manifest["sensitivity"], "survival_36")
    assert np.isnan(values[0]).all() and np.isfinite(values[1:]).all()


def test_outcome_names_are_checked():
    assert indices.check_outcomes(["survival_12", "delta_survival_36"]) == ["survival_12", "delta_survival_36"]
    with pytest.raises(InputError, match="--outcomes"):
        indices.check_outcomes(["delta_nothing"])
    assert indices.default_outcomes()[-1] == "delta_survival_36"


# --- the command ----------------------------------------------------------------------------------

def test_command_runs_end_to_end_and_resumes_after_a_stop(tmp_path, capsys, monkeypatch):
    from kube_sim.store import sweep_folder

    out = tmp_path / "sens"
    argv = ["sensitivity", "--parameters", "facilitators.coordination,members.dropout_probability,"
            "groups.initial_cohesion", "--trajectories", "2", "--months", "12", "--replications", "2",
            "--outcomes", "survival_12,mean_member_income_rp,delta_survival_12", "--workers", "1", "--no-progress",
            "--out", str(out)]
    with pytest.MonkeyPatch.context() as patch:
        patch_model_runs(patch, interrupt_at=10)
        assert main(argv) == 130
    kept = len(sweep_folder.load_runs(out / "morris"))
    assert 0 < kept < 32  # 2 trajectories x 4 points x 2 caseloads x 2 replications
    capsys.readouterr()
    assert main([*argv, "--resume"]) == 0
    printed = capsys.readouterr().out
    assert f"{32 - kept} ran now" in printed
    folder = out / "morris"
    runs = sweep_folder.load_runs(folder)
    assert len(runs) == 32 and (runs["status"] == "ok").all()
    for name in ("ranking.csv", "ranking.md", "sensitivity.png", "sensitivity.json", "manifest.json"):
        assert (folder / name).is_file()
    ranking = pd.read_csv(folder / "ranking.csv")
    assert set(ranking["outcome"]) == {"survival_12", "mean_member_income_rp", "delta_survival_12"}
    assert sorted(ranking.loc[ranking["outcome"] == "survival_12", "rank"]) == [1, 2, 3]
    assert "rank" in printed and "members.dropout_probability" in printed
    # pairs share a seed: each point's two caseload runs use the same seeds
    pairs = runs.groupby(["point", "replication"])["seed"].nunique()
    assert (pairs == 1).all()

    # Sobol picks the top of that Morris ranking
    assert main(["sensitivity", "--method", "sobol", "--top", "2", "--samples", "4", "--months", "12",
                 "--replications", "1", "--outcomes", "survival_12", "--workers", "1", "--no-progress",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    morris = ranking[ranking["outcome"] == "survival_12"].sort_values("rank")["factor"].tolist()
    assert f"top 2 of the Morris ranking: {', '.join(morris[:2])}" in printed
    assert len(pd.read_csv(out / "sobol" / "ranking.csv")) == 2


def test_sobol_without_morris_is_a_one_line_error(tmp_path, capsys):
    status = main(["sensitivity", "--method", "sobol", "--out", str(tmp_path / "none"), "--no-progress"])
    assert status == 2
    assert "no finished Morris screening" in capsys.readouterr().err


@pytest.mark.parametrize("span", [1e300, float("inf"), None])
def test_an_extreme_span_stays_within_the_declared_bounds(span):
    """Sums of money sampled to 1e305 overflowed numpy in the runs (a RuntimeWarning on stderr)."""
    factors, skipped = design.screen_factors(load_scenario("baseline"), span)
    assert factors
    for factor in factors:
        spec = PARAMETER_SPECS[factor.key]
        assert np.isfinite([factor.low, factor.high]).all(), factor.name
        assert spec.high is not None and factor.high <= spec.high, factor.name
    if span is None:  # a bound that only rules out nonsense is no range to sample
        assert "grants.equipment_rp" not in {f.key for f in factors}
        assert "upper bound" in skipped["funding.annual_budget_rp"]


def test_an_extreme_span_runs_without_numpy_warnings(tmp_path, capsys):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert main(["sensitivity", "--parameters", "business.input_cost_per_unit_rp,business.growth_per_month",
                     "--span", "1e300", "--trajectories", "2", "--replications", "1", "--months", "13",
                     "--workers", "1", "--no-progress", "--out", str(tmp_path / "s")]) == 0
    assert "Warning" not in capsys.readouterr().err
