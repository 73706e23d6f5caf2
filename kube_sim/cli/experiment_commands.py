"""Command-line subcommands for experiments: ``sweep``, ``report`` and ``compare``.

Handlers take the parsed arguments and return the exit status; bad input raises
:class:`~kube_sim.common.errors.InputError`, which ``kube_sim.cli.main.main`` prints as one line (exit 2). A sweep
that stops early (a worker died) prints one line and exits 1; its finished runs are saved.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kube_sim.common.errors import InputError

DEFAULT_COMPARE_REPLICATIONS = 20
DEFAULT_COMPARE_SEED = 1
DEFAULT_COMPARE_MONTHS = 60
COMPARE_OUTCOMES: tuple[str, ...] = (
    "survival_12", "survival_24", "survival_36", "survival_60", "mean_member_income_rp", "share_above_poverty_line",
    "inactive_member_share", "visits_per_group_month", "mean_share_unvisited_quarter", "cost_total_rp",
    "cost_per_surviving_group_rp",
)
"""Outcomes the ``compare`` table shows by default (those the run length allows)."""
SWEEP_SUMMARY_OUTCOMES: tuple[str, ...] = ("survival_36", "mean_member_income_rp")

SWEEP_EPILOG = """\
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
  kube-sim sweep combined --backend dask           # a local Dask cluster
  kube-sim sweep combined --backend dask --scheduler tcp://10.0.0.5:8786
  kube-sim report results/staffing                 # then read the report
"""

REPORT_EPILOG = """\
Reads the folder a sweep wrote and writes, in RESULTS_DIR/report/ (or --out): figures (survival
curves by arm with bands, income distributions, cost against surviving groups, facilitator
workload, the effect of each factor), report.md and report.html with a plain summary table, paired
differences against the baseline arm and log-rank tests, and CSV tables.

examples:
  kube-sim report results/staffing
  kube-sim report results/staffing --out /tmp/staffing-report --baseline-arm 3
"""

COMPARE_EPILOG = """\
Runs scenarios A and B with the same seeds (replication i uses one seed in both), then prints, for
each outcome, the mean of A, the mean of B, and the paired difference B - A with its 95% confidence
interval and paired t-test p-value. A and B are scenario names (see 'kube-sim scenarios') or paths.

examples:
  kube-sim compare baseline ratio_1_20
  kube-sim compare baseline equipment_grant --replications 40 --months 96 --workers 2
  kube-sim compare baseline no_facilitators --out results/compare_no_facilitators
"""


def _formatter() -> type[argparse.HelpFormatter]:
    from kube_sim.cli.main import _Formatter

    return _Formatter


def _raw(text: str) -> str:
    """Mark an epilog so the main parser's formatter prints it as written."""
    from kube_sim.cli import main as cli

    return getattr(cli, "_RAW", "") + text


def workers_arg(text: str) -> int:
    """Parse ``--workers``: a whole number from 1 to 1024.

    Args:
        text: The option's value.

    Returns:
        The number of workers.

    Raises:
        argparse.ArgumentTypeError: If it is not a whole number in range.
    """
    from kube_sim.cli.main import whole_number

    return whole_number(text, 1, 1024)


def replications_arg(text: str) -> int:
    """Parse ``--replications``: a whole number from 1 to 100,000.

    Args:
        text: The option's value.

    Returns:
        The number of replications.

    Raises:
        argparse.ArgumentTypeError: If it is not a whole number in range.
    """
    from kube_sim.cli.main import whole_number

    return whole_number(text, 1, 100_000)


def default_workers() -> int:
    """The CPUs this process may use (at least 1)."""
    count = os.process_cpu_count() if hasattr(os, "process_cpu_count") else os.cpu_count()
    return max(1, count or 1)


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register the experiment subcommands on the main parser.

    Args:
        subparsers: The main parser's subparsers.
    """
    from kube_sim.cli.main import months_arg, seed_arg, whole_number

    formatter = _formatter()
    cpus = default_workers()

    sweep = subparsers.add_parser(
        "sweep", help="run an experiment: every arm x replication, paired seeds, resumable",
        description="Run an experiment file's design (factorial, Latin hypercube or Sobol) over a base scenario, "
                    "with paired replications, saving each run as it finishes.",
        epilog=_raw(SWEEP_EPILOG), formatter_class=formatter,
    )
    sweep.add_argument("experiment", metavar="EXPERIMENT",
                       help="experiment name (a file in the experiments folder) or path to a .toml file")
    sweep.add_argument("--workers", type=workers_arg, default=cpus, metavar="N",
                       help=f"parallel runs: local processes (1 runs in this process) or local Dask workers "
                            f"(default: {cpus}, the CPUs available)")
    sweep.add_argument("--replications", type=replications_arg, metavar="R",
                       help="replications per arm, replacing the file's (seeds are unchanged for the first ones)")
    sweep.add_argument("--months", type=months_arg, metavar="M", help="months per run, replacing the file's")
    sweep.add_argument("--out", type=Path, metavar="DIR", help="results folder (default: results/<experiment name>)")
    sweep.add_argument("--resume", action="store_true",
                       help="finish a sweep started earlier in the results folder: run only its missing runs")
    sweep.add_argument("--overwrite", action="store_true",
                       help="delete results already in the folder and start again")
    sweep.add_argument("--backend", choices=("local", "dask"), default="local",
                       help="where runs execute: local processes, or Dask distributed (default: local)")
    sweep.add_argument("--scheduler", metavar="ADDRESS",
                       help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (with --backend dask; "
                            "default: start a local cluster); kube-sim must be installed on its workers")
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    sweep.set_defaults(func=cmd_sweep)

    report = subparsers.add_parser(
        "report", help="write figures and a readable report of a sweep's results",
        description="Write a planner's report (figures, Markdown and HTML, CSV tables) of a sweep's results folder.",
        epilog=_raw(REPORT_EPILOG), formatter_class=formatter,
    )
    report.add_argument("results_dir", type=Path, metavar="RESULTS_DIR", help="the folder a sweep wrote")
    report.add_argument("--out", type=Path, metavar="DIR", help="report folder (default: RESULTS_DIR/report)")
    report.add_argument("--baseline-arm", type=lambda t: whole_number(t, 0, 10_000_000), metavar="ARM",
                        help="arm the others are compared with (default: the arm equal to the base scenario, "
                             "else arm 0)")
    report.set_defaults(func=cmd_report)

    compare = subparsers.add_parser(
        "compare", help="paired comparison of two scenarios: means, differences, intervals, p-values",
        description="Run two scenarios with paired seeds and print each outcome's means and the paired difference "
                    "B - A with its 95%% confidence interval and p-value.",
        epilog=_raw(COMPARE_EPILOG), formatter_class=formatter,
    )
    compare.add_argument("scenario_a", metavar="A", help="reference scenario (name or path)")
    compare.add_argument("scenario_b", metavar="B", help="scenario compared with A (name or path)")
    compare.add_argument("--replications", type=replications_arg, default=DEFAULT_COMPARE_REPLICATIONS,
                         metavar="R", help=f"paired replications (default: {DEFAULT_COMPARE_REPLICATIONS})")
    compare.add_argument("--months", type=months_arg, default=DEFAULT_COMPARE_MONTHS, metavar="M",
                         help=f"months per run (default: {DEFAULT_COMPARE_MONTHS})")
    compare.add_argument("--seed", type=seed_arg, default=DEFAULT_COMPARE_SEED, metavar="S",
                         help=f"master seed the replication seeds derive from (default: {DEFAULT_COMPARE_SEED})")
    compare.add_argument("--workers", type=workers_arg, default=cpus, metavar="N",
                         help=f"parallel runs (default: {cpus})")
    compare.add_argument("--out", type=Path, metavar="DIR",
                         help="keep the runs in this folder (default: a temporary folder, removed afterwards)")
    compare.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    compare.set_defaults(func=cmd_compare)


# --- sweep -----------------------------------------------------------------------------------------

def _argv(args: argparse.Namespace) -> list[str]:
    return ["kube-sim", *(getattr(args, "argv", None) or sys.argv[1:])]


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run an experiment's sweep and print its summary.

    Args:
        args: Parsed ``sweep`` arguments.

    Returns:
        Exit status: 0 when every run is saved, 1 when the sweep stopped early.

    Raises:
        InputError: For a bad experiment file, output folder or backend option.
    """
    from kube_sim.experiments.experiment import load_experiment
    from kube_sim.experiments.sweep import SweepAborted, format_duration, plan_experiment, run_sweep

    if args.scheduler and args.backend != "dask":
        raise InputError("--scheduler needs --backend dask", source="--scheduler", key=args.scheduler)
    experiment = load_experiment(args.experiment).with_run_settings(replications=args.replications,
                                                                    months=args.months)
    plan = plan_experiment(experiment)
    folder = args.out if args.out is not None else Path("results") / _safe_name(experiment.name)
    try:
        summary = run_sweep(plan, folder, backend=args.backend, workers=args.workers, scheduler=args.scheduler,
                            resume=args.resume, overwrite=args.overwrite, progress=not args.no_progress,
                            manifest_extra={"command": _argv(args), "backend": args.backend,
                                            "workers": args.workers})
    except SweepAborted as exc:
        print(f"kube-sim: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        raise InputError(f"cannot write results: {exc.strerror or exc}", source="--out",
                         key=str(exc.filename or folder)) from None
    from kube_sim.experiments.scenario import display_path

    print(f"done: {summary.runs_ok} runs ok, {summary.runs_failed} failed, of {summary.runs_total}"
          + (f"; {summary.runs_this_time} ran now in {format_duration(summary.wall_s)} "
             f"({summary.runs_per_s:.2f} runs/s)" if summary.runs_this_time else ""))
    table = sweep_table(folder)
    if table:
        print()
        print(table)
    print(f"\nresults in {display_path(folder)}/ (runs.parquet, groups.parquet, monthly.parquet, manifest.json)")
    print(f"report: kube-sim report {display_path(folder)}")
    return 0


def _safe_name(name: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "experiment"


def sweep_table(folder: Path, outcomes: Sequence[str] = SWEEP_SUMMARY_OUTCOMES) -> str:
    """Per-arm means and 95% intervals of the key outcomes, as text.

    Args:
        folder: A sweep's results folder.
        outcomes: Outcomes to show (those absent or all missing are skipped).

    Returns:
        The table, or "" when there is nothing to show.
    """
    from kube_sim.analysis import statistics as analysis
    from kube_sim.reporting.report import fmt_value
    from kube_sim.store import sweep_folder as store

    runs = store.load_runs(folder)
    shown = [o for o in outcomes if o in runs.columns and runs[o].notna().any()]
    if not shown or runs.empty:
        return ""
    summary = analysis.arm_summary(runs, shown)
    header = ["arm", "label", "runs ok"] + [o for o in shown]
    rows = []
    ok = runs[runs["status"] == "ok"].groupby("arm").size()
    for arm, part in summary.groupby("arm", sort=True):
        cells = [str(arm), str(part["arm_label"].iloc[0]), str(int(ok.get(arm, 0)))]
        for outcome in shown:
            row = part[part["outcome"] == outcome].iloc[0]
            cells.append(f"{fmt_value(outcome, row['mean'])} "
                         f"[{fmt_value(outcome, row['ci_low'])}, {fmt_value(outcome, row['ci_high'])}]")
        rows.append(cells)
    note = "means with 95% confidence intervals over replications"
    return render_table(header, rows, left=2) + f"\n({note})"


# --- report ----------------------------------------------------------------------------------------

def cmd_report(args: argparse.Namespace) -> int:
    """Write the report of a sweep's results folder.

    Args:
        args: Parsed ``report`` arguments.

    Returns:
        Exit status.

    Raises:
        InputError: If the folder is not a sweep's results folder.
    """
    from kube_sim.experiments.scenario import display_path
    from kube_sim.reporting.report import write_report

    source = display_path(args.results_dir)
    if not args.results_dir.is_dir():
        raise InputError("no such results folder", source=source)
    finished_parts = args.results_dir / "parts" / "runs"
    has_parts = finished_parts.is_dir() and any(finished_parts.iterdir())
    if not (args.results_dir / "runs.parquet").is_file() and not has_parts:
        raise InputError("no runs.parquet: not a sweep's results folder (or the sweep has no finished run yet)",
                         source=source)
    try:
        path = write_report(args.results_dir, args.out, baseline_arm=args.baseline_arm)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        raise InputError(str(exc).replace("\n", " "), source=source) from None
    files = sorted(p.name for p in Path(path).iterdir() if p.is_file())
    report = next((f for f in ("report.html", "report.md") if f in files), None)
    print(f"report in {display_path(Path(path))}/" + (f": open {report}" if report else ""))
    if files:
        print("files: " + ", ".join(files))
    return 0


# --- compare ---------------------------------------------------------------------------------------

def cmd_compare(args: argparse.Namespace) -> int:
    """Run two scenarios with paired seeds and print their paired differences.

    Args:
        args: Parsed ``compare`` arguments.

    Returns:
        Exit status.

    Raises:
        InputError: For a bad scenario or output folder.
    """
    from kube_sim.experiments.scenario import load_scenario
    from kube_sim.experiments.sweep import SweepAborted, plan_comparison, run_sweep

    a = load_scenario(args.scenario_a)
    b = load_scenario(args.scenario_b)
    if args.out is not None and args.out.exists() and (not args.out.is_dir() or any(args.out.iterdir())):
        from kube_sim.experiments.scenario import display_path

        raise InputError("exists and is not an empty folder; choose a new folder for the comparison's runs",
                         source="--out", key=display_path(args.out))
    plan = plan_comparison(a, b, replications=args.replications, months=args.months, master_seed=args.seed)
    with tempfile.TemporaryDirectory(prefix="kube-sim-compare-") as tmp:
        folder = args.out if args.out is not None else Path(tmp)
        try:
            run_sweep(plan, folder, workers=args.workers, overwrite=args.out is None, progress=not args.no_progress,
                      manifest_extra={"command": _argv(args), "backend": "local", "workers": args.workers})
        except SweepAborted as exc:
            print(f"kube-sim: error: {exc}", file=sys.stderr)
            return 1
        from kube_sim.store import sweep_folder as store

        runs = store.load_runs(folder)
    print()
    print(compare_table(runs, a.name, b.name))
    if args.out is not None:
        from kube_sim.experiments.scenario import display_path

        print(f"\nruns in {display_path(args.out)}/ (report: kube-sim report {display_path(args.out)})")
    return 0


def compare_table(runs: Any, name_a: str, name_b: str, outcomes: Sequence[str] = COMPARE_OUTCOMES) -> str:
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
    from kube_sim.reporting.report import fmt_diff, fmt_p, fmt_value

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


# --- text formatting -------------------------------------------------------------------------------

def render_table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> str:
    """Align a table of text cells in columns (the first ``left`` columns left, the others right).

    Args:
        header: Column titles.
        rows: Cells.
        left: Number of left-aligned columns.

    Returns:
        The table as lines of text.
    """
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) if i < left else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])
