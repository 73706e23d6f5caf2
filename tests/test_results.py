"""Writing a run's results: files, manifest, tidy tables, atomic writes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from kube_sim.common.errors import InputError
from kube_sim.experiments.scenario import apply_overrides, load_scenario
from kube_sim.model.run import run_model
from kube_sim.reporting.run_figures import monthly_figure, survival_figure
from kube_sim.store.files import atomic_write, write_text
from kube_sim.store.run_folder import read_manifest, read_summary, write_run

MONTHS = 24
SEED = 3
DATA_FILES = ("summary.json", "manifest.json", "monthly.parquet", "monthly.csv", "groups.parquet", "groups.csv",
              "members.parquet", "events.parquet")


@pytest.fixture(scope="module")
def scenario():
    return apply_overrides(load_scenario("ratio_1_20"), {"grants.equipment_rp": 1_000_000})


@pytest.fixture(scope="module")
def result(scenario):
    return run_model(scenario.params, seed=SEED, months=MONTHS, scenario=scenario.name)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, result, scenario):
    out = tmp_path_factory.mktemp("run") / "nested" / "out"
    figures = {"survival.png": survival_figure(result.groups, MONTHS, "t"),
               "monthly.png": monthly_figure(result.monthly)}
    path = write_run(result, out, scenario=scenario, seed=SEED, months=MONTHS, argv=["kube-sim", "run", "x"],
                     figures=figures)
    assert path == out
    return out


def test_files_written(run_dir):
    for name in (*DATA_FILES, "survival.png", "monthly.png"):
        assert (run_dir / name).is_file(), name
        assert (run_dir / name).stat().st_size > 0, name
    assert (run_dir / "survival.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_temporary_files_left(run_dir):
    assert not [p.name for p in run_dir.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"]


def test_manifest(run_dir, scenario):
    manifest = read_manifest(run_dir)
    env = manifest["environment"]
    for key in ("kube_sim_version", "mesa_version", "python_version", "numpy_version"):
        assert env[key]
    assert manifest["seed"] == SEED
    assert manifest["months"] == MONTHS
    assert manifest["parameters"] == json.loads(json.dumps(scenario.params.to_dict()))
    assert manifest["scenario"]["name"] == scenario.name
    assert manifest["scenario"]["description"] == scenario.description
    assert manifest["scenario"]["path"].endswith("ratio_1_20.toml")
    assert manifest["overrides"] == {**load_scenario("baseline").overrides, "facilitators.groups_per_facilitator": 20,
                                     "grants.equipment_rp": 1_000_000}
    assert manifest["override_sources"]["grants.equipment_rp"] == "--set"
    assert manifest["command"] == ["kube-sim", "run", "x"]
    assert manifest["started"] <= manifest["finished"]
    assert set(DATA_FILES) - {"manifest.json"} <= set(manifest["files"])


def test_summary_round_trips(run_dir, result):
    assert read_summary(run_dir) == json.loads(json.dumps(result.summary))


def test_monthly_is_one_row_per_month(run_dir):
    for frame in (pd.read_parquet(run_dir / "monthly.parquet"), pd.read_csv(run_dir / "monthly.csv")):
        assert len(frame) == MONTHS
        assert frame["month"].tolist() == list(range(1, MONTHS + 1))


def test_groups_is_one_row_per_group(run_dir, result):
    summary = read_summary(run_dir)
    for frame in (pd.read_parquet(run_dir / "groups.parquet"), pd.read_csv(run_dir / "groups.csv")):
        assert len(frame) == summary["groups_funded"]
        assert frame["group"].is_unique
        assert set(result.groups.columns) <= set(frame.columns)


def test_members_and_events_tables(run_dir, result):
    members = pd.read_parquet(run_dir / "members.parquet")
    assert len(members) == read_summary(run_dir)["members"]
    assert members["member"].is_unique
    events = pd.read_parquet(run_dir / "events.parquet")
    assert len(events) == len(result.events)
    assert {"month", "group", "kind"} <= set(events.columns)
    assert events["month"].between(0, MONTHS).all()


def test_parquet_and_csv_agree(run_dir):
    parquet = pd.read_parquet(run_dir / "monthly.parquet")
    csv = pd.read_csv(run_dir / "monthly.csv")
    assert list(parquet.columns) == list(csv.columns)
    np.testing.assert_allclose(parquet.select_dtypes("number").to_numpy(dtype=float),
                               csv[parquet.select_dtypes("number").columns].to_numpy(dtype=float), rtol=1e-9)


def test_rewrite_replaces_files(tmp_path, result, scenario):
    write_run(result, tmp_path, scenario=scenario, seed=SEED, months=MONTHS)
    first = read_summary(tmp_path)
    write_run(result, tmp_path, scenario=scenario, seed=SEED, months=MONTHS)
    assert read_summary(tmp_path) == first


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "a.txt"
    write_text(target, "old")

    def fail(tmp):
        tmp.write_text("half")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        atomic_write(target, fail)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_read_summary_missing(tmp_path):
    with pytest.raises(InputError) as info:
        read_summary(tmp_path)
    assert "summary.json" in info.value.one_line()


def test_read_summary_malformed(tmp_path):
    (tmp_path / "summary.json").write_text("{not json")
    with pytest.raises(InputError) as info:
        read_summary(tmp_path)
    assert "summary.json" in info.value.one_line()


def test_survival_figure_edge_cases(result):
    from matplotlib.figure import Figure

    none_failed = result.groups.assign(failed_month=-1)
    for groups in (result.groups, none_failed, result.groups.iloc[0:0]):
        fig = survival_figure(groups, MONTHS, "edge case")
        assert isinstance(fig, Figure)
        fig.canvas.draw()


def test_monthly_figure_single_month():
    short = run_model(seed=1, months=1)
    monthly_figure(short.monthly).canvas.draw()
