"""The kube-sim command line, in process and as the installed console script."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import patch_model_runs

from kube_sim.cli import main as cli_main
from kube_sim.cli.common import output_folder
from kube_sim.cli.main import build_parser, command_names, main
from kube_sim.common.errors import InputError
from kube_sim.experiments.experiment import load_experiment
from kube_sim.experiments.scenario import scenario_dir
from kube_sim.model import run as runner
from kube_sim.model.defaults import MAX_MONTHS
from kube_sim.model.parameters import PARAMETER_SPECS

SHIPPED = sorted(p.stem for p in scenario_dir().glob("*.toml"))
SUMMARY_KEYS = {
    "scenario", "seed", "months", "groups_funded", "members", "facilitators", "survival", "mean_member_income_rp",
    "share_above_poverty_line", "cost_total_rp", "cost_per_surviving_group_rp", "visits_per_group_month",
    "share_groups_unvisited_last_quarter", "inactive_member_share", "results_dir",
}
HORIZONS = {"12", "24", "36", "60"}
CONSOLE_SCRIPT = Path(sys.executable).with_name("kube-sim")


def run_json(capsys, tmp_path, *args):
    code = main(["run", "--json", "--no-plots", "--out", str(tmp_path / "out"), *args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out), captured.err


def check_summary(data, months, seed):
    assert SUMMARY_KEYS <= set(data)
    assert set(data["survival"]) == HORIZONS
    for share in data["survival"].values():
        assert share is None or 0.0 <= share <= 1.0
    assert data["months"] == months
    assert data["seed"] == seed
    assert data["groups_funded"] >= 0
    assert data["cost_total_rp"] >= 0


def test_json_is_one_object_with_required_keys(capsys, tmp_path):
    data, err = run_json(capsys, tmp_path, "--months", "24", "--seed", "5")
    check_summary(data, 24, 5)
    assert data["scenario"] == "baseline"
    assert Path(data["results_dir"]) == tmp_path / "out"
    assert (tmp_path / "out" / "summary.json").is_file()
    assert not (tmp_path / "out" / "survival.png").exists()
    assert err == ""


def test_same_seed_gives_same_json(capsys, tmp_path):
    first, _ = run_json(capsys, tmp_path / "a", "--months", "24", "--seed", "11")
    second, _ = run_json(capsys, tmp_path / "b", "--months", "24", "--seed", "11")
    assert first.pop("results_dir") != second.pop("results_dir")
    assert first == second


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_scenario_runs(capsys, tmp_path, name):
    data, _ = run_json(capsys, tmp_path, name, "--months", "13", "--seed", "1")
    check_summary(data, 13, 1)
    assert data["scenario"] == name


def test_no_facilitators_has_none(capsys, tmp_path):
    data, _ = run_json(capsys, tmp_path, "no_facilitators", "--months", "13")
    assert data["facilitators"] == 0


def test_set_is_applied_and_recorded(capsys, tmp_path):
    data, _ = run_json(capsys, tmp_path, "--months", "13", "--set", "facilitators.groups_per_facilitator=0",
                       "--set", "grants.equipment_rp=5000000")
    assert data["facilitators"] == 0
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["parameters"]["grants.equipment_rp"] == 5_000_000
    assert manifest["override_sources"]["grants.equipment_rp"] == "--set"
    assert "--set" in manifest["command"]


def test_scenario_file_path(capsys, tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\ndescription = "a test"\n[members]\ninitial_inactive_share = 0.3\n')
    data, _ = run_json(capsys, tmp_path, str(path), "--months", "13")
    assert data["scenario"] == "mine"


def test_readable_summary_and_plots(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "ratio_1_5", "--months", "24"]) == 0
    out = capsys.readouterr().out
    for text in ("ratio_1_5", "survival at 12 months", "survival at 60 months", "n/a", "Rp ", "failure causes",
                 "cost per surviving group", "results in"):
        assert text in out, text
    results = tmp_path / "results" / "ratio_1_5"
    for name in ("survival.png", "monthly.png", "summary.json", "manifest.json", "monthly.parquet", "groups.csv"):
        assert (results / name).is_file(), name
    assert str(Path("results") / "ratio_1_5") in out


# --- bad input -------------------------------------------------------------------------------------

BAD_SCENARIO = 'name = "bad"\ndescription = "x"\n[facilitators]\ngroups_per_facilitater = 20\n'


@pytest.mark.parametrize(("args", "expected"), [
    (["run", "nosuch_scenario"], ["nosuch_scenario.toml"]),
    (["run", "basline"], ["basline.toml", "baseline"]),
    (["run", "{tmp}/missing.toml"], ["missing.toml"]),
    (["run", "{tmp}/bad.toml"], ["bad.toml", "facilitators.groups_per_facilitater", "groups_per_facilitator"]),
    (["run", "{tmp}/broken.toml"], ["broken.toml", "line"]),
    (["run", "--set", "facilitators.groups_per_facilitater=3"], ["--set", "facilitators.groups_per_facilitater"]),
    (["run", "--set", "facilitators.groups_per_facilitator=many"], ["--set", "facilitators.groups_per_facilitator"]),
    (["run", "--set", "members.initial_inactive_share=2"], ["--set", "members.initial_inactive_share"]),
    (["run", "--set", "novalue"], ["--set"]),
    (["run", "--months", "-3"], ["--months"]),
    (["run", "--months", "0"], ["--months"]),
    (["run", "--months", "ten"], ["--months"]),
    (["run", "--seed", "-1"], ["--seed"]),
    (["run", "--seed", "1.5"], ["--seed"]),
    (["run", "--out", "{tmp}/bad.toml"], ["--out", "bad.toml"]),
    (["run", "--bogus"], ["--bogus"]),
    (["nosuchcommand"], ["nosuchcommand"]),
    ([], ["command"]),
])
def test_bad_input_gives_one_line_and_exit_2(capsys, tmp_path, args, expected):
    (tmp_path / "bad.toml").write_text(BAD_SCENARIO)
    (tmp_path / "broken.toml").write_text('name = "x"\ndescription = "y"\n[facilitators\n')
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if args[:1] == ["run"] and "--out" not in args:
        args += ["--out", str(tmp_path / "out"), "--months", "3"] if "--months" not in args else [
            "--out", str(tmp_path / "out")]
    code = main(args)
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    for text in expected:
        assert text in lines[0], (text, lines[0])


def test_interrupt_gives_one_line_and_exit_130(capsys, tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run_model", interrupted)
    code = main(["run", "--out", str(tmp_path / "out"), "--months", "3"])
    captured = capsys.readouterr()
    assert code == 130
    assert len(captured.err.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "summary.json").exists()


# --- listings and help -----------------------------------------------------------------------------

def test_scenarios_lists_every_shipped_scenario(capsys):
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    for name in SHIPPED:
        assert name in out
    assert "facilitators.groups_per_facilitator = 20" in out


def test_params_lists_every_key(capsys):
    assert main(["params"]) == 0
    out = capsys.readouterr().out
    for key in PARAMETER_SPECS:
        assert key in out


def test_params_markdown(capsys):
    assert main(["params", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert "| key | default | unit | range | source | meaning |" in out
    rows = [line for line in out.splitlines() if line.startswith("| `")]
    assert len(rows) == len(PARAMETER_SPECS)


def test_version(capsys):
    assert main(["--version"]) == 0
    assert "kube-sim" in capsys.readouterr().out


def _subcommands():
    return command_names(build_parser())


@pytest.mark.parametrize("command", [None, *_subcommands()])
def test_help_works(capsys, command):
    args = ["--help"] if command is None else [command, "--help"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: kube-sim")


# --- the installed console script ------------------------------------------------------------------

@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="kube-sim console script not installed")
def test_console_script_json_matches_in_process(capsys, tmp_path):
    args = ["run", "needs_based_visits", "--json", "--no-plots", "--months", "24", "--seed", "9"]
    proc = subprocess.run([str(CONSOLE_SCRIPT), *args, "--out", "out"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)  # exactly one JSON object: anything else fails to parse
    check_summary(data, 24, 9)
    in_process, _ = run_json(capsys, tmp_path, *args[1:])
    data.pop("results_dir")
    in_process.pop("results_dir")
    assert data == in_process


@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="kube-sim console script not installed")
def test_console_script_bad_input(tmp_path):
    proc = subprocess.run([str(CONSOLE_SCRIPT), "run", "--set", "grants.equipment_rp=lots", "--out", "out"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "--set" in lines[0]
    assert "grants.equipment_rp" in lines[0]
    assert not (tmp_path / "out").exists()


def test_compare_help_shows_a_plain_percent_sign(capsys):
    assert main(["compare", "--help"]) == 0
    out = capsys.readouterr().out
    assert "95% confidence interval" in " ".join(out.split())
    assert "%%" not in out


def test_no_help_shows_a_doubled_percent_sign(capsys):
    for name in [None, *_subcommands()]:
        status = main([name, "--help"] if name else ["--help"])
        assert status == 0
        assert "%%" not in capsys.readouterr().out, name


def test_compare_runs_as_long_as_run_and_sweep_by_default():
    from kube_sim.cli.compare import DEFAULT_COMPARE_MONTHS
    from kube_sim.model.defaults import DEFAULT_MONTHS

    assert DEFAULT_COMPARE_MONTHS == DEFAULT_MONTHS == 96


def test_compare_a_headcount_at_equal_cost(capsys):
    status = main(["compare", "baseline", "baseline", "--set", "facilitators.count=4", "--set-b",
                   "facilitators.count=8", "--replications", "4", "--months", "36", "--workers", "1",
                   "--no-progress", "--equal-cost"])
    assert status == 0
    out = capsys.readouterr().out
    assert "on both arms: facilitators.count=4" in out
    assert "A: baseline" in out and "B: baseline + count=8" in out
    staff = next(line for line in out.splitlines() if line.startswith("facilitators "))
    assert staff.split()[1:4] == ["4", "8", "+4"]  # the headcount each arm employed, and the difference
    assert "groups per facilitator (carried)" in out
    assert "  facilitators " in out and "  UEP grants" in out  # cost by item
    flat = " ".join(out.split())  # wide column titles wrap onto two lines to fit 100 columns
    assert "per Rp 100 juta spent" in out and "B - A at" in out and "equal cost" in flat and "per extra Rp" in flat
    assert re.search(r"B costs Rp [\d.]+ juta more \(95% CI", out)  # four more facilitators cost more
    assert "reading the differences" in out and ("within noise" in out or "real difference" in out)
    assert not re.search(r"\d[eE][+-]\d", out)
    # The answer opens with the reference it compares to, taken from the runs, and leads with households lifted.
    lines = [line for line in out.splitlines() if line.strip()]
    opening = next(i for i, line in enumerate(lines) if line.startswith("Today (A: baseline"))
    assert "4 facilitators (the headcount, facilitators.count = 4)" in " ".join(lines[opening:opening + 4])
    lead = next(i for i, line in enumerate(lines) if line.startswith("Households lifted out of poverty"))
    assert opening < lead < next(i for i, line in enumerate(lines) if line.startswith("outcome "))
    assert re.search(r"A \(baseline\): (about [\d.]+|less than one \([\d.]+\) of the) households lifted out of "
                     r"poverty\s+per\s+Rp\s+1\s+miliar\s+\(95%\s+CI", " ".join(lines))


def test_a_cheaper_b_reads_as_cheaper_and_changes_that_change_nothing_warn(capsys):
    status = main(["compare", "baseline", "baseline", "--set-a", "facilitators.count=8", "--set-b",
                   "facilitators.count=4", "--set", "facilitators.hours_per_month=20", "--replications", "3",
                   "--months", "24", "--workers", "1", "--no-progress"])
    assert status == 0
    captured = capsys.readouterr()
    assert re.search(r"B costs Rp [\d.]+ juta less", captured.out) and "B costs −" not in captured.out
    warnings = [line for line in captured.err.splitlines() if "warning" in line]
    assert warnings == ["kube-sim: warning: --set facilitators.hours_per_month=20 changes nothing: both arms "
                        "already have it"]


def test_two_identical_arms_and_levers_after_the_run_warn(capsys):
    assert main(["compare", "baseline", "baseline", "--set-b", "grants.equipment_rp=5000000", "--set-b",
                 "grants.equipment_month=30", "--replications", "2", "--months", "24", "--workers", "1",
                 "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and "grants.equipment_month=30" in err and "after the run" in err
    assert main(["compare", "baseline", "baseline", "--replications", "2", "--months", "12", "--workers", "1",
                 "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and "the same parameters" in err
    assert main(["run", "--set", "facilitators.groups_per_facilitator=10", "--months", "12", "--no-plots", "--out",
                 str(Path(tempfile.mkdtemp()) / "r")]) == 0
    err = capsys.readouterr().err
    assert err.strip() == ("kube-sim: warning: --set facilitators.groups_per_facilitator=10 changes nothing: "
                           "baseline already has facilitators.groups_per_facilitator = 10")


def test_compare_per_arm_changes_need_good_keys(capsys):
    assert main(["compare", "baseline", "baseline", "--set-b", "facilitators.cont=8"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--set-b" in err and "did you mean 'facilitators.count'" in err


# --- structure of the command line -----------------------------------------------------------------

CLI_DIR = Path(cli_main.__file__).parent
COMMAND_MODULES = {p.stem for p in CLI_DIR.glob("*.py")} - {"common", "main", "__init__"}
"""Every module of the cli package but the shared ones is one command, named as the module."""


def _imported_cli_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "kube_sim.cli":
                names |= {alias.name for alias in node.names}
            elif node.module.startswith("kube_sim.cli."):
                names.add(node.module.split(".")[2])
        elif isinstance(node, ast.Import):
            names |= {a.name.split(".")[2] for a in node.names if a.name.startswith("kube_sim.cli.")}
    return names


def test_one_module_per_command_and_none_imports_another():
    assert set(command_names(build_parser())) == COMMAND_MODULES
    for name in COMMAND_MODULES | {"common"}:
        imported = _imported_cli_modules(CLI_DIR / f"{name}.py")
        assert imported <= {"common"}, (name, imported)
    assert _imported_cli_modules(CLI_DIR / "main.py") == COMMAND_MODULES | {"common"}
    assert {"run", "scenarios", "params", "sweep", "report", "compare", "validate"} <= COMMAND_MODULES


@pytest.mark.parametrize(("name", "folder"), [
    ("ratio_1_20", "ratio_1_20"), ("my district / 2025", "my_district_2025"), ("..", "unnamed"),
    ("Désa.v2", "D_sa.v2"),
])
def test_default_results_folder_is_a_clean_name(name, folder):
    assert output_folder(None, name) == Path("results") / folder
    assert output_folder(Path("x"), name) == Path("x")


def test_run_and_sweep_name_their_results_folders_alike(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "odd name.toml").write_text('[facilitators]\ngroups_per_facilitator = 20\n')
    (tmp_path / "odd sweep.toml").write_text('months = 3\nreplications = 1\n[factors]\n'
                                             '"grants.equipment_rp" = [0]\n')
    assert main(["run", "odd name.toml", "--months", "3", "--no-plots", "--json"]) == 0
    assert main(["sweep", "odd sweep.toml", "--workers", "1", "--no-progress"]) == 0
    capsys.readouterr()
    assert (tmp_path / "results" / "odd_name" / "summary.json").is_file()
    assert (tmp_path / "results" / "odd_sweep" / "runs.parquet").is_file()


def test_run_limits_are_declared_once_for_the_command_line_and_experiment_files():
    package = CLI_DIR.parent
    for limit in ("MAX_MONTHS", "MAX_SEED", "MAX_REPLICATIONS", "DEFAULT_MONTHS", "DEFAULT_SEED"):
        owners = [str(p.relative_to(package)) for p in package.rglob("*.py")
                  if re.search(rf"^{limit}\s*[:=]", p.read_text(encoding="utf-8"), flags=re.M)]
        assert owners == ["model/defaults.py"], (limit, owners)


def test_months_limit_is_the_same_in_options_and_experiment_files(tmp_path, capsys):
    too_long = MAX_MONTHS + 1
    assert main(["run", "--months", str(too_long), "--out", str(tmp_path / "o")]) == 2
    assert f"at most {MAX_MONTHS:_}" in capsys.readouterr().err
    path = tmp_path / "long.toml"
    path.write_text(f'months = {too_long}\n[factors]\n"grants.equipment_rp" = [0]\n')
    with pytest.raises(InputError, match=f"above the maximum {MAX_MONTHS:_}"):
        load_experiment(path)
    path.write_text(f'months = {MAX_MONTHS}\n[factors]\n"grants.equipment_rp" = [0]\n')
    assert load_experiment(path).months == MAX_MONTHS


def test_interrupted_sweep_exits_130_keeping_finished_runs(tmp_path, capsys, monkeypatch):
    from kube_sim.store import sweep_folder

    path = tmp_path / "tiny.toml"
    path.write_text('months = 3\nreplications = 2\n[factors]\n"grants.equipment_rp" = [0, 1_000_000]\n')
    out = tmp_path / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch_model_runs(patch, interrupt_at=3)
        assert main(["sweep", str(path), "--workers", "1", "--no-progress", "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == "kube-sim: interrupted"
    kept = sweep_folder.load_runs(out)["run_id"].tolist()
    assert kept == list(range(len(kept))) and 0 < len(kept) < 4

    assert main(["sweep", str(path), "--workers", "1", "--no-progress", "--out", str(out), "--resume"]) == 0
    assert f"done: 4 runs ok, 0 failed, of 4; {4 - len(kept)} ran now" in capsys.readouterr().out
