"""``kube-sim brief``: one page for the head of office, from a finished comparison's results folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from kube_sim.cli.common import add_command, add_sensitivity_option, add_table_options, write_brief_command

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
    brief.set_defaults(func=write_brief_command)
