"""The ``kube-sim`` command line: run a scenario, list scenarios, list parameters.

Bad input (a missing file, malformed TOML, an unknown key, a wrong type or range, in a scenario
file or in ``--set``, or a bad ``--seed``/``--months``) gives exactly one line on stderr naming the
file (or option) and the key, and exit status 2. Ctrl-C gives one line and exit status 130.

Subcommand handlers take the parsed arguments and return the exit status; they raise
:class:`~kube_sim.common.errors.InputError` for bad input. :mod:`kube_sim.cli.experiment_commands` adds its own
subcommands the same way.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import textwrap
from pathlib import Path
from typing import Any, NoReturn

from tqdm import tqdm

from kube_sim import __version__
from kube_sim.cli import app as app_cli
from kube_sim.cli import experiment_commands as experiment_cli
from kube_sim.common.errors import InputError
from kube_sim.common.provenance import now_iso, package_version
from kube_sim.experiments.scenario import (
    apply_overrides,
    display_path,
    list_scenarios,
    load_scenario,
    parse_assignments,
    scenario_dir,
    toml_value,
)
from kube_sim.model.defaults import DEFAULT_MONTHS, DEFAULT_SEED
from kube_sim.model.parameters import BUSINESS_TYPES, PARAMETER_SPECS, SECTIONS, ParameterSpec
from kube_sim.store.run_folder import dumps

PROG = "kube-sim"
DEFAULT_SCENARIO = "baseline"
MAX_MONTHS = 1200
"""Longest run accepted (100 years), a guard against typos."""
MAX_SEED = 2**63 - 1
EXIT_INPUT = 2
EXIT_INTERRUPTED = 130

EPILOG = """\
examples:
  kube-sim run                                   # the baseline, seed 42, 96 months
  kube-sim run ratio_1_20 --seed 7 --months 60   # a shipped scenario by name
  kube-sim run my_district.toml --out results/mine
  kube-sim run baseline --set grants.equipment_rp=5000000 --set facilitators.pattern=needs_based
  kube-sim run baseline --json --no-plots > summary.json
  kube-sim scenarios                             # what ships, and what each one changes
  kube-sim params --markdown                     # every parameter, its unit and source
"""

RUN_EPILOG = """\
SCENARIO is the name of a file in the scenarios folder (see 'kube-sim scenarios') or a path to a
TOML file with top-level name and description strings and tables of changed parameters.

--set values are TOML values; bare words are strings:
  --set grants.equipment_rp=7_000_000      --set facilitators.targets=true
  --set facilitators.pattern=needs_based   --set business.cycle_months=[4,3,1]

examples:
  kube-sim run
  kube-sim run no_facilitators --months 60 --seed 1
  kube-sim run baseline --set facilitators.groups_per_facilitator=20 --out results/ratio20
  kube-sim run equipment_grant --json --no-plots
"""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors take one line on stderr (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        """Print one line naming the command and the problem, then exit with status 2."""
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class _Formatter(argparse.HelpFormatter):
    """Wraps the description but keeps the epilog's examples as written."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32, width=100)

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if isinstance(action, argparse._SubParsersAction):
            # argparse measures command names one indent short; leave room so none wraps.
            longest = max((len(name) for name in action.choices), default=0)
            self._action_max_length = max(self._action_max_length, longest + self._current_indent + 6)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith(_RAW):
            return "".join(indent + line for line in text[len(_RAW):].splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


_RAW = "\x00raw\x00"
"""Marks help text (the epilogs) that the formatter prints as written."""


def whole_number(text: str, low: int, high: int) -> int:
    """Parse an option's value as a whole number from ``low`` to ``high`` (``_`` separators allowed).

    Args:
        text: The option's value.
        low: Smallest value allowed.
        high: Largest value allowed.

    Returns:
        The number.

    Raises:
        argparse.ArgumentTypeError: If it is not a whole number in range.
    """
    try:
        value = int(text.strip().replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
    if value > high:
        raise argparse.ArgumentTypeError(f"must be at most {high:_}, got {value:_}")
    return value


def seed_arg(text: str) -> int:
    """Parse ``--seed``: a whole number, 0 or more.

    Args:
        text: The option's value.

    Returns:
        The seed.

    Raises:
        argparse.ArgumentTypeError: If it is not a non-negative whole number.
    """
    return whole_number(text, 0, MAX_SEED)


def months_arg(text: str) -> int:
    """Parse ``--months``: a whole number from 1 to :data:`MAX_MONTHS`.

    Args:
        text: The option's value.

    Returns:
        The number of months.

    Raises:
        argparse.ArgumentTypeError: If it is not a whole number in range.
    """
    return whole_number(text, 1, MAX_MONTHS)


def _version() -> str:
    import platform

    return f"{PROG} {__version__} (Mesa {package_version('mesa')}, Python {platform.python_version()})"


def build_parser() -> argparse.ArgumentParser:
    """Build the ``kube-sim`` argument parser with all subcommands.

    Returns:
        The parser.
    """
    parser = _Parser(
        prog=PROG,
        description="Agent-based simulation of KUBE joint business groups (Kelompok Usaha Bersama) "
                    "in a district such as Polewali Mandar: formation, grants, facilitators, survival.",
        epilog=_RAW + EPILOG,
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=_version(),
                        help="show the kube-sim, Mesa and Python versions and exit")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")

    run = sub.add_parser(
        "run", help="run one scenario and write its results",
        description="Run the model once for a scenario and write tables, summary, manifest and figures.",
        epilog=_RAW + RUN_EPILOG, formatter_class=_Formatter,
    )
    run.add_argument("scenario", nargs="?", default=DEFAULT_SCENARIO, metavar="SCENARIO",
                     help=f"scenario name (a file in the scenarios folder) or path to a .toml file "
                          f"(default: {DEFAULT_SCENARIO})")
    run.add_argument("--seed", type=seed_arg, default=DEFAULT_SEED, metavar="N",
                     help=f"random seed, a whole number >= 0; the same seed gives the same run "
                          f"(default: {DEFAULT_SEED})")
    run.add_argument("--months", type=months_arg, default=DEFAULT_MONTHS, metavar="M",
                     help=f"months to simulate, 1 to {MAX_MONTHS} (default: {DEFAULT_MONTHS})")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="assignments",
                     help="change one parameter on top of the scenario, e.g. grants.equipment_rp=5000000; "
                          "repeat for more (see 'kube-sim params' for keys)")
    run.add_argument("--out", type=Path, metavar="DIR",
                     help="folder for the results (default: results/<scenario name>)")
    run.add_argument("--json", action="store_true",
                     help="print only the run summary as one JSON object on stdout (no progress bar)")
    run.add_argument("--no-plots", action="store_true", help="do not draw survival.png and monthly.png")
    run.set_defaults(func=cmd_run)

    scen = sub.add_parser(
        "scenarios", help="list the shipped scenarios and what each one changes",
        description="List the scenario files (the folder can be changed with the environment variable "
                    "KUBE_SIM_SCENARIOS), with their descriptions and their changes from the defaults.",
        formatter_class=_Formatter,
    )
    scen.set_defaults(func=cmd_scenarios)

    params = sub.add_parser(
        "params", help="list every parameter: key, default, unit, range, source, meaning",
        description="List every model parameter by its dotted key (as used in scenario files and --set), "
                    "with its default, unit, valid range, source (or 'assumption') and meaning.",
        formatter_class=_Formatter,
    )
    params.add_argument("--markdown", action="store_true", help="print Markdown tables, one per section")
    params.set_defaults(func=cmd_params)

    experiment_cli.add_commands(sub)
    app_cli.add_parser(sub)
    return parser


# --- run -------------------------------------------------------------------------------------------

def _out_name(name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")
    return safe or "scenario"


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _rp(value: Any) -> str:
    return "n/a" if value is None else f"Rp {value:,.0f}"


def _num(value: Any, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def format_summary(summary: dict[str, Any], description: str = "", results_dir: Path | None = None,
                   files: list[str] | None = None) -> str:
    """Render a run summary as a readable table.

    Args:
        summary: A run summary (see ``runner.run_model``).
        description: The scenario's description.
        results_dir: Where the results were written.
        files: The file names written there.

    Returns:
        Multi-line text.
    """
    rows: list[tuple[str, str]] = [
        ("scenario", str(summary.get("scenario"))),
        ("seed", str(summary.get("seed"))),
        ("months", str(summary.get("months"))),
        ("groups funded", f"{summary.get('groups_funded')} ({summary.get('groups_active_end', 'n/a')} running "
                          f"at the end)"),
        ("members", f"{summary.get('members'):,}"),
        ("facilitators", str(summary.get("facilitators"))),
    ]
    survival = summary.get("survival") or {}
    rows += [(f"survival at {h} months", _pct(share)) for h, share in survival.items()]
    rows += [
        ("mean group income per member", f"{_rp(summary.get('mean_member_income_rp'))} per month"),
        ("share above poverty line", _pct(summary.get("share_above_poverty_line"))),
        ("programme cost, total", _rp(summary.get("cost_total_rp"))),
    ]
    rows += [(f"  {item.replace('_', ' ')}", _rp(cost)) for item, cost in
             (summary.get("cost_by_item_rp") or {}).items()]
    rows += [
        ("cost per surviving group", _rp(summary.get("cost_per_surviving_group_rp"))),
        ("visits per group per month", _num(summary.get("visits_per_group_month"))),
        ("groups unvisited, last quarter", _pct(summary.get("share_groups_unvisited_last_quarter"))),
        ("unvisited for a quarter, mean", _pct(summary.get("mean_share_unvisited_quarter"))),
        ("inactive member share", _pct(summary.get("inactive_member_share"))),
    ]
    causes = summary.get("failure_causes") or {}
    failed = sum(causes.values())
    rows.append(("failure causes", "none" if not failed else
                 ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(causes.items(), key=lambda kv: -kv[1])
                           if v)))
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:<{width}}  {value}" for label, value in rows]
    if description:
        lines.insert(1, textwrap.fill(description, width=100, initial_indent=" " * (width + 2),
                                      subsequent_indent=" " * (width + 2)))
    if results_dir is not None:
        lines.append("")
        lines.append(f"results in {display_path(results_dir)}/" + (f": {', '.join(files)}" if files else ""))
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    """Run a scenario, write its results and report the summary.

    Args:
        args: Parsed ``run`` arguments.

    Returns:
        Exit status.

    Raises:
        InputError: For a bad scenario, ``--set`` assignment or output folder.
    """
    scenario = load_scenario(args.scenario)
    scenario = apply_overrides(scenario, parse_assignments(args.assignments))
    out_dir = args.out if args.out is not None else Path("results") / _out_name(scenario.name)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError("exists and is not a folder", source="--out", key=str(out_dir))

    from kube_sim.model.run import run_model  # imported here so that --help and bad input answer fast

    started = now_iso()
    show_bar = not args.json and sys.stderr.isatty()
    with tqdm(total=args.months, desc=scenario.name, unit="month", file=sys.stderr, disable=not show_bar,
              leave=False, dynamic_ncols=True) as bar:
        result = run_model(scenario.params, seed=args.seed, months=args.months, scenario=scenario.name,
                           on_month=lambda _month: bar.update(1))

    figures: dict[str, Any] = {}
    if not args.no_plots:
        from kube_sim.reporting.run_figures import monthly_figure, survival_figure

        figures["survival.png"] = survival_figure(
            result.groups, args.months, f"{scenario.name}: groups still active (seed {args.seed})")
        figures["monthly.png"] = monthly_figure(result.monthly)

    from kube_sim.store.run_folder import write_run

    argv = [PROG, *(args.argv if getattr(args, "argv", None) is not None else sys.argv[1:])]
    try:
        path = write_run(result, out_dir, scenario=scenario, seed=args.seed, months=args.months, argv=argv,
                         started=started, figures=figures)
    except OSError as exc:
        raise InputError(f"cannot write results: {exc.strerror or exc}", source="--out",
                         key=str(exc.filename or out_dir)) from None

    if args.json:
        payload = {**result.summary, "results_dir": str(path)}
        sys.stdout.write(dumps(payload))
    else:
        files = sorted(p.name for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        print(format_summary(result.summary, scenario.description, path, files))
    return 0


# --- scenarios -------------------------------------------------------------------------------------

def cmd_scenarios(args: argparse.Namespace) -> int:
    """List the scenarios with their descriptions and changes.

    Args:
        args: Parsed ``scenarios`` arguments.

    Returns:
        Exit status.
    """
    folder = scenario_dir()
    scenarios = list_scenarios()
    if not scenarios:
        print(f"no scenario files in {display_path(folder)}")
        return 0
    print(f"scenarios in {display_path(folder)}/ (run one with: kube-sim run NAME)\n")
    for scenario in scenarios:
        file = scenario.path.name if scenario.path else ""
        print(f"{scenario.name}" + (f"  ({file})" if file and Path(file).stem != scenario.name else ""))
        print(textwrap.fill(scenario.description, width=100, initial_indent="    ", subsequent_indent="    "))
        if not scenario.overrides:
            print("    changes: none (the defaults)")
        else:
            print("    changes:")
            for key, value in scenario.overrides.items():
                default = PARAMETER_SPECS[key].default
                print(f"      {key} = {toml_value(value)}   (default {toml_value(default)})")
        print()
    return 0


# --- params ----------------------------------------------------------------------------------------

def value_range(spec: ParameterSpec) -> str:
    """Describe the valid values of a parameter.

    Args:
        spec: The parameter's spec.

    Returns:
        Text such as ``0 to 1``, ``>= 0``, ``one of: a, b`` or ``true or false``.
    """
    if spec.choices:
        return "one of: " + ", ".join(spec.choices)
    if spec.type is bool:
        return "true or false"
    if spec.type is str:
        return "text"
    lo, hi = spec.low, spec.high
    if lo is None and hi is None:
        bounds = "any number"
    elif hi is None:
        bounds = f">= {lo:g}"
    elif lo is None:
        bounds = f"<= {hi:g}"
    else:
        bounds = f"{lo:g} to {hi:g}"
    if spec.type is tuple:
        return f"{len(spec.default)} values ({', '.join(BUSINESS_TYPES)}), each {bounds}"
    return bounds


def _section_doc(section: str) -> str:
    doc = SECTIONS[section].__doc__ or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _md(text: str) -> str:
    return str(text).replace("|", "\\|")


def format_params(markdown: bool = False) -> str:
    """Render every parameter: dotted key, default, unit, range, source and meaning.

    Args:
        markdown: Markdown tables (one per section) instead of plain text.

    Returns:
        Multi-line text.
    """
    lines: list[str] = []
    for section in SECTIONS:
        specs = [s for s in PARAMETER_SPECS.values() if s.section == section]
        if markdown:
            lines += [f"### `[{section}]`: {_md(_section_doc(section))}", "",
                      "| key | default | unit | range | source | meaning |",
                      "|---|---|---|---|---|---|"]
            lines += [f"| `{s.key}` | `{_md(toml_value(s.default))}` | {_md(s.unit)} | {_md(value_range(s))} | "
                      f"{_md(s.source)} | {_md(s.doc)} |" for s in specs]
            lines.append("")
        else:
            lines.append(f"[{section}]  {_section_doc(section)}")
            for s in specs:
                lines.append(f"  {s.key} = {toml_value(s.default)}   [{s.unit}; {value_range(s)}]")
                lines.append(textwrap.fill(f"{s.doc} (source: {s.source})", width=100, initial_indent="      ",
                                           subsequent_indent="      "))
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def cmd_params(args: argparse.Namespace) -> int:
    """Print every parameter.

    Args:
        args: Parsed ``params`` arguments.

    Returns:
        Exit status.
    """
    sys.stdout.write(format_params(markdown=args.markdown))
    return 0


# --- entry point -----------------------------------------------------------------------------------

def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def _commands(parser: argparse.ArgumentParser) -> list[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def main(argv: list[str] | None = None) -> int:
    """Run the ``kube-sim`` command line.

    Args:
        argv: Arguments without the program name (default ``sys.argv[1:]``).

    Returns:
        Exit status: 0 on success, 2 for bad input, 130 when interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return _exit_code(exc)
    func = getattr(args, "func", None)
    if func is None:
        print(f"{PROG}: error: choose a command: {', '.join(_commands(parser))} (see '{PROG} --help')",
              file=sys.stderr)
        return EXIT_INPUT
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return int(func(args) or 0)
    except InputError as exc:
        print(f"{PROG}: error: {exc.one_line()}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (e.g. '| head'): silence the flush at exit, nothing more to say.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
