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
    PROG,
    Stopped,
    Study,
    add_backend_options,
    add_district_option,
    add_months_option,
    add_resume_options,
    add_seed_option,
    add_table_options,
    add_workers_option,
    register,
    render_table,
    replications_arg,
    stopped_by,
    whole_number,
)
from kube_sim.common.errors import InputError
from kube_sim.experiments.calibration import QUICK_SETTINGS as QUICK

DEFAULT_OUT = Path("results") / "calibration"


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


class Calibrate(Study):
    """``kube-sim calibrate``: the ABC-SMC sampler's runs, the fit per target and the calibrated scenario."""

    name = "calibrate"
    summary = "fit the assumptions that matter to the validation targets (ABC-SMC)"
    description = ("Fit the assumptions that matter most to the study's patterns and the calibration targets by "
                   "approximate Bayesian computation with sequential Monte Carlo; write the calibrated scenario "
                   "with its provenance and an ensemble of accepted parameter sets.")
    epilog = EPILOG

    @classmethod
    def add_options(cls, parser: argparse.ArgumentParser) -> None:
        """Add the fitted parameters, the sampler's sizes, the outputs and the engine's options.

        Args:
            parser: The command's parser.
        """
        from kube_sim.experiments.calibration import CalibrationSettings

        d = CalibrationSettings()
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
        add_district_option(parser)
        add_workers_option(parser, "parallel local processes (or local Dask workers); 1 runs in this process")
        add_backend_options(parser)
        add_resume_options(parser, "a calibration")
        add_table_options(parser)

    def check(self) -> None:
        """The sampler's sizes, and where the scenario goes."""
        from kube_sim.experiments.scenario import SCENARIO_FILES

        args = self.args
        self.sizes = calibration_sizes(args)
        if args.no_write and args.write is not None:
            raise InputError("--write and --no-write contradict each other: give one", source="--no-write")
        self.district = None
        if args.district:
            from kube_sim.experiments.district_file import load_district
            from kube_sim.store.files import safe_name

            self.district = load_district(args.district)
            self.slug = safe_name(self.district.name, lower=True) or "district"
        else:
            self.slug = ""
        default_file = f"calibrated_{self.slug}.toml" if self.slug else "calibrated.toml"
        self.scenario_file = None if args.no_write else (args.write or SCENARIO_FILES.folder() / default_file)
        self.out_typed = args.out != DEFAULT_OUT
        if self.slug and not self.out_typed:  # a district's calibration never mixes with Polewali Mandar's
            args.out = DEFAULT_OUT.parent / f"{DEFAULT_OUT.name}_{self.slug}"
        self.folder = args.out

    def targets(self) -> list[tuple[str, Any]]:
        """``--out`` and ``--write`` (the scenario file)."""
        from kube_sim.store.targets import FILE, FOLDER, Target

        args = self.args
        return [("--out", Target(args.out, FOLDER, typed=self.out_typed)),
                ("--write", Target(self.scenario_file, FILE, typed=args.write is not None))]

    def work(self, plan: Any, folder: Path) -> Any:
        """The sampler's generations and the refinement (saved as they finish)."""
        from kube_sim.experiments.calibration import CALIBRATED_PARAMETERS, CalibrationSettings, run_calibration
        from kube_sim.experiments.scenario import load_scenario

        args = self.args
        keys = tuple(k.strip() for k in args.parameters.split(",") if k.strip()) if args.parameters else \
            CALIBRATED_PARAMETERS
        self.settings = dataclasses.replace(CalibrationSettings(parameters=keys, months=args.months, seed=args.seed),
                                            **dict[str, Any](self.sizes))
        self.base = load_scenario(args.scenario)
        if self.district is not None:
            from kube_sim.experiments.district_file import use_district

            self.base = use_district(self.base, self.district)
        progress = not args.no_progress and sys.stderr.isatty()
        return run_calibration(folder, self.base, self.settings, backend=args.backend, workers=args.workers,
                               scheduler=args.scheduler, progress=progress, say=_say, resume=args.resume,
                               overwrite=args.overwrite)

    def write(self, result: Any, folder: Path) -> str:
        """The particles, the fit and the manifest, then the calibrated scenario (read back)."""
        from kube_sim.analysis.patterns import format_value
        from kube_sim.common.provenance import environment, now_iso
        from kube_sim.experiments.calibration import calibrated_toml, particles_table
        from kube_sim.experiments.scenario import load_scenario
        from kube_sim.store.files import dumps, write_text

        calibration, settings, base, target = result, self.settings, self.base, self.scenario_file
        particles_table(calibration).to_csv(folder / "particles.csv", index=False)
        write_text(folder / "fit.csv", calibration.fit.to_csv(index=False))
        fit_text = format_fit(calibration.fit, format_value)
        write_text(folder / "fit.md", "```\n" + fit_text + "\n```\n")
        calibration.refined.to_csv(folder / "refined.csv", index=False)
        calibration.ensemble_fit.to_csv(folder / "ensemble_fit.csv", index=False)
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
            "command": ["kube-sim", *getattr(self.args, "argv", sys.argv[1:])],
            "scenario_file": str(target) if target else None,
        }
        write_text(folder / "manifest.json", dumps(manifest))
        if target is not None:
            text = calibrated_toml(calibration, name=f"calibrated_{self.slug}" if self.slug else "calibrated")
            try:
                write_text(target, text)
            except (OSError, InputError) as exc:
                kept = folder / "calibrated.toml"
                write_text(kept, text)
                reason = exc.strerror if isinstance(exc, OSError) else exc.reason
                print(f"{PROG}: error: --write: {self.args.write or target}: {reason}; the calibrated scenario is "
                      f"kept in {kept}", file=sys.stderr)
                raise Stopped from None
            load_scenario(target)  # what was written reads back
        return fit_text

    def write_problem(self, exc: OSError, folder: Path) -> str:
        """The runs are saved: the line says so (``--resume`` then writes the rest)."""
        return stopped_by(exc, folder)

    def closing(self, result: Any, written: Any, folder: Path) -> None:
        """The fit per target, the calibrated values and where they are."""
        calibration, target = result, self.scenario_file
        print(written)
        print()
        in_band = int(calibration.fit["in_band"].sum())
        print(f"{in_band} of {len(calibration.fit)} targets in their band at the calibrated point "
              f"(distance {calibration.refined['distance_fresh_seeds'].min():.3f} at fresh seeds)")
        print("calibrated values: " + ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
                                                for k, v in calibration.point.items()))
        print(f"results in {folder}/" + (f"; scenario written to {target}" if target else ""))
        if target is not None and (Path.cwd() / "docs" / "make_parameter_table.py").is_file():
            print("the baseline now uses these values: run 'python docs/make_parameter_table.py' to refresh "
                  "docs/PARAMETERS.md")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``calibrate`` on the main parser.

    Args:
        subparsers: The main parser's subcommands.
    """
    register(subparsers, Calibrate)


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


def calibration_sizes(args: argparse.Namespace) -> dict[str, int]:
    """The sampler's sizes: ``--quick``'s, or those given with the defaults for the rest.

    Args:
        args: Parsed ``calibrate`` arguments.

    Returns:
        ``{setting: value}`` (see :func:`kube_sim.experiments.calibration.sampler_sizes`).

    Raises:
        InputError: For ``--quick`` with a size option, or sizes that do not fit together.
    """
    from kube_sim.experiments.calibration import sampler_sizes

    return sampler_sizes({name: getattr(args, name) for name in QUICK if getattr(args, name) is not None},
                         args.quick)
