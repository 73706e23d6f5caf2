"""Scenario files, --set parsing and their error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from kube_sim.cli.main import main
from kube_sim.common.errors import InputError
from kube_sim.experiments.experiment import EXPERIMENT_FILES, load_experiment
from kube_sim.experiments.scenario import (
    SCENARIO_FILES,
    apply_overrides,
    list_scenarios,
    load_scenario,
    parse_assignments,
    parse_value,
    scenario_dir,
    toml_value,
)
from kube_sim.model.parameters import PARAMETER_SPECS, Parameters, coerce_value, make_parameters

SHIPPED = sorted(p.stem for p in scenario_dir().glob("*.toml"))
REQUIRED_SCENARIOS = {
    "baseline", "ratio_1_5", "ratio_1_20", "no_facilitators", "full_time_facilitators", "equipment_grant",
    "high_inactive", "needs_based_visits", "weak_targeting",
}
SCRIPTED_KEYS = ("facilitators.groups_per_facilitator", "grants.equipment_rp", "members.initial_inactive_share")
HEADER = 'name = "t"\ndescription = "a test scenario"\n'


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_required_scenarios_are_shipped():
    assert REQUIRED_SCENARIOS <= set(SHIPPED)


def test_keys_planners_script_against_exist():
    for key in SCRIPTED_KEYS:
        assert key in PARAMETER_SPECS


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenario_loads_and_validates(name):
    scenario = load_scenario(name)
    assert scenario.name == name == scenario.path.stem
    assert scenario.description and "\n" not in scenario.description
    assert scenario.params == make_parameters(scenario.overrides)
    # its own changes are changes from its base
    own = {k: v for k, v in scenario.overrides.items() if Path(scenario.sources[k]).name == scenario.path.name}
    base = Parameters() if scenario.base == "defaults" else load_scenario(scenario.base).params
    for key, value in own.items():
        assert base.get(key) != value, key
        assert scenario.params.get(key) == value


def test_baseline_sits_on_the_calibrated_values():
    baseline, calibrated = load_scenario("baseline"), load_scenario("calibrated")
    assert baseline.base == "calibrated" and calibrated.base == "defaults"
    assert baseline.params == calibrated.params
    assert baseline.overrides == calibrated.overrides


def test_shipped_scenarios_are_changes_from_the_baseline():
    baseline = load_scenario("baseline").params
    ratio = load_scenario("ratio_1_20")
    assert ratio.base == "baseline"
    assert ratio.params == make_parameters({"facilitators.groups_per_facilitator": 20}, base=baseline)


def test_base_chain_own_values_win_and_sources_tell_where(tmp_path):
    write(tmp_path, HEADER + 'base = "defaults"\n[grants]\nequipment_rp = 1_000_000\n[facilitators]\n'
          "groups_per_facilitator = 8\n", "parent.toml")
    child = write(tmp_path, HEADER + 'base = "parent.toml"\n[grants]\nequipment_rp = 2_000_000\n', "child.toml")
    scenario = load_scenario(child)
    assert scenario.params.grants.equipment_rp == 2_000_000
    assert scenario.params.facilitators.groups_per_facilitator == 8
    assert "parent.toml" in scenario.sources["facilitators.groups_per_facilitator"]
    assert "child.toml" in scenario.sources["grants.equipment_rp"]


def test_a_file_without_base_sits_on_the_baseline(tmp_path):
    path = write(tmp_path, HEADER + "[grants]\nequipment_rp = 1_000_000\n")
    scenario = load_scenario(path)
    assert scenario.base == "baseline"
    assert scenario.params == make_parameters({"grants.equipment_rp": 1_000_000}, base=load_scenario("baseline").params)


@pytest.mark.parametrize(("text", "key"), [
    ('base = "a.toml"\n', "base"),                              # leads back to itself
    ('base = "nosuch"\n', "base"),
    ('base = 3\n', "base"),
    ('base = "defaults"\n[ensemble]\nkeys = ["groups.min_active_share"]\nmembers = [[0.3, 0.4]]\n',
     "ensemble.members[0]"),
    ('base = "defaults"\n[ensemble]\nkeys = ["groups.min_active_share"]\nmembers = [[2.0]]\n',
     "ensemble.members[0]: groups.min_active_share"),
    ('base = "defaults"\n[ensemble]\nkeys = ["groups.nosuch"]\nmembers = [[2.0]]\n',
     "ensemble.members[0]: groups.nosuch"),
    ('base = "defaults"\n[ensemble]\nmembers = [[2.0]]\n', "ensemble"),
    ('base = "defaults"\ncalibration = 3\n', "calibration"),
])
def test_bad_base_or_ensemble_names_file_and_key(tmp_path, monkeypatch, text, key):
    path = write(tmp_path, HEADER + text, "a.toml")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    line = info.value.one_line()
    assert line.startswith(f"a.toml: {key}: "), line
    assert "\n" not in line


def test_cycle_of_two_files_is_caught(tmp_path):
    write(tmp_path, HEADER + 'base = "b.toml"\n', "a.toml")
    write(tmp_path, HEADER + 'base = "a.toml"\n', "b.toml")
    with pytest.raises(InputError, match="leads back"):
        load_scenario(tmp_path / "a.toml")


def test_ensemble_and_calibration_tables_are_read(tmp_path):
    path = write(tmp_path, HEADER + 'base = "defaults"\n[calibration]\nmethod = "x"\n[ensemble]\n'
                 'keys = ["groups.min_active_share", "members.exit_shortfall_months"]\n'
                 "members = [[0.3, 20], [0.5, 30]]\n")
    scenario = load_scenario(path)
    assert scenario.calibration == {"method": "x"}
    assert scenario.ensemble == ({"groups.min_active_share": 0.3, "members.exit_shortfall_months": 20},
                                 {"groups.min_active_share": 0.5, "members.exit_shortfall_months": 30})
    assert scenario.params == Parameters()


def test_no_facilitators_uses_zero_caseload():
    assert load_scenario("no_facilitators").params.facilitators.groups_per_facilitator == 0


def test_list_scenarios_matches_files():
    assert [s.name for s in list_scenarios()] == SHIPPED


def test_load_by_name_and_by_path_agree():
    by_name = load_scenario("ratio_1_20")
    by_path = load_scenario(str(scenario_dir() / "ratio_1_20.toml"))
    assert by_name.params == by_path.params
    assert by_name.overrides == by_path.overrides


def test_env_var_points_elsewhere(tmp_path, monkeypatch):
    write(tmp_path, HEADER + "[grants]\nequipment_rp = 1_000_000\n", "mine.toml")
    monkeypatch.setenv("KUBE_SIM_SCENARIOS", str(tmp_path))
    assert scenario_dir() == tmp_path
    assert [s.path.name for s in list_scenarios()] == ["mine.toml"]
    assert load_scenario("mine").params.grants.equipment_rp == 1_000_000


def test_file_values_become_overrides_with_sources(tmp_path):
    path = write(tmp_path, HEADER + 'base = "defaults"\n[facilitators]\ngroups_per_facilitator = 20\n'
                 'pattern = "needs_based"\n')
    scenario = load_scenario(path)
    assert scenario.overrides == {"facilitators.groups_per_facilitator": 20, "facilitators.pattern": "needs_based"}
    assert set(scenario.sources) == set(scenario.overrides)
    assert all("s.toml" in source for source in scenario.sources.values())
    on_baseline = load_scenario(write(tmp_path, HEADER + "[facilitators]\ngroups_per_facilitator = 20\n", "b.toml"))
    inherited = {k for k, source in on_baseline.sources.items() if "calibrated.toml" in source}
    assert inherited == set(load_scenario("calibrated").overrides)
    assert on_baseline.sources["facilitators.groups_per_facilitator"].endswith("b.toml")


# --- --set -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "key", "expected"), [
    ("grants.equipment_rp=5000000", "grants.equipment_rp", 5_000_000.0),
    ("grants.equipment_rp=5_000_000", "grants.equipment_rp", 5_000_000.0),
    ("facilitators.pattern=needs_based", "facilitators.pattern", "needs_based"),
    ('facilitators.pattern="needs_based"', "facilitators.pattern", "needs_based"),
    ("facilitators.targets=true", "facilitators.targets", True),
    ("business.cycle_months=[4,3,1]", "business.cycle_months", (4, 3, 1)),
    (" members.initial_inactive_share = 0.35 ", "members.initial_inactive_share", 0.35),
    ("district.name=Polewali Mandar", "district.name", "Polewali Mandar"),
])
def test_parse_assignments(text, key, expected):
    assert parse_assignments([text]) == {key: expected}


def test_later_assignment_wins():
    out = parse_assignments(["facilitators.groups_per_facilitator=5", "facilitators.groups_per_facilitator=7"])
    assert out == {"facilitators.groups_per_facilitator": 7}


def test_no_assignments():
    assert parse_assignments([]) == {}
    assert parse_assignments(None) == {}


@pytest.mark.parametrize(("text", "key"), [
    ("facilitators.groups_per_facilitater=3", "facilitators.groups_per_facilitater"),
    ("facilitators.targets=ture", "facilitators.targets"),
    ("facilitators.groups_per_facilitator=-1", "facilitators.groups_per_facilitator"),
    ("facilitators.groups_per_facilitator=2.5", "facilitators.groups_per_facilitator"),
    ("facilitators.pattern=sometimes", "facilitators.pattern"),
    ("business.cycle_months=[4,3]", "business.cycle_months"),
    ("members.eligible_share=", "members.eligible_share"),
    ("nosuchsection.x=1", "nosuchsection.x"),
])
def test_bad_assignment_names_set_and_key(text, key):
    with pytest.raises(InputError) as info:
        parse_assignments([text])
    line = info.value.one_line()
    assert line.startswith("--set: ")
    assert key in line
    assert "\n" not in line


@pytest.mark.parametrize("text", ["noequals", "=5", ""])
def test_assignment_without_key_names_set(text):
    with pytest.raises(InputError) as info:
        parse_assignments([text])
    assert info.value.one_line().startswith("--set: ")


def test_apply_overrides_merges_and_keeps_original():
    base = load_scenario("ratio_1_20")
    changed = apply_overrides(base, parse_assignments(["grants.equipment_rp=5000000"]))
    assert changed.params.grants.equipment_rp == 5_000_000
    assert changed.params.facilitators.groups_per_facilitator == base.params.facilitators.groups_per_facilitator
    assert changed.overrides == {**base.overrides, "grants.equipment_rp": 5_000_000}
    assert changed.sources["grants.equipment_rp"] == "--set"
    assert "grants.equipment_rp" not in base.overrides
    assert base.params.grants.equipment_rp == Parameters().grants.equipment_rp


def test_apply_overrides_inconsistency_names_set():
    with pytest.raises(InputError) as info:
        apply_overrides(load_scenario("baseline"), {"members.min_group_size": 15})
    assert info.value.one_line().startswith("--set: members.min_group_size")


def test_toml_value_round_trips_every_default():
    for key, spec in PARAMETER_SPECS.items():
        assert coerce_value(key, parse_value(toml_value(spec.default))) == spec.default, key


def test_name_and_description_are_optional(tmp_path):
    path = write(tmp_path, "[facilitators]\ngroups_per_facilitator = 20\n", "planner_ratio.toml")
    scenario = load_scenario(path)
    assert scenario.name == "planner_ratio"
    assert scenario.description == ""
    assert scenario.overrides == {**load_scenario("baseline").overrides, "facilitators.groups_per_facilitator": 20}
    assert scenario.params.facilitators.groups_per_facilitator == 20


def test_name_in_the_file_wins_over_the_file_name(tmp_path):
    path = write(tmp_path, 'name = "ratio twenty"\n[facilitators]\ngroups_per_facilitator = 20\n', "r.toml")
    assert load_scenario(path).name == "ratio twenty"


# --- bad files -------------------------------------------------------------------------------------

BAD_FILES = {
    "unknown_key": (HEADER + "[facilitators]\ngroups_per_facilitater = 20\n", "facilitators.groups_per_facilitater"),
    "unknown_section": (HEADER + "[facilitator]\ngroups_per_facilitator = 20\n", "facilitator"),
    "wrong_type": (HEADER + "[facilitators]\ngroups_per_facilitator = \"many\"\n",
                   "facilitators.groups_per_facilitator"),
    "wrong_bool": (HEADER + "[facilitators]\ntargets = 1\n", "facilitators.targets"),
    "out_of_range": (HEADER + "[members]\ninitial_inactive_share = 1.5\n", "members.initial_inactive_share"),
    "negative": (HEADER + "[grants]\nequipment_rp = -5\n", "grants.equipment_rp"),
    "bad_choice": (HEADER + "[facilitators]\npattern = \"random\"\n", "facilitators.pattern"),
    "short_list": (HEADER + "[business]\ncycle_months = [4, 3]\n", "business.cycle_months"),
    "empty_name": ('name = ""\ndescription = "x"\n', "name"),
    "name_not_string": ('name = 3\ndescription = "x"\n', "name"),
    "title_not_string": (HEADER + "title = 3\n", "title"),
    "title_a_list": (HEADER + 'title = ["Baseline"]\n', "title"),
    "empty_title": (HEADER + 'title = "  "\n', "title"),
    "misspelt_title": (HEADER + 'titel = "Baseline"\n', "titel"),
    "non_table_section": (HEADER + "facilitators = 3\n", "facilitators"),
    "misplaced_key": (HEADER + "groups_per_facilitator = 3\n", "groups_per_facilitator"),
    "inconsistent": (HEADER + "[members]\nmin_group_size = 15\n", "members.min_group_size"),
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_file_names_file_and_key(tmp_path, monkeypatch, kind):
    text, key = BAD_FILES[kind]
    path = write(tmp_path, text, f"{kind}.toml")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    line = info.value.one_line()
    assert line.startswith(f"{kind}.toml: {key}: "), line
    assert "\n" not in line


def test_malformed_toml_gives_line_number(tmp_path):
    path = write(tmp_path, HEADER + "[facilitators\ngroups_per_facilitator = 20\n")
    with pytest.raises(InputError) as info:
        load_scenario(path)
    line = info.value.one_line()
    assert "s.toml" in line
    assert "line 3" in line
    assert "\n" not in line


def test_not_utf8(tmp_path):
    path = tmp_path / "s.toml"
    path.write_bytes(b'name = "\xff"\n')
    with pytest.raises(InputError) as info:
        load_scenario(path)
    assert "s.toml" in info.value.one_line()


def test_unknown_key_suggests_closest(tmp_path):
    path = write(tmp_path, HEADER + "[grants]\nequipmnt_rp = 5\n")
    with pytest.raises(InputError) as info:
        load_scenario(path)
    assert "did you mean 'grants.equipment_rp'" in info.value.one_line()


def test_misplaced_key_suggests_its_section(tmp_path):
    path = write(tmp_path, HEADER + "initial_inactive_share = 0.3\n")
    with pytest.raises(InputError) as info:
        load_scenario(path)
    assert "members.initial_inactive_share" in info.value.one_line()


def test_missing_file_names_file(tmp_path):
    with pytest.raises(InputError) as info:
        load_scenario(tmp_path / "nothere.toml")
    assert "nothere.toml" in info.value.one_line()


def test_missing_name_suggests_close_scenario():
    with pytest.raises(InputError) as info:
        load_scenario("ratio_1_2O")
    line = info.value.one_line()
    assert "ratio_1_2O.toml" in line
    assert "ratio_1_20" in line


def test_folder_is_not_a_scenario(tmp_path):
    folder = tmp_path / "dir.toml"
    folder.mkdir()
    with pytest.raises(InputError) as info:
        load_scenario(folder)
    assert "dir.toml" in info.value.one_line()


# --- one finder for scenario and experiment files --------------------------------------------------

FINDERS = {"scenario": (SCENARIO_FILES, load_scenario), "experiment": (EXPERIMENT_FILES, load_experiment)}


@pytest.mark.parametrize("kind", sorted(FINDERS))
def test_both_kinds_of_file_are_found_alike(tmp_path, monkeypatch, kind):
    files, load = FINDERS[kind]
    monkeypatch.setenv(files.env, str(tmp_path))
    text = '[factors]\n"grants.equipment_rp" = [0]\n' if kind == "experiment" else "[grants]\nequipment_rp = 0\n"
    write(tmp_path, text, "district_plan.toml")
    (tmp_path / "folder.toml").mkdir()
    assert files.folder() == tmp_path
    assert files.names() == ["district_plan"]
    assert files.find("district_plan") == tmp_path / "district_plan.toml"
    assert load("district_plan").name == "district_plan"
    with pytest.raises(InputError, match=f"no such {kind} file \\(did you mean 'district_plan'\\?\\)"):
        files.find("district_plans")
    with pytest.raises(InputError, match=f"folder.toml: is a folder; expected a {kind} file"):
        files.find(tmp_path / "folder.toml")
    monkeypatch.setenv(files.env, str(tmp_path / "none"))
    with pytest.raises(InputError, match=f"no {kind}s in"):
        files.find("district_plan")


def test_shipped_folders_are_the_repository_folders_in_a_checkout(monkeypatch):
    monkeypatch.delenv("KUBE_SIM_SCENARIOS", raising=False)
    monkeypatch.delenv("KUBE_SIM_EXPERIMENTS", raising=False)
    repo = Path(__file__).resolve().parents[1]
    assert SCENARIO_FILES.folder() == repo / "scenarios"
    assert EXPERIMENT_FILES.folder() == repo / "experiments"


def test_a_title_is_read_and_shown_in_place_of_the_name(tmp_path, capsys):
    path = write(tmp_path, HEADER + 'title = "  A plain title "\n[facilitators]\ngroups_per_facilitator = 20\n')
    scenario = load_scenario(path)
    assert scenario.title == scenario.shown_title == "A plain title"
    assert load_scenario(write(tmp_path, HEADER, "untitled.toml")).shown_title == "t"
    bad = write(tmp_path, HEADER + "title = 3\n", "bad_title.toml")
    assert main(["run", str(bad), "--months", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad_title.toml: title: expected a non-empty string, got 3" in err, err


def test_every_shipped_scenario_has_a_title_in_the_catalog():
    from kube_sim.common.catalog import declared_messages

    messages = declared_messages()
    for scenario in list_scenarios():
        assert scenario.title and scenario.title in messages, scenario.name
