"""``kube-sim sensitivity``: which assumptions move the planner's answers (Morris screening, then Sobol indices).

A sensitivity run is a sweep (see ``kube-sim sweep``): each design point at each compared caseload,
with paired seeds, saved run by run and resumable; afterwards the ranking table, figure and indices
are written next to the sweep's tables.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kube_sim.cli.common import (
    Study,
    add_months_option,
    add_seed_option,
    add_sweep_options,
    add_table_options,
    add_workers_option,
    output_folder,
    register,
    render_table,
    replications_arg,
    say,
    whole_number,
)
from kube_sim.common.errors import InputError
from kube_sim.experiments.files import display_path
from kube_sim.experiments.sensitivity import DECLARED, QUICK_SETTINGS, SETTINGS

DEFAULT_OUT = "sensitivity"
EFFECTS_OUT = "policy_sensitivity"
"""Results folder of the policy-effects design by default (results/policy_sensitivity)."""
SPAN_DEFAULT = 2.0
ENDS_SHOWN = 3
"""Top parameters per policy effect whose ends the printed table shows."""
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


def _span(text: str) -> float | str | None:
    if text.strip().lower() == "full":
        return "full"
    if text.strip().lower() == DECLARED:
        return DECLARED
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number above 1, 'full' or 'declared', got {text!r}") from None
    if not value > 1:
        raise argparse.ArgumentTypeError(f"must be above 1, got {text}")
    return value


def _power_of_two(text: str) -> int:
    value = whole_number(text, 2, 1 << 16)
    if value & (value - 1):
        raise argparse.ArgumentTypeError(f"must be a power of 2 (the Sobol sequence's balance), got {value}")
    return value


class Sensitivity(Study):
    """``kube-sim sensitivity``: a Morris or Sobol design over the assumptions, and their ranking."""

    name = "sensitivity"
    summary = "rank the assumptions by their effect: Morris screening, Sobol indices"
    description = ("Global sensitivity of survival, income, cost per surviving group and the 1:10 against 1:20 "
                   "difference to every assumption in the parameter registry, run as a resumable paired sweep.")
    epilog = EPILOG

    @classmethod
    def add_options(cls, parser: argparse.ArgumentParser) -> None:
        """Add the method, the outcomes and parameters, the sizes and the engine's options.

        Args:
            parser: The command's parser.
        """
        p = parser
        p.add_argument("--method", choices=("morris", "sobol"), default="morris",
                       help="morris: screen every assumption; sobol: indices for the top of the Morris ranking "
                            "(default: morris)")
        p.add_argument("--outcomes", type=_names, metavar="A,B", help="outcomes to rank by (see below)")
        p.add_argument("--parameters", type=_names, metavar="KEY,KEY",
                       help="vary only these parameters (dotted keys, or key[type] for one entry of a list)")
        p.add_argument("--scenario", default="baseline", metavar="NAME", help="base scenario (default: baseline)")
        p.add_argument("--effects", action="store_true",
                       help="policy effects: every point runs the base, 1:5, 1:20 and the equipment grant with "
                            "paired seeds, plus the calibrated point itself; ranks the effects and shows which "
                            "parameters could reverse or halve them (default --span declared, --out "
                            f"results/{EFFECTS_OUT})")
        p.add_argument("--span", type=_span, metavar="F",
                       help="sample from value/F to value*F within the declared range, 'full' for the declared "
                            "range, or 'declared' for each parameter's plausible range (its stated range, else "
                            "half to twice its model default, as calibration's priors; default: 2, with "
                            "--effects declared)")
        p.add_argument("--caseloads", type=_caseloads, default=[10, 20], metavar="A,B",
                       help="groups per facilitator compared at every point (default: 10,20)")
        p.add_argument("--trajectories", type=lambda t: whole_number(t, 2, 1000), metavar="R",
                       help=f"Morris trajectories (default: {SETTINGS['trajectories']})")
        p.add_argument("--samples", type=_power_of_two, metavar="N",
                       help=f"Sobol base sample, a power of 2 (default: {SETTINGS['samples']})")
        p.add_argument("--top", type=lambda t: whole_number(t, 1, 100), default=6, metavar="K",
                       help="parameters from the Morris ranking that Sobol varies (default: 6)")
        p.add_argument("--replications", type=replications_arg, metavar="R",
                       help=f"paired replications per point and caseload (default: {SETTINGS['replications']})")
        add_months_option(p, None, f"months per run (default: {SETTINGS['months']}: every yearly cohort of the "
                                   "default three rounds is followed 36 months, so survival_36 is known)")
        add_seed_option(p, 42, "master seed of the design and the replication seeds")
        p.add_argument("--quick", action="store_true",
                       help="small settings for a first look: "
                            + ", ".join(f"{k} {v}" for k, v in QUICK_SETTINGS.items()))
        add_workers_option(p, "parallel runs: local processes (1 runs in this process) or local Dask workers")
        p.add_argument("--out", type=Path, metavar="DIR",
                       help=f"results folder (default: results/{DEFAULT_OUT}); the method's results go in DIR/METHOD")
        add_sweep_options(p, "a sensitivity run")
        add_table_options(p)

    def check(self) -> None:
        """The outcomes and the base scenario; the method's folder inside ``--out``."""
        from kube_sim.analysis import sensitivity as indices
        from kube_sim.experiments.rows import all_outcome_columns
        from kube_sim.experiments.scenario import load_scenario

        args = self.args
        default = (indices.effect_outcomes(all_outcome_columns()) if args.effects
                   else indices.default_outcomes(all_outcome_columns()))
        self.outcomes = indices.check_outcomes(args.outcomes or default, all_outcome_columns())
        if not args.effects and any(o in indices.EFFECT_LABELS for o in self.outcomes):
            raise InputError("policy effects need --effects", source="--outcomes",
                             key=next(o for o in self.outcomes if o in indices.EFFECT_LABELS))
        self.span: float | str | None = (None if args.span == "full" else args.span if args.span is not None
                                         else DECLARED if args.effects else SPAN_DEFAULT)
        self.base = load_scenario(args.scenario)
        self.root = output_folder(args.out, EFFECTS_OUT if args.effects else DEFAULT_OUT)
        self.folder = self.root / args.method

    def targets(self) -> list[tuple[str, Any]]:
        """``--out`` and the method's folder inside it."""
        from kube_sim.store.targets import FOLDER, Target

        typed = self.args.out is not None
        return [("--out", Target(self.root, FOLDER, typed=typed)), ("--out", Target(self.folder, FOLDER, typed=typed))]

    def plan(self) -> Any:
        """The design's points at each compared caseload (Sobol: over the top of the Morris ranking)."""
        from kube_sim.experiments import sensitivity as design

        args = self.args
        quick = args.quick
        months = design.setting("months", args.months, quick)
        replications = design.setting("replications", args.replications, quick)
        only = args.parameters
        if args.method == "sobol" and only is None:
            only = _morris_top(self.root / "morris", self.outcomes, args.top)
            print(f"Sobol for the top {len(only)} of the Morris ranking: {', '.join(only)}")
        factors, skipped = design.screen_factors(self.base, self.span, only)
        if not factors:
            raise InputError("no parameter to vary", source="--parameters", key=",".join(only or []))
        info: dict[str, Any]
        if args.method == "morris":
            trajectories = design.setting("trajectories", args.trajectories, quick)
            unit = design.morris_design(len(factors), trajectories, args.seed)
            info = {"trajectories": trajectories, "levels": design.MORRIS_LEVELS, "design_seed": args.seed}
        else:
            samples = design.setting("samples", args.samples, quick)
            unit = design.sobol_design(len(factors), samples, args.seed)
            info = {"base_samples": samples, "design_seed": args.seed}
        info["span"] = self.span
        variants = design.POLICY_VARIANTS if args.effects else None
        plan = design.plan_sensitivity(args.method, self.base, factors, unit, caseloads=args.caseloads,
                                       replications=replications, months=months, master_seed=args.seed,
                                       design=info, skipped=skipped, variants=variants)
        arms = (f"{len(variants)} policy arms (and the calibrated point)" if variants
                else f"{len(args.caseloads)} caseloads")
        print(f"{args.method}: {len(factors)} parameters varied, {len(skipped)} skipped (listed in ranking.md); "
              f"{len(unit)} points x {arms}")
        return plan

    def analyse(self, done: Any, folder: Path) -> Any:
        """The ranking of the parameters by their effect on each outcome."""
        from kube_sim.analysis import sensitivity as indices
        from kube_sim.store import sweep_folder as store

        self.manifest = store.load_manifest(folder)
        runs = store.load_runs(folder)
        table = indices.ranking(runs, self.manifest, self.outcomes)
        self.ends = indices.ends(runs, self.manifest, self.outcomes) if self.args.effects else None
        return table

    def show(self, result: Any, folder: Path) -> None:
        """The top of the ranking and how to read it."""
        from kube_sim.reporting import sensitivity as report

        header, rows = report.ranking_rows(result, self.manifest["sensitivity"]["caseloads"], SHOWN)
        print()
        print(render_table(header, rows, left=2, title="sensitivity"))
        say(report.reading_note(self.manifest))
        if self.ends is not None:
            from kube_sim.analysis.sensitivity import EFFECT_LABELS, outcome_label

            for outcome in (o for o in self.outcomes if o in EFFECT_LABELS):
                header, rows = report.ends_rows(result, self.ends, ENDS_SHOWN, outcome)
                print(f"\ncould reverse or halve: {outcome_label(outcome, [])}")
                print(render_table(header, rows, left=2))
            say(report.ends_note())

    def write(self, result: Any, folder: Path) -> dict[str, Path]:
        """ranking.csv, ranking.md, sensitivity.png and sensitivity.json."""
        from kube_sim.reporting import sensitivity as report

        return report.write_outputs(folder, result, self.manifest, self.ends)

    def closing(self, result: Any, written: Any, folder: Path) -> None:
        """Where the results are."""
        say(f"\nresults in {display_path(folder)}/ ({', '.join(p.name for p in written.values())}, runs.parquet, "
            "manifest.json)")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``sensitivity`` on the main parser.

    Args:
        subparsers: The main parser's subparsers.
    """
    register(subparsers, Sensitivity)


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
