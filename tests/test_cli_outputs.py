"""Every command checks its outputs before any work, and ends cleanly on a full disk or a closed pipe."""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kube_sim.cli.common import EXIT_BROKEN_PIPE
from kube_sim.cli.main import main
from kube_sim.experiments import validation
from kube_sim.model import run as runner
from kube_sim.store import parts
from kube_sim.store import sweep_folder as store
from kube_sim.store.targets import FILE, PACKAGE_DIR, Target, check_outputs, target_problem

TINY = """
name = "tiny"
months = 24
replications = 2
master_seed = 3

[factors]
"facilitators.groups_per_facilitator" = [5, 20]
"""


@pytest.fixture
def no_model(monkeypatch):
    """Make any run of the model fail the test: the checks must come before the work."""

    def forbidden(*args, **kwargs):
        raise AssertionError("the model ran before the outputs were checked")

    monkeypatch.setattr(runner, "run_model", forbidden)
    monkeypatch.setattr(validation, "run_model", forbidden)


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


# --- the checks themselves -------------------------------------------------------------------------

def test_targets_are_checked_for_kind_and_creatability(tmp_path):
    file = tmp_path / "a_file"
    file.write_text("x")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert target_problem(tmp_path / "new" / "deeper") is None
    assert target_problem(tmp_path / "new.toml", FILE) is None
    assert "cannot be created" in target_problem(file / "sub")
    assert "a regular file, not a folder" in target_problem(file)
    assert "is a folder; give a file name" in target_problem(tmp_path, FILE)
    assert "a named pipe, not a regular file" in target_problem(fifo, FILE)
    assert "named pipe" in target_problem(fifo / "x.toml", FILE)
    assert "inside the installed kube-sim package" in target_problem(PACKAGE_DIR / "results")
    assert target_problem(PACKAGE_DIR / "shipped" / "scenarios" / "calibrated.toml", FILE, typed=False) is None
    (tmp_path / "dangling").symlink_to(tmp_path / "nothing")
    assert "symbolic link to nothing" in target_problem(tmp_path / "dangling", FILE)


def test_check_outputs_names_the_option_and_the_path_as_typed(tmp_path):
    typed = str(tmp_path / "a_file" / "out")
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(Exception) as caught:
        check_outputs({"--out": Target(tmp_path / "fine"), "--xlsx": Target(typed, FILE), "--csv": None})
    assert caught.value.one_line().startswith(f"--xlsx: {typed}: cannot be created")


# --- every command, before any work ------------------------------------------------------------------

def _commands(tmp_path: Path, out: str) -> dict[str, list[str]]:
    experiment = tmp_path / "tiny.toml"
    experiment.write_text(textwrap.dedent(TINY), encoding="utf-8")
    return {
        "run": ["run", "--months", "12", "--out", out],
        "sweep": ["sweep", str(experiment), "--workers", "1", "--no-progress", "--out", out],
        "compare": ["compare", "baseline", "ratio_1_20", "--replications", "2", "--months", "12", "--workers", "1",
                    "--out", out],
        "validate": ["validate", "--replications", "2", "--workers", "1", "--out", out],
        "calibrate": ["calibrate", "--quick", "--months", "61", "--workers", "1", "--no-write", "--out", out],
        "sensitivity": ["sensitivity", "--quick", "--workers", "1", "--out", out],
        "threshold": ["threshold", "--replications", "2", "--workers", "1", "--out", out],
        "frontier": ["frontier", "--replications", "2", "--workers", "1", "--out", out],
    }


@pytest.mark.parametrize("command", ["run", "sweep", "compare", "validate", "calibrate", "sensitivity", "threshold",
                                     "frontier"])
def test_an_out_folder_that_cannot_be_made_stops_every_command_before_any_run(command, tmp_path, capsys, no_model):
    (tmp_path / "a_file").write_text("x")
    typed = str(tmp_path / "a_file" / "results")
    assert main(_commands(tmp_path, typed)[command]) == 2
    line = _one_error_line(capsys)
    assert line.startswith(f"kube-sim: error: --out: {typed}: cannot be created"), line
    assert ".tmp" not in line


@pytest.mark.parametrize("command", ["run", "compare", "calibrate", "sweep"])
def test_an_out_folder_where_nothing_can_be_made_stops_before_any_run(command, tmp_path, capsys, no_model,
                                                                     monkeypatch):
    # Permission bits do not tell everything (the superuser passes every access check), so the check
    # tries to make a folder there: simulated here by a parent in which mkdir fails.
    import tempfile

    blocked = tmp_path / "read_only"
    blocked.mkdir()
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp(*args, dir=None, **kwargs):
        if dir is not None and Path(dir) == blocked:
            raise OSError(errno.EROFS, "Read-only file system")
        return real_mkdtemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    typed = str(blocked / "results" / "deeper")
    assert main(_commands(tmp_path, typed)[command]) == 2
    line = _one_error_line(capsys)
    assert line == f"kube-sim: error: --out: {typed}: cannot be created in {blocked}: Read-only file system", line
    assert not (blocked / "results").exists()
    assert list(blocked.iterdir()) == []


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_an_out_folder_in_proc_is_refused_in_indonesian_too(tmp_path, capsys, no_model):
    assert main(["--lang", "id", "compare", "baseline", "ratio_1_20", "--out", "/proc/kube-sim-x/y"]) == 2
    line = _one_error_line(capsys)
    assert line.startswith("kube-sim: galat: --out: /proc/kube-sim-x/y: tidak dapat dibuat"), line
    assert "cannot" not in line


def test_report_checks_its_out_folder_before_reading(tmp_path, capsys):
    experiment = tmp_path / "tiny.toml"
    experiment.write_text(textwrap.dedent(TINY), encoding="utf-8")
    results = tmp_path / "results"
    assert main(["sweep", str(experiment), "--workers", "1", "--no-progress", "--out", str(results)]) == 0
    capsys.readouterr()
    os.mkfifo(tmp_path / "pipe")
    assert main(["report", str(results), "--out", str(tmp_path / "pipe")]) == 2
    assert "--out: " + str(tmp_path / "pipe") + ": exists and is a named pipe, not a folder" in _one_error_line(capsys)
    assert not (results / "report").exists()


@pytest.mark.parametrize("kind", ["fifo", "device", "unmakeable"])
def test_calibrate_checks_write_before_the_fit(kind, tmp_path, capsys, no_model):
    target = tmp_path / "calibrated.toml"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "device":
        try:
            os.mknod(target, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("making a device needs root")
    else:
        (tmp_path / "a_file").write_text("x")
        target = tmp_path / "a_file" / "calibrated.toml"
    assert main(["calibrate", "--quick", "--months", "61", "--workers", "1", "--out", str(tmp_path / "cal"),
                 "--write", str(target)]) == 2
    line = _one_error_line(capsys)
    assert line.startswith(f"kube-sim: error: --write: {target}: ") and ".tmp" not in line
    assert not (tmp_path / "cal").exists()
    if kind != "unmakeable":
        assert not stat.S_ISREG(os.lstat(target).st_mode)  # left as it was


@pytest.mark.parametrize("args, option", [
    (["calibrate", "--quick", "--particles", "30"], "--particles"),
    (["calibrate", "--quick", "--keep", "3"], "--keep"),
    (["calibrate", "--particles", "10", "--keep", "20"], "--keep"),
    (["calibrate", "--keep", "4", "--refine", "6"], "--refine"),
    (["calibrate", "--quick", "--write", "x.toml", "--no-write"], "--no-write"),
    (["calibrate", "--quick", "--resume", "--overwrite"], "--overwrite"),
    (["validate", "--resume", "--overwrite"], "--overwrite"),
    (["threshold", "--resume", "--overwrite"], "--overwrite"),
    (["compare", "baseline", "baseline", "--resume", "--overwrite", "--out", "x"], "--overwrite"),
    (["compare", "baseline", "baseline", "--resume"], "--resume"),
    (["threshold", "--caseloads", "-5,10"], "--caseloads"),
    (["sensitivity", "--caseloads", "-10,20"], "--caseloads"),
    (["frontier", "--facilitator-shares", "-0.1,0.2"], "--facilitator-shares"),
    (["frontier", "--equipment-shares", "-.5"], "--equipment-shares"),
])
def test_options_that_conflict_or_are_out_of_range_are_refused(args, option, capsys, no_model, tmp_path,
                                                                monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    line = _one_error_line(capsys)
    assert option in line and "expected one argument" not in line, line


def test_an_unreachable_dask_scheduler_fails_at_once(capsys, no_model):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    assert main(["sweep", "staffing", "--backend", "dask", "--scheduler", f"tcp://127.0.0.1:{port}"]) == 2
    assert time.monotonic() - started < 10
    line = _one_error_line(capsys)
    assert f"--scheduler: tcp://127.0.0.1:{port}: cannot reach the Dask scheduler" in line


# --- the one resume rule ---------------------------------------------------------------------------

def test_validate_follows_the_resume_rule(tmp_path, capsys):
    out = str(tmp_path / "val")
    base = ["validate", "--replications", "2", "--workers", "1", "--no-progress", "--out", out]
    assert main(base) == 0
    lines = (tmp_path / "val" / validation.RUNS_FILE).read_text().splitlines()
    capsys.readouterr()
    assert main(base) == 2
    assert "already holds a validation's runs" in _one_error_line(capsys)
    assert main([*base, "--resume"]) == 0
    assert (tmp_path / "val" / validation.RUNS_FILE).read_text().splitlines() == lines  # nothing ran again
    capsys.readouterr()
    assert main([*base[:2], "3", *base[3:], "--resume"]) == 2
    assert "other settings" in _one_error_line(capsys)
    assert (tmp_path / "val" / validation.RUNS_FILE).read_text().splitlines() == lines  # nothing was deleted
    assert main([*base[:2], "3", *base[3:], "--overwrite"]) == 0
    assert len((tmp_path / "val" / validation.RUNS_FILE).read_text().splitlines()) == len(lines) // 2 * 3


# --- standard output that cannot take the output ---------------------------------------------------

def _kube_sim(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kube_sim.cli.main", *args], capture_output=False, **kwargs)


def test_a_closed_pipe_ends_quietly_with_the_shells_status(tmp_path):
    read, write = os.pipe()
    os.close(read)  # the reader went away before anything was written ('kube-sim params | head -1')
    try:
        done = _kube_sim("params", stdout=write, stderr=subprocess.PIPE)
    finally:
        os.close(write)
    assert done.returncode == EXIT_BROKEN_PIPE
    assert done.stderr == b""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["params", "--markdown"], ["--help"], ["scenarios"]])
def test_a_full_standard_output_gives_one_line_and_status_1(args):
    with open("/dev/full", "w") as full:
        done = _kube_sim(*args, stdout=full, stderr=subprocess.PIPE)
    err = done.stderr.decode()
    assert done.returncode == 1
    assert err.strip() == "kube-sim: error: cannot write to standard output: No space left on device"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_run_json_to_a_full_disk_keeps_its_results(tmp_path):
    out = tmp_path / "run"
    with open("/dev/full", "w") as full:
        done = _kube_sim("run", "--months", "12", "--no-plots", "--json", "--out", str(out), stdout=full,
                         stderr=subprocess.PIPE)
    assert done.returncode == 1 and done.stderr.decode().count("\n") == 1
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["finished"] and "summary.json" in manifest["files"]


# --- a full disk while writing results -------------------------------------------------------------

def _full_disk_after(calls: int, real, name=lambda *args: args[0]):
    """``real``, failing as on a full disk once it has been called ``calls`` times."""
    count = {"n": 0}

    def write(*args, **kwargs):
        count["n"] += 1
        if count["n"] > calls:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(name(*args)))
        return real(*args, **kwargs)

    return write


def _table_name(frame, folder, stem, **kwargs):
    return folder / f"{stem}.parquet"


def test_a_run_that_fills_the_disk_leaves_no_folder_without_a_manifest(tmp_path, capsys, monkeypatch):
    from kube_sim.store import run_folder

    monkeypatch.setattr(run_folder, "write_table", _full_disk_after(1, run_folder.write_table, _table_name))
    new = tmp_path / "new"
    assert main(["run", "--months", "12", "--no-plots", "--out", str(new)]) == 1
    line = _one_error_line(capsys)
    assert "No space left on device" in line and "Traceback" not in line
    assert not new.exists()  # created by the run, removed when nothing whole could be kept

    monkeypatch.undo()
    old = tmp_path / "old"
    assert main(["run", "--months", "12", "--no-plots", "--out", str(old)]) == 0
    monkeypatch.setattr(run_folder, "write_table", _full_disk_after(1, run_folder.write_table, _table_name))
    capsys.readouterr()
    assert main(["run", "--months", "12", "--no-plots", "--out", str(old), "--seed", "5"]) == 1
    manifest = json.loads((old / "manifest.json").read_text())
    assert manifest["seed"] == 5 and manifest["finished"] is None  # says it holds an unfinished run


def test_a_sweep_that_fills_the_disk_keeps_its_runs_and_resumes(tmp_path, capsys, monkeypatch):
    experiment = tmp_path / "tiny.toml"
    experiment.write_text(textwrap.dedent(TINY), encoding="utf-8")
    clean = tmp_path / "clean"
    base = ["sweep", str(experiment), "--workers", "1", "--no-progress"]
    assert main([*base, "--out", str(clean)]) == 0
    out = tmp_path / "full"
    monkeypatch.setattr(parts, "write_bytes", _full_disk_after(6, parts.write_bytes))  # two runs' parts fit
    capsys.readouterr()
    assert main([*base, "--out", str(out)]) == 1
    line = _one_error_line(capsys)
    assert "No space left on device" in line and "2 of 4 runs are saved" in line and "--resume" in line
    assert store.load_manifest(out)["finished"] is None
    assert sorted(store.finished_run_ids(out)) == [0, 1]
    monkeypatch.undo()
    assert main([*base, "--out", str(out), "--resume"]) == 0
    for table in ("runs", "groups", "monthly"):
        a, b = store.read_table(out, table), store.read_table(clean, table)
        a, b = (t.drop(columns=["duration_s"], errors="ignore") for t in (a, b))
        assert a.equals(b), table
    shutil.rmtree(clean)
