"""Batched runs: each run of a batch gives exactly what it gives alone, wherever it sits in the batch."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest
from test_model import check_invariants

from kube_sim.common.errors import ParameterError
from kube_sim.experiments import sensitivity as design
from kube_sim.experiments.batching import MAX_BATCH, BatchSettings, batches
from kube_sim.experiments.district_file import load_district, use_district
from kube_sim.experiments.experiment import load_experiment
from kube_sim.experiments.scenario import load_scenario
from kube_sim.experiments.sweep import plan_experiment, run_sweep
from kube_sim.experiments.tasks import RunTask, same_batch_key
from kube_sim.model.batch import ParameterVaries, RunLayout, count_per_run, draw, mean_per_run, sum_per_run
from kube_sim.model.model import KubeModel
from kube_sim.model.parameters import BATCH_STRUCTURE, Parameters, make_parameters
from kube_sim.model.run import RunResult, run_batch, run_model
from kube_sim.store import sweep_folder as store

MONTHS = 40

DESIGN_POINTS = {
    "baseline": {},
    "two copies, headcount, late equipment": {"district.replicas": 2, "facilitators.count": 2,
                                              "grants.equipment_rp": 3_000_000, "grants.equipment_month": 6},
    "needs-based, tight budget, follow-up": {"facilitators.pattern": "needs_based",
                                             "funding.annual_budget_rp": 300_000_000,
                                             "agency.follow_up_support_rp": 1_000_000},
    "many inactive, turnover": {"members.initial_inactive_share": 0.4, "facilitators.turnover_per_month": 0.1},
}


def _majene(overrides: dict | None = None):
    scenario = use_district(load_scenario("baseline"), load_district("majene"))
    return make_parameters(overrides or {}, base=scenario.params)


def assert_same_run(batched: RunResult, alone: RunResult, what: str) -> None:
    assert batched.summary.keys() == alone.summary.keys()
    for key, value in alone.summary.items():
        assert batched.summary[key] == value or (value != value and batched.summary[key] != batched.summary[key]), \
            (what, key)
    for table in ("monthly", "groups", "members", "events", "agencies"):
        pd.testing.assert_frame_equal(getattr(batched, table), getattr(alone, table), check_exact=True,
                                      obj=f"{what}: {table}")


def test_forty_mixed_runs_batched_equal_the_runs_alone():
    points = [(name, make_parameters(overrides)) for name, overrides in DESIGN_POINTS.items()]
    points.append(("majene", _majene()))
    rng = np.random.default_rng(2024)
    checked = 0
    for name, params in points:
        seeds = [int(s) for s in rng.choice(10_000, size=8, replace=False)]
        batched = run_batch(params, seeds, months=MONTHS, scenario=name)
        for seed, result in zip(seeds, batched, strict=True):
            assert_same_run(result, run_model(params, seed=seed, months=MONTHS, scenario=name), f"{name}, seed {seed}")
            checked += 1
    assert checked == 40


def test_a_run_gives_the_same_in_any_position_and_batch_size():
    params = make_parameters({"district.replicas": 2})
    alone = run_model(params, seed=77, months=30)
    for seeds in ([77, 1, 2], [3, 4, 5, 6, 77], [77]):
        result = run_batch(params, seeds, months=30)[seeds.index(77)]
        assert_same_run(result, alone, f"position {seeds.index(77)} of {len(seeds)}")


def test_runs_of_a_batch_differ_and_keep_people_and_money():
    model = KubeModel(seeds=[1, 2, 3])
    for _ in range(30):
        model.step()
        check_invariants(model)
    funded = model.group_runs().counts
    assert funded.sum() == model.groups.size and len(funded) == 3
    check_invariants(model)
    costs = [model.costs_of(run)["uep_grants"] for run in range(3)]
    assert len(set(costs)) > 1, "three seeds gave identical runs"
    with pytest.raises(ValueError, match="costs per run"):
        _ = model.costs


def test_layout_draws_sums_and_means_per_run():
    run = np.array([1, 0, 1, 1, 0])
    layout = RunLayout.of(run, 2)
    assert layout.rows(0).tolist() == [1, 4] and layout.rows(1).tolist() == [0, 2, 3]
    assert layout.local_index().tolist() == [0, 0, 1, 2, 1]
    generators = [np.random.default_rng(10), np.random.default_rng(11)]
    values = draw(generators, layout, lambda rng, n: rng.random(n))
    assert values[[1, 4]].tolist() == np.random.default_rng(10).random(2).tolist()
    assert values[[0, 2, 3]].tolist() == np.random.default_rng(11).random(3).tolist()
    numbers = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert sum_per_run(numbers, layout).tolist() == [7.0, 8.0]
    assert sum_per_run(numbers, layout, numbers > 2).tolist() == [5.0, 7.0]
    assert count_per_run(numbers > 2, layout).tolist() == [1, 2]
    means = mean_per_run(numbers, numbers > 4, layout)
    assert means[0] == 5.0 and np.isnan(means[1])


def test_batches_hold_runs_of_one_structure_up_to_the_size():
    items = [("a", 1), ("a", 2), ("a", 3), ("b", 4), ("a", 5), ("a", 6), ("b", 7)]
    grouped = list(batches(items, key=lambda item: item[0], size=2))
    assert grouped == [[("a", 1), ("a", 2)], [("a", 3), ("a", 5)], [("b", 4), ("b", 7)], [("a", 6)]]
    assert BatchSettings(batch_size=7).size(run_bytes=10**9, runs=3, workers=2) == 7
    auto = BatchSettings(worker_memory_mib=64)
    assert auto.size(run_bytes=10**9, runs=1000, workers=2) == 1  # a huge run: one at a time
    assert auto.size(run_bytes=1000, runs=1000, workers=2) == min(MAX_BATCH, 1000 // 8)
    assert auto.size(run_bytes=1000, runs=3, workers=2) == 1  # every worker gets work


EXPERIMENT = """
name = "batching"
months = 18
replications = 7
master_seed = 5

[factors]
"facilitators.groups_per_facilitator" = [5, 20]
"""


def test_a_sweep_gives_the_same_tables_with_any_batch_size(tmp_path):
    path = tmp_path / "batching.toml"
    path.write_text(textwrap.dedent(EXPERIMENT), encoding="utf-8")
    plan = plan_experiment(load_experiment(path))
    frames = {}
    for size in (1, 3, 0):
        out = tmp_path / f"size{size}"
        summary = run_sweep(plan, out, workers=1, progress=False, echo=None, batch=BatchSettings(batch_size=size))
        assert summary.complete and summary.runs_ok == 14
        frames[size] = {"runs": store.load_runs(out).drop(columns=["duration_s"]),
                        "groups": store.read_table(out, "groups"), "monthly": store.read_table(out, "monthly")}
    for size in (3, 0):
        for name, frame in frames[1].items():
            pd.testing.assert_frame_equal(frames[size][name], frame, check_exact=True, obj=f"batch {size}: {name}")


NUMERIC_POINTS = [
    {"facilitators.count": 3, "training.enabled": False, "facilitators.targets": True},
    {"facilitators.groups_per_facilitator": 0, "agency.follow_up_support_rp": 2_000_000,
     "agency.follow_up_budget_rp": 5_000_000},
    {"grants.equipment_rp": 3_000_000, "grants.equipment_month": 6, "facilitators.vacancy_months": 0},
    {"grants.equipment_rp": 5_000_000, "training.months": 3, "funding.groups_per_village": 2,
     "business.cycle_months": [4, 2, 1], "members.min_group_size": 3, "members.max_group_size": 7},
    {"district.travel_scale": 2.0, "district.coast_fit": [0.2, 0.3, 0.9], "funding.annual_budget_rp": 4e8,
     "facilitators.hours_per_month": 8.0, "members.farm_wage_rp_per_day": 0.0},
]
"""Design points that differ from the baseline and each other in numbers only, in every kind of rule
(headcount or caseload, training or none, targets, late and early equipment grants, follow-up
support, business cycles, group sizes, district travel and fit, no value of time)."""


def _design_points(count: int, seed: int) -> list[Parameters]:
    """Points of a Sobol and a Latin-hypercube design over every uncertain parameter (sensitivity's factors)."""
    from scipy.stats import qmc

    base = load_scenario("baseline")
    factors, _ = design.screen_factors(base, 2.0)
    unit = np.vstack([design.sobol_design(len(factors), 4, seed)[:count // 2],
                      qmc.LatinHypercube(d=len(factors), seed=seed).random(count)])
    points = []
    for row in unit:
        try:
            points.append(make_parameters(design.point_overrides(base, factors, row), base=base.params))
        except ParameterError:  # an inconsistent point (smallest group above the largest): not a run
            continue
    return points[:count]


def test_design_points_differing_in_numbers_batch_and_each_equals_its_run_alone():
    points = [make_parameters(overrides) for overrides in NUMERIC_POINTS] + _design_points(19, seed=3)
    assert len(points) == 24
    assert len({same_batch_key(RunTask(k, k, "", 0, 0, MONTHS, "x", p)) for k, p in enumerate(points)}) == 1
    seeds = [11 * k + 1 for k in range(len(points))]
    names = [f"point {k}" for k in range(len(points))]
    batched = run_batch(points, seeds, months=MONTHS, scenario=names)  # raises if a rule read one value for all
    for k, (params, seed, result) in enumerate(zip(points, seeds, batched, strict=True)):
        assert_same_run(result, run_model(params, seed=seed, months=MONTHS, scenario=names[k]), names[k])
    costs = {result.summary["cost_total_rp"] for result in batched}
    assert len(costs) == len(points), "the design points gave identical runs"


def test_a_batch_reads_shared_values_as_one_and_refuses_one_value_of_a_varied_one():
    varied = make_parameters({"members.dropout_probability": 0.02})
    model = KubeModel([Parameters(), varied], seeds=[1, 2])
    assert model.params.members.hours_per_month == Parameters().members.hours_per_month
    with pytest.raises(ParameterVaries, match=r"members\.dropout_probability"):
        _ = model.params.members.dropout_probability
    for _ in range(14):
        model.step()
    per_member = model.member_params().members.dropout_probability
    expected = np.where(model.member_runs().run == 0, 0.01, 0.02)
    assert np.array_equal(per_member, expected)
    with pytest.raises(ValueError, match="structure"):
        KubeModel([Parameters(), make_parameters({"district.replicas": 2})], seeds=[1, 2])


@pytest.mark.parametrize("change", [{"district.replicas": 2}, {"facilitators.pattern": "needs_based"},
                                    {"funding.rounds": 2}, {"district.villages": 50}])
def test_runs_of_another_structure_go_to_another_batch(change):
    assert set(change) <= set(BATCH_STRUCTURE)

    def key(params: Parameters, months: int = MONTHS) -> tuple:
        return same_batch_key(RunTask(0, 0, "", 0, 0, months, "x", params))

    base = Parameters()
    assert key(make_parameters({"members.dropout_probability": 0.02, "training.enabled": False})) == key(base)
    assert key(make_parameters(change)) != key(base)
    assert key(_majene()) != key(base)
    assert key(base, MONTHS + 1) != key(base)
