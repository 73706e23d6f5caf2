"""``kube-sim threshold``: the largest caseload that keeps survival at a horizon at or above a target.

A threshold run is a sweep (see ``kube-sim sweep``): the base scenario at each caseload of a grid, with
paired seeds, saved run by run and resumable; afterwards the answer, the curve table and the figure are
written next to the sweep's tables.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kube_sim.cli.common import (
    EXIT_STOPPED,
    PROG,
    add_command,
    add_months_option,
    add_planning_options,
    add_table_options,
    apply_ensemble,
    basis_line,
    check_sweep_options,
    command_line,
    output_folder,
    planned_scenario,
    print_today,
    render_table,
    replications_arg,
    run_plan,
    say,
    today_of,
    whole_number,
    write_failure,
)
from kube_sim.common.errors import InputError
from kube_sim.common.i18n import _
from kube_sim.experiments.files import display_path
from kube_sim.store.lock import hold
from kube_sim.store.targets import FOLDER, Target, check_outputs

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


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share between 0 and 1, e.g. 0.5, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {text}")
    return value


def _hours(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected hours a month, e.g. 20, got {text!r}") from None
    if not 0 < value <= 300:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 300, got {text}")
    return value


def _caseloads(text: str) -> list[int]:
    values = sorted({whole_number(t, 1, 1000) for t in text.split(",") if t.strip()})
    if len(values) < 2:
        raise argparse.ArgumentTypeError("expected at least two different caseloads, e.g. 2,5,10,20")
    return values


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``threshold`` on the main parser.

    Args:
        subparsers: The main parser's subparsers.
    """
    from kube_sim.experiments.threshold import DEFAULT_CASELOADS

    p = add_command(
        subparsers, "threshold", summary="the most groups per facilitator that keeps survival at a target",
        description="The largest number of groups per facilitator that keeps Kaplan-Meier survival at the horizon "
                    "at or above the target with the stated confidence, from a paired sweep over caseloads.",
        epilog=EPILOG,
    )
    p.add_argument("--scenario", default="baseline", metavar="NAME",
                   help="base scenario, a name or a .toml path (default: baseline)")
    p.add_argument("--target", type=_share, default=0.5, metavar="S",
                   help="survival to keep at the horizon, a share (default: 0.5)")
    p.add_argument("--horizon", type=lambda t: whole_number(t, 1, 600), default=36, metavar="MONTHS",
                   help="months after a group's funding at which survival is judged (default: 36)")
    p.add_argument("--hours", type=_hours, metavar="H",
                   help="facilitator hours a month (facilitators.hours_per_month; default: the scenario's)")
    p.add_argument("--confidence", type=_share, default=0.9, metavar="C",
                   help="one-sided confidence that survival is at or above the target (default: 0.9)")
    p.add_argument("--caseloads", type=_caseloads, default=list(DEFAULT_CASELOADS), metavar="A,B,...",
                   help=f"groups per facilitator evaluated (default: {','.join(map(str, DEFAULT_CASELOADS))})")
    p.add_argument("--replications", type=replications_arg, default=DEFAULT_REPLICATIONS, metavar="R",
                   help=f"paired replications per caseload (default: {DEFAULT_REPLICATIONS})")
    add_months_option(p, None, "months per run (default: the horizon plus 12 per later funding round plus 4, "
                               "so every cohort is followed to the horizon: 64 for the baseline)")
    add_planning_options(p, "a threshold run", DEFAULT_OUT)
    add_table_options(p)
    p.set_defaults(func=cmd_threshold)


def cmd_threshold(args: argparse.Namespace) -> int:
    """Run the threshold sweep and write its answer.

    Args:
        args: Parsed ``threshold`` arguments.

    Returns:
        Exit status: 0 when every run is saved, 1 when the sweep stopped early.

    Raises:
        InputError: For a bad option, scenario or output folder.
    """
    from kube_sim.experiments import threshold as design

    check_sweep_options(args)
    base = planned_scenario(args)
    months = args.months if args.months is not None else design.default_months(base, args.horizon)
    if args.horizon >= months:
        raise InputError(f"must be shorter than the run ({months} months); raise --months", source="--horizon",
                         key=str(args.horizon))
    folder = output_folder(args.out, DEFAULT_OUT)
    check_outputs({"--out": Target(folder, FOLDER, typed=args.out is not None)})
    plan = apply_ensemble(design.plan_threshold(base, caseloads=args.caseloads, hours=args.hours,
                                                target=args.target, horizon=args.horizon,
                                                confidence=args.confidence, replications=args.replications,
                                                months=months, master_seed=args.seed), args)
    with hold(folder, command_line(args)):
        if run_plan(plan, folder, args) is None:
            return EXIT_STOPPED
        _print_today(base, folder, months, args.hours)
        try:
            paths = _write_answer(folder)
        except OSError as exc:
            print(_("{prog}: error: {problem}").format(prog=PROG, problem=write_failure(exc, folder)), file=sys.stderr)
            return EXIT_STOPPED
        from kube_sim.store import sweep_folder as store

        say("\n" + basis_line(store.load_runs(folder), args, f"survival_{args.horizon}"))
    files = ", ".join([*(p.name for p in paths.values()), "runs.parquet", "manifest.json"])
    say("\n" + _("results in {folder}").format(folder=f"{display_path(folder)}/") + f" ({files})")
    return 0


def _print_today(base: Any, folder: Path, months: int, hours: float | None) -> None:
    """Open the answer with today: the scenario's caseload rule as its own arm of the sweep ran it."""
    from kube_sim.store import sweep_folder as store

    rule = int(base.params.facilitators.groups_per_facilitator)
    grid = store.load_manifest(folder)["threshold"]["caseloads"]
    print()
    if rule not in grid or base.params.facilitators.count > 0:
        rule_text = f"1:{rule}"
        if base.params.facilitators.count:
            rule_text += _(", headcount {count}").format(count=base.params.facilitators.count)
        say(_("Today ({name}) recruits by its own rule (caseload {rule}), which is not one of the caseloads run; "
                "the table below is the whole answer.").format(name=base.name, rule=rule_text))
        return
    runs = store.load_runs(folder)
    print_today(today_of(base, runs[runs["arm"] == grid.index(rule)], months,
                         _("{name}, the {ratio} row").format(name=base.name, ratio=f"1:{rule}")))
    if hours is not None and hours != base.params.facilitators.hours_per_month:
        say(_("(the sweep runs every caseload at {hours} hours a month, not today's {today})").format(
            hours=f"{hours:g}", today=f"{base.params.facilitators.hours_per_month:g}"))


def _write_answer(folder: Path) -> dict[str, Path]:
    """Compute, print and write the answer of a finished threshold sweep."""
    from kube_sim.analysis.threshold import threshold_from_sweep
    from kube_sim.reporting import threshold as report
    from kube_sim.store import sweep_folder as store

    manifest = store.load_manifest(folder)
    answer = threshold_from_sweep(store.load_runs(folder), store.read_table(folder, "groups"), manifest)
    hours = float(manifest["threshold"]["hours_per_month"])
    header, rows = report.curve_rows(answer)
    print()
    print(render_table(header, rows, left=1, title="threshold"))
    print()
    say(report.answer_text(answer, hours))
    return report.write_outputs(folder, answer, manifest)
