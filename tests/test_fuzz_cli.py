"""Fuzz test of the command line: generated options and scenario, experiment and district files.

Every command gets generated option values (valid, out of range, of the wrong type, malformed) and,
where it reads one, a generated scenario, experiment or district file (valid, with unknown keys, wrong
types, values out of range, malformed TOML or CSV). Whatever it gets, a command ends with status 0, 2
or 130, prints no traceback, says what is wrong in at most three lines, and touches nothing outside
its output folder (the working folder, the generated files and the package stay as they were).

The commands that run many simulations (validate, sensitivity, calibrate, threshold, frontier) always
get at least one bad option, so each example stays short; run, sweep and compare get tiny sizes and may
run for real. Profiles: ``ci`` (the default, a few dozen examples) and ``long`` (``KUBE_SIM_FUZZ=long``,
for a run by hand).
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kube_sim.cli.main import main

settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=1500, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
PROFILE = os.environ.get("KUBE_SIM_FUZZ", "ci")

PACKAGE = Path(__file__).resolve().parents[1] / "kube_sim"
ALLOWED = {0, 2, 130}

# --- generated values ------------------------------------------------------------------------------

JUNK = st.sampled_from(["", " ", "-1", "0", "-0", "1e400", "nan", "inf", "-inf", "1.5", "ten", "1,2", "-5,10",
                        "--", "=", "[1,2", "\x00", "é", "1_000", "0x10", "999999999999999999999", "full"])
SMALL_INT = st.one_of(st.integers(-3, 3).map(str), JUNK)
MONTHS = st.one_of(st.sampled_from(["12", "13", "24"]), st.integers(-5, 2).map(str), JUNK)
REPLICATIONS = st.one_of(st.just("1"), st.integers(-2, 0).map(str), JUNK)
SCENARIO_NAME = st.sampled_from(["baseline", "ratio_1_20", "no_facilitators", "basline", "", "../etc/passwd",
                                 "SCENARIO_FILE"])
KEYS = ["grants.equipment_rp", "facilitators.groups_per_facilitator", "members.initial_inactive_share",
        "business.cycle_months", "facilitators.pattern", "funding.annual_budget_rp", "no.such", "grants",
        "business.type_weights", "district.replicas", "poverty.line_rp_per_person"]
VALUES = st.one_of(st.integers(-10, 10**13).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr),
                   st.sampled_from(["true", "needs_based", "[4,3,1]", "[1e308,1,1]", '"x"', "[", "{}", ""]))
SET = st.tuples(st.sampled_from(KEYS), VALUES).map(lambda kv: f"{kv[0]}={kv[1]}")


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


TOML_VALUES = st.one_of(st.integers(-10**6, 10**13), st.floats(), st.booleans(), st.text(max_size=5),
                        st.lists(st.integers(-3, 30), max_size=4))


@st.composite
def scenario_text(draw) -> str:
    """A scenario file: sections of known and unknown keys, or malformed text."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(["[facilitators\n", "name = \n", "\xff\xfe", "= 3\n", "[a]\n[a]\n"]))
    lines = [f'name = {_toml_value(draw(st.text(min_size=0, max_size=8)))}', 'description = "fuzz"']
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=3, unique=True)):
        section, _, name = key.partition(".")
        lines += [f"[{section}]", f"{name or 'x'} = {_toml_value(draw(TOML_VALUES))}"]
    return "\n".join(lines) + "\n"


@st.composite
def experiment_text(draw) -> str:
    """An experiment file: tiny sizes, factors of known or unknown keys, or malformed text."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(["[factors\n", "months = \n", "name = 1\n[factors]\nx = [\n"]))
    months = draw(st.sampled_from([12, 13, 0, -1, 10**9, "12"]))
    replications = draw(st.sampled_from([1, 0, -2, 10**9, 1.5]))
    key = draw(st.sampled_from(KEYS))
    values = draw(st.lists(TOML_VALUES, min_size=0, max_size=2))
    extra = draw(st.sampled_from(["", "bogus = 1\n", 'base_scenario = "nosuch"\n', '[design]\nkind = "lhs"\n']))
    return (f'name = "fuzz"\nmonths = {_toml_value(months)}\nreplications = {_toml_value(replications)}\n'
            f'master_seed = 3\n{extra}[factors]\n"{key}" = {_toml_value(values)}\n')


@st.composite
def district_text(draw) -> str:
    """A district CSV: rows valid or broken (missing columns, wrong types, negative counts)."""
    header = draw(st.sampled_from(["kecamatan,population,terrain,travel_hours,villages",
                                   "kecamatan,population,terrain", "", "a,b,c,d,e,f"]))
    rows = []
    for _ in range(draw(st.integers(0, 3))):
        rows.append(",".join([draw(st.sampled_from(["Polewali", "", "X"])),
                              draw(st.sampled_from(["1000", "-5", "0", "many", "1e12"])),
                              draw(st.sampled_from(["coast", "lowland", "mountain", "sea"])),
                              draw(st.sampled_from(["1", "0", "-1", "nan", "100"])),
                              draw(st.sampled_from(["2", "0", "-3", "1.5", "100000"]))]))
    prefix = draw(st.sampled_from(["", "# name = Fuzz\n", "# poverty_line_rp = -1\n", "# poverty_line_rp = x\n"]))
    return prefix + "\n".join([header, *rows]) + "\n"


def _pick(draw, pool: dict[str, st.SearchStrategy[str]], most: int) -> list[str]:
    args: list[str] = []
    for option in draw(st.lists(st.sampled_from(sorted(pool)), max_size=most, unique=True)):
        strategy = pool[option]
        args += [option] if strategy is FLAG else [option, draw(strategy)]
    return args


FLAG: st.SearchStrategy[str] = st.just("")
BAD = {"--replications": st.sampled_from(["0", "-1", "x", "1e400"]), "--months": st.sampled_from(["0", "-3", "x"]),
       "--workers": st.sampled_from(["0", "-1", "many"]), "--seed": st.sampled_from(["-1", "1.5", "x"]),
       "--bogus": FLAG}
HEAVY = {
    "validate": {"--replications": REPLICATIONS, "--workers": SMALL_INT, "--seed": SMALL_INT, "--resume": FLAG,
                 "--overwrite": FLAG},
    "sensitivity": {"--span": st.one_of(st.sampled_from(["0.5", "1", "2", "1e300", "full"]), JUNK),
                    "--caseloads": st.one_of(st.sampled_from(["10,20", "20,20", "-10,20", "0,5"]), JUNK),
                    "--trajectories": SMALL_INT, "--samples": SMALL_INT, "--method": st.sampled_from(["sobol", "x"]),
                    "--parameters": st.sampled_from(["grants.equipment_rp", "no.such", "district.replicas", ""]),
                    "--top": SMALL_INT},
    "calibrate": {"--particles": SMALL_INT, "--keep": SMALL_INT, "--quick": FLAG, "--no-write": FLAG,
                  "--write": st.sampled_from(["OUT/cal.toml", "", "/dev/null", "SCENARIO_FILE"])},
    "threshold": {"--caseloads": st.one_of(st.sampled_from(["5,10", "-5,10"]), JUNK), "--target": JUNK,
                  "--replications": REPLICATIONS},
    "frontier": {"--budget": st.one_of(st.sampled_from(["800 juta", "1e15", "0", "-1", "1 triliun"]), JUNK),
                 "--facilitator-shares": st.one_of(st.sampled_from(["0,0.1", "-0.1", "1.5"]), JUNK),
                 "--equipment-shares": st.one_of(st.sampled_from(["0,0.2", "0.95", "-.5"]), JUNK),
                 "--years": SMALL_INT, "--hours": SMALL_INT},
}


@st.composite
def command_lines(draw) -> tuple[list[str], dict[str, str]]:
    """A command line and the files it names (name in the argv -> text to write)."""
    files = {"SCENARIO_FILE": draw(scenario_text()), "EXPERIMENT_FILE": draw(experiment_text()),
             "DISTRICT_FILE": draw(district_text())}
    command = draw(st.sampled_from(["run", "scenarios", "params", "sweep", "compare", "report", *HEAVY, "--lang"]))
    if command == "run":
        args = ["run", draw(SCENARIO_NAME), "--months", draw(MONTHS), "--no-plots", "--out", "OUT",
                *_pick(draw, {"--seed": SMALL_INT, "--json": FLAG, "--district": st.sampled_from(
                    ["DISTRICT_FILE", "majene", "nosuch", ""]), "--xlsx": st.sampled_from(["OUT/t.xlsx", "OUT", ""]),
                    "--csv": st.sampled_from(["OUT/t.csv", "OUT/x/", ""])}, 3)]
        args += [a for kv in draw(st.lists(SET, max_size=2)) for a in ("--set", kv)]
    elif command == "scenarios":
        args = ["scenarios", *draw(st.sampled_from([[], ["--bogus"], ["x"]]))]
    elif command == "params":
        args = ["params", *draw(st.sampled_from([[], ["--markdown"], ["--markdown", "x"]]))]
    elif command == "sweep":
        args = ["sweep", draw(st.sampled_from(["EXPERIMENT_FILE", "SCENARIO_FILE", "nosuch", "staffing"])),
                "--workers", "1", "--no-progress", "--out", "OUT",
                *_pick(draw, {"--resume": FLAG, "--overwrite": FLAG, "--replications": REPLICATIONS}, 2)]
        if "staffing" in args and "--replications" not in args:
            args += ["--replications", "0"]  # a shipped experiment at full size would take minutes
    elif command == "compare":
        args = ["compare", draw(SCENARIO_NAME), draw(SCENARIO_NAME), "--replications", draw(REPLICATIONS),
                "--months", draw(MONTHS), "--workers", "1",
                *_pick(draw, {"--out": st.sampled_from(["OUT", ""]), "--resume": FLAG, "--overwrite": FLAG}, 2)]
    elif command == "report":
        args = ["report", draw(st.sampled_from(["OUT", "nosuch", "SCENARIO_FILE", ""])),
                *_pick(draw, {"--out": st.sampled_from(["OUT/r", "SCENARIO_FILE"])}, 1)]
    elif command == "--lang":
        args = ["--lang", draw(st.sampled_from(["id", "en", "xx", ""])), "params"]
    else:
        bad_option = draw(st.sampled_from(sorted(BAD)))
        bad = [bad_option] if BAD[bad_option] is FLAG else [bad_option, draw(BAD[bad_option])]
        args = [command, *_pick(draw, HEAVY[command], 3), "--workers", "1", "--out", "OUT", *bad]
        if command == "sensitivity":
            args += ["--no-progress"]
    return args, files


# --- the property ----------------------------------------------------------------------------------

def _tree(root: Path, skip: Path | None = None) -> dict[str, tuple[int, int]]:
    found = {}
    for folder, dirs, names in os.walk(root):
        if "__pycache__" in dirs:
            dirs.remove("__pycache__")
        for name in names:
            if name.endswith(".mo"):  # a catalog compiled on first use beside its source (kube_sim.common.i18n)
                continue
            path = Path(folder, name)
            if skip is not None and (path == skip or skip in path.parents):
                continue
            info = path.lstat()
            found[str(path.relative_to(root))] = (info.st_size, info.st_mtime_ns)
    return found


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@settings(settings.get_profile(PROFILE))
@given(case=command_lines())
def test_every_command_answers_bad_input_cleanly(case, work, monkeypatch_module):
    argv, texts = case
    example = Path(work, f"ex{len(list(work.iterdir()))}")
    example.mkdir()
    out = example / "OUT"
    names = {"SCENARIO_FILE": example / "fuzz.toml", "EXPERIMENT_FILE": example / "experiment.toml",
             "DISTRICT_FILE": example / "district.csv", "OUT": out}
    for key, text in texts.items():
        names[key].write_bytes(text.encode("utf-8", "surrogatepass"))
    for key, path in names.items():
        argv = [a.replace(key, str(path)) for a in argv]
    monkeypatch_module.chdir(example)
    before, package = _tree(example, skip=out), _tree(PACKAGE)
    err, stdout = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(stdout):
        status = main(argv)
    message = err.getvalue()
    assert status in ALLOWED, (argv, status, message)
    assert "Traceback" not in message and "Warning" not in message, (argv, message)
    if status != 0:
        lines = [line for line in message.splitlines() if line.strip()]
        assert 1 <= len(lines) <= 3, (argv, message)
    assert _tree(example, skip=out) == before, argv  # nothing beside the output folder
    assert _tree(PACKAGE) == package, argv


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch
