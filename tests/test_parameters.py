"""Parameters: every one documented, validated, addressable by dotted key."""

from __future__ import annotations

import pytest

from kube_sim.common.errors import ParameterError
from kube_sim.model.parameters import PARAMETER_SPECS, Parameters, make_parameters
from kube_sim.model.run import run_model


def test_every_parameter_has_unit_source_and_meaning():
    assert len(PARAMETER_SPECS) > 60
    for key, spec in PARAMETER_SPECS.items():
        assert spec.unit, key
        assert spec.source, key
        assert spec.doc, key


def test_defaults_are_valid():
    params = make_parameters({})
    assert params == Parameters()


@pytest.mark.parametrize("key", ["facilitators.groups_per_facilitator", "grants.equipment_rp",
                                 "members.initial_inactive_share"])
def test_keys_planners_script_against_exist(key):
    assert key in PARAMETER_SPECS


def test_override_changes_only_that_parameter():
    params = make_parameters({"facilitators.groups_per_facilitator": 20, "grants.equipment_rp": 5e6})
    assert params.facilitators.groups_per_facilitator == 20
    assert params.grants.equipment_rp == 5e6
    assert params.changes_from_default() == {"facilitators.groups_per_facilitator": 20, "grants.equipment_rp": 5e6}


def test_integers_accepted_for_floats_and_lists_for_tuples():
    params = make_parameters({"grants.equipment_rp": 5_000_000, "business.cycle_months": [4, 3, 2]})
    assert isinstance(params.grants.equipment_rp, float)
    assert params.business.cycle_months == (4, 3, 2)


@pytest.mark.parametrize(("key", "value", "fragment"), [
    ("facilitators.groups_per_facilitater", 5, "did you mean 'facilitators.groups_per_facilitator'"),
    ("members.initial_inactive_share", 1.5, "above the maximum"),
    ("members.initial_inactive_share", -0.1, "below the minimum"),
    ("facilitators.groups_per_facilitator", 2.5, "integer"),
    ("facilitators.groups_per_facilitator", "ten", "integer"),
    ("training.enabled", 1, "true or false"),
    ("grants.equipment_rp", True, "number"),
    ("facilitators.pattern", "random", "round_robin"),
    ("business.cycle_months", [4, 3], "list of 3"),
    ("business.cycle_months", [4, 3, 0.5], "integer"),
    ("groups.min_active_members", 3, "replaced by groups.min_active_share"),
])
def test_bad_values_name_the_key(key, value, fragment):
    with pytest.raises(ParameterError) as err:
        make_parameters({key: value})
    assert err.value.key == key
    assert fragment in err.value.one_line()


def test_inconsistent_group_sizes_rejected():
    with pytest.raises(ParameterError, match="max_group_size"):
        make_parameters({"members.min_group_size": 12, "members.max_group_size": 10})


def test_flat_dict_round_trip():
    params = make_parameters({"facilitators.pattern": "needs_based"})
    assert make_parameters(params.to_dict()) == params


RULE_CONSTANTS = {
    "members.skill_concentration": 1.0,
    "members.payout_grace_months": 0,
    "members.income_window_months": 3.0,
    "facilitators.skill_concentration": 1.0,
    "facilitators.needs_weight_conflict": 0.0,
    "facilitators.needs_weight_inactive": 20.0,
    "facilitators.needs_weight_low_cohesion": 20.0,
    "facilitators.needs_weight_no_stock": 20.0,
    "facilitators.needs_weight_waiting": 0.0,
    "groups.conflict_cohesion_weight": 0.0,
    "groups.conflict_work_offset": 5.0,
    "district.coast_fit": [0.1, 0.1, 0.1],
    "district.lowland_fit": [0.1, 0.1, 0.1],
    "district.mountain_fit": [0.1, 0.1, 0.1],
    "district.fit_noise": 0.0,
    "district.min_fit": 0.5,
}
"""Constants of the rules, each with a value far from its default."""


@pytest.mark.parametrize("key", list(RULE_CONSTANTS))
def test_rule_constants_are_parameters_the_model_reads(key):
    base = {"facilitators.pattern": "needs_based", "facilitators.groups_per_facilitator": 20}
    spec = PARAMETER_SPECS[key]
    assert spec.unit and spec.source and (spec.low is not None or spec.high is not None)
    default = run_model(make_parameters(base), seed=2, months=30).summary
    changed = run_model(make_parameters({**base, key: RULE_CONSTANTS[key]}), seed=2, months=30).summary
    assert changed != default, f"{key} does not change the run"


def test_every_number_has_an_upper_bound_and_sums_of_money_say_where_it_comes_from():
    for key, spec in PARAMETER_SPECS.items():
        if spec.type in (str, bool):
            continue
        assert spec.high is not None, key
        assert spec.low is None or spec.low <= spec.high, key
        if "Rp" in spec.unit:
            assert spec.bound, key


@pytest.mark.parametrize(("key", "value"), [("grants.equipment_rp", 1e12), ("funding.annual_budget_rp", 1e15),
                                            ("grants.uep_per_member_rp", 1e9), ("poverty.line_rp_per_person", 1e9),
                                            ("business.type_weights", [1e308, 1, 1])])
def test_sums_that_make_no_sense_are_refused(key, value):
    with pytest.raises(ParameterError, match="above the maximum"):
        make_parameters({key: value})


def test_a_grant_of_rp_1e12_a_group_is_one_line_and_exit_2(capsys, tmp_path):
    from kube_sim.cli.main import main

    assert main(["run", "--months", "12", "--no-plots", "--out", str(tmp_path / "out"),
                 "--set", "grants.equipment_rp=1e12"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--set: grants.equipment_rp" in err and "maximum" in err, err
    assert not (tmp_path / "out").exists()
