"""``kube-sim calibrate``: fit the assumptions that matter to the validation targets (ABC-SMC).

Runs the sampler of :mod:`kube_sim.experiments.calibration`, prints the fit per target, writes the
particles, the fit and a manifest to ``--out``, and the calibrated scenario (values, provenance and
ensemble) to ``--write`` (by default the shipped ``scenarios/calibrated.toml``, on which the baseline
sits).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from kube_sim.cli.common import (
    EXIT_STOPPED,
    PROG,
    add_backend_options,
    add_command,
    add_months_option,
    add_resume_options,
    add_seed_option,
    add_table_options,
    add_workers_option,
    check_sweep_options,
    command_line,
    render_table,
    replications_arg,
    stopped_by,
    whole_number,
)
from kube_sim.common.errors import InputError
from kube_sim.store.lock import hold
from kube_sim.store.targets import FILE, FOLDER, Target, check_outputs

DEFAULT_OUT = Path("results") / "calibration"

QUICK = {"particles": 24, "generations": 2, "keep": 8, "replications": 2, "refine": 2, "refine_replications": 4,
         "ensemble_size": 8}
"""Settings with --quick: a minute or two (a smoke test, not a calibration)."""

EPILOG = """\
The fitted parameters (default: the assumptions that drive survival and the targets' patterns) are
sampled uniformly on the range their source in parameters.py states ("range a-b"), else from half to
twice their value in the base scenario. Targets: the validation's bands for survival at 12, 24 and
36 months, groups up to five years old, unaccompanied failure (2-3x), inactive members (share and
persistence) and funded groups per quota ('kube-sim validate' lists them with sources).

Each particle runs with the same seeds in the baseline and without facilitators. The nearest --keep
particles of each generation are accepted and perturbed into the next; the --refine nearest of the
last generation are rerun at fresh seeds and the nearest of them is the calibrated point. The
ensemble is --ensemble-size equally weighted draws from the last accepted population; sweeps and
comparisons use it with --ensemble calibrated.

Runs are saved as they finish (<out>/generation_<g>.jsonl, refine.jsonl): after a stop, the same
command with --resume runs only the missing ones (--overwrite starts again). Results:
<out>/particles.csv, fit.csv, fit.md, manifest.json, and the scenario file (--write; if it cannot be
written at the end, the scenario is kept as <out>/calibrated.toml).

examples:
  kube-sim calibrate                          # about 15-30 minutes on 2 cores
  kube-sim calibrate --quick --no-write       # a smoke test
  kube-sim calibrate --parameters groups.min_active_share,members.dropout_probability
"""


def _count(low: int, high: int):
    return lambda text: whole_number(text, low, high)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``kube-sim calibrate``.

    Args:
        subparsers: The main parser's subcommands.

    Returns:
        The ``calibrate`` parser.
    """
    from kube_sim.experiments.calibration import CalibrationSettings

    d = CalibrationSettings()
    parser = add_command(
        subparsers, "calibrate", summary="fit the assumptions that matter to the validation targets (ABC-SMC)",
        description="Fit the assumptions that matter most to the study's patterns and the calibration targets by "
                    "approximate Bayesian computation with sequential Monte Carlo; write the calibrated scenario "
                    "with its provenance and an ensemble of accepted parameter sets.",
        epilog=EPILOG,
    )
    parser.add_argument("--scenario", default="calibrated", metavar="NAME",
                        help="scenario the fitted values are set on (default: calibrated, i.e. today's calibrated "
                             "values of everything not fitted)")
    parser.add_argument("--parameters", metavar="KEY,KEY",
                        help="dotted keys to fit instead of the default set (see 'kube-sim params')")
    parser.add_argument("--particles", type=_count(4, 100_000), metavar="N",
                        help=f"parameter sets per generation (default: {d.particles})")
    parser.add_argument("--generations", type=_count(1, 50), metavar="G",
                        help=f"generations of the sampler, the first from the prior (default: {d.generations})")
    parser.add_argument("--keep", type=_count(2, 100_000), metavar="K",
                        help=f"particles accepted per generation (default: {d.keep})")
    parser.add_argument("--replications", type=replications_arg, metavar="R",
                        help=f"paired seeds per particle and arm (default: {d.replications})")
    parser.add_argument("--refine", type=_count(1, 1000), metavar="K",
                        help=f"nearest particles rerun at fresh seeds to choose the point (default: {d.refine})")
    parser.add_argument("--refine-replications", type=replications_arg, metavar="R",
                        help=f"seeds of that rerun (default: {d.refine_replications})")
    parser.add_argument("--ensemble-size", type=_count(2, 10_000), metavar="M",
                        help=f"members of the ensemble (default: {d.ensemble_size})")
    add_months_option(parser, d.months, "run length, at least 61 so every cohort is followed 36 months")
    add_seed_option(parser, d.seed, "master seed (replication seeds, design, perturbations)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny settings for a smoke test, not a calibration: "
                             + ", ".join(f"{k.replace('_', '-')} {v}" for k, v in QUICK.items())
                             + " (not with those options)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                        help=f"folder for the runs, particles, fit and manifest (default: {DEFAULT_OUT})")
    parser.add_argument("--write", type=Path, metavar="FILE",
                        help="where to write the calibrated scenario (default: calibrated.toml in the scenario "
                             "folder, which the baseline reads)")
    parser.add_argument("--no-write", action="store_true", help="write no scenario file, only the results")
    add_workers_option(parser, "parallel local processes (or local Dask workers); 1 runs in this process")
    add_backend_options(parser)
    add_resume_options(parser, "a calibration")
    add_table_options(parser)
    parser.set_defaults(func=run)
    return parser


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def format_fit(fit, unit_of) -> str:
    """The fit per target as an aligned table.

    Args:
        fit: :func:`kube_sim.analysis.calibration.fit_table`'s table.
        unit_of: Formats a value in a target's unit: ``unit_of(value, unit)``.

    Returns:
        Text.
    """
    rows = []
    for _, row in fit.iterrows():
        interval = f"{unit_of(row['estimate'], row['unit'])} [{unit_of(row['ci_low'], row['unit'])}, " \
                   f"{unit_of(row['ci_high'], row['unit'])}]"
        rows.append((row["pattern"], row["target"], interval, f"{row['miss']:+.2f}",
                     "in band" if row["in_band"] else "outside"))
    return render_table(("target", "band", "calibrated [95% interval]", "miss", "result"), rows, left=3,
                        title="calibration")


def run(args: argparse.Namespace) -> int:
    """Run the calibration, print the fit, write the results and the scenario file.

    Args:
        args: Parsed ``calibrate`` arguments.

    Returns:
        Exit status 0.

    Raises:
        InputError: For bad options or an unwritable output.
    """
    check_sweep_options(args)
    out: Path = args.out
    sizes = calibration_sizes(args)
    if args.no_write and args.write is not None:
        raise InputError("--write and --no-write contradict each other: give one", source="--no-write")
    from kube_sim.experiments.scenario import SCENARIO_FILES

    target = None if args.no_write else (args.write or SCENARIO_FILES.folder() / "calibrated.toml")
    check_outputs({"--out": Target(out, FOLDER, typed=args.out != DEFAULT_OUT),
                   "--write": Target(target, FILE, typed=args.write is not None)})
    with hold(out, command_line(args)):
        return _calibrate(args, out, sizes, target)


def calibration_sizes(args: argparse.Namespace) -> dict[str, int]:
    """The sampler's sizes: ``--quick``'s, or those given with the defaults for the rest.

    Args:
        args: Parsed ``calibrate`` arguments.

    Returns:
        ``{setting: value}`` for the settings of :data:`QUICK`.

    Raises:
        InputError: For ``--quick`` with a size option, or sizes that do not fit together (``--keep``
            above ``--particles``, ``--refine`` above ``--keep``).
    """
    from kube_sim.experiments.calibration import CalibrationSettings

    given = {name: getattr(args, name) for name in QUICK if getattr(args, name) is not None}
    if args.quick and given:
        option = "--" + next(iter(given)).replace("_", "-")
        quick = ", ".join(f"{k.replace('_', '-')} {v}" for k, v in QUICK.items())
        raise InputError(f"--quick sets its own sizes ({quick}); give "
                         f"{option} without --quick, or --quick alone", source=option)
    defaults = CalibrationSettings()
    sizes = dict(QUICK) if args.quick else {name: given.get(name, getattr(defaults, name)) for name in QUICK}
    if sizes["keep"] > sizes["particles"]:
        raise InputError(f"must be at most --particles ({sizes['particles']}), got {sizes['keep']}", source="--keep")
    if sizes["refine"] > sizes["keep"]:
        raise InputError(f"must be at most --keep ({sizes['keep']}), got {sizes['refine']}", source="--refine")
    return sizes


def _calibrate(args: argparse.Namespace, out: Path, sizes: dict[str, int], target: Path | None) -> int:
    """Run the calibration once its folder is held, and write its results and the scenario."""
    from kube_sim.analysis.patterns import format_value
    from kube_sim.common.provenance import environment, now_iso
    from kube_sim.experiments.calibration import (
        CALIBRATED_PARAMETERS,
        CalibrationSettings,
        calibrated_toml,
        particles_table,
        run_calibration,
    )
    from kube_sim.experiments.scenario import load_scenario
    from kube_sim.store.files import dumps, write_text

    keys = tuple(k.strip() for k in args.parameters.split(",") if k.strip()) if args.parameters else \
        CALIBRATED_PARAMETERS
    settings = dataclasses.replace(CalibrationSettings(parameters=keys, months=args.months, seed=args.seed),
                                   **dict[str, Any](sizes))
    base = load_scenario(args.scenario)
    progress = not args.no_progress and sys.stderr.isatty()
    calibration = run_calibration(out, base, settings, backend=args.backend, workers=args.workers,
                                  scheduler=args.scheduler, progress=progress, say=_say, resume=args.resume,
                                  overwrite=args.overwrite)
    try:
        particles_table(calibration).to_csv(out / "particles.csv", index=False)
        write_text(out / "fit.csv", calibration.fit.to_csv(index=False))
        fit_text = format_fit(calibration.fit, format_value)
        write_text(out / "fit.md", "```\n" + fit_text + "\n```\n")
        calibration.refined.to_csv(out / "refined.csv", index=False)
        calibration.ensemble_fit.to_csv(out / "ensemble_fit.csv", index=False)
        manifest = {
            "environment": environment(),
            "settings": {**vars(settings), "parameters": list(settings.parameters)},
            "base_scenario": {"name": base.name, "path": str(base.path), "overrides": base.overrides},
            "priors": {f.key: [f.low, f.high] for f in calibration.factors},
            "point": calibration.point,
            "ensemble": calibration.ensemble,
            "runs": calibration.runs,
            "runs_resumed": calibration.resumed,
            "started": calibration.started,
            "finished": now_iso(),
            "command": ["kube-sim", *getattr(args, "argv", sys.argv[1:])],
            "scenario_file": str(target) if target else None,
        }
        write_text(out / "manifest.json", dumps(manifest))
    except OSError as exc:
        print(f"{PROG}: error: {stopped_by(exc, out)}", file=sys.stderr)
        return EXIT_STOPPED
    if target is not None:
        text = calibrated_toml(calibration)
        try:
            write_text(target, text)
        except (OSError, InputError) as exc:
            kept = out / "calibrated.toml"
            write_text(kept, text)
            reason = exc.strerror if isinstance(exc, OSError) else exc.reason
            print(f"{PROG}: error: --write: {args.write or target}: {reason}; the calibrated scenario is kept "
                  f"in {kept}", file=sys.stderr)
            return EXIT_STOPPED
        load_scenario(target)  # what was written reads back
    print(fit_text)
    print()
    in_band = int(calibration.fit["in_band"].sum())
    print(f"{in_band} of {len(calibration.fit)} targets in their band at the calibrated point "
          f"(distance {calibration.refined['distance_fresh_seeds'].min():.3f} at fresh seeds)")
    print("calibrated values: " + ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
                                            for k, v in calibration.point.items()))
    print(f"results in {out}/" + (f"; scenario written to {target}" if target else ""))
    if target is not None and (Path.cwd() / "docs" / "make_parameter_table.py").is_file():
        print("the baseline now uses these values: run 'python docs/make_parameter_table.py' to refresh "
              "docs/PARAMETERS.md")
    return 0
