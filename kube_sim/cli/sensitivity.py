"""``kube-sim sensitivity``: which assumptions move the planner's answers (Morris screening, then Sobol indices).

A sensitivity run is a sweep (see ``kube-sim sweep``): each design point at each compared caseload,
with paired seeds, saved run by run and resumable; afterwards the ranking table, figure and indices
are written next to the sweep's tables.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kube_sim.cli.common import (
    EXIT_STOPPED,
    PROG,
    add_command,
    add_months_option,
    add_seed_option,
    add_sweep_options,
    add_table_options,
    add_workers_option,
    check_sweep_options,
    command_line,
    output_folder,
    render_table,
    replications_arg,
    run_plan,
    say,
    whole_number,
    write_failure,
)
from kube_sim.common.errors import InputError
from kube_sim.experiments.files import display_path
from kube_sim.store.lock import hold
from kube_sim.store.targets import FOLDER, Target, check_outputs

DEFAULT_OUT = "sensitivity"
DEFAULTS = {"trajectories": 10, "samples": 128, "replications": 3, "months": 64}
"""Settings at default: Morris within about 15 minutes and Sobol (top 6) within about 30 on 2 cores."""
QUICK = {"trajectories": 3, "samples": 16, "replications": 2, "months": 64}
"""Settings with --quick: a few minutes."""
SHOWN = 15
"""Parameters the printed ranking shows."""

EPILOG = """\
Morris screening varies every parameter whose source in parameters.py says "assumption" (see
'kube-sim params'); a list parameter gives one factor per business type. Each is sampled from half to
twice its value in the base scenario, within its declared range (--span; --span full for the declared
range). Skipped, and listed in ranking.md: text choices, parameters with no finite range or a default
of 0 (no span), and structural ones (district copies, funding rounds, the caseload itself).

Every design point runs at both caseloads (--caseloads, 1:10 and 1:20) with the same seeds, so the
difference in survival between them is computed per point and seed. Sobol indices (first-order and
total, with 95% intervals) are computed for the --top parameters of the Morris ranking in the same
--out folder (or the ones given with --parameters).

Outcomes: any outcome column, or delta_<column> for the second caseload minus the first. Default:
survival_36, the eligible households' income gain (mean_member_income_rp when the model has none),
cost_per_surviving_group_rp, delta_survival_36.

Results: <out>/morris/ or <out>/sobol/ hold the sweep's tables and manifest.json, ranking.csv,
ranking.md, sensitivity.png and sensitivity.json.

examples:
  kube-sim sensitivity                                  # Morris screening, results/sensitivity/morris/
  kube-sim sensitivity --method sobol                   # then Sobol for the top 6
  kube-sim sensitivity --quick --parameters facilitators.coordination,members.dropout_probability
  kube-sim sensitivity --resume                         # finish a stopped run
  kube-sim sensitivity --backend dask --scheduler tcp://10.0.0.5:8786
"""


def _names(text: str) -> list[str]:
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected a comma-separated list of names")
    return names


def _caseloads(text: str) -> list[int]:
    values = [whole_number(t, 1, 1000) for t in text.split(",")]
    if len(values) != 2 or values[0] == values[1]:
        raise argparse.ArgumentTypeError("expected two different caseloads, e.g. 10,20")
    return values


def _span(text: str) -> float | None:
    if text.strip().lower() == "full":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number above 1 or 'full', got {text!r}") from None
    if not value > 1:
        raise argparse.ArgumentTypeError(f"must be above 1, got {text}")
    return value


def _power_of_two(text: str) -> int:
    value = whole_number(text, 2, 1 << 16)
    if value & (value - 1):
        raise argparse.ArgumentTypeError(f"must be a power of 2 (the Sobol sequence's balance), got {value}")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``sensitivity`` on the main parser.

    Args:
        subparsers: The main parser's subparsers.
    """
    p = add_command(
        subparsers, "sensitivity", summary="rank the assumptions by their effect: Morris screening, Sobol indices",
        description="Global sensitivity of survival, income, cost per surviving group and the 1:10 against 1:20 "
                    "difference to every assumption in the parameter registry, run as a resumable paired sweep.",
        epilog=EPILOG,
    )
    p.add_argument("--method", choices=("morris", "sobol"), default="morris",
                   help="morris: screen every assumption; sobol: indices for the top of the Morris ranking "
                        "(default: morris)")
    p.add_argument("--outcomes", type=_names, metavar="A,B", help="outcomes to rank by (see below)")
    p.add_argument("--parameters", type=_names, metavar="KEY,KEY",
                   help="vary only these parameters (dotted keys, or key[type] for one entry of a list)")
    p.add_argument("--scenario", default="baseline", metavar="NAME", help="base scenario (default: baseline)")
    p.add_argument("--span", type=_span, default=2.0, metavar="F",
                   help="sample from value/F to value*F within the declared range, or 'full' for the declared "
                        "range (default: 2)")
    p.add_argument("--caseloads", type=_caseloads, default=[10, 20], metavar="A,B",
                   help="groups per facilitator compared at every point (default: 10,20)")
    p.add_argument("--trajectories", type=lambda t: whole_number(t, 2, 1000), metavar="R",
                   help=f"Morris trajectories (default: {DEFAULTS['trajectories']})")
    p.add_argument("--samples", type=_power_of_two, metavar="N",
                   help=f"Sobol base sample, a power of 2 (default: {DEFAULTS['samples']})")
    p.add_argument("--top", type=lambda t: whole_number(t, 1, 100), default=6, metavar="K",
                   help="parameters from the Morris ranking that Sobol varies (default: 6)")
    p.add_argument("--replications", type=replications_arg, metavar="R",
                   help=f"paired replications per point and caseload (default: {DEFAULTS['replications']})")
    add_months_option(p, None, f"months per run (default: {DEFAULTS['months']}: every yearly cohort of the "
                               "default three rounds is followed 36 months, so survival_36 is known)")
    add_seed_option(p, 42, "master seed of the design and the replication seeds")
    p.add_argument("--quick", action="store_true",
                   help="small settings for a first look: " + ", ".join(f"{k} {v}" for k, v in QUICK.items()))
    add_workers_option(p, "parallel runs: local processes (1 runs in this process) or local Dask workers")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help=f"results folder (default: results/{DEFAULT_OUT}); the method's results go in DIR/METHOD")
    add_sweep_options(p, "a sensitivity run")
    add_table_options(p)
    p.set_defaults(func=cmd_sensitivity)


def _setting(args: argparse.Namespace, name: str) -> int:
    value = getattr(args, name)
    if value is not None:
        return value
    return (QUICK if args.quick else DEFAULTS)[name]


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """Run a Morris or Sobol sensitivity sweep and write its ranking.

    Args:
        args: Parsed ``sensitivity`` arguments.

    Returns:
        Exit status: 0 when every run is saved, 1 when the sweep stopped early.

    Raises:
        InputError: For a bad option, scenario, outcome or output folder.
    """
    from kube_sim.analysis import sensitivity as indices
    from kube_sim.experiments import sensitivity as design
    from kube_sim.experiments.rows import all_outcome_columns
    from kube_sim.experiments.scenario import load_scenario

    check_sweep_options(args)
    outcomes = indices.check_outcomes(args.outcomes or indices.default_outcomes(all_outcome_columns()),
                                      all_outcome_columns())
    base = load_scenario(args.scenario)
    root = output_folder(args.out, DEFAULT_OUT)
    folder = root / args.method
    check_outputs({"--out": Target(root, FOLDER, typed=args.out is not None)})
    check_outputs({"--out": Target(folder, FOLDER, typed=args.out is not None)})
    months, replications = _setting(args, "months"), _setting(args, "replications")
    only = args.parameters
    if args.method == "sobol" and only is None:
        only = _morris_top(root / "morris", outcomes, args.top)
        print(f"Sobol for the top {len(only)} of the Morris ranking: {', '.join(only)}")
    factors, skipped = design.screen_factors(base, args.span, only)
    if not factors:
        raise InputError("no parameter to vary", source="--parameters", key=",".join(only or []))
    if args.method == "morris":
        trajectories = _setting(args, "trajectories")
        unit = design.morris_design(len(factors), trajectories, args.seed)
        info = {"trajectories": trajectories, "levels": design.MORRIS_LEVELS, "design_seed": args.seed}
    else:
        samples = _setting(args, "samples")
        unit = design.sobol_design(len(factors), samples, args.seed)
        info = {"base_samples": samples, "design_seed": args.seed}
    info["span"] = args.span
    plan = design.plan_sensitivity(args.method, base, factors, unit, caseloads=args.caseloads,
                                   replications=replications, months=months, master_seed=args.seed,
                                   design=info, skipped=skipped)
    print(f"{args.method}: {len(factors)} parameters varied, {len(skipped)} skipped (listed in ranking.md); "
          f"{len(unit)} points x {len(args.caseloads)} caseloads")
    with hold(folder, command_line(args)):
        if run_plan(plan, folder, args) is None:
            return EXIT_STOPPED
        try:
            paths = _write_ranking(folder, outcomes)
        except OSError as exc:
            print(f"{PROG}: error: {write_failure(exc, folder)}", file=sys.stderr)
            return EXIT_STOPPED
    say(f"\nresults in {display_path(folder)}/ ({', '.join(p.name for p in paths.values())}, runs.parquet, "
          "manifest.json)")
    return 0


def _write_ranking(folder: Path, outcomes: list[str]) -> dict[str, Path]:
    """Compute, print and write the ranking of a finished sensitivity sweep."""
    from kube_sim.analysis import sensitivity as indices
    from kube_sim.reporting import sensitivity as report
    from kube_sim.store import sweep_folder as store

    manifest = store.load_manifest(folder)
    table = indices.ranking(store.load_runs(folder), manifest, outcomes)
    header, rows = report.ranking_rows(table, manifest["sensitivity"]["caseloads"], SHOWN)
    print()
    print(render_table(header, rows, left=2, title="sensitivity"))
    say(report.reading_note(manifest))
    return report.write_outputs(folder, table, manifest)


def _morris_top(folder: Path, outcomes: list[str], top: int) -> list[str]:
    """The top parameters of the finished Morris ranking in ``folder``."""
    from kube_sim.analysis import sensitivity as indices
    from kube_sim.store import sweep_folder as store

    try:
        manifest = store.load_manifest(folder)
    except (FileNotFoundError, InputError):
        manifest = {}
    if not manifest.get("finished") or manifest.get("sensitivity", {}).get("method") != "morris":
        raise InputError("holds no finished Morris screening; run 'kube-sim sensitivity --method morris' with the "
                         "same --out first, or name the parameters with --parameters", source="--out",
                         key=display_path(folder))
    table = indices.ranking(store.load_runs(folder), manifest, outcomes)
    return indices.overall_order(table)[:top]
