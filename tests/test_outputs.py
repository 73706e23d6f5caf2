"""The output layer: the atomic writer replaces only our own regular files, durably; one writer per folder."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kube_sim.store import files
from kube_sim.store.files import NotReplaced, write_json, write_text
from kube_sim.store.lock import LOCK_FILE, FolderBusy, FolderLock, hold, holder

HOLD = """
import sys, time
from pathlib import Path
from kube_sim.store.lock import FolderLock
FolderLock(Path(sys.argv[1]), ["kube-sim", "sweep", "held-by-child"]).acquire()
print("held", flush=True)
time.sleep(120)
"""


def _device(path: Path) -> None:
    """A character device (root) or a named pipe (anyone): both are special files."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        os.mkfifo(path)


def test_the_writer_leaves_a_special_file_alone(tmp_path):
    target = tmp_path / "calibrated.toml"
    _device(target)
    with pytest.raises(NotReplaced, match="not a regular file"):
        write_text(target, "[x]\n")
    mode = os.lstat(target).st_mode
    assert stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)
    assert [p.name for p in tmp_path.iterdir()] == ["calibrated.toml"]  # no temporary file left


def test_the_writer_follows_a_link_and_checks_what_it_leads_to(tmp_path):
    device = tmp_path / "device"
    _device(device)
    link = tmp_path / "link.toml"
    link.symlink_to(device)
    with pytest.raises(NotReplaced):
        write_text(link, "x")
    assert link.is_symlink() and not stat.S_ISREG(os.stat(device).st_mode)

    real = tmp_path / "real.toml"
    real.write_text("old")
    link2 = tmp_path / "link2.toml"
    link2.symlink_to(real)
    write_text(link2, "new")
    assert link2.is_symlink() and real.read_text() == "new"


def test_the_writer_leaves_a_folder_alone(tmp_path):
    (tmp_path / "summary.json").mkdir()
    with pytest.raises(NotReplaced, match="a folder"):
        write_json(tmp_path / "summary.json", {"a": 1})
    assert (tmp_path / "summary.json").is_dir()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_the_writer_leaves_another_users_file_alone(tmp_path):
    target = tmp_path / "theirs.json"
    target.write_text("theirs")
    os.chown(target, 65534, 65534)
    with pytest.raises(NotReplaced, match="another user"):
        write_json(target, {"a": 1})
    assert target.read_text() == "theirs"


def test_results_reach_the_disk_before_the_rename(tmp_path, monkeypatch):
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        calls.append("fsync-folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync-file")
        real_fsync(fd)

    def replace(src, dst):
        calls.append("rename")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    write_text(tmp_path / "calibrated.toml", "[grants]\n")
    assert calls == ["fsync-file", "rename", "fsync-folder"]
    calls.clear()
    files.atomic_write(tmp_path / "figure.png", lambda tmp: tmp.write_bytes(b"png"), durable=False)
    assert calls == ["rename"]


# --- the folder lock -------------------------------------------------------------------------------

def _child_holding(folder: Path) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "held"
    return child


def test_a_second_writer_is_refused_naming_the_first(tmp_path):
    folder = tmp_path / "out"
    child = _child_holding(folder)
    try:
        with pytest.raises(FolderBusy) as caught:
            FolderLock(folder, ["kube-sim", "sweep", "second"]).acquire()
        line = caught.value.one_line()
        assert "kube-sim sweep held-by-child" in line and f"PID {child.pid}" in line
        assert line.startswith("--out: ") and "\n" not in line
        seen = holder(folder)
        assert seen is not None and seen.pid == child.pid
    finally:
        child.kill()
        child.wait()


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    folder = tmp_path / "out"
    child = _child_holding(folder)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert json.loads((folder / LOCK_FILE).read_text())["pid"] == child.pid  # left behind by the kill
    assert holder(folder) is None  # the operating system dropped the lock with the process
    with hold(folder, ["kube-sim", "sweep", "next"]) as lock:
        assert lock.took_over is not None and lock.took_over.pid == child.pid
        assert json.loads((folder / LOCK_FILE).read_text())["pid"] == os.getpid()
    assert not (folder / LOCK_FILE).exists()


def test_the_lock_is_reentrant_in_one_process_and_removed_at_the_end(tmp_path):
    folder = tmp_path / "out"
    with hold(folder, ["kube-sim", "threshold"]):
        with hold(folder, ["kube-sim", "threshold"]):
            pass
        assert (folder / LOCK_FILE).exists()  # still held by the outer block
        probe = subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path;"
                                "from kube_sim.store.lock import holder; h = holder(Path(sys.argv[1]));"
                                "print(h.pid if h else None)", str(folder)], capture_output=True, text=True)
        assert probe.stdout.strip() == str(os.getpid())
    assert not (folder / LOCK_FILE).exists()
