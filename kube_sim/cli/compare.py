"""``kube-sim compare``: two scenarios with paired seeds; means, paired differences, intervals, p-values."""

from __future__ import annotations

import argparse
import sys
import tempfile
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kube_sim.analysis.ensemble import has_ensemble
from kube_sim.cli.common import (
    EXIT_STOPPED,
    PROG,
    add_command,
    add_district_option,
    add_ensemble_option,
    add_months_option,
    add_seed_option,
    add_workers_option,
    apply_ensemble,
    command_line,
    render_table,
    replications_arg,
    with_district,
)
from kube_sim.common.errors import InputError
from kube_sim.experiments.files import display_path
from kube_sim.model.defaults import DEFAULT_MASTER_SEED

DEFAULT_COMPARE_REPLICATIONS = 20
DEFAULT_COMPARE_MONTHS = 60
OUTCOMES: tuple[str, ...] = (
    "survival_12", "survival_24", "survival_36", "survival_60", "mean_member_income_rp", "share_above_poverty_line",
    "inactive_member_share", "visits_per_group_month", "mean_share_unvisited_quarter", "cost_total_rp",
    "cost_per_surviving_group_rp",
)
"""Outcomes the table shows by default (those the run length allows)."""

EPILOG = """\
Runs scenarios A and B with the same seeds (replication i uses one seed in both), then prints, for
each outcome, the mean of A, the mean of B, and the paired difference B - A with its 95% confidence
interval and paired t-test p-value. A and B are scenario names (see 'kube-sim scenarios') or paths.

examples:
  kube-sim compare baseline ratio_1_20
  kube-sim compare baseline equipment_grant --replications 40 --months 96 --workers 2
  kube-sim compare baseline no_facilitators --out results/compare_no_facilitators
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``compare`` on the main parser.

    Args:
        subparsers: The main parser's subparsers.
    """
    compare = add_command(
        subparsers, "compare", summary="paired comparison of two scenarios: means, differences, intervals, p-values",
        description="Run two scenarios with paired seeds and print each outcome's means and the paired difference "
                    "B - A with its 95% confidence interval and p-value.", epilog=EPILOG,
    )
    compare.add_argument("scenario_a", metavar="A", help="reference scenario (name or path)")
    compare.add_argument("scenario_b", metavar="B", help="scenario compared with A (name or path)")
    compare.add_argument("--replications", type=replications_arg, default=DEFAULT_COMPARE_REPLICATIONS,
                         metavar="R", help=f"paired replications (default: {DEFAULT_COMPARE_REPLICATIONS})")
    add_months_option(compare, DEFAULT_COMPARE_MONTHS, "months per run")
    add_seed_option(compare, DEFAULT_MASTER_SEED, "master seed the replication seeds derive from")
    add_workers_option(compare, "parallel runs")
    add_district_option(compare)
    add_ensemble_option(compare)
    compare.add_argument("--out", type=Path, metavar="DIR",
                         help="keep the runs in this folder (default: a temporary folder, removed afterwards)")
    compare.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    """Run two scenarios with paired seeds and print their paired differences.

    Args:
        args: Parsed ``compare`` arguments.

    Returns:
        Exit status: 0, or 1 when the runs stopped early.

    Raises:
        InputError: For a bad scenario or output folder.
    """
    from kube_sim.experiments.scenario import load_scenario
    from kube_sim.experiments.sweep import SweepAborted, plan_comparison, run_sweep
    from kube_sim.store import sweep_folder as store

    a = with_district(load_scenario(args.scenario_a), args)
    b = with_district(load_scenario(args.scenario_b), args)
    if args.out is not None and args.out.exists() and (not args.out.is_dir() or any(args.out.iterdir())):
        raise InputError("exists and is not an empty folder; choose a new folder for the comparison's runs",
                         source="--out", key=display_path(args.out))
    plan = apply_ensemble(plan_comparison(a, b, replications=args.replications, months=args.months,
                                          master_seed=args.seed), args)
    with tempfile.TemporaryDirectory(prefix="kube-sim-compare-") as tmp:
        folder = args.out if args.out is not None else Path(tmp)
        try:
            run_sweep(plan, folder, workers=args.workers, overwrite=args.out is None, progress=not args.no_progress,
                      manifest_extra={"command": command_line(args), "backend": "local", "workers": args.workers})
        except SweepAborted as exc:
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            return EXIT_STOPPED
        runs = store.load_runs(folder)
    print()
    print(compare_table(runs, a.name, b.name))
    if has_ensemble(runs):
        print()
        print(ensemble_table(runs, args.ensemble))
    if args.out is not None:
        print(f"\nruns in {display_path(args.out)}/ (report: kube-sim report {display_path(args.out)})")
    return 0


def compare_table(runs: Any, name_a: str, name_b: str, outcomes: Sequence[str] = OUTCOMES) -> str:
    """The paired comparison of arm 1 (B) against arm 0 (A), as text.

    Args:
        runs: The runs table of a two-arm sweep.
        name_a: Name of A.
        name_b: Name of B.
        outcomes: Outcomes to show (those absent or all missing are skipped).

    Returns:
        The table with a note on the number of pairs.
    """
    from kube_sim.analysis.statistics import paired_differences
    from kube_sim.reporting.formats import fmt_diff, fmt_p, fmt_value

    shown = [o for o in outcomes if o in runs.columns and runs[o].notna().any()]
    diffs = paired_differences(runs, 0, shown)
    header = ["outcome", f"A: {name_a}", f"B: {name_b}", "B - A", "95% CI", "p"]
    rows = []
    for _, row in diffs.iterrows():
        o = row["outcome"]
        rows.append([o, fmt_value(o, row["baseline_mean"]), fmt_value(o, row["arm_mean"]),
                     fmt_diff(o, row["mean_diff"]), f"[{fmt_diff(o, row['ci_low'])}, {fmt_diff(o, row['ci_high'])}]",
                     fmt_p(row["pvalue"])])
    failed = int((runs["status"] != "ok").sum())
    pairs = int(diffs["n_pairs"].max()) if len(diffs) else 0
    note = f"{pairs} paired replications; p from a paired t-test"
    if failed:
        note += f"; {failed} runs failed and are left out"
    return render_table(header, rows) + f"\n({note})"


def ensemble_table(runs: Any, name: str, outcomes: Sequence[str] = OUTCOMES) -> str:
    """B - A over the ensemble: the interval with parameter uncertainty, and which part is which.

    Args:
        runs: The runs table of a two-arm sweep over an ensemble.
        name: The ensemble's name.
        outcomes: Outcomes to show.

    Returns:
        The table with a note on how to read it.
    """
    from kube_sim.analysis.ensemble import ensemble_differences
    from kube_sim.reporting.formats import fmt_diff, fmt_p

    shown = [o for o in outcomes if o in runs.columns and runs[o].notna().any()]
    table = ensemble_differences(runs, 0, shown)
    header = ["outcome", "B - A", "95% CI (seeds + parameters)", "p", "from parameters", "across members (5-95%)"]
    rows = []
    for _, row in table.iterrows():
        o = row["outcome"]
        share = "n/a" if row["param_share"] != row["param_share"] else f"{row['param_share']:.0%}"
        rows.append([o, fmt_diff(o, row["mean_diff"]), f"[{fmt_diff(o, row['ci_low'])}, {fmt_diff(o, row['ci_high'])}]",
                     fmt_p(row["pvalue"]), share,
                     f"{fmt_diff(o, row['member_p05'])} to {fmt_diff(o, row['member_p95'])}"])
    members = int(table["members"].max()) if len(table) else 0
    pairs = int(table["n_pairs"].max()) if len(table) else 0
    note = (f"ensemble {name}: {pairs} paired replications over {members} calibrated parameter sets; the interval is "
            "a t-interval on the members' mean differences; 'from parameters' is the share of its variance that "
            "the spread between parameter sets gives (the rest is seed noise)")
    return render_table(header, rows) + "\n(" + textwrap.fill(note, 110, subsequent_indent=" ") + ")"
