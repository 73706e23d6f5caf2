"""``kube-sim frontier`` (placeholder while it is built)."""

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register nothing yet."""
