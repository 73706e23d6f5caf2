"""``kube-sim brief``: one page for the head of office, from a finished comparison's results folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from kube_sim.cli.common import add_command, add_table_options
from kube_sim.experiments.files import display_path
from kube_sim.store.targets import FOLDER, Target, check_outputs

EPILOG = """\
Reads the folder 'kube-sim compare A B --out FOLDER' wrote and writes FOLDER/report/brief.html (one
A4 page when printed) and brief.md: the question, the two options with their cost a year, the groups
still running 3 years after funding, the households lifted out of poverty per Rp 1 miliar with its
interval in words, the assumptions that matter most (from a sensitivity result inside FOLDER or given
with --sensitivity; else it says none was run), and the date and version. Nothing is simulated.

examples:
  kube-sim compare baseline ratio_1_20 --out results/ratio
  kube-sim brief results/ratio
  kube-sim brief results/ratio --sensitivity results/sensitivity --out /tmp/brief
  kube-sim report results/ratio --brief          # the same brief, from the report command
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``brief`` on the main parser.

    Args:
        subparsers: The main parser's subparsers.
    """
    brief = add_command(subparsers, "brief", summary="one page for the head of office from a finished comparison",
                        description="Write a one-page brief (HTML that prints on one A4 sheet, and Markdown) of a "
                                    "finished comparison's results folder.", epilog=EPILOG)
    brief.add_argument("results_dir", type=Path, metavar="FOLDER", help="the folder 'kube-sim compare --out' wrote")
    brief.add_argument("--out", type=Path, metavar="DIR", help="where the brief goes (default: FOLDER/report)")
    add_sensitivity_option(brief)
    add_table_options(brief)
    brief.set_defaults(func=cmd_brief)


def add_sensitivity_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--sensitivity``: the sensitivity result the brief names its assumptions from.

    Args:
        parser: The ``brief`` or ``report`` parser.
    """
    parser.add_argument("--sensitivity", type=Path, metavar="DIR",
                        help="a 'kube-sim sensitivity' results folder the brief takes the assumptions that "
                             "matter most from (default: one inside the comparison's folder, if any)")


def cmd_brief(args: argparse.Namespace) -> int:
    """Write the brief of a finished comparison.

    Args:
        args: Parsed ``brief`` (or ``report --brief``) arguments.

    Returns:
        Exit status 0.

    Raises:
        InputError: When the folder holds no finished comparison, or an output cannot be written.
    """
    from kube_sim.reporting.brief import find_sensitivity, load_comparison, write_brief
    from kube_sim.reporting.report import REPORT_DIR

    load_comparison(args.results_dir)  # no finished comparison: one line naming the fix, before anything
    find_sensitivity(args.results_dir, args.sensitivity)
    out = args.out if args.out is not None else args.results_dir / REPORT_DIR
    check_outputs({"--out": Target(out, FOLDER, typed=args.out is not None)})
    paths = write_brief(args.results_dir, out, args.sensitivity)
    print(f"brief in {display_path(out)}/: " + ", ".join(p.name for p in paths)
          + " (print the HTML on one A4 page)")
    return 0
