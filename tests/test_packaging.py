"""Packaging: a wheel carries and finds the shipped files; metadata, package list, version lock, Python finder."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
SHIPPED = {"scenarios": "kube_sim/shipped/scenarios", "experiments": "kube_sim/shipped/experiments"}


def _toml_names(folder: Path) -> set[str]:
    return {p.name for p in folder.glob("*.toml")}


# --- a wheel, installed apart from the source tree -------------------------------------------------

@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the sources (so the checkout gets no build/ folder)."""
    pytest.importorskip("setuptools", minversion="77", reason="building the wheel needs setuptools>=77 "
                                                               "(the test extra installs it)")
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo")   # the build compiles the catalogs
    for name in ("kube_sim", "scenarios", "experiments"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "setup.py"):
        shutil.copy2(REPO / name, src / name)
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "-q", "-w", str(out), str(src)], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    (path,) = out.glob("kube_sim-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel installed into a folder of its own (``pip install --target``)."""
    target = tmp_path_factory.mktemp("site")
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target",
                           str(target), str(wheel)], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return target


def _kube_sim(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE_SIM_")}
    env["PYTHONPATH"] = str(installed)
    return subprocess.run([sys.executable, str(installed / "bin" / "kube-sim"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_wheel_carries_the_shipped_files_and_an_spdx_license(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    for folder, inside in SHIPPED.items():
        carried = {Path(n).name for n in names if n.startswith(inside + "/") and n.endswith(".toml")}
        assert carried == _toml_names(REPO / folder), folder
    districts = REPO / "kube_sim" / "shipped" / "districts"
    carried = {Path(n).name for n in names if n.startswith("kube_sim/shipped/districts/")}
    assert carried == {p.name for p in districts.iterdir() if p.suffix in (".csv", ".md")} >= {"majene.csv",
                                                                                                "README.md"}
    assert "License-Expression: MIT" in metadata.splitlines()
    catalogs = {n for n in names if n.startswith("kube_sim/locale/")}
    assert {"kube_sim/locale/id/LC_MESSAGES/kube_sim.po", "kube_sim/locale/id/LC_MESSAGES/kube_sim.mo"} <= catalogs
    templates = {Path(n).name for n in names if n.startswith("kube_sim/app/") and n.endswith(".vue")}
    assert templates == {p.name for p in (REPO / "kube_sim" / "app").glob("*.vue")} >= {"district.vue"}


def test_installed_wheel_runs_shipped_scenario_and_experiment(installed, tmp_path):
    probe = subprocess.run([sys.executable, "-c", "import kube_sim; print(kube_sim.__file__)"], cwd=tmp_path,
                           env={**os.environ, "PYTHONPATH": str(installed)}, capture_output=True, text=True,
                           check=True)
    assert Path(probe.stdout.strip()).is_relative_to(installed)  # not the source checkout

    run = _kube_sim(installed, tmp_path, "run", "baseline", "--months", "12", "--json", "--no-plots", "--out", "base")
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["scenario"] == "baseline"
    assert summary["months"] == 12
    assert (tmp_path / "base" / "summary.json").is_file()

    in_majene = _kube_sim(installed, tmp_path, "run", "--district", "majene", "--months", "2", "--json",
                          "--no-plots", "--out", "majene")
    assert in_majene.returncode == 0, in_majene.stderr
    assert json.loads((tmp_path / "majene" / "manifest.json").read_text())["district"]["name"] == "Majene"

    in_indonesian = _kube_sim(installed, tmp_path, "run", "--months", "12", "--no-plots", "--lang", "id", "--out",
                              "id")
    assert in_indonesian.returncode == 0, in_indonesian.stderr
    assert "kelompok didanai" in in_indonesian.stdout

    listing = _kube_sim(installed, tmp_path, "scenarios")
    assert listing.returncode == 0, listing.stderr
    assert str(Path(SHIPPED["scenarios"])) in listing.stdout
    assert "ratio_1_20" in listing.stdout

    sweep = _kube_sim(installed, tmp_path, "sweep", "staffing", "--replications", "1", "--months", "12",
                      "--workers", "2", "--no-progress", "--out", "staffing")
    assert sweep.returncode == 0, sweep.stderr
    runs = len(tomllib.loads((REPO / "experiments" / "staffing.toml").read_text())["factors"]
               ["facilitators.groups_per_facilitator"]) * 3
    assert f"done: {runs} runs ok, 0 failed, of {runs}" in sweep.stdout
    assert (tmp_path / "staffing" / "runs.parquet").is_file()


def test_installed_wheel_still_honours_the_folder_variables(installed, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "only_ratio.toml").write_text("[facilitators]\ngroups_per_facilitator = 20\n")
    env_run = subprocess.run(
        [sys.executable, str(installed / "bin" / "kube-sim"), "scenarios"], cwd=tmp_path, capture_output=True,
        text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": str(installed), "KUBE_SIM_SCENARIOS": str(tmp_path / "mine")})
    assert env_run.returncode == 0, env_run.stderr
    assert "only_ratio" in env_run.stdout
    assert "baseline" not in env_run.stdout


# --- metadata and the package list ------------------------------------------------------------------

def test_license_is_an_spdx_expression_and_setuptools_can_read_it():
    assert PYPROJECT["project"]["license"] == "MIT"
    requires = " ".join(PYPROJECT["build-system"]["requires"])
    version = re.search(r"setuptools>=(\d+)", requires)
    assert version and int(version.group(1)) >= 77


def test_package_list_covers_every_package_in_the_tree():
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    mapped = set(PYPROJECT["tool"]["setuptools"]["package-dir"])
    found = {".".join(init.parent.relative_to(REPO).parts) for init in (REPO / "kube_sim").rglob("__init__.py")}
    assert listed == found | mapped
    for package, folder in PYPROJECT["tool"]["setuptools"]["package-dir"].items():
        assert (REPO / folder).is_dir(), package
        assert PYPROJECT["tool"]["setuptools"]["package-data"][package] == ["*.toml"]


# --- the version lock -------------------------------------------------------------------------------

def _pins() -> dict[str, str]:
    lines = (REPO / "constraints.txt").read_text().splitlines()
    pins = {}
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep and version, line
        pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_constraints_pin_every_dependency_and_not_kube_sim():
    pins = _pins()
    assert "kube-sim" not in pins
    requirements = list(PYPROJECT["project"]["dependencies"])
    for extra, items in PYPROJECT["project"]["optional-dependencies"].items():
        if extra != "all":
            requirements += items
    for requirement in requirements:
        name = re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)).lower()
        if name != "setuptools":  # pip freeze leaves out the build tool
            assert name in pins, requirement
    assert pins["mesa"] == "3.5.1"


def test_make_installs_from_the_lock_and_can_rewrite_it():
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"pip install .*-c \$\(LOCK\) -e \"\.\[all\]\"", makefile)
    assert "LOCK   := constraints.txt" in makefile
    assert re.search(r"^lock:.*##", makefile, flags=re.M)
    assert "pip freeze --exclude-editable" in makefile


# --- finding a Python -------------------------------------------------------------------------------

FIND_PYTHON = REPO / "scripts" / "find_python.sh"
TOOLS = ("bash", "sed", "cut", "grep", "sort", "cat", "printf")


def _fake(bin_dir: Path, name: str, answer: str) -> Path:
    """A program that answers the finder's probe like a Python would (``ok``, ``old 3.11``, ...)."""
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\ncat >/dev/null\necho '{answer}'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _find_python(tmp_path: Path, fakes: dict[str, str], **env: str) -> subprocess.CompletedProcess:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    for name, answer in fakes.items():
        _fake(bin_dir, name, answer)
    return subprocess.run([shutil.which("bash"), str(FIND_PYTHON)], capture_output=True, text=True, timeout=60,
                          check=False, env={"PATH": str(bin_dir), "HOME": str(tmp_path), **env})


def test_find_python_prints_the_newest_fitting_one(tmp_path):
    proc = _find_python(tmp_path, {"python3": "old 3.10", "python3.13": "ok", "python3.12": "ok"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(tmp_path / "bin" / "python3.13")


def test_find_python_says_what_to_install_when_none_fits(tmp_path):
    proc = _find_python(tmp_path, {"python3": "old 3.10", "python3.12": "novenv 3.12"})
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "needs Python 3.12 or newer" in proc.stderr
    assert "python3 (3.10)" in proc.stderr
    assert "python3-venv" in proc.stderr
    assert "make PYTHON=" in proc.stderr


def test_find_python_checks_the_one_asked_for(tmp_path):
    proc = _find_python(tmp_path, {"python3.13": "ok", "python3.11": "old 3.11"}, PYTHON="python3.11")
    assert proc.returncode == 1
    assert "PYTHON=python3.11 is Python 3.11" in proc.stderr
