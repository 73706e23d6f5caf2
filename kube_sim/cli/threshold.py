"""``kube-sim threshold``: the largest caseload that keeps survival at a horizon at or above a target.

A threshold run is a sweep (see ``kube-sim sweep``): the base scenario at each caseload of a grid, with
paired seeds, saved run by run and resumable; afterwards the answer, the curve table and the figure are
written next to the sweep's tables.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kube_sim.cli.common import (
    Study,
    add_months_option,
    add_planning_options,
    add_table_options,
    basis_line,
    hours_arg,
    output_folder,
    planned_scenario,
    print_today,
    register,
    render_table,
    replications_arg,
    say,
    share_arg,
    today_of,
    whole_number,
)
from kube_sim.common.i18n import _
from kube_sim.experiments.files import display_path

DEFAULT_OUT = "threshold"
DEFAULT_REPLICATIONS = 40
"""Paired replications per caseload by default (14 caseloads: about a minute or two on 2 cores)."""

EPILOG = """\
The base scenario runs at every caseload of the grid (--caseloads) with the same replication seeds,
so caseloads are compared within a replication. Each run's Kaplan-Meier survival at the horizon is
averaged by caseload; the curve is made non-increasing in the caseload (isotonic regression), and a
paired bootstrap over replications gives its band. The answer is the largest caseload whose lower
one-sided bound at --confidence is at or above --target; the crossing point, where the fitted curve
falls to the target, comes with its bootstrap interval. If no caseload (or every one) reaches the
target, the answer says so.

Results: <out>/ holds the sweep's tables and manifest.json, threshold.csv (the curve),
threshold.png (survival against caseload, band, target, threshold) and threshold.json (the answer).

examples:
  kube-sim threshold                                   # 50% at 36 months, 90% confidence
  kube-sim threshold --target 0.4 --hours 30           # facilitators working 30 hours a month
  kube-sim threshold --caseloads 2,5,10,20 --replications 10 --out results/quick
  kube-sim threshold --resume                          # finish a stopped run
"""


def _caseloads(text: str) -> list[int]:
    values = sorted({whole_number(t, 1, 1000) for t in text.split(",") if t.strip()})
    if len(values) < 2:
        raise argparse.ArgumentTypeError("expected at least two different caseloads, e.g. 2,5,10,20")
    return values


class Threshold(Study):
    """``kube-sim threshold``: a sweep over caseloads, then the largest caseload that keeps survival at the target."""

    name = "threshold"
    summary = "the most groups per facilitator that keeps survival at a target"
    description = ("The largest number of groups per facilitator that keeps Kaplan-Meier survival at the horizon "
                   "at or above the target with the stated confidence, from a paired sweep over caseloads.")
    epilog = EPILOG

    @classmethod
    def add_options(cls, parser: argparse.ArgumentParser) -> None:
        """Add the threshold's options (the question, the grid, the planning options).

        Args:
            parser: The command's parser.
        """
        from kube_sim.experiments.threshold import DEFAULT_CASELOADS

        p = parser
        p.add_argument("--scenario", default="baseline", metavar="NAME",
                       help="base scenario, a name or a .toml path (default: baseline)")
        p.add_argument("--target", type=share_arg, default=0.5, metavar="S",
                       help="survival to keep at the horizon, a share (default: 0.5)")
        p.add_argument("--horizon", type=lambda t: whole_number(t, 1, 600), default=36, metavar="MONTHS",
                       help="months after a group's funding at which survival is judged (default: 36)")
        p.add_argument("--hours", type=hours_arg, metavar="H",
                       help="facilitator hours a month (facilitators.hours_per_month; default: the scenario's)")
        p.add_argument("--confidence", type=share_arg, default=0.9, metavar="C",
                       help="one-sided confidence that survival is at or above the target (default: 0.9)")
        p.add_argument("--caseloads", type=_caseloads, default=list(DEFAULT_CASELOADS), metavar="A,B,...",
                       help=f"groups per facilitator evaluated (default: {','.join(map(str, DEFAULT_CASELOADS))})")
        p.add_argument("--replications", type=replications_arg, default=DEFAULT_REPLICATIONS, metavar="R",
                       help=f"paired replications per caseload (default: {DEFAULT_REPLICATIONS})")
        add_months_option(p, None, "months per run (default: the horizon plus 12 per later funding round plus 4, "
                                   "so every cohort is followed to the horizon: 64 for the baseline)")
        add_planning_options(p, "a threshold run", DEFAULT_OUT)
        add_table_options(p)

    def check(self) -> None:
        """Plan the scenario and the run length; name the results folder."""
        from kube_sim.experiments.threshold import run_length

        self.base = planned_scenario(self.args)
        self.months = run_length(self.base, self.args.horizon, self.args.months)
        self.folder = output_folder(self.args.out, DEFAULT_OUT)

    def plan(self) -> Any:
        """One arm per caseload, with paired seeds."""
        from kube_sim.experiments.threshold import plan_threshold

        a = self.args
        return plan_threshold(self.base, caseloads=a.caseloads, hours=a.hours, target=a.target, horizon=a.horizon,
                              confidence=a.confidence, replications=a.replications, months=self.months,
                              master_seed=a.seed)

    def analyse(self, done: Any, folder: Path) -> Any:
        """The threshold from the saved runs and groups."""
        from kube_sim.analysis.threshold import threshold_from_sweep
        from kube_sim.store import sweep_folder as store

        self.manifest = store.load_manifest(folder)
        self.runs = store.load_runs(folder)
        return threshold_from_sweep(self.runs, store.read_table(folder, "groups"), self.manifest)

    def show(self, result: Any, folder: Path) -> None:
        """Today's row, the curve table and the answer in words."""
        from kube_sim.reporting import threshold as report

        self._print_today()
        header, rows = report.curve_rows(result)
        print()
        print(render_table(header, rows, left=1, title="threshold"))
        print()
        say(report.answer_text(result, float(self.manifest["threshold"]["hours_per_month"])))

    def write(self, result: Any, folder: Path) -> dict[str, Path]:
        """threshold.csv, threshold.png and threshold.json."""
        from kube_sim.reporting import threshold as report

        return report.write_outputs(folder, result, self.manifest)

    def closing(self, result: Any, written: Any, folder: Path) -> None:
        """What the answer was based on, and where the results are."""
        say("\n" + basis_line(self.runs, self.args, f"survival_{self.args.horizon}"))
        files = ", ".join([*(p.name for p in written.values()), "runs.parquet", "manifest.json"])
        say("\n" + _("results in {folder}").format(folder=f"{display_path(folder)}/") + f" ({files})")

    def _print_today(self) -> None:
        """Open the answer with today: the scenario's caseload rule as its own arm of the sweep ran it."""
        base, hours = self.base, self.args.hours
        rule = int(base.params.facilitators.groups_per_facilitator)
        grid = self.manifest["threshold"]["caseloads"]
        print()
        if rule not in grid or base.params.facilitators.count > 0:
            rule_text = f"1:{rule}"
            if base.params.facilitators.count:
                rule_text += _(", headcount {count}").format(count=base.params.facilitators.count)
            say(_("Today ({name}) recruits by its own rule (caseload {rule}), which is not one of the caseloads run; "
                  "the table below is the whole answer.").format(name=base.name, rule=rule_text))
            return
        runs = self.runs
        print_today(today_of(base, runs[runs["arm"] == grid.index(rule)], self.months,
                             _("{name}, the {ratio} row").format(name=base.name, ratio=f"1:{rule}")))
        if hours is not None and hours != base.params.facilitators.hours_per_month:
            say(_("(the sweep runs every caseload at {hours} hours a month, not today's {today})").format(
                hours=f"{hours:g}", today=f"{base.params.facilitators.hours_per_month:g}"))


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``threshold`` on the main parser.

    Args:
        subparsers: The main parser's subparsers.
    """
    register(subparsers, Threshold)
