"""validate and calibrate in a district they have never seen, from its own file."""

from __future__ import annotations

import json
import shutil
import textwrap

import pandas as pd
import pytest

from kube_sim.cli.main import main
from kube_sim.experiments import calibration as calibration_module
from kube_sim.experiments import validation
from kube_sim.experiments.district_file import load_district, use_district
from kube_sim.experiments.scenario import SCENARIO_FILES, load_scenario

HILLS = """\
# name = Kabupaten Contoh Bukit
# poverty_line_rp = 415000
kecamatan,population,terrain,travel_hours,villages
Kota Contoh,52000,coast,0.5,9
Lembah Hijau,31000,lowland,1.5,8
Gunung Jauh,14000,mountain,5.5,7
"""


@pytest.fixture
def hills(tmp_path):
    path = tmp_path / "hills.csv"
    path.write_text(textwrap.dedent(HILLS), encoding="utf-8")
    return path


def test_validate_runs_every_arm_in_the_district_file(hills, tmp_path, capsys):
    out = tmp_path / "validation"
    assert main(["validate", "--district", str(hills), "--replications", "2", "--workers", "1", "--no-progress",
                 "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["district"]["name"] == "Kabupaten Contoh Bukit"
    assert manifest["design"]["district"]["sha256"] == manifest["district"]["sha256"]
    assert manifest["parameters"]["poverty.line_rp_per_person"] == 415000
    table = pd.read_csv(out / "validation.csv")
    assert len(table) >= 20 and set(table["result"]) <= {"pass", "fail"}
    # Every arm's runs are in the district: its three kecamatan, its line; the quota counts its kecamatan.
    district = load_district(hills)
    scenario = use_district(load_scenario("baseline"), district)
    design = validation.make_design(2, 1, base=scenario.overrides, geography=district)
    tasks = validation._tasks(design, district)
    assert {t.arm for t in tasks} == set(validation.ARMS)
    assert all(t.params.geography == district and t.params.poverty.line_rp_per_person == 415000 for t in tasks)
    measurements = pd.read_csv(out / "measurements.csv")
    assert measurements["funded_per_quota"].between(0.5, 1.0).all()
    # never resumed as Polewali Mandar's:
    assert validation.make_design(2, 1, base=scenario.overrides)["fingerprint"] != design["fingerprint"]


def test_a_district_calibration_writes_its_own_scenario_that_reads_back_and_runs(hills, tmp_path, capsys,
                                                                                  monkeypatch):
    scenarios = tmp_path / "scenarios"
    shutil.copytree(SCENARIO_FILES.folder(), scenarios)
    monkeypatch.setenv(SCENARIO_FILES.env, str(scenarios))
    monkeypatch.chdir(tmp_path)
    shipped = (scenarios / "calibrated.toml").read_bytes()
    assert main(["calibrate", "--quick", "--months", "61", "--workers", "1", "--no-progress",
                 "--district", str(hills)]) == 0
    written = scenarios / "calibrated_kabupaten_contoh_bukit.toml"
    assert written.is_file()
    assert (scenarios / "calibrated.toml").read_bytes() == shipped  # Polewali Mandar's calibration untouched
    assert (tmp_path / "results" / "calibration_kabupaten_contoh_bukit" / "manifest.json").is_file()
    scenario = load_scenario(written)
    assert scenario.calibration["district"] == "Kabupaten Contoh Bukit"
    assert scenario.calibration["district_file"] == str(hills)
    assert scenario.ensemble and f"--district {hills}" in scenario.description
    capsys.readouterr()
    assert main(["run", str(written), "--district", str(hills), "--months", "12", "--out", str(tmp_path / "run")]) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    assert summary["groups_funded"] == 6


def test_a_bad_district_file_stops_calibrate_before_any_run(tmp_path, capsys, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("the calibration ran before its district file was read")

    monkeypatch.setattr(calibration_module, "run_calibration", forbidden)
    bad = tmp_path / "bad.csv"
    bad.write_text("kecamatan,population\nA,x\n", encoding="utf-8")
    assert main(["calibrate", "--quick", "--no-write", "--district", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.csv" in err and "Traceback" not in err
