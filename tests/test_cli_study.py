"""The skeleton of the study commands (:class:`kube_sim.cli.common.Study`, :func:`kube_sim.cli.common.run_study`).

A tiny study (two scenarios, two replications, three months) goes through the shared prologue and
epilogue: its hooks in order, its outputs checked before any work, its folder held while it works and
released after, a stop or a failed write giving one line and exit 1, Ctrl-C exit 130 with the finished
runs kept and ``--resume`` finishing them.
"""

from __future__ import annotations

import argparse
import errno
from pathlib import Path
from typing import Any, ClassVar

import pytest
from conftest import patch_model_runs

from kube_sim.cli.common import (
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_STOPPED,
    Parser,
    Stopped,
    Study,
    add_sweep_options,
    add_table_options,
    add_workers_option,
    register,
)
from kube_sim.cli.main import build_parser, dispatch
from kube_sim.store import sweep_folder
from kube_sim.store.lock import holder
from kube_sim.store.targets import FILE, Target

RUNS = 4
"""Runs of the tiny study: two arms x two replications."""


class Tiny(Study):
    """A study of the smallest size, recording which hooks ran and whether its folder was held."""

    name = "tiny"
    summary = "a tiny study for the tests"
    description = "Two arms, two replications, three months."
    calls: ClassVar[list[str]] = []
    held: ClassVar[dict[str, bool]] = {}
    stop_in: ClassVar[str | None] = None
    """A hook that stops the study: "work" raises Stopped, "write" fails as a full disk."""

    @classmethod
    def add_options(cls, parser: argparse.ArgumentParser) -> None:
        add_workers_option(parser, "parallel runs")
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--note", type=Path)
        add_sweep_options(parser, "a tiny study")
        add_table_options(parser)

    def check(self) -> None:
        self.calls.append("check")
        self.folder = self.args.out

    def targets(self) -> list[tuple[str, Any]]:
        self.calls.append("targets")
        return [*super().targets(), ("--note", Target(self.args.note, FILE))]

    def plan(self) -> Any:
        from kube_sim.experiments.scenario import apply_overrides, load_scenario
        from kube_sim.experiments.sweep import plan_comparison

        self.calls.append("plan")
        a = load_scenario("baseline")
        b = apply_overrides(a, {"grants.equipment_rp": 1_000_000})
        return plan_comparison(a, b, replications=2, months=3, master_seed=5)

    def work(self, plan: Any, folder: Path) -> Any:
        self.calls.append("work")
        self.held["work"] = holder(folder) is not None
        if self.stop_in == "work":
            raise Stopped
        return super().work(plan, folder)

    def analyse(self, done: Any, folder: Path) -> Any:
        self.calls.append("analyse")
        return sweep_folder.load_runs(folder)

    def show(self, result: Any, folder: Path) -> None:
        self.calls.append("show")
        print(f"{len(result)} runs analysed")

    def write(self, result: Any, folder: Path) -> Any:
        self.calls.append("write")
        if self.stop_in == "write":
            raise OSError(errno.ENOSPC, "No space left on device", str(folder / "answer.json"))
        return folder / "answer.json"

    def closing(self, result: Any, written: Any, folder: Path) -> None:
        self.calls.append("closing")
        self.held["closing"] = holder(folder) is not None


@pytest.fixture
def tiny(monkeypatch):
    """Run ``kube-sim tiny ARGS`` through the command line's dispatcher; returns the exit status."""
    monkeypatch.setattr(Tiny, "calls", [])
    monkeypatch.setattr(Tiny, "held", {})
    monkeypatch.setattr(Tiny, "stop_in", None)
    parser = Parser(prog="kube-sim")
    register(parser.add_subparsers(), Tiny)

    def call(*argv: str) -> int:
        arguments = ["tiny", "--workers", "1", "--no-progress", *argv]
        args = parser.parse_args(arguments)
        args.argv = arguments
        return dispatch(args)

    return call


def test_a_study_runs_its_hooks_in_order_holding_its_folder_while_it_works(tiny, tmp_path, capsys):
    out = tmp_path / "out"
    assert tiny("--out", str(out)) == 0
    assert Tiny.calls == ["check", "targets", "plan", "work", "analyse", "show", "write", "closing"]
    assert Tiny.held == {"work": True, "closing": False}
    printed = capsys.readouterr().out
    assert f"done: {RUNS} runs ok, 0 failed, of {RUNS}" in printed and f"{RUNS} runs analysed" in printed
    assert len(sweep_folder.load_runs(out)) == RUNS


@pytest.mark.parametrize("option", ["--out", "--note", "--xlsx"])
def test_outputs_are_checked_before_any_work(tiny, tmp_path, capsys, option):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    paths = {"--out": tmp_path / "out", "--note": tmp_path / "note.txt", "--xlsx": tmp_path / "t.xlsx"}
    paths[option] = blocker / "inside"
    argv = [f"{name}={path}" for name, path in paths.items()]
    assert tiny(*argv) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and option in err
    assert "work" not in Tiny.calls and "plan" not in Tiny.calls
    assert not (tmp_path / "out").exists()


def test_option_rules_come_first(tiny, tmp_path, capsys):
    assert tiny("--out", str(tmp_path / "out"), "--resume", "--overwrite") == EXIT_INPUT
    assert "--overwrite" in capsys.readouterr().err
    assert Tiny.calls == []


def test_ctrl_c_exits_130_keeping_finished_runs_and_resume_finishes_them(tiny, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch_model_runs(patch, interrupt_at=3)
        assert tiny("--out", str(out)) == EXIT_INTERRUPTED
    assert capsys.readouterr().err.strip().splitlines()[-1] == "kube-sim: interrupted"
    assert Tiny.calls[-1] == "work" and holder(out) is None
    kept = sweep_folder.load_runs(out)["run_id"].tolist()
    assert 0 < len(kept) < RUNS

    Tiny.calls.clear()
    assert tiny("--out", str(out), "--resume") == 0
    assert f"{RUNS - len(kept)} ran now" in capsys.readouterr().out
    assert len(sweep_folder.load_runs(out)) == RUNS and Tiny.calls[-1] == "closing"


def test_a_study_that_stops_exits_1_and_releases_its_folder(tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(Tiny, "stop_in", "work")
    out = tmp_path / "out"
    assert tiny("--out", str(out)) == EXIT_STOPPED
    assert Tiny.calls[-1] == "work" and holder(out) is None


def test_a_failed_write_gives_one_line_and_exit_1_keeping_the_runs(tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(Tiny, "stop_in", "write")
    out = tmp_path / "out"
    assert tiny("--out", str(out)) == EXIT_STOPPED
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "answer.json" in err and "No space left on device" in err
    assert "closing" not in Tiny.calls and holder(out) is None
    assert len(sweep_folder.load_runs(out)) == RUNS


STUDY_COMMANDS = ("sweep", "compare", "threshold", "frontier", "sensitivity", "validate", "calibrate")


@pytest.mark.parametrize("name", STUDY_COMMANDS)
def test_every_study_command_is_built_on_the_skeleton(name):
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    func = subparsers.choices[name].get_default("func")
    study = getattr(func, "study", None)
    assert isinstance(study, type) and issubclass(study, Study) and study.name == name
