"""A planner's own district: the district file reader, the shipped files, and runs in a district other than Polewali."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import assert_greater
from test_model import check_invariants

from kube_sim.app import state
from kube_sim.cli.main import main
from kube_sim.common.errors import InputError
from kube_sim.experiments.district_file import DISTRICT_FILES, load_district, parse_district, use_district
from kube_sim.experiments.experiment import load_experiment
from kube_sim.experiments.scenario import load_scenario
from kube_sim.experiments.sweep import plan_experiment
from kube_sim.model.district import apportion
from kube_sim.model.geography import POLEWALI_MANDAR, Kecamatan
from kube_sim.model.model import KubeModel
from kube_sim.model.parameters import Parameters, make_parameters
from kube_sim.model.run import run_model

REPO = Path(__file__).resolve().parents[1]
HEADER = "kecamatan,population,terrain,travel_hours,villages"
GOOD = [HEADER, "Alpha,10000,coast,1,5", "Beta,8000,lowland,1.5,4", "Gamma,6000,mountain,4,3"]
QUOTA_FILLS = {"funding.proposal_probability": 1.0, "funding.village_head_approval": 1.0,
               "agency.verification_catch_rate": 0.0, "funding.annual_budget_rp": 1e12,
               "funding.villages_per_kecamatan": 2, "funding.groups_per_village": 1}


def _write(folder: Path, lines: list[str], name: str = "mine.csv", *, newline: str = "\n", bom: bool = False) -> Path:
    path = folder / name
    text = newline.join(lines) + (newline if lines else "")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def _params(district, overrides: dict | None = None) -> Parameters:
    scenario = use_district(load_scenario("baseline"), district)
    return make_parameters(overrides or {}, base=scenario.params)


# --- bad files: one line naming the file, the row and the column, exit status 2 -------------------------------

BAD_FILES = {
    "empty file": ([], None, None, "empty"),
    "only comments": (["# name = Nowhere", "# a note"], None, None, "empty"),
    "header only": ([HEADER], None, None, "no kecamatan"),
    "no header": (["Alpha,10000,coast,1,5"], 1, None, "no header"),
    "missing column": (["kecamatan,population,terrain,villages", "Alpha,10000,coast,5"], 1, None,
                       "missing column travel_hours"),
    "unknown column": ([HEADER + ",area_km2", "Alpha,10000,coast,1,5,25"], 1, "area_km2", "unknown column"),
    "duplicate column": ([HEADER + ",Villages", "Alpha,10000,coast,1,5,5"], 1, "villages", "twice"),
    "bad number": ([HEADER, "Alpha,10000,coast,1,5", "Beta,many,coast,1,5"], 3, "population", "whole number"),
    "fraction of a village": ([HEADER, "Alpha,10000,coast,1,2.5"], 2, "villages", "whole number"),
    "bad travel": ([HEADER, "Alpha,10000,coast,far,5"], 2, "travel_hours", "expected a number"),
    "negative travel": ([HEADER, "Alpha,10000,coast,-1,5"], 2, "travel_hours", "negative"),
    "travel beyond a day": ([HEADER, "Alpha,10000,coast,30,5"], 2, "travel_hours", "maximum"),
    "zero population": ([HEADER, "Alpha,0,coast,1,5"], 2, "population", "zero"),
    "negative population": ([HEADER, "Alpha,-500,coast,1,5"], 2, "population", "negative"),
    "zero villages": ([HEADER, "Alpha,10000,coast,1,0"], 2, "villages", "zero"),
    "unknown terrain": ([HEADER, "Alpha,10000,desert,1,5"], 2, "terrain", "unknown terrain"),
    "missing value": ([HEADER, "Alpha,,coast,1,5"], 2, "population", "missing value"),
    "duplicate kecamatan": ([HEADER, "Alpha,10000,coast,1,5", " alpha ,5000,coast,1,5"], 3, "kecamatan", "twice"),
    "unquoted thousands": ([HEADER, "Alpha,10,000,coast,1,5"], 2, None, "more cells than columns"),
    "unknown setting": (["# povrety_line_rp = 400000", *GOOD], 1, "povrety_line_rp", "did you mean"),
    "zero poverty line": (["# poverty_line_rp = 0", *GOOD], 1, "poverty_line_rp", "above zero"),
    "setting twice": (["# name = A", "# name = B", *GOOD], 2, "name", "twice"),
    "too few village names": ([HEADER + ",village_names", "Alpha,10000,coast,1,3,Lero|Ambo"], 2, "village_names",
                              "expected 3 village names separated by '|' (villages = 3), got 2"),
    "too many village names": ([HEADER + ",village_names", "Alpha,10000,coast,1,1,Lero|Ambo"], 2, "village_names",
                               "expected 1 village name separated"),
    "empty village name": ([HEADER + ",village_names", "Alpha,10000,coast,1,3,Lero||Ambo"], 2, "village_names",
                           "village name 2 is empty"),
    "village named twice": ([HEADER + ",village_names", "Alpha,10000,coast,1,3,Lero|Ambo|lero"], 2,
                            "village_names", "village 'lero' appears twice (names 1 and 3)"),
    "village names twice": ([HEADER + ",village_names,Village Names", "Alpha,10000,coast,1,1,A,A"], 1,
                            "village_names", "twice"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_district_file_gives_one_line_naming_file_row_and_column(case, tmp_path, capsys):
    lines, row, column, words = BAD_FILES[case]
    path = _write(tmp_path, lines)
    code = main(["run", "--district", str(path), "--months", "1", "--no-plots", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("kube-sim: error: ") and "mine.csv" in err, err
    if row is not None:
        assert f"row {row}" in err, err
    if column is not None:
        assert f"column {column}" in err, err
    assert words in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [["run"], ["compare", "baseline", "ratio_1_5"], ["sweep", "staffing"], ["app"]])
def test_every_command_with_the_option_refuses_a_bad_file(command, tmp_path, capsys):
    path = _write(tmp_path, [HEADER, "Alpha,10000,volcano,1,5"])
    assert main([*command, "--district", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "mine.csv: row 2, column terrain: unknown terrain 'volcano'" in err, err


def test_a_missing_file_or_name_is_named_with_the_shipped_choices(tmp_path, capsys):
    assert main(["run", "--district", str(tmp_path / "nowhere.csv")]) == 2
    assert "nowhere.csv: no such district file" in capsys.readouterr().err
    assert main(["run", "--district", "majen"]) == 2
    assert "did you mean 'majene'?" in capsys.readouterr().err


def test_the_real_command_line_exits_2_without_a_traceback(tmp_path):
    path = _write(tmp_path, [HEADER, "Alpha,10000,coast,1,5", "Beta,8000,coast,x,4"])
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "kube_sim.cli.main", "run", "--district", str(path)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False, env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "kube-sim: error: mine.csv: row 3, column travel_hours: expected a number, got 'x'"


# --- what spreadsheets produce is forgiven ------------------------------------------------------------------

def test_bom_crlf_blank_rows_spaces_separators_and_semicolons_read_the_same(tmp_path):
    plain = load_district(_write(tmp_path, ["# name = Mine", *GOOD], "plain.csv"))
    messy = [
        "# name = Mine,,,,",
        "# source: a note that is ignored,,,,",
        " Kecamatan , Population ,TERRAIN, Travel Hours ,villages,",
        ' Alpha ,"10,000", Coast ,1,5,',
        ",,,,,",
        'Beta,"8 000",lowland,"1.5",4',
        "Gamma,6.000,Pegunungan,4.0,3.0",
        "",
        "",
    ]
    spreadsheet = load_district(_write(tmp_path, messy, "messy.csv", newline="\r\n", bom=True))
    semicolons = [line.replace(",", ";") for line in ["# name = Mine", *GOOD]]
    semicolons[3] = "Beta;8000;lowland;1,5;4"  # a decimal comma, as Indonesian spreadsheets write it
    european = load_district(_write(tmp_path, semicolons, "semi.csv"))
    assert plain == spreadsheet == european
    assert plain.digest() == spreadsheet.digest() == european.digest()
    assert plain.kecamatan[1] == Kecamatan("Beta", 8000, "lowland", 1.5, 4)


def test_the_district_is_named_after_its_file_unless_it_says(tmp_path):
    district = load_district(_write(tmp_path, GOOD, "west_hills.csv"))
    assert district.name == "West Hills" and district.poverty_line_rp is None
    assert district.source == str((tmp_path / "west_hills.csv").resolve())


def test_districts_are_found_by_name_in_the_folder_the_variable_names(tmp_path, monkeypatch):
    _write(tmp_path, GOOD, "valley.csv")
    monkeypatch.setenv("KUBE_SIM_DISTRICTS", str(tmp_path))
    assert DISTRICT_FILES.names() == ["valley"]
    assert load_district("valley").villages == 12
    with pytest.raises(InputError, match="no such district file"):
        load_district("majene")


def test_the_reader_does_not_touch_the_file_system_for_text():
    district = parse_district("\n".join(GOOD), "typed in", "Typed")
    assert district.name == "Typed" and len(district.kecamatan) == 3


# --- the shipped files ----------------------------------------------------------------------------------------

def test_the_shipped_default_file_is_the_built_in_district_exactly():
    shipped = load_district("polewali_mandar")
    assert shipped == POLEWALI_MANDAR and shipped.digest() == POLEWALI_MANDAR.digest()
    assert Parameters().geography == shipped
    # Its villages are today's: 167 spread over the kecamatan in proportion to population.
    populations = np.array([k.population for k in shipped.kecamatan])
    assert apportion(167, populations).tolist() == [k.villages for k in shipped.kecamatan]
    remote = [k.name for k in shipped.kecamatan if k.remote]
    assert remote == ["Tubbi Taramanu", "Alu", "Bulo", "Matangnga"]


def test_running_with_the_shipped_default_file_gives_the_default_run_exactly():
    default = run_model(load_scenario("baseline").params, seed=3, months=24)
    with_file = run_model(_params(load_district("polewali_mandar")), seed=3, months=24)
    assert default.summary == with_file.summary
    pd.testing.assert_frame_equal(default.groups, with_file.groups)
    pd.testing.assert_frame_equal(default.monthly, with_file.monthly)


def test_every_shipped_district_reads_and_has_its_sources_beside_it():
    names = DISTRICT_FILES.names()
    assert {"polewali_mandar", "majene"} <= set(names)
    readme = (DISTRICT_FILES.folder() / "README.md").read_text(encoding="utf-8")
    for name in names:
        district = load_district(name)
        assert district.name in readme, name
        assert district.poverty_line_rp is not None


# --- runs in another district -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def majene():
    return load_district("majene")


def test_another_district_funds_its_quota_times_its_kecamatan_each_round(majene):
    model = KubeModel(_params(majene, {**QUOTA_FILLS, "funding.rounds": 2}), seed=2)
    model.run_for(13)
    assert len(model.district.kecamatan_names) == 8
    assert np.bincount(model.groups.cohort).tolist() == [2 * 8, 2 * 8]
    per_kecamatan = pd.Series(model.groups.kecamatan).groupby(model.groups.cohort).value_counts()
    assert (per_kecamatan == 2).all() and per_kecamatan.index.get_level_values(1).nunique() == 8


def test_funded_per_quota_in_validation_counts_the_district_s_kecamatan(majene):
    from kube_sim.experiments.validation import measure

    params = _params(majene, {**QUOTA_FILLS, "funding.rounds": 2})
    result = run_model(params, seed=2, months=14)
    assert measure(result, params, 14)["funded_per_quota"] == pytest.approx(1.0)


def test_people_and_money_are_conserved_in_another_district(majene):
    model = KubeModel(_params(majene, {"grants.equipment_rp": 5_000_000}), seed=3)
    for _ in range(30):
        model.step()
        check_invariants(model)
    assert model.groups.size > 0
    assert model.district.n_villages == 82
    assert set(model.district.kecamatan_names) == {k.name for k in majene.kecamatan}


def test_same_seed_same_output_in_another_district(majene):
    params = _params(majene)
    a, b, c = (run_model(params, seed=s, months=30) for s in (11, 11, 12))
    assert a.summary == b.summary
    pd.testing.assert_frame_equal(a.groups, b.groups)
    assert a.summary != c.summary


def test_the_district_s_poverty_line_applies_unless_the_scenario_or_set_says_otherwise(majene, tmp_path):
    assert _params(majene).poverty.line_rp_per_person == 461_255.0
    scenario = tmp_path / "line.toml"
    scenario.write_text("[poverty]\nline_rp_per_person = 400000\n")
    assert use_district(load_scenario(scenario), majene).params.poverty.line_rp_per_person == 400_000.0
    out = tmp_path / "run"
    assert main(["run", "--district", "majene", "--set", "poverty.line_rp_per_person=350000", "--months", "2",
                 "--no-plots", "--json", "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["poverty.line_rp_per_person"] == 350_000.0
    assert manifest["parameters"]["district.name"] == "Majene"
    assert manifest["district"]["sha256"] == majene.digest() and manifest["district"]["kecamatan"] == 8


def test_travel_scale_and_villages_change_the_built_district(majene):
    base = KubeModel(_params(majene), seed=1).district
    scaled = KubeModel(_params(majene, {"district.travel_scale": 2.0}), seed=1).district
    np.testing.assert_array_equal(scaled.kecamatan_travel_hours, 2 * base.kecamatan_travel_hours)
    np.testing.assert_array_equal(base.kecamatan_travel_hours, [k.travel_hours for k in majene.kecamatan])
    spread = KubeModel(_params(majene, {"district.villages": 40}), seed=1).district
    assert spread.n_villages == 40 and base.n_villages == 82


def test_groups_where_travel_is_long_get_fewer_visits_than_near_ones(tmp_path):
    """Four kecamatan alike but for travel: two at half an hour a visit, two at six hours.

    One round of 5 groups per kecamatan and a caseload of 10 give one facilitator the near groups and
    one the far groups; their hours are alike (no spread), so only travel tells them apart.
    """
    lines = [HEADER, "Near A,10000,lowland,0.5,10", "Near B,10000,lowland,0.5,10", "Far A,10000,lowland,6,10",
             "Far B,10000,lowland,6,10"]
    district = load_district(_write(tmp_path, lines, "near_far.csv"))
    params = _params(district, {**QUOTA_FILLS, "funding.rounds": 1, "funding.villages_per_kecamatan": 5,
                                "facilitators.groups_per_facilitator": 10, "facilitators.hours_spread": 0.0})
    months = 24
    near, far = [], []
    for seed in range(200, 210):
        groups = run_model(params, seed=seed, months=months).groups
        end = np.where(groups["failed_month"] >= 0, groups["failed_month"], months)
        exposure = (end - groups["funded_month"] + 1).astype(float)
        is_far = groups["kecamatan"].str.startswith("Far").to_numpy()
        assert is_far.sum() == (~is_far).sum() == 10
        far.append(groups["visits"][is_far].sum() / exposure[is_far].sum())
        near.append(groups["visits"][~is_far].sum() / exposure[~is_far].sum())
    assert_greater(np.array(near), np.array(far))
    assert np.mean(near) > 1.5 * np.mean(far)


# --- the app, sweeps, comparisons and manifests ----------------------------------------------------------------

def test_the_app_draws_any_district(majene):
    settings = state.Settings(seed=3, district="majene")
    model = state.build_model(settings)
    model.run_for(2)
    view = state.district_view(model)
    assert [k.name for k in view] == [k.name for k in majene.kecamatan]
    assert sorted(v.index for k in view for v in k.villages) == list(range(82))
    assert [k.remote for k in view] == [k.remote for k in majene.kecamatan]
    assert state.district("majene").name == "Majene"
    assert state.district_choices()[0] == "polewali_mandar" and "majene" in state.district_choices()


def test_the_app_starts_in_the_district_kube_sim_app_gives(tmp_path, monkeypatch):
    path = _write(tmp_path, GOOD, "mine.csv")
    assert state.make_params(state.Settings()).geography == POLEWALI_MANDAR
    monkeypatch.setenv(state.DISTRICT_ENV, str(path))
    assert state.district_choices()[0] == str(path)
    assert state.make_params(state.Settings()).geography == load_district(path)


def _tiny_experiment(folder: Path, extra: str = "") -> Path:
    path = folder / "tiny.toml"
    path.write_text(f'{extra}months = 2\nreplications = 1\n[factors]\n"facilitators.groups_per_facilitator" = [10]\n')
    return path


def test_a_sweep_records_its_district_and_refuses_to_resume_in_another(tmp_path, capsys, majene):
    experiment, out = _tiny_experiment(tmp_path), tmp_path / "sweep"
    common = ["sweep", str(experiment), "--workers", "1", "--no-progress", "--out", str(out)]
    assert main(common) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["district"]["name"] == "Polewali Mandar"
    assert manifest["district"]["sha256"] == POLEWALI_MANDAR.digest()
    assert main([*common, "--resume"]) == 0
    capsys.readouterr()
    assert main([*common, "--resume", "--district", "majene"]) == 2
    assert "holds a different sweep" in capsys.readouterr().err
    assert main([*common, "--overwrite", "--district", "majene"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["district"]["sha256"] == majene.digest()
    assert manifest["base_scenario"]["district"]["name"] == "Majene"


def test_an_experiment_file_may_name_its_district(tmp_path, majene):
    _write(tmp_path, GOOD, "hills.csv")
    in_majene = plan_experiment(load_experiment(_tiny_experiment(tmp_path, 'district = "majene"\n')))
    assert in_majene.arms[0].params.geography == majene
    beside = plan_experiment(load_experiment(_tiny_experiment(tmp_path, 'district = "hills.csv"\n')))
    assert beside.arms[0].params.geography.name == "Hills"
    assert in_majene.fingerprint() != beside.fingerprint()
    with pytest.raises(InputError, match=r"tiny.toml: district: .*no such district file"):
        load_experiment(_tiny_experiment(tmp_path, 'district = "nowhere"\n'))


def test_compare_runs_both_scenarios_in_the_district(tmp_path, majene):
    out = tmp_path / "cmp"
    assert main(["compare", "baseline", "ratio_1_5", "--district", "majene", "--replications", "2", "--months", "2",
                 "--workers", "1", "--no-progress", "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["district"]["sha256"] == majene.digest()
    assert {a["scenario"] for a in manifest["arms"]} == {"baseline", "ratio_1_5"}


def test_a_district_is_picklable_and_compared_by_content(tmp_path, majene):
    import pickle

    copy = dataclasses.replace(majene, source="elsewhere")
    assert copy == majene and copy.digest() == majene.digest()
    assert pickle.loads(pickle.dumps(_params(majene))).geography == majene
    with pytest.raises(ValueError, match="repeat"):
        dataclasses.replace(majene, kecamatan=majene.kecamatan[:1] * 2)


def _only_marked_defaults(text: str, other: str = "Polewali Mandar") -> list[str]:
    """Lines naming another district other than to mark a figure as that district's default."""
    return [line for line in text.replace("\n", " ").split(". ")
            if other in line.replace(f"{other} default", "")]


def test_a_district_run_names_its_district_and_no_other(tmp_path, capsys):
    """run, compare, threshold and frontier with --district FILE speak of that district only."""
    source = (DISTRICT_FILES.find("majene")).read_text(encoding="utf-8")
    path = tmp_path / "kabupaten_saya.csv"
    path.write_text(source.replace("# name = Majene", "# name = Kabupaten Saya"), encoding="utf-8")
    district = str(path)
    commands = {
        "run": ["run", "--district", district, "--months", "48", "--no-plots", "--out", str(tmp_path / "run")],
        "compare": ["compare", "baseline", "ratio_1_20", "--district", district, "--replications", "2",
                    "--months", "48", "--workers", "1", "--no-progress"],
        "threshold": ["threshold", "--district", district, "--caseloads", "5,10", "--replications", "2",
                      "--months", "48", "--workers", "1", "--no-progress", "--out", str(tmp_path / "t")],
        "frontier": ["frontier", "--district", district, "--facilitator-shares", "0,0.2", "--equipment-shares", "0",
                     "--replications", "2", "--months", "48", "--years", "2", "--workers", "1", "--no-progress",
                     "--out", str(tmp_path / "f")],
    }
    for name, argv in commands.items():
        assert main(argv) == 0, name
        captured = capsys.readouterr()
        text = captured.out + captured.err
        assert "Kabupaten Saya" in text, name
        assert "Majene" not in text, name
        assert _only_marked_defaults(text) == [], name
        assert "Today (" in text, name  # every answer opens with its reference
        # The local figures say where each came from: the file's poverty line, the defaults marked as such.
        assert "poverty line Rp 461,255 a person a month (from" in " ".join(text.split()), name
        assert "farm wage Rp 75,000 a day (Polewali Mandar default" in " ".join(text.split()), name


def test_village_names_are_read_where_given_and_recorded_in_the_digest(tmp_path):
    plain = load_district(_write(tmp_path, GOOD, "plain.csv"))
    named = load_district(_write(tmp_path, [HEADER + ",Village Names", "Alpha,10000,coast,1,5,A|B| C  D |E|F",
                                            "Beta,8000,lowland,1.5,4,", "Gamma,6000,mountain,4,3"], "named.csv"))
    assert named.kecamatan[0].village_names == ("A", "B", "C D", "E", "F")
    assert named.kecamatan[1].village_names == () == named.kecamatan[2].village_names
    assert all(k.village_names == () for k in plain.kecamatan)
    assert named.digest() != plain.digest()
    assert "village_names" not in plain.content()  # a district without names keeps the hash it had
    assert [k.villages for k in named.kecamatan] == [k.villages for k in plain.kecamatan]
