"""Sweeps: paired seeds, failed runs recorded, resume after a kill, and equal tables on every backend."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import patch_model_runs

from kube_sim.cli.main import main
from kube_sim.common.errors import InputError
from kube_sim.experiments.batching import BatchSettings
from kube_sim.experiments.experiment import load_experiment, replication_seeds
from kube_sim.experiments.rows import all_outcome_columns
from kube_sim.experiments.sweep import plan_experiment, run_sweep
from kube_sim.store import sweep_folder as store

MONTHS = 24
REPLICATIONS = 3
TINY = f"""
name = "tiny"
description = "Two caseloads crossed with two inactive shares, for tests."
months = {MONTHS}
replications = {REPLICATIONS}
master_seed = 11

[factors]
"facilitators.groups_per_facilitator" = [5, 20]
"members.initial_inactive_share" = [0.0, 0.3]
"""
N_RUNS = 4 * REPLICATIONS


def tiny_file(folder: Path, text: str = TINY) -> Path:
    path = folder / "tiny.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def tables(folder: Path) -> dict[str, pd.DataFrame]:
    return {"runs": store.load_runs(folder).drop(columns=["duration_s"]),
            "groups": store.read_table(folder, "groups"), "monthly": store.read_table(folder, "monthly")}


def assert_same_tables(a: Path, b: Path) -> None:
    ta, tb = tables(a), tables(b)
    for name in ta:
        pd.testing.assert_frame_equal(ta[name], tb[name], check_exact=True, obj=name)


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    """An uninterrupted in-process sweep of the tiny experiment."""
    root = tmp_path_factory.mktemp("clean")
    plan = plan_experiment(load_experiment(tiny_file(root)))
    summary = run_sweep(plan, root / "out", workers=1, progress=False, echo=None)
    assert summary.complete and summary.runs_ok == N_RUNS
    return root / "out"


def test_results_follow_the_contract(clean):
    runs = store.load_runs(clean)
    assert runs["run_id"].tolist() == list(range(N_RUNS))
    assert runs["arm"].tolist() == [i // REPLICATIONS for i in range(N_RUNS)]
    assert runs["replication"].tolist() == [i % REPLICATIONS for i in range(N_RUNS)]
    assert list(runs.columns[:8]) == ["run_id", "arm", "arm_label", "replication", "seed", "status", "error",
                                      "duration_s"]
    assert list(runs.columns[8:10]) == ["facilitators.groups_per_facilitator", "members.initial_inactive_share"]
    assert runs["arm_label"].iloc[0] == "groups_per_facilitator=5, initial_inactive_share=0"
    assert runs["arm_label"].iloc[-1] == "groups_per_facilitator=20, initial_inactive_share=0.3"
    assert (runs["status"] == "ok").all() and (runs["error"] == "").all()
    assert runs["survival_12"].between(0, 1).all()
    assert runs["survival_36"].isna().all()  # longer than the runs
    for column in ("mean_member_income_rp", "cost_total_rp", "cost_by_item_uep_grants_rp", "failure_causes_conflict"):
        assert runs[column].dtype == np.float64

    groups = store.read_table(clean, "groups")
    assert list(groups.columns[:4]) == ["run_id", "arm", "replication", "group"]
    assert {"funded_month", "failed_month", "cause", "business", "visits", "duration_months", "failed"} <= set(groups)
    assert groups["failed"].dtype == bool
    assert (groups["failed"] == (groups["failed_month"] >= 0)).all()
    assert sorted(groups["run_id"].unique()) == list(range(N_RUNS))

    monthly = store.read_table(clean, "monthly")
    assert len(monthly) == N_RUNS * MONTHS
    assert list(monthly.columns[:4]) == ["run_id", "arm", "replication", "month"]

    manifest = store.load_manifest(clean)
    for key in ("kube_sim_version", "mesa_version", "python_version", "git_commit", "experiment_name",
                "experiment_file", "experiment_text", "base_scenario", "factors", "design", "replications",
                "master_seed", "months", "seeds", "arms", "outcomes_kept", "started", "finished"):
        assert key in manifest, key
    assert manifest["runs_total"] == manifest["runs_ok"] == N_RUNS and manifest["runs_failed"] == 0
    assert manifest["factors"]["facilitators.groups_per_facilitator"] == [5, 20]
    assert manifest["arms"][3]["parameters"] == {"facilitators.groups_per_facilitator": 20,
                                                 "members.initial_inactive_share": 0.3}
    assert "[factors]" in manifest["experiment_text"]
    assert not (clean / "parts").exists()  # removed once every run is consolidated


def test_seeds_are_paired_across_arms(clean):
    runs = store.load_runs(clean)
    expected = replication_seeds(11, REPLICATIONS)
    by_replication = runs.groupby("replication")["seed"].agg(lambda s: sorted(set(s)))
    assert [seeds[0] for seeds in by_replication] == expected
    assert all(len(seeds) == 1 for seeds in by_replication)  # one seed per replication, in every arm
    assert runs.groupby("arm")["seed"].apply(list).map(lambda s: s == expected).all()
    assert store.load_manifest(clean)["seeds"] == expected


def test_a_run_that_raises_is_recorded_and_the_sweep_completes(tmp_path, monkeypatch):
    all_outcome_columns()  # computed (by a model run) before the model is made to fail
    patch_model_runs(monkeypatch, message="boom in the model",
                     fail=lambda params, seed: (params.facilitators.groups_per_facilitator == 20
                                                and seed == replication_seeds(11, 3)[1]))
    plan = plan_experiment(load_experiment(tiny_file(tmp_path)))
    summary = run_sweep(plan, tmp_path / "out", workers=1, progress=False, echo=None)
    assert summary.complete
    assert (summary.runs_ok, summary.runs_failed) == (N_RUNS - 2, 2)
    runs = store.load_runs(tmp_path / "out")
    failed = runs[runs["status"] == "failed"]
    assert failed["run_id"].tolist() == [7, 10]  # arms 2 and 3, replication 1
    assert failed["error"].str.contains("RuntimeError: boom in the model").all()
    assert failed["survival_12"].isna().all() and failed["mean_member_income_rp"].isna().all()
    assert (failed["facilitators.groups_per_facilitator"] == 20).all()
    groups = store.read_table(tmp_path / "out", "groups")
    assert not groups["run_id"].isin([7, 10]).any()
    assert store.load_manifest(tmp_path / "out")["runs_failed"] == 2


SLOW_SWEEP = """
import sys, time
import kube_sim.model.run as runner
real = runner.run_batch
def slow(params, seeds, **kwargs):
    time.sleep(0.25 * len(seeds))
    return real(params, seeds, **kwargs)
runner.run_batch = slow
from kube_sim.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_resume_after_kill_gives_the_tables_of_a_clean_sweep(tmp_path, clean):
    path = tiny_file(tmp_path)
    out = tmp_path / "out"
    args = ["sweep", str(path), "--workers", "1", "--out", str(out), "--no-progress"]
    proc = subprocess.Popen([sys.executable, "-c", SLOW_SWEEP, *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 120
    parts = out / "parts" / "runs"
    while time.monotonic() < deadline and proc.poll() is None:
        if len(store.finished_run_ids(out)) >= 4:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    saved = store.finished_run_ids(out)
    assert 4 <= len(saved) < N_RUNS, "the sweep should have been killed part way"
    assert parts.is_dir()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["finished"] is None

    (parts / ".run-000999.arrow.abc.tmp").write_bytes(b"half a file")  # a write cut by the kill
    with pytest.raises(InputError, match="--resume"):  # the folder is not silently overwritten
        run_sweep(plan_experiment(load_experiment(path)), out, workers=1, progress=False, echo=None)

    status = main(["sweep", str(path), "--workers", "2", "--out", str(out), "--resume", "--no-progress"])
    assert status == 0
    assert_same_tables(out, clean)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["finished"] and len(manifest["resumed"]) == 1
    assert manifest["runs_ok"] == N_RUNS
    assert not (out / "parts").exists()


def test_interrupt_saves_finished_runs_and_resume_completes(tmp_path, clean, monkeypatch):
    all_outcome_columns()
    with pytest.MonkeyPatch.context() as patch:
        patch_model_runs(patch, interrupt_at=4)
        plan = plan_experiment(load_experiment(tiny_file(tmp_path)))
        with pytest.raises(KeyboardInterrupt):
            run_sweep(plan, tmp_path / "out", workers=1, progress=False, echo=None, batch=BatchSettings(batch_size=1))
    assert store.load_runs(tmp_path / "out")["run_id"].tolist() == [0, 1, 2]  # consolidated so far
    assert store.load_manifest(tmp_path / "out")["finished"] is None

    summary = run_sweep(plan, tmp_path / "out", workers=1, resume=True, progress=False, echo=None)
    assert summary.complete and summary.runs_this_time == N_RUNS - 3
    assert_same_tables(tmp_path / "out", clean)


def test_resume_refuses_a_different_sweep(tmp_path, clean):
    plan = plan_experiment(load_experiment(tiny_file(tmp_path)).with_run_settings(months=MONTHS + 1))
    with pytest.raises(InputError, match="different sweep"):
        run_sweep(plan, clean, resume=True, progress=False, echo=None)


def test_resume_of_a_finished_sweep_does_nothing(clean):
    plan = plan_experiment(load_experiment(tiny_file(clean.parent)))
    before = tables(clean)
    summary = run_sweep(plan, clean, resume=True, progress=False, echo=None)
    assert summary.complete and summary.runs_this_time == 0 and summary.runs_ok == N_RUNS
    for name, frame in tables(clean).items():
        pd.testing.assert_frame_equal(frame, before[name])


def test_two_local_workers_give_the_same_tables(tmp_path, clean):
    plan = plan_experiment(load_experiment(tiny_file(tmp_path)))
    run_sweep(plan, tmp_path / "out", workers=2, progress=False, echo=None)
    assert_same_tables(tmp_path / "out", clean)


def test_dask_local_cluster_gives_the_same_tables(tmp_path, clean):
    pytest.importorskip("dask.distributed")
    plan = plan_experiment(load_experiment(tiny_file(tmp_path)))
    run_sweep(plan, tmp_path / "out", backend="dask", workers=2, dask_processes=False, progress=False, echo=None)
    assert_same_tables(tmp_path / "out", clean)


def test_overwrite_starts_again(tmp_path):
    path = tiny_file(tmp_path, TINY.replace(f"replications = {REPLICATIONS}", "replications = 1"))
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--workers", "1", "--out", str(out), "--no-progress"]) == 0
    assert main(["sweep", str(path), "--workers", "1", "--out", str(out), "--no-progress"]) == 2
    assert main(["sweep", str(path), "--workers", "1", "--out", str(out), "--no-progress", "--overwrite",
                 "--replications", "2"]) == 0
    assert len(store.load_runs(out)) == 8


def test_sweep_command_prints_plan_estimate_and_summary(tmp_path, capsys):
    path = tiny_file(tmp_path, TINY.replace(f"replications = {REPLICATIONS}", "replications = 2"))
    assert main(["sweep", str(path), "--workers", "1", "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "4 arms x 2 replications = 8 runs of 24 months" in out
    assert "should take about" in out
    assert "done: 8 runs ok, 0 failed, of 8" in out
    assert "1:20 caseload, 30% inactive at start" in out  # arms named in words


def test_compare_prints_paired_differences(capsys):
    status = main(["compare", "baseline", "ratio_1_20", "--replications", "3", "--months", str(MONTHS),
                   "--workers", "1", "--no-progress"])
    assert status == 0
    out = capsys.readouterr().out
    assert "B - A" in out and "95% CI" in out
    assert "survival at 12 months" in out and "income per member per month" in out
    assert "3 paired replications" in out


def test_compare_bad_scenario_exits_2(capsys):
    assert main(["compare", "baseline", "ratio_1_2O", "--replications", "2", "--months", "12"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_report_command_writes_a_report(clean, tmp_path, capsys):
    assert main(["report", str(clean), "--out", str(tmp_path / "report")]) == 0
    assert "report in" in capsys.readouterr().out
    assert any((tmp_path / "report").glob("report.*"))


def test_report_of_a_folder_without_results_exits_2(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "runs.parquet" in capsys.readouterr().err


def test_workers_notice_a_dead_driver():
    from kube_sim.experiments.executors import _alive

    assert _alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not _alive(child.pid)


def _slow_sweep(path: Path, out: Path, *flags: str) -> subprocess.Popen:
    args = ["sweep", str(path), "--workers", "1", "--out", str(out), "--no-progress", *flags]
    return subprocess.Popen([sys.executable, "-c", SLOW_SWEEP, *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _wait_for_lock(out: Path, proc: subprocess.Popen) -> None:
    from kube_sim.store.lock import holder

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        seen = holder(out)
        if seen is not None and seen.pid == proc.pid:
            return
        time.sleep(0.02)
    raise AssertionError(f"the first sweep never held {out}: {proc.stderr.read().decode()}")


def test_two_sweeps_on_one_folder_in_every_order_lose_nothing(tmp_path, clean, capsys):
    """A second writer, whatever its flags, is refused while the first runs; after it, each flag does its job."""
    import shutil

    path = tiny_file(tmp_path)
    folders = {mode: tmp_path / f"first-{mode}" for mode in ("plain", "resume", "overwrite")}
    # --resume finishes a sweep killed part way; --overwrite replaces a finished one.
    killed = _slow_sweep(path, folders["resume"])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(store.finished_run_ids(folders["resume"])) < 3:
        time.sleep(0.02)
    killed.kill()
    killed.wait()
    shutil.copytree(clean, folders["overwrite"])
    flags = {"plain": (), "resume": ("--resume",), "overwrite": ("--overwrite",)}
    firsts = {mode: _slow_sweep(path, folder, *flags[mode]) for mode, folder in folders.items()}
    try:
        for mode, folder in folders.items():
            _wait_for_lock(folder, firsts[mode])
            for second in flags.values():
                capsys.readouterr()
                status = main(["sweep", str(path), "--workers", "1", "--out", str(folder), "--no-progress",
                               *second])
                err = capsys.readouterr().err
                assert status == 2, (mode, second, err)
                assert err.count("\n") == 1 and "is being written by 'kube-sim sweep" in err, err
                assert f"PID {firsts[mode].pid}" in err
        for mode, proc in firsts.items():
            assert proc.wait(timeout=300) == 0, (mode, proc.stderr.read().decode())
    finally:
        for proc in firsts.values():
            proc.kill()
    for mode, folder in folders.items():
        assert_same_tables(folder, clean)
        manifest = store.load_manifest(folder)
        assert manifest["finished"] and manifest["runs_ok"] == N_RUNS, mode
        assert not (folder / "parts").exists() and not (folder / ".kube-sim.lock").exists()

    # One after the other: plain refuses a folder with results, --resume finds nothing to do, --overwrite redoes it.
    folder = folders["plain"]
    base = ["sweep", str(path), "--workers", "1", "--out", str(folder), "--no-progress"]
    assert main(base) == 2
    assert "--resume" in capsys.readouterr().err
    assert main([*base, "--resume"]) == 0
    assert "already done" in capsys.readouterr().out
    assert_same_tables(folder, clean)
    assert main([*base, "--overwrite"]) == 0
    assert_same_tables(folder, clean)
    assert main([*base, "--resume", "--overwrite"]) == 2
    assert "contradict" in capsys.readouterr().err
    assert_same_tables(folder, clean)


def test_interleaved_batches_and_uncommitted_parts_read_in_run_order(tmp_path, clean):
    """Batches whose runs interleave (as a resumed sweep's may) read and consolidate in run order;
    parts of a batch never committed are ignored, then removed on resume."""
    from kube_sim.experiments.tasks import execute_batch
    from kube_sim.store import parts

    plan = plan_experiment(load_experiment(tiny_file(tmp_path)))
    out = tmp_path / "out"
    out.mkdir()
    odd = execute_batch(list(plan.tasks([1, 3, 5])))
    even = execute_batch(list(plan.tasks([0, 2, 4])))
    for output in (odd, even):
        parts.write_part(out, output.part_id, output.runs, output.groups, output.monthly)
    orphan = execute_batch(list(plan.tasks([6, 7])))  # killed between its groups part and its commit
    parts.write_part(out, orphan.part_id, orphan.runs, orphan.groups, orphan.monthly)
    parts.part_path(out, "runs", orphan.part_id).unlink()

    assert store.finished_run_ids(out) == {0, 1, 2, 3, 4, 5}
    assert [len(c) for c in parts.part_clusters(parts.committed_parts(out))] == [2]
    expected = tables(clean)
    got = tables(out)
    for name, frame in got.items():
        assert frame["run_id"].is_monotonic_increasing, name
        want = expected[name][expected[name]["run_id"] < 6].reset_index(drop=True)
        pd.testing.assert_frame_equal(frame.reset_index(drop=True), want, check_exact=True, obj=name)

    assert parts.remove_uncommitted(out) == 2  # the orphan's groups and monthly parts
    store.consolidate(out)
    runs = pd.read_parquet(out / "runs.parquet")
    assert runs["run_id"].tolist() == [0, 1, 2, 3, 4, 5]
    groups = pd.read_parquet(out / "groups.parquet")
    pd.testing.assert_frame_equal(groups, expected["groups"][expected["groups"]["run_id"] < 6].reset_index(drop=True),
                                  check_exact=True)
