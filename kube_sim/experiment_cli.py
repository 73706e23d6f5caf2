"""Command-line subcommands for experiments (sweep, report, compare)."""

from __future__ import annotations

import argparse


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register the experiment subcommands on the main parser.

    Args:
        subparsers: The main parser's subparsers.
    """
