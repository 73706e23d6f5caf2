"""``kube-sim scenarios``: list the scenario files, their descriptions and their changes."""

from __future__ import annotations

import argparse
import textwrap

from kube_sim.cli.common import add_command
from kube_sim.experiments.files import display_path
from kube_sim.experiments.scenario import SCENARIO_FILES, list_scenarios, toml_value
from kube_sim.model.parameters import PARAMETER_SPECS


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``scenarios`` on the main parser.

    Args:
        subparsers: The main parser's subparsers.
    """
    scenarios = add_command(
        subparsers, "scenarios", summary="list the shipped scenarios and what each one changes",
        description=f"List the scenario files (the folder can be changed with the environment variable "
                    f"{SCENARIO_FILES.env}), with their descriptions and their changes from the defaults.",
    )
    scenarios.set_defaults(func=cmd_scenarios)


def cmd_scenarios(args: argparse.Namespace) -> int:
    """List the scenarios with their descriptions and changes.

    Args:
        args: Parsed ``scenarios`` arguments.

    Returns:
        Exit status.
    """
    folder = SCENARIO_FILES.folder()
    scenarios = list_scenarios()
    if not scenarios:
        print(f"no scenario files in {display_path(folder)}")
        return 0
    print(f"scenarios in {display_path(folder)}/ (run one with: kube-sim run NAME)\n")
    for scenario in scenarios:
        path = scenario.path
        print(scenario.name + (f"  ({path.name})" if path is not None and path.stem != scenario.name else ""))
        if scenario.description:
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
