"""Policy-effects sensitivity: plausible ranges within the bounds, paired policy arms at every point with the
calibrated point as anchor, and the command end to end on a short design."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from kube_sim.analysis import sensitivity as indices
from kube_sim.cli.main import main
from kube_sim.common import keys
from kube_sim.experiments import calibration
from kube_sim.experiments import sensitivity as design
from kube_sim.experiments.scenario import load_scenario
from kube_sim.model.parameters import PARAMETER_SPECS

ADMIN = "agency.admin_cost_per_proposal_rp"
"""A cost that changes no group's fate: it can move cost ratios, never survival or income."""
PRICE = "business.price_per_size_rp[cattle]"
"""The cattle price: it moves the income a grant adds."""
SUPPORT = "facilitators.support_months"


@pytest.fixture(scope="module")
def base():
    return load_scenario("baseline")


def test_declared_ranges_are_the_calibration_priors_within_the_bounds(base):
    factors, skipped = design.screen_factors(base, design.DECLARED)
    assert factors and all(reason for reason in skipped.values())
    for f in factors:
        spec = PARAMETER_SPECS[f.key]
        assert f.low < f.high
        assert spec.low is None or f.low >= spec.low
        assert spec.high is None or f.high <= spec.high
        if f.entry is None and f.kind != "bool":
            prior = calibration.prior_factor(f.key, base)
            assert (f.low, f.high) == (prior.low, prior.high), f.name
    # the range is the parameter's, not a span around the calibrated value
    around, _ = design.screen_factors(base, 2.0)
    declared = {f.name: (f.low, f.high) for f in factors}
    assert any(declared.get(f.name) != (f.low, f.high) for f in around)


def test_every_point_runs_the_policy_arms_paired_and_the_calibrated_point_last(base):
    factors, skipped = design.screen_factors(base, design.DECLARED, [ADMIN, SUPPORT])
    unit = design.morris_design(len(factors), 2, seed=3)
    plan = design.plan_sensitivity("morris", base, factors, unit, caseloads=[10, 20], replications=2, months=24,
                                   master_seed=1, design={"trajectories": 2}, skipped=skipped,
                                   variants=design.POLICY_VARIANTS)
    n = len(design.POLICY_VARIANTS)
    assert len(plan.arms) == (len(unit) + 1) * n
    sens = plan.manifest["sensitivity"]
    assert sens["points"] == len(unit) and sens["anchor"]
    assert sens["variants"][0] == design.REFERENCE
    names = dict(design.POLICY_VARIANTS)
    for arm in plan.arms:
        point, v = divmod(arm.index, n)
        change = names[sens["variants"][v]]
        for key, value in change.items():
            assert arm.params.get(key) == value
        if not change:
            assert arm.params.get(keys.CASELOAD) == base.params.get(keys.CASELOAD)
        if point < len(unit):  # a design point: its factor values, within the ranges
            for f, u in zip(factors, unit[point], strict=True):
                assert f.low <= arm.params.get(f.key) <= f.high
                assert arm.params.get(f.key) == f.value(float(u))
        else:  # the anchor is the base scenario with the arm's change
            assert all(arm.params.get(f.key) == base.params.get(f.key) for f in factors)
    assert arm.params.get(keys.EQUIPMENT) > 0 and plan.arms[0].params.get(keys.EQUIPMENT) == 0


def test_effects_are_differences_of_paired_arms_and_ends_flag_a_reversal():
    sens = {"points": 4, "anchor": True, "caseloads": [10, 5, 20, 10],
            "variants": [v for v, _ in design.POLICY_VARIANTS],
            "factors": [{"name": "x", "low": 0.0, "high": 1.0, "unit": ""}],
            "unit_design": [[0.0], [0.0], [1.0], [1.0]]}
    # survival: reference 0.5, 1:5 adds u - 0.25 (negative at the low end), at the anchor +0.3
    rows = []
    lift = {0: 0.0, 1: 0.25, 2: 0.0, 3: 0.0}
    for point, u in enumerate([0.0, 0.0, 1.0, 1.0, None]):
        for v in range(4):
            gain = (0.3 if u is None else u - 0.25) if v == 1 else 0.0
            for r in range(2):
                rows.append({"arm": point * 4 + v, "replication": r, "status": "ok", "survival_36": 0.5 + gain,
                             "mean_member_income_rp": 100.0 + lift[v], "poverty_lifted_end": 2.0,
                             "cost_total_rp": 1e9})
    runs = pd.DataFrame(rows)
    name = "effect_1_5_vs_1_10_survival_36"
    values = indices.replicate_values(runs, sens, name)
    assert values.shape == (4, 2)
    np.testing.assert_allclose(values[:, 0], [-0.25, -0.25, 0.75, 0.75])
    np.testing.assert_allclose(indices.anchor_values(runs, sens, name), [0.3, 0.3])
    np.testing.assert_allclose(indices.replicate_values(runs, sens, indices.LIFTED_PER_MILIAR), 2.0)
    ends = indices.ends(runs, {"sensitivity": sens}, [name]).iloc[0]
    assert ends["at_low"] < 0 < ends["at_point"] and ends["reverses"]


def test_command_ranks_the_policy_effects_and_an_inert_cost_moves_none(tmp_path, capsys):
    out = tmp_path / "effects"
    code = main(["sensitivity", "--effects", "--parameters", f"{ADMIN},{SUPPORT},{PRICE}", "--trajectories", "3",
                 "--replications", "2", "--months", "40", "--workers", "1", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "could reverse or halve" in printed
    folder = out / "morris"
    table = pd.read_csv(folder / "ranking.csv")
    assert set(indices.EFFECT_LABELS) <= set(table["outcome"])
    mu = table.set_index(["outcome", "factor"])["mu_star"]
    for outcome in ("survival_36", *indices.policy_effects()):
        assert mu[(outcome, ADMIN)] == pytest.approx(0.0, abs=1e-9), outcome
    # the admin cost moves the cost ratio, and the cattle price moves the grant's income effect more than it
    assert mu[(indices.LIFTED_PER_MILIAR, ADMIN)] > 0
    assert mu[("effect_equipment_income", PRICE)] > mu[("effect_equipment_income", ADMIN)]
    ends = pd.read_csv(folder / "ends.csv")
    assert set(ends["factor"]) == {ADMIN, SUPPORT, PRICE}
    assert ends["at_point"].notna().all()
    summary = json.loads((folder / "sensitivity.json").read_text())
    for f in summary["factors"]:
        spec = PARAMETER_SPECS[f["name"].split("[")[0]]
        assert (spec.low is None or f["low"] >= spec.low) and (spec.high is None or f["high"] <= spec.high)
