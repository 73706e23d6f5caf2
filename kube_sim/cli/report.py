"""``kube-sim report``: figures, Markdown and HTML report and CSV tables of a sweep's results folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kube_sim.cli.common import (
    PROG,
    add_command,
    add_sensitivity_option,
    add_table_options,
    whole_number,
    write_brief_command,
)
from kube_sim.common.errors import InputError
from kube_sim.experiments.files import display_path
from kube_sim.store.targets import FOLDER, Target, check_outputs

MAX_ARM = 10_000_000

EPILOG = """\
Reads the folder a sweep wrote and writes, in RESULTS_DIR/report/ (or --out): figures (survival
curves by arm with bands, income distributions, cost against surviving groups, facilitator
workload, the effect of each factor), report.md and report.html with a plain summary table, the
staff, cost and value for money of each arm (per Rp 100 juta, and at equal cost), paired
differences against the reference arm with a reading of surprising ones, log-rank tests, and CSV
tables. The reference arm is the experiment file's 'reference', else the arm equal to the base
scenario, else arm 0; the report says which it uses and why.

examples:
  kube-sim report results/staffing
  kube-sim report results/staffing --baseline-arm "1:5 caseload, 20 hours a month"
  kube-sim report results/staffing --out /tmp/staffing-report --baseline-arm 3
"""


def _arm(text: str) -> int | str:
    """An arm by number, or by its name (any text that is not a whole number)."""
    stripped = text.strip()
    if stripped.lstrip("-").isdigit():
        return whole_number(stripped, 0, MAX_ARM)
    if not stripped:
        raise argparse.ArgumentTypeError("expected an arm's number or name")
    return stripped


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``report`` on the main parser.

    Args:
        subparsers: The main parser's subparsers.
    """
    report = add_command(
        subparsers, "report", summary="write figures and a readable report of a sweep's results",
        description="Write a planner's report (figures, Markdown and HTML, CSV tables) of a sweep's results folder.",
        epilog=EPILOG,
    )
    report.add_argument("results_dir", type=Path, metavar="RESULTS_DIR", help="the folder a sweep wrote")
    report.add_argument("--out", type=Path, metavar="DIR", help="report folder (default: RESULTS_DIR/report)")
    report.add_argument("--baseline-arm", type=_arm, metavar="ARM",
                        help="arm the others are compared with, by number or name (default: the experiment's "
                             "reference arm, else the arm equal to the base scenario, else arm 0)")
    report.add_argument("--brief", action="store_true",
                        help="write only the one-page brief of a finished comparison (as 'kube-sim brief' does)")
    add_sensitivity_option(report)
    add_table_options(report)
    report.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    """Write the report of a sweep's results folder.

    Args:
        args: Parsed ``report`` arguments.

    Returns:
        Exit status.

    Raises:
        InputError: If the folder is not a sweep's results folder.
    """
    from kube_sim.reporting.report import REPORT_DIR, write_report

    if args.brief:
        return write_brief_command(args)
    source = display_path(args.results_dir)
    if not args.results_dir.is_dir():
        raise InputError("no such results folder", source=source)
    finished_parts = args.results_dir / "parts" / "runs"
    has_parts = finished_parts.is_dir() and any(finished_parts.iterdir())
    if not (args.results_dir / "runs.parquet").is_file() and not has_parts:
        raise InputError("no runs.parquet: not a sweep's results folder (or the sweep has no finished run yet)",
                         source=source)
    check_outputs({"--out": Target(args.out if args.out is not None else args.results_dir / REPORT_DIR, FOLDER,
                                   typed=args.out is not None)})
    warning = unfinished_warning(args.results_dir)
    if warning:
        print(f"{PROG}: warning: {source}: {warning}", file=sys.stderr)
    try:
        path = Path(write_report(args.results_dir, args.out, baseline_arm=args.baseline_arm))
    except (FileNotFoundError, ValueError, KeyError) as exc:
        raise InputError(str(exc).replace("\n", " "), source=source) from None
    files = sorted(p.name for p in path.iterdir() if p.is_file())
    report = next((f for f in ("report.html", "report.md") if f in files), None)
    print(f"report in {display_path(path)}/" + (f": open {report}" if report else ""))
    if files:
        print("files: " + ", ".join(files))
    return 0


def unfinished_warning(folder: Path) -> str | None:
    """What a reader should know of a sweep still being written or stopped part way (None when finished).

    Args:
        folder: A sweep's results folder.

    Returns:
        One line saying how many runs the folder holds and what the report covers, or None.
    """
    from kube_sim.store.lock import holder
    from kube_sim.store.sweep_folder import saved_runs

    saved, total, finished = saved_runs(folder)
    of = f"{saved} of {total}" if total is not None else f"{saved}"
    busy = holder(folder)
    if busy is not None:
        return (f"is still being written by {busy.describe()}: the report covers the {of} runs saved so far; "
                "report again when it has finished")
    if not finished:
        return (f"holds an unfinished sweep ({of} runs saved): the report covers those; finish the sweep by "
                "running its command again with --resume")
    return None
