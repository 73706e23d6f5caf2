"""``kube-sim sweep``: run an experiment file's design with paired replications, resumably.

A sweep that stops early (a worker died) prints one line and exits 1; its finished runs are saved.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kube_sim.cli.common import (
    Study,
    add_district_option,
    add_ensemble_option,
    add_months_option,
    add_sweep_options,
    add_table_options,
    add_workers_option,
    output_folder,
    register,
    render_table,
    replications_arg,
    say,
    with_district,
)
from kube_sim.experiments.files import display_path

SUMMARY_OUTCOMES: tuple[str, ...] = ("survival_36", "mean_member_income_rp")
"""Outcomes the table printed after a sweep shows."""

EPILOG = """\
EXPERIMENT is the name of a file in the experiments folder (staffing, equipment, inactive_members,
combined) or a path to a TOML file: base scenario, factors (lists or ranges of dotted parameter keys),
design (factorial, lhs or sobol), replications, master seed, months, outcomes to keep.

Replication i uses the same seed in every arm (common random numbers), so arms are paired. Each run
is saved as it finishes (parts/ in the results folder); a sweep stopped at any moment keeps its
finished runs and --resume runs only the missing ones. A run that raises is recorded as failed.

The results folder holds runs.parquet (one row per run: factors, seed, outcomes), groups.parquet
(one row per group per run, with time to failure), monthly.parquet and manifest.json.

examples:
  kube-sim sweep staffing                          # results/staffing/, every CPU
  kube-sim sweep staffing --workers 2 --replications 5 --months 60
  kube-sim sweep my_experiment.toml --out results/mine
  kube-sim sweep staffing --resume                 # finish a sweep that was stopped
  kube-sim sweep staffing --district majene        # in another district (see docs/districts.md)
  kube-sim sweep combined --backend dask           # a local Dask cluster
  kube-sim sweep combined --backend dask --scheduler tcp://10.0.0.5:8786
  kube-sim report results/staffing                 # then read the report
"""


class Sweep(Study):
    """``kube-sim sweep``: an experiment file's design, and a table of its arms."""

    name = "sweep"
    summary = "run an experiment: every arm x replication, paired seeds, resumable"
    description = ("Run an experiment file's design (factorial, Latin hypercube or Sobol) over a base scenario, "
                   "with paired replications, saving each run as it finishes.")
    epilog = EPILOG
    lock = False  # the sweep engine holds the folder itself

    @classmethod
    def add_options(cls, parser: argparse.ArgumentParser) -> None:
        """Add the experiment and the run settings that replace the file's.

        Args:
            parser: The command's parser.
        """
        parser.add_argument("experiment", metavar="EXPERIMENT",
                            help="experiment name (a file in the experiments folder) or path to a .toml file")
        add_workers_option(parser, "parallel runs: local processes (1 runs in this process) or local Dask workers")
        parser.add_argument("--replications", type=replications_arg, metavar="R",
                            help="replications per arm, replacing the file's (seeds are unchanged for the first "
                                 "ones)")
        add_months_option(parser, None, "months per run, replacing the file's")
        add_district_option(parser)
        parser.add_argument("--out", type=Path, metavar="DIR",
                            help="results folder (default: results/<experiment name>)")
        add_sweep_options(parser, "a sweep")
        add_ensemble_option(parser)
        add_table_options(parser)

    def check(self) -> None:
        """Read the experiment file with the run settings and district given."""
        from kube_sim.experiments.experiment import load_experiment

        args = self.args
        experiment = load_experiment(args.experiment).with_run_settings(replications=args.replications,
                                                                        months=args.months)
        self.experiment = dataclasses.replace(experiment,
                                              base_scenario=with_district(experiment.base_scenario, args))

    def plan(self) -> Any:
        """The experiment's design: every arm x replication."""
        from kube_sim.experiments.sweep import plan_experiment

        return plan_experiment(self.experiment)

    def targets(self) -> list[tuple[str, Any]]:
        """``--out``, named after the experiment by default."""
        self.folder = output_folder(self.args.out, self.experiment.name)
        return super().targets()

    def show(self, result: Any, folder: Path) -> None:
        """The arms' means and intervals of the key outcomes."""
        table = sweep_table(folder)
        if table:
            print()
            print(table)

    def closing(self, result: Any, written: Any, folder: Path) -> None:
        """Where the tables are, and how to read the report."""
        say(f"\nresults in {display_path(folder)}/ (runs.parquet, groups.parquet, monthly.parquet, manifest.json)")
        print(f"report: kube-sim report {display_path(folder)}")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``sweep`` on the main parser.

    Args:
        subparsers: The main parser's subparsers.
    """
    register(subparsers, Sweep)


def sweep_table(folder: Path, outcomes: Sequence[str] = SUMMARY_OUTCOMES) -> str:
    """Per-arm means and 95% intervals of the key outcomes, as text.

    Args:
        folder: A sweep's results folder.
        outcomes: Outcomes to show (those absent or all missing are skipped).

    Returns:
        The table, or "" when there is nothing to show.
    """
    from kube_sim.analysis import statistics as analysis
    from kube_sim.common.outputs import label_of
    from kube_sim.reporting.arms import names_from_manifest
    from kube_sim.reporting.formats import fmt_brief
    from kube_sim.store import sweep_folder as store

    runs = store.load_runs(folder)
    shown = [o for o in outcomes if o in runs.columns and runs[o].notna().any()]
    if not shown or runs.empty:
        return ""
    summary = analysis.arm_summary(runs, shown)
    try:
        manifest = store.load_manifest(folder)
    except FileNotFoundError:
        manifest = {}
    names = names_from_manifest(manifest, sorted(int(a) for a in summary["arm"].unique()))
    reference = manifest.get("reference_arm")
    header = ["arm", "name", "runs ok", *[label_of(o) for o in shown]]
    rows = []
    ok = runs[runs["status"] == "ok"].groupby("arm").size()
    for arm, part in summary.groupby("arm", sort=True):
        cells = [str(arm) + (" (reference)" if reference is not None and int(arm) == int(reference) else ""),
                 names.get(int(arm), str(part["arm_label"].iloc[0])), str(int(ok.get(arm, 0)))]
        for outcome in shown:
            row = part[part["outcome"] == outcome].iloc[0]
            cells.append(f"{fmt_brief(outcome, row['mean'])} "
                         f"({fmt_brief(outcome, row['ci_low'])} to {fmt_brief(outcome, row['ci_high'])})")
        rows.append(cells)
    text = render_table(header, rows, left=2, title="arms")
    return text + "\n(means with 95% confidence intervals over replications)"
