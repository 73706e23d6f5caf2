"""Experiment files: loading, designs, seeds and one-line errors for bad files."""

from __future__ import annotations

import textwrap

import pytest

from kube_sim.cli.main import main
from kube_sim.common.errors import InputError
from kube_sim.experiments.experiment import (
    list_experiment_names,
    load_experiment,
    parse_experiment,
    replication_seeds,
)

HEADER = 'name = "t"\ndescription = "a test"\nmonths = 24\nreplications = 2\n'


def write(tmp_path, text: str, name: str = "exp.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["staffing", "equipment", "inactive_members", "combined"])
def test_shipped_experiments_load(name):
    experiment = load_experiment(name)
    points = experiment.design_points()
    assert len(points) >= 5
    assert len(experiment.arm_parameters()) == len(points)
    assert experiment.months == 96


def test_shipped_names_are_listed():
    assert {"staffing", "equipment", "inactive_members", "combined"} <= set(list_experiment_names())


def test_staffing_crosses_ratio_and_hours():
    experiment = load_experiment("staffing")
    ratios = {p["facilitators.groups_per_facilitator"] for p in experiment.design_points()}
    hours = {p["facilitators.hours_per_month"] for p in experiment.design_points()}
    assert ratios == {5, 10, 15, 20, 25, 30}
    assert len(hours) >= 3
    assert len(experiment.design_points()) == len(ratios) * len(hours)


def test_factorial_count_and_order(tmp_path):
    path = write(tmp_path, HEADER + """
        [factors]
        "facilitators.groups_per_facilitator" = [5, 10, 20]
        "grants.equipment_rp" = [0, 5_000_000]
    """)
    experiment = load_experiment(path)
    points = experiment.design_points()
    assert len(points) == 6
    assert points[0] == {"facilitators.groups_per_facilitator": 5, "grants.equipment_rp": 0.0}
    assert points[1] == {"facilitators.groups_per_facilitator": 5, "grants.equipment_rp": 5e6}  # last factor fastest
    assert points[-1] == {"facilitators.groups_per_facilitator": 20, "grants.equipment_rp": 5e6}
    assert isinstance(points[0]["grants.equipment_rp"], float)


def test_unquoted_dotted_keys_are_factors_too(tmp_path):
    path = write(tmp_path, HEADER + """
        [factors]
        facilitators.groups_per_facilitator = [5, 10]
        members.initial_inactive_share = [0.0, 0.2]
    """)
    assert len(load_experiment(path).design_points()) == 4


def test_range_with_steps_rounds_integers(tmp_path):
    path = write(tmp_path, HEADER + """
        [factors]
        "facilitators.groups_per_facilitator" = { low = 1, high = 4, steps = 3 }
        "members.initial_inactive_share" = { low = 0.0, high = 0.4, steps = 5 }
    """)
    experiment = load_experiment(path)
    ratios = experiment.factors[0].values
    assert ratios == (1, 3, 4)  # 2.5 rounds half up
    assert all(isinstance(v, int) for v in ratios)
    assert experiment.factors[1].values == pytest.approx((0.0, 0.1, 0.2, 0.3, 0.4))


@pytest.mark.parametrize("kind,samples", [("lhs", 20), ("sobol", 16)])
def test_sampled_designs_stay_in_bounds_and_round_integers(tmp_path, kind, samples):
    path = write(tmp_path, HEADER + f"""
        [design]
        kind = "{kind}"
        samples = {samples}
        seed = 7

        [factors]
        "facilitators.groups_per_facilitator" = {{ low = 5, high = 30 }}
        "members.initial_inactive_share" = {{ low = 0.0, high = 0.4 }}
    """)
    experiment = load_experiment(path)
    points = experiment.design_points()
    assert len(points) == samples
    ratios = [p["facilitators.groups_per_facilitator"] for p in points]
    shares = [p["members.initial_inactive_share"] for p in points]
    assert all(isinstance(r, int) and 5 <= r <= 30 for r in ratios)
    assert all(0.0 <= s <= 0.4 for s in shares)
    assert len(set(shares)) == samples  # space-filling: no repeats
    assert experiment.design_points() == points  # the design seed makes it reproducible
    if kind == "lhs":  # one point in each of the n strata of every dimension
        strata = sorted(int(s / 0.4 * samples) for s in shares)
        assert strata == list(range(samples))


def test_design_seed_changes_the_sample(tmp_path):
    text = HEADER + """
        [design]
        kind = "lhs"
        samples = 8
        seed = {seed}

        [factors]
        "members.initial_inactive_share" = {{ low = 0.0, high = 0.4 }}
    """
    a = load_experiment(write(tmp_path, text.format(seed=1), "a.toml")).design_points()
    b = load_experiment(write(tmp_path, text.format(seed=2), "b.toml")).design_points()
    assert a != b


def test_replication_seeds_are_stable_and_distinct():
    seeds = replication_seeds(42, 50)
    assert seeds == replication_seeds(42, 50)
    assert replication_seeds(42, 10) == seeds[:10]  # adding replications keeps the first seeds
    assert len(set(seeds)) == 50
    assert all(0 <= s < 2**63 for s in seeds)
    assert replication_seeds(43, 5) != seeds[:5]


def test_run_settings_override(tmp_path):
    path = write(tmp_path, HEADER + '[factors]\n"grants.equipment_rp" = [0, 1]\n')
    experiment = load_experiment(path).with_run_settings(replications=5, months=12)
    assert (experiment.replications, experiment.months) == (5, 12)
    assert len(experiment.seeds()) == 5


def test_outcomes_list_is_checked_and_kept(tmp_path):
    path = write(tmp_path, HEADER + 'outcomes = ["survival_12", "mean_member_income_rp"]\n'
                                    '[factors]\n"grants.equipment_rp" = [0, 1]\n')
    assert load_experiment(path).outcomes == ("survival_12", "mean_member_income_rp")


BAD_FILES = [
    ("unknown top-level key", HEADER + 'replicatons = 3\n[factors]\n"grants.equipment_rp" = [0]\n',
     "replicatons", "did you mean 'replications'"),
    ("unknown parameter", HEADER + '[factors]\n"facilitators.groups_per_facilitater" = [5]\n',
     "factors.facilitators.groups_per_facilitater", "did you mean"),
    ("wrong type", 'name = "t"\ndescription = "d"\nmonths = "ten"\n[factors]\n"grants.equipment_rp" = [0]\n',
     "months", "whole number"),
    ("out of range", HEADER + '[factors]\n"members.initial_inactive_share" = [0.1, 1.5]\n',
     "factors.members.initial_inactive_share", "above the maximum"),
    ("wrong value type", HEADER + '[factors]\n"facilitators.groups_per_facilitator" = [5, "ten"]\n',
     "factors.facilitators.groups_per_facilitator", "expected an integer"),
    ("empty name", 'name = " "\n[factors]\n"grants.equipment_rp" = [0]\n', "name", "non-empty string"),
    ("no factors", HEADER, "factors", "missing"),
    ("list in lhs", HEADER + '[design]\nkind = "lhs"\nsamples = 4\n[factors]\n"grants.equipment_rp" = [0, 1]\n',
     "factors.grants.equipment_rp", "range"),
    ("range in factorial", HEADER + '[factors]\n"grants.equipment_rp" = { low = 0, high = 1 }\n',
     "factors.grants.equipment_rp", "steps"),
    ("sobol not a power of 2", HEADER + '[design]\nkind = "sobol"\nsamples = 10\n'
                                        '[factors]\n"grants.equipment_rp" = { low = 0, high = 1 }\n',
     "design.samples", "power of 2"),
    ("lhs without samples",
     HEADER + '[design]\nkind = "lhs"\n[factors]\n"grants.equipment_rp" = { low = 0, high = 1 }\n',
     "design.samples", "missing"),
    ("bad design kind", HEADER + '[design]\nkind = "random"\n[factors]\n"grants.equipment_rp" = [0]\n',
     "design.kind", "factorial"),
    ("low above high", HEADER + '[factors]\n"grants.equipment_rp" = { low = 5, high = 1, steps = 2 }\n',
     "factors.grants.equipment_rp", "above high"),
    ("range out of bounds",
     HEADER + '[factors]\n"members.initial_inactive_share" = { low = -0.1, high = 0.2, steps = 2 }\n',
     "factors.members.initial_inactive_share.low", "below the minimum"),
    ("unknown outcome", HEADER + 'outcomes = ["survival_13"]\n[factors]\n"grants.equipment_rp" = [0]\n',
     "outcomes", "did you mean 'survival_"),
    ("unknown base scenario", HEADER + 'base_scenario = "basline"\n[factors]\n"grants.equipment_rp" = [0]\n',
     "base_scenario", "baseline"),
    ("list parameter", HEADER + '[factors]\n"business.cycle_months" = [[4, 3, 1]]\n',
     "factors.business.cycle_months", "cannot be varied"),
    ("inconsistent point", HEADER + '[factors]\n"members.min_group_size" = [5, 12]\n',
     "members.min_group_size", "max_group_size"),
    ("duplicate value", HEADER + '[factors]\n"grants.equipment_rp" = [0, 0]\n',
     "factors.grants.equipment_rp", "twice"),
]


FACTORS_2 = '[factors]\n"facilitators.groups_per_facilitator" = [5, 10]\n'
BAD_FILES += [
    ("reference not named", HEADER + 'reference = "status quo"\n' + FACTORS_2, "reference", "name it in [arms]"),
    ("reference misspelt", HEADER + 'reference = "staus quo"\n[arms]\n"status quo" = '
                                    '{ "facilitators.groups_per_facilitator" = 10 }\n' + FACTORS_2,
     "reference", "did you mean 'status quo'"),
    ("reference not text", HEADER + "reference = 3\n" + FACTORS_2, "reference", "name of an arm"),
    ("arm off the design", HEADER + '[arms]\n"odd" = { "facilitators.groups_per_facilitator" = 7 }\n' + FACTORS_2,
     "arms.odd", "not a point of the design"),
    ("arm misses a factor", HEADER + '[arms]\n"a" = { "facilitators.groups_per_facilitator" = 5 }\n'
     + FACTORS_2 + '"grants.equipment_rp" = [0, 1]\n',
     "arms.a.grants.equipment_rp", "missing"),
    ("arm names a non-factor", HEADER + '[arms]\n"a" = { "facilitators.groups_per_facilitator" = 5, '
                                        '"grants.equipment_rp" = 0 }\n' + FACTORS_2,
     "arms.a.grants.equipment_rp", "not a factor"),
    ("arm value of a wrong type", HEADER + '[arms]\n"a" = { "facilitators.groups_per_facilitator" = "five" }\n'
     + FACTORS_2, "arms.a.facilitators.groups_per_facilitator", "expected an integer"),
    ("two names, one arm", HEADER + '[arms]\n"a" = { "facilitators.groups_per_facilitator" = 5 }\n'
                                    '"b" = { "facilitators.groups_per_facilitator" = 5 }\n' + FACTORS_2,
     "arms.b", "same arm as 'a'"),
    ("arm not a table", HEADER + '[arms]\n"a" = 5\n' + FACTORS_2, "arms.a", "table of factor values"),
    ("arms in a sampled design", HEADER + '[arms]\n"a" = { "grants.equipment_rp" = 0 }\n[design]\nkind = "lhs"\n'
                                          'samples = 4\n[factors]\n"grants.equipment_rp" = { low = 0, high = 1 }\n',
     "arms", "only a factorial design"),
]


ARMED = HEADER + '''reference = "status quo"
[arms]
"status quo" = { "facilitators.groups_per_facilitator" = 10, "grants.equipment_rp" = 0 }
"hire more" = { "facilitators.groups_per_facilitator" = 5, "grants.equipment_rp" = 0 }
[factors]
"facilitators.groups_per_facilitator" = [5, 10]
"grants.equipment_rp" = [0, 5_000_000]
'''


def test_arms_are_named_and_the_reference_is_found(tmp_path):
    experiment = load_experiment(write(tmp_path, ARMED))
    points = experiment.design_points()
    assert experiment.arm_names == {2: "status quo", 0: "hire more"}
    assert points[2] == {"facilitators.groups_per_facilitator": 10, "grants.equipment_rp": 0.0}
    assert experiment.reference == 2


def test_the_manifest_carries_arm_names_and_the_reference(tmp_path):
    from kube_sim.experiments.sweep import plan_experiment

    plan = plan_experiment(load_experiment(write(tmp_path, ARMED)))
    assert plan.manifest["reference_arm"] == 2
    assert [a.name for a in plan.arms] == ["hire more", None, "status quo", None]
    unnamed = plan_experiment(load_experiment(write(tmp_path, HEADER + FACTORS_2, "plain.toml")))
    assert unnamed.manifest["reference_arm"] is None
    # Names are for readers: renaming arms leaves the runs, and a resume, alone.
    assert plan.fingerprint() == plan_experiment(load_experiment(write(
        tmp_path, ARMED.replace('"hire more"', '"hire"'), "renamed.toml"))).fingerprint()


def test_shipped_staffing_compares_with_the_status_quo():
    experiment = load_experiment("staffing")
    point = experiment.design_points()[experiment.reference]
    assert point == {"facilitators.groups_per_facilitator": 10, "facilitators.hours_per_month": 20.0}
    assert "status quo" in experiment.arm_names[experiment.reference]


@pytest.mark.parametrize("label,text,key,reason", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_give_one_line_naming_file_and_key(tmp_path, label, text, key, reason):
    path = write(tmp_path, text, "bad.toml")
    with pytest.raises(InputError) as info:
        load_experiment(path)
    line = info.value.one_line()
    assert "\n" not in line
    assert "bad.toml" in line
    assert key in line
    assert reason in line


def test_name_and_description_are_optional(tmp_path):
    path = write(tmp_path, '[factors]\n"facilitators.groups_per_facilitator" = [10, 20]\n', "my_ratios.toml")
    experiment = load_experiment(path)
    assert experiment.name == "my_ratios"
    assert experiment.description == ""
    assert [p["facilitators.groups_per_facilitator"] for p in experiment.design_points()] == [10, 20]


def test_text_without_a_file_needs_a_name():
    with pytest.raises(InputError, match=r"memo: name: missing"):
        parse_experiment('[factors]\n"grants.equipment_rp" = [0]\n', "memo")


def test_malformed_toml(tmp_path):
    path = write(tmp_path, 'name = "t\n', "broken.toml")
    with pytest.raises(InputError, match=r"broken\.toml.*malformed TOML"):
        load_experiment(path)


def test_missing_file_suggests_close_names():
    with pytest.raises(InputError, match="did you mean 'staffing'"):
        load_experiment("stafing")


def test_cli_bad_experiment_exits_2_with_one_line(tmp_path, capsys):
    path = write(tmp_path, HEADER + '[factors]\n"members.initial_inactive_share" = [2]\n', "bad.toml")
    status = main(["sweep", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert "bad.toml" in err and "members.initial_inactive_share" in err
    assert not (tmp_path / "out").exists()
