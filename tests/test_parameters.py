"""Parameters: every one documented, validated, addressable by dotted key."""

from __future__ import annotations

import pytest

from kube_sim.common.errors import ParameterError
from kube_sim.model.parameters import PARAMETER_SPECS, Parameters, make_parameters


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
