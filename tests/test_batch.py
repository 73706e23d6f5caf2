"""Batched runs: each run of a batch gives exactly what it gives alone, wherever it sits in the batch."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest
from test_model import check_invariants

from kube_sim.experiments.batching import MAX_BATCH, BatchSettings, batches
from kube_sim.experiments.district_file import load_district, use_district
from kube_sim.experiments.experiment import load_experiment
from kube_sim.experiments.scenario import load_scenario
from kube_sim.experiments.sweep import plan_experiment, run_sweep
from kube_sim.model.batch import RunLayout, count_per_run, draw, mean_per_run, sum_per_run
from kube_sim.model.model import KubeModel
from kube_sim.model.parameters import make_parameters
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


def test_batches_hold_runs_of_one_design_point_up_to_the_size():
    items = [("a", 1), ("a", 2), ("a", 3), ("b", 4), ("a", 5)]
    grouped = list(batches(items, key=lambda item: item[0], size=2))
    assert grouped == [[("a", 1), ("a", 2)], [("a", 3)], [("b", 4)], [("a", 5)]]
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
