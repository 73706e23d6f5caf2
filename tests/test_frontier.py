"""Budget frontier: allocations follow the model's cost rules, the frontier holds only non-dominated
allocations within the budget, and the command runs end to end, the same for the same seed."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
import pytest

from kube_sim.analysis import frontier as analysis
from kube_sim.cli.frontier import budget_arg
from kube_sim.cli.main import main
from kube_sim.experiments import frontier as design

RULES = design.CostRules(years=3, group_cost_rp=22e6, groups_per_round=29.0, admin_per_year_rp=30e6,
                         caseloads=(1, 2, 5, 10, 20), post_months_per_group=(12.0, 6.5, 2.9, 1.9, 0.9),
                         today_cost_per_year_rp=714e6, today_facilitator_share=0.08)


# --- allocations by the cost rules -----------------------------------------------------------------

@pytest.mark.parametrize("facilitators", [0.0, 0.05, 0.1, 0.3])
@pytest.mark.parametrize("equipment", [0.0, 0.2, 0.5])
def test_an_allocation_plans_to_spend_within_the_budget(facilitators, equipment):
    budget = 700e6
    a = design.allocate(budget, facilitators, equipment, RULES, hours=20.0, pay_per_hour=50_000.0)
    assert a.planned_cost_per_year_rp <= budget
    assert a.planned_cost_per_year_rp >= 0.9 * budget  # the money is used, not left idle
    # the round's grant money buys groups at a group's cost plus the equipment grant
    assert a.round_budget_rp == pytest.approx(a.planned_groups_per_round * (RULES.group_cost_rp + a.equipment_rp))
    equipment_money = a.planned_groups_per_round * a.equipment_rp
    assert equipment_money == pytest.approx(equipment * a.round_budget_rp)
    assert (a.caseload == 0) == (facilitators == 0.0)


def test_more_money_for_facilitators_buys_a_smaller_caseload():
    caseloads = [design.allocate(700e6, s, 0.0, RULES, hours=20.0, pay_per_hour=50_000.0).caseload
                 for s in (0.02, 0.05, 0.1, 0.2, 0.3)]
    assert caseloads == sorted(caseloads, reverse=True)
    assert caseloads[0] > caseloads[-1] >= 1


def test_paid_months_interpolate_between_the_measured_caseloads():
    assert RULES.post_months(5) == pytest.approx(2.9)
    assert RULES.post_months(2) > RULES.post_months(3) > RULES.post_months(5)
    assert RULES.post_months(40) == pytest.approx(0.45)  # one over the caseload beyond the last measured
    assert RULES.post_months(0) == 0.0


# --- the frontier ----------------------------------------------------------------------------------

def test_pareto_mask_keeps_exactly_the_non_dominated_points():
    points = np.array([[10, 5, 100], [12, 4, 100], [9, 4, 100], [12, 5, 120], [12, 5, 90], [1, 1, 10]], dtype=float)
    senses = (True, True, False)
    assert analysis.pareto_mask(points, senses).tolist() == [False, False, False, False, True, True]
    within = np.array([True, True, True, True, False, True])
    assert analysis.pareto_mask(points, senses, within).tolist() == [True, True, False, True, False, True]


def _metrics(means, reps=30, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    shared = rng.normal(0, 1, reps)
    for arm, (surviving, income, cost) in enumerate(means):
        for r in range(reps):
            rows.append({"arm": arm, "replication": r, "surviving_groups": surviving + shared[r],
                         "eligible_income_rp": income * (1 + 0.01 * shared[r]), "cost_per_year_rp": cost,
                         "groups_funded": 80.0, "facilitators": 6.0, "share_above_poverty_line": 0.2})
    return pd.DataFrame(rows)


def test_frontier_table_gives_paired_differences_and_leaves_off_what_is_over_budget():
    metrics = _metrics([(20, 1e9, 700e6), (25, 1.1e9, 690e6), (30, 1.3e9, 800e6), (18, 0.9e9, 650e6)])
    table = analysis.frontier_table(metrics, budget=710e6, resamples=300)
    assert table["within_budget"].tolist() == [True, True, False, True]
    assert table["on_frontier"].tolist() == [False, True, False, True]
    # the shared seed noise cancels in differences from today's allocation (arm 0)
    assert table.loc[1, "diff_surviving_groups"] == pytest.approx(5.0)
    assert table.loc[1, "diff_surviving_groups_high"] - table.loc[1, "diff_surviving_groups_low"] < 1e-9
    assert table.loc[1, "surviving_groups_high"] - table.loc[1, "surviving_groups_low"] > 0.1
    assert table.loc[1, "frontier_share"] == 1.0 and table.loc[2, "frontier_share"] == 0.0


@pytest.mark.parametrize(("text", "value"), [("1_000_000_000", 1e9), ("800 juta", 8e8), ("Rp 1.2 milyar", 1.2e9),
                                             ("750,000,000", 7.5e8)])
def test_budget_is_read_as_a_planner_writes_it(text, value):
    assert budget_arg(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["lots", "-5", "0", "12 dollars"])
def test_a_bad_budget_is_refused(text):
    with pytest.raises(argparse.ArgumentTypeError):
        budget_arg(text)


# --- the command, end to end -----------------------------------------------------------------------

TINY = ["frontier", "--years", "2", "--months", "30", "--replications", "2", "--facilitator-shares", "0,0.1,0.3",
        "--equipment-shares", "0,0.3", "--workers", "1", "--no-progress"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("frontier") / "out"
    assert main([*TINY, "--out", str(folder)]) == 0
    return folder


def test_command_writes_its_table_figure_and_both_sweeps(tiny_run):
    for name in ("frontier.csv", "frontier.png", "frontier.json", "today/manifest.json", "today/runs.parquet",
                 "allocations/manifest.json", "allocations/runs.parquet", "allocations/monthly.parquet"):
        assert (tiny_run / name).is_file(), name
    table = pd.read_csv(tiny_run / "frontier.csv")
    assert len(table) == 1 + 3 * 2
    assert table["today"].sum() == 1 and table.loc[table["today"], "arm"].tolist() == [0]
    manifest = json.loads((tiny_run / "allocations" / "manifest.json").read_text())
    assert manifest["frontier"]["years"] == 2 and manifest["runs_ok"] == 14
    # the budget defaults to today's simulated yearly spend, rounded up to a juta
    today = table[table["today"]].iloc[0]
    assert manifest["frontier"]["budget_rp"] == pytest.approx(np.ceil(today["cost_per_year_rp"] / 1e6) * 1e6)


def test_frontier_points_are_non_dominated_and_within_the_budget(tiny_run):
    table = pd.read_csv(tiny_run / "frontier.csv")
    budget = json.loads((tiny_run / "frontier.json").read_text())["budget_rp"]
    front = table[table["on_frontier"]]
    assert len(front) >= 1
    assert (front["cost_per_year_rp"] <= budget).all()
    eligible = table[table["cost_per_year_rp"] <= budget]
    for _, f in front.iterrows():
        better = ((eligible["surviving_groups"] >= f["surviving_groups"])
                  & (eligible["eligible_income_rp"] >= f["eligible_income_rp"])
                  & (eligible["cost_per_year_rp"] <= f["cost_per_year_rp"])
                  & ((eligible["surviving_groups"] > f["surviving_groups"])
                     | (eligible["eligible_income_rp"] > f["eligible_income_rp"])
                     | (eligible["cost_per_year_rp"] < f["cost_per_year_rp"])))
        assert not better.any(), f["label"]


def test_every_allocation_costs_what_its_parameters_say(tiny_run):
    from kube_sim.store import sweep_folder as store

    runs = store.load_runs(tiny_run / "allocations")
    grants = (runs["cost_by_item_uep_grants_rp"] + runs["cost_by_item_training_rp"]
              + runs["cost_by_item_equipment_grants_rp"])
    # a round's grants never pass its budget (the agency's rule), so two rounds never pass twice the budget
    assert (grants <= 2 * runs["funding.annual_budget_rp"] + 1).all()
    staffless = runs["facilitators.groups_per_facilitator"] == 0
    assert (runs.loc[staffless, "cost_by_item_facilitators_rp"] == 0).all()


def test_same_seed_same_output(tiny_run, tmp_path):
    again = tmp_path / "again"
    assert main([*TINY, "--out", str(again)]) == 0
    assert (again / "frontier.csv").read_text() == (tiny_run / "frontier.csv").read_text()


def test_resume_of_a_finished_frontier_reruns_nothing(tiny_run, capsys):
    before = (tiny_run / "frontier.csv").read_text()
    assert main([*TINY, "--out", str(tiny_run), "--resume"]) == 0
    assert "already done" in capsys.readouterr().out
    assert (tiny_run / "frontier.csv").read_text() == before


@pytest.mark.parametrize(("argv", "named"), [
    (["--budget", "lots"], "--budget"),
    (["--equipment-shares", "0,0.95"], "--equipment-shares"),
    (["--facilitator-shares", "x"], "--facilitator-shares"),
    (["--years", "0"], "--years"),
    (["--years", "5", "--months", "24"], "--months"),
    (["--scheduler", "tcp://x:1"], "--scheduler"),
    (["--scenario", "no_such_scenario"], "no_such_scenario"),
])
def test_bad_options_are_one_line_errors(tmp_path, capsys, argv, named):
    status = main(["frontier", "--out", str(tmp_path / "x"), "--no-progress", *argv])
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named in err[0]
    assert not (tmp_path / "x").exists()
