"""Calibration: fit the assumptions that matter to the validation targets by ABC with sequential Monte Carlo.

The parameters fitted (:data:`CALIBRATED_PARAMETERS`) are the assumptions that the sensitivity
ranking puts first for survival and the patterns the targets describe; each is sampled uniformly on
its plausible range: the ``(range a-b)`` its source in :mod:`kube_sim.model.parameters` states, else
half to twice its model default, within the declared bounds. The targets (:data:`TARGET_PATTERNS`) are the
validation's band checks of the study and of DOMAIN.md section 4: survival at 12, 24 and 36 months,
the share active of groups up to five years old, unaccompanied groups failing 2-3 times as often,
the share and persistence of inactive members, and funded groups per quota.

The sampler (Toni et al. 2009, with the adaptive kernel of Beaumont et al. 2009):

1. generation 0 draws ``particles`` parameter sets from the prior (a Latin hypercube on the unit
   cube); each runs at ``replications`` seeds in the baseline and without facilitators (the same
   seeds for every particle: common random numbers, so particles differ by their parameters, not by
   luck);
2. the ``keep`` particles nearest the targets (:func:`kube_sim.analysis.calibration.distance`) are
   accepted, with importance weights;
3. each later generation perturbs accepted particles (Gaussian kernel, twice their weighted
   covariance), runs them, and accepts the nearest ``keep`` again: the tolerance shrinks each time;
4. the ``refine`` nearest particles of the last generation run again at ``refine_replications``
   fresh seeds; the nearest of them is the calibrated point, and its fit is reported with intervals;
5. the ensemble is ``ensemble_size`` equally weighted draws (systematic resampling) from the last
   accepted population: the parameter uncertainty that ``--ensemble`` carries into answers.

Every run's measurements are appended to a JSON-lines file per stage as it finishes, so a stopped
calibration resumes where it stopped (each stage's design follows from the seed and the finished
stages, and is fingerprinted).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from kube_sim import __version__
from kube_sim.analysis.calibration import (
    distance,
    effective_sample_size,
    fit_table,
    kernel_covariance,
    smc_weights,
    systematic_resample,
)
from kube_sim.analysis.patterns import Check
from kube_sim.common.errors import InputError
from kube_sim.common.provenance import git_commit, now_iso
from kube_sim.experiments.experiment import replication_seeds
from kube_sim.experiments.scenario import Scenario, toml_value
from kube_sim.experiments.sensitivity import Factor, point_overrides
from kube_sim.experiments.validation import (
    ARMS,
    BASELINE,
    CHECKS,
    FITTED_PATTERNS,
    ValidationTask,
    check_saved_runs,
    district_parameters,
    run_measured,
)
from kube_sim.model.parameters import PARAMETER_SPECS, SECTIONS, Parameters, ParameterSpec, make_parameters
from kube_sim.store.files import jsonable

CALIBRATED_PARAMETERS: tuple[str, ...] = (
    "groups.min_active_share",
    "members.dropout_probability",
    "members.free_rider_factor",
    "members.exit_shortfall_months",
    "members.unvisited_dropout_factor",
    "groups.cohesion_decay_unvisited",
    "groups.village_head_mediation",
    "funding.village_head_approval",
    "funding.proposal_probability",
)
"""The assumptions fitted by default: the first of the sensitivity ranking for survival, and those
behind the targets' other patterns (unaccompanied failure, inactivity, the quota)."""

TARGET_PATTERNS: tuple[str, ...] = FITTED_PATTERNS
"""The validation checks the calibration fits (by pattern name)."""

CALIBRATION_ARMS: tuple[str, ...] = (BASELINE, "no_facilitators")
"""The validation arms each particle runs (the targets need no others)."""

REFINE_SEED_OFFSET = 10_007
"""The refinement's replication seeds derive from ``seed + REFINE_SEED_OFFSET`` (fresh seeds, so the
chosen point's fit is not flattered by the seeds it was selected on)."""

SPAN = 2.0
"""Without a stated range, a parameter is sampled from its default / SPAN to default x SPAN."""

_RANGE = re.compile(r"range\s+(-?[0-9][0-9_.]*)\s*-\s*(-?[0-9][0-9_.]*)")


def targets(patterns: Sequence[str] = TARGET_PATTERNS) -> tuple[Check, ...]:
    """The validation checks a calibration fits, in the order given.

    Args:
        patterns: Their pattern names (default: :data:`TARGET_PATTERNS`).

    Returns:
        The checks.
    """
    by_pattern = {check.pattern: check for check in CHECKS}
    return tuple(by_pattern[name] for name in patterns)


def stated_range(spec: ParameterSpec) -> tuple[float, float] | None:
    """The plausible range a parameter's source states as ``(range a-b)``, if any.

    Args:
        spec: The parameter's metadata.

    Returns:
        ``(a, b)`` or None.
    """
    found = _RANGE.search(spec.source)
    if not found:
        return None
    low, high = (float(v.replace("_", "")) for v in found.groups())
    return (low, high) if high > low else None


def prior_factor(key: str, base: Scenario) -> Factor:
    """One fitted parameter with its prior range.

    Args:
        key: Dotted parameter key (a number, not a list or text).
        base: The scenario fitted (kept for the factor's record of its value there).

    Returns:
        The factor (uniform on ``[low, high]``).

    Raises:
        InputError: For an unknown key or one that cannot be fitted.
    """
    spec = PARAMETER_SPECS.get(key)
    if spec is None:
        raise InputError("unknown parameter", source="--parameters", key=key)
    default = spec.default
    if spec.type not in (int, float) or isinstance(default, bool):
        raise InputError("only numeric parameters can be fitted", source="--parameters", key=key)
    found = stated_range(spec)
    if found is None:
        if default <= 0:
            raise InputError(f"no stated range and default {default:g}: nothing to span", source="--parameters",
                             key=key)
        found = (default / SPAN, default * SPAN)
    low = found[0] if spec.low is None else max(found[0], spec.low)
    high = found[1] if spec.high is None else min(found[1], spec.high)
    kind = "int" if spec.type is int else "float"
    if kind == "int":
        low, high = math.ceil(low), math.floor(high)
    if high <= low:
        raise InputError("its range holds a single value", source="--parameters", key=key)
    return Factor(key, key, None, kind, float(low), float(high), base.params.get(key), spec.unit)


@dataclass(frozen=True)
class CalibrationSettings:
    """How a calibration samples and runs.

    Attributes:
        parameters: Dotted keys fitted.
        particles: Parameter sets run per generation.
        generations: Generations of the sampler (the first from the prior).
        keep: Particles accepted per generation.
        replications: Seeds per particle and arm.
        refine: Nearest particles of the last generation run again.
        refine_replications: Seeds of that run.
        ensemble_size: Equally weighted members of the ensemble.
        months: Run length (at least 61, so the third cohort is followed 36 months).
        seed: Master seed (replication seeds, design, perturbations, resampling).
        targets: The patterns fitted (default: every one of :data:`TARGET_PATTERNS`; fewer to leave
            one out and predict it).
    """

    parameters: tuple[str, ...] = CALIBRATED_PARAMETERS
    particles: int = 200
    generations: int = 5
    keep: int = 50
    replications: int = 4
    refine: int = 6
    refine_replications: int = 24
    ensemble_size: int = 40
    months: int = 64
    seed: int = 1
    targets: tuple[str, ...] = TARGET_PATTERNS

    def check(self) -> None:
        """Reject inconsistent settings.

        Raises:
            InputError: Naming the option at fault.
        """
        rules = [("--particles", self.particles >= 4, "at least 4"),
                 ("--generations", self.generations >= 1, "at least 1"),
                 ("--keep", 2 <= self.keep <= self.particles, "from 2 to --particles"),
                 ("--replications", self.replications >= 2, "at least 2"),
                 ("--refine", 1 <= self.refine <= self.keep, "from 1 to --keep"),
                 ("--refine-replications", self.refine_replications >= 2, "at least 2"),
                 ("--ensemble-size", self.ensemble_size >= 2, "at least 2"),
                 ("--months", self.months >= 61, "at least 61 (the third cohort followed 36 months)")]
        for option, ok, need in rules:
            if not ok:
                raise InputError(f"must be {need}", source=option)
        if not self.targets or not set(self.targets) <= set(TARGET_PATTERNS):
            raise InputError(f"must be some of: {', '.join(TARGET_PATTERNS)}", source="targets")

    @property
    def runs(self) -> int:
        """Runs of the whole calibration."""
        arms = len(CALIBRATION_ARMS)
        return arms * (self.generations * self.particles * self.replications + self.refine * self.refine_replications)


QUICK_SETTINGS: dict[str, int] = {"particles": 24, "generations": 2, "keep": 8, "replications": 2, "refine": 2,
                                  "refine_replications": 4, "ensemble_size": 8}
"""The sampler's sizes for a smoke test (a minute or two; not a calibration)."""


def sampler_sizes(given: dict[str, int], quick: bool = False) -> dict[str, int]:
    """The sampler's sizes: the quick ones, or those given with the defaults for the rest.

    Args:
        given: Sizes asked for, by the names of :data:`QUICK_SETTINGS`.
        quick: Take :data:`QUICK_SETTINGS` (then no size may be given).

    Returns:
        ``{size: value}`` for every name of :data:`QUICK_SETTINGS`.

    Raises:
        InputError: For ``--quick`` with a size given, or sizes that do not fit together (``--keep``
            above ``--particles``, ``--refine`` above ``--keep``).
    """
    if quick and given:
        option = "--" + next(iter(given)).replace("_", "-")
        sizes = ", ".join(f"{k.replace('_', '-')} {v}" for k, v in QUICK_SETTINGS.items())
        raise InputError(f"--quick sets its own sizes ({sizes}); give {option} without --quick, or --quick alone",
                         source=option)
    defaults = CalibrationSettings()
    chosen = dict(QUICK_SETTINGS) if quick else {name: given.get(name, getattr(defaults, name))
                                                 for name in QUICK_SETTINGS}
    if chosen["keep"] > chosen["particles"]:
        raise InputError(f"must be at most --particles ({chosen['particles']}), got {chosen['keep']}", source="--keep")
    if chosen["refine"] > chosen["keep"]:
        raise InputError(f"must be at most --keep ({chosen['keep']}), got {chosen['refine']}", source="--refine")
    return chosen


@dataclass
class Generation:
    """One generation of the sampler.

    Attributes:
        index: Its number (0: the prior).
        unit: Its particles on the unit cube.
        distances: Each particle's distance from the targets.
        accepted: Indices of the accepted particles.
        weights: The accepted particles' normalised weights.
        tolerance: The largest accepted distance.
    """

    index: int
    unit: np.ndarray
    distances: np.ndarray
    accepted: np.ndarray
    weights: np.ndarray

    @property
    def tolerance(self) -> float:
        """The largest accepted distance."""
        return float(self.distances[self.accepted].max())


@dataclass
class Calibration:
    """A calibration's outcome.

    Attributes:
        settings: How it ran.
        factors: The fitted parameters with their prior ranges.
        base: The scenario it started from.
        generations: The sampler's generations.
        point: The calibrated values (dotted keys).
        fit: The point's fit per target (see :func:`kube_sim.analysis.calibration.fit_table`).
        refined: The refined candidates: their values, distance at the fresh seeds.
        ensemble: The ensemble's members (dotted keys).
        ensemble_fit: Per target: the ensemble members' estimates' median and 5-95% range.
        point_runs: The calibrated point's runs at the fresh seeds (every measurement, so any check,
            fitted or not, can be evaluated on them).
        ensemble_runs: Each ensemble member's runs in the last generation.
        runs: Runs made (resumed ones included).
        resumed: Runs read back from a stopped calibration.
        started: When it started (ISO time).
    """

    settings: CalibrationSettings
    factors: list[Factor]
    base: Scenario
    generations: list[Generation]
    point: dict[str, Any]
    fit: pd.DataFrame
    refined: pd.DataFrame
    ensemble: list[dict[str, Any]]
    ensemble_fit: pd.DataFrame
    point_runs: pd.DataFrame = field(default_factory=pd.DataFrame)
    ensemble_runs: list[pd.DataFrame] = field(default_factory=list)
    runs: int = 0
    resumed: int = 0
    started: str = field(default_factory=now_iso)


def _code_hash() -> str:
    here = Path(__file__).parent
    text = b"".join((here / name).read_bytes() for name in ("calibration.py", "validation.py"))
    return hashlib.sha256(text).hexdigest()[:16]


def _fingerprint(stage: str, settings: CalibrationSettings, base: Scenario, unit: np.ndarray) -> str:
    data = {"stage": stage, "settings": asdict(settings), "base": jsonable(base.overrides),
            "district": jsonable(base.params.geography.record()), "unit": np.round(unit, 12).tolist(),
            "code": _code_hash()}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def _rng(settings: CalibrationSettings, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([settings.seed, stream]))


def _tasks(stage: str, base: Scenario, factors: Sequence[Factor], unit: np.ndarray, seeds: Sequence[int],
           months: int, fingerprint: str) -> list[ValidationTask]:
    tasks = []
    root = district_parameters(base.params.geography)  # the scenario's district, its own file's included
    for particle, row in enumerate(unit):
        values = point_overrides(base, factors, row)
        for arm in CALIBRATION_ARMS:
            try:
                params = make_parameters({**base.overrides, **values, **ARMS[arm]}, base=root)
            except InputError as exc:
                raise InputError(f"particle {particle} is not valid: {exc.reason}", source="--parameters",
                                 key=exc.key) from None
            for replication, seed in enumerate(seeds):
                tasks.append(ValidationTask(arm, replication, seed, months, params, fingerprint,
                                            labels=(("stage", stage), ("particle", particle))))
    return tasks


def _by_particle(rows: list[dict[str, Any]], n: int) -> list[pd.DataFrame]:
    frame = pd.DataFrame(rows)
    return [frame[frame["particle"] == p] for p in range(n)]


def _perturb(previous: Generation, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` particles drawn from the accepted ones by weight and moved by the kernel, inside the cube."""
    population = previous.unit[previous.accepted]
    covariance = kernel_covariance(population, previous.weights)
    out: list[np.ndarray] = []
    for _ in range(1000):
        picks = rng.choice(len(population), size=n, p=previous.weights)
        moved = population[picks] + rng.multivariate_normal(np.zeros(population.shape[1]), covariance, size=n)
        out.extend(moved[np.all((moved >= 0) & (moved <= 1), axis=1)])
        if len(out) >= n:
            break
    if len(out) < n:  # a degenerate kernel: fill with the accepted particles themselves
        out.extend(population[rng.choice(len(population), size=n - len(out), p=previous.weights)])
    return np.asarray(out[:n]), covariance


def run_calibration(out_dir: Path, base: Scenario, settings: CalibrationSettings | None = None, *,
                    backend: str = "local", workers: int = 1, scheduler: str | None = None, progress: bool = True,
                    say: Callable[[str], None] | None = None, resume: bool = False,
                    overwrite: bool = False) -> Calibration:
    """Run (or resume) a calibration in ``out_dir``.

    Args:
        out_dir: Folder for each stage's measurements (``generation_<g>.jsonl``, ``refine.jsonl``). Runs
            saved there are resumed with ``resume`` (under the same settings, else InputError), deleted
            with ``overwrite``, and otherwise refused, as for every long command.
        base: The scenario the fitted values are set on (its own values of them are replaced).
        settings: How to sample and run (defaults: :class:`CalibrationSettings`).
        backend: ``local`` or ``dask``.
        workers: Parallel workers.
        scheduler: Dask scheduler address.
        progress: Show progress bars on stderr.
        say: Called with one-line messages; None for silence.
        resume: Finish the calibration saved in ``out_dir``.
        overwrite: Delete the runs saved in ``out_dir`` and start again.

    Returns:
        The calibration.

    Raises:
        InputError: For bad settings, a parameter that cannot be fitted, or saved runs in ``out_dir``
            without ``resume`` or ``overwrite`` (or of other settings with ``resume``).
    """
    settings = settings or CalibrationSettings()
    settings.check()
    check_saved_runs(out_dir, saved_run_files(out_dir), resume=resume, overwrite=overwrite, what="a calibration")
    started = now_iso()
    factors = [prior_factor(key, base) for key in settings.parameters]
    checks = targets(settings.targets)
    seeds = replication_seeds(settings.seed, settings.replications)
    out_dir.mkdir(parents=True, exist_ok=True)
    note = say or (lambda _text: None)
    note(f"calibration: {len(factors)} parameters, {len(checks)} targets, {settings.generations} generations of "
         f"{settings.particles} particles x {settings.replications} seeds x {len(CALIBRATION_ARMS)} arms, then "
         f"{settings.refine} x {settings.refine_replications} seeds "
         f"({settings.runs:,} runs of {settings.months} months)")
    generations: list[Generation] = []
    runs = resumed = 0
    last_frames: list[pd.DataFrame] = []
    for g in range(settings.generations):
        rng = _rng(settings, 1 + g)
        if g == 0:
            unit = qmc.LatinHypercube(d=len(factors), seed=rng).random(settings.particles)
            covariance = None
        else:
            unit, covariance = _perturb(generations[-1], settings.particles, rng)
        stage = f"generation_{g}"
        fingerprint = _fingerprint(stage, settings, base, unit)
        tasks = _tasks(stage, base, factors, unit, seeds, settings.months, fingerprint)
        rows, from_disk = run_measured(tasks, out_dir / f"{stage}.jsonl", fingerprint=fingerprint,
                                       what="calibration runs", backend=backend, workers=workers,
                                       scheduler=scheduler, progress=progress,
                                       desc=f"calibrate {g + 1}/{settings.generations}")
        runs, resumed = runs + len(rows), resumed + from_disk
        frames = _by_particle(rows, len(unit))
        distances = np.array([distance(checks, frame) for frame in frames])
        accepted = np.argsort(distances, kind="stable")[:settings.keep]
        if covariance is None:
            weights = np.full(len(accepted), 1.0 / len(accepted))
        else:
            previous = generations[-1]
            weights = smc_weights(unit[accepted], previous.unit[previous.accepted], previous.weights, covariance)
        generations.append(Generation(g, unit, distances, accepted, weights))
        last_frames = frames
        note(f"generation {g}: tolerance {generations[-1].tolerance:.3f}, best {distances[accepted[0]]:.3f}, "
             f"effective sample size {effective_sample_size(weights):.1f} of {len(accepted)}")

    last = generations[-1]
    candidates = last.unit[last.accepted[:settings.refine]]
    refine_seeds = replication_seeds(settings.seed + REFINE_SEED_OFFSET, settings.refine_replications)
    fingerprint = _fingerprint("refine", settings, base, candidates)
    rows, from_disk = run_measured(_tasks("refine", base, factors, candidates, refine_seeds, settings.months,
                                          fingerprint), out_dir / "refine.jsonl", fingerprint=fingerprint,
                                   what="calibration runs",
                                   backend=backend, workers=workers, scheduler=scheduler, progress=progress,
                                   desc="calibrate: refine")
    runs, resumed = runs + len(rows), resumed + from_disk
    frames = _by_particle(rows, len(candidates))
    refined_distance = np.array([distance(checks, frame) for frame in frames])
    best = int(np.argmin(refined_distance))
    point = point_overrides(base, factors, candidates[best])
    refined = pd.DataFrame([{**point_overrides(base, factors, row), "distance_selection": float(last.distances[i]),
                             "distance_fresh_seeds": float(d), "chosen": j == best}
                            for j, (i, row, d) in enumerate(zip(last.accepted[:settings.refine], candidates,
                                                                refined_distance, strict=True))])
    fit = fit_table(checks, frames[best])

    picks = systematic_resample(last.weights, settings.ensemble_size, _rng(settings, 10_000))
    members = [point_overrides(base, factors, last.unit[last.accepted[i]]) for i in picks]
    estimates = pd.DataFrame([fit_table(checks, last_frames[last.accepted[i]])["estimate"].to_numpy()
                              for i in picks], columns=[c.pattern for c in checks])
    ensemble_fit = pd.DataFrame({"pattern": estimates.columns, "median": estimates.median().to_numpy(),
                                 "p05": estimates.quantile(0.05).to_numpy(),
                                 "p95": estimates.quantile(0.95).to_numpy()})
    return Calibration(settings=settings, factors=factors, base=base, generations=generations, point=point, fit=fit,
                       refined=refined, ensemble=members, ensemble_fit=ensemble_fit, point_runs=frames[best],
                       ensemble_runs=[last_frames[last.accepted[i]] for i in picks], runs=runs, resumed=resumed,
                       started=started)


LEAVE_ONE_OUT_SETTINGS = CalibrationSettings(particles=40, generations=3, keep=10, replications=2, refine=3,
                                             refine_replications=8, ensemble_size=20)
"""A small calibration for the leave-one-target-out check: 9 calibrations of 2 x (3 x 40 x 2 + 3 x 8)
= 528 runs of 64 months each, a few minutes in all on two cores."""


def leave_one_out(out_dir: Path, base: Scenario, settings: CalibrationSettings = LEAVE_ONE_OUT_SETTINGS, *,
                  workers: int = 1, progress: bool = False, say: Callable[[str], None] | None = None,
                  resume: bool = False) -> pd.DataFrame:
    """Calibrate without each target in turn and predict it: the out-of-sample check of the calibration.

    For each target, the calibration runs on the others (in ``out_dir/<n>``; ``out_dir/all`` fits
    every target, for comparison), then the left-out target is evaluated on the calibrated point's runs
    at fresh seeds (estimate and 95% interval) and on each ensemble member's runs (the 5-95% range of
    their estimates: parameter uncertainty with seed noise).

    Args:
        out_dir: Folder for the calibrations' runs.
        base: The scenario calibrated.
        settings: The calibrations' settings (their ``targets`` are replaced).
        workers: Parallel local processes.
        progress: Show progress bars.
        say: Called with one-line messages.
        resume: Reuse runs saved in ``out_dir`` (else they are deleted and run again).

    Returns:
        One row per target: ``pattern, unit, low, high, fitted_estimate`` (the fit with every target),
        ``estimate, ci_low, ci_high`` (left out, at the point), ``p05, p95`` (left out, ensemble),
        ``in_band`` (the point estimate) and ``overlaps`` (whether the ensemble range meets the band).
    """
    from kube_sim.analysis.calibration import target_bounds

    def fit(name: str, patterns: tuple[str, ...]) -> Calibration:
        if say is not None:
            say(f"leave-one-out: calibrating on {len(patterns)} targets ({name})")
        return run_calibration(out_dir / name, base, replace(settings, targets=patterns), workers=workers,
                               progress=progress, resume=resume, overwrite=not resume)

    every = fit("all", TARGET_PATTERNS)
    rows = []
    for i, check in enumerate(targets()):
        others = tuple(p for p in TARGET_PATTERNS if p != check.pattern)
        left = fit(str(i), others)
        point = check.rule.evaluate(left.point_runs)
        members = np.array([check.rule.evaluate(frame).estimate for frame in left.ensemble_runs], dtype=float)
        members = members[np.isfinite(members)]
        low, high = target_bounds(check)
        p05, p95 = (float(np.quantile(members, q)) for q in (0.05, 0.95)) if members.size else (math.nan, math.nan)
        rows.append({"pattern": check.pattern, "unit": check.unit, "target": check.rule.target(check.unit),
                     "low": low, "high": high, "fitted_estimate": float(check.rule.evaluate(every.point_runs).estimate),
                     "estimate": point.estimate, "ci_low": point.ci_low, "ci_high": point.ci_high,
                     "p05": p05, "p95": p95, "in_band": bool(low <= point.estimate <= high),
                     "overlaps": bool(members.size and p95 >= low and p05 <= high)})
    return pd.DataFrame(rows)


def saved_run_files(out_dir: Path) -> list[Path]:
    """The files of runs a calibration saved in ``out_dir`` (each generation's, and the refinement's).

    Args:
        out_dir: The calibration's folder.

    Returns:
        The files present.
    """
    return sorted(out_dir.glob("generation_*.jsonl")) + [p for p in [out_dir / "refine.jsonl"] if p.exists()]


def particles_table(calibration: Calibration) -> pd.DataFrame:
    """Every particle of every generation: values, distance, whether accepted, weight.

    Args:
        calibration: The calibration.

    Returns:
        One row per particle and generation.
    """
    rows = []
    for generation in calibration.generations:
        weight = dict(zip(generation.accepted.tolist(), generation.weights.tolist(), strict=True))
        for i, row in enumerate(generation.unit):
            rows.append({"generation": generation.index, "particle": i,
                         **point_overrides(calibration.base, calibration.factors, row),
                         "distance": float(generation.distances[i]), "accepted": i in weight,
                         "weight": weight.get(i, 0.0)})
    return pd.DataFrame(rows)


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.4g}")
    return value


def method_text(s: CalibrationSettings) -> str:
    """The sampler and its settings in one sentence (for the provenance)."""
    return (f"ABC-SMC (Toni et al. 2009; adaptive kernel, Beaumont et al. 2009): {s.generations} generations of "
            f"{s.particles} particles, the nearest {s.keep} accepted each, {s.replications} paired seeds per "
            f"particle in the baseline and without facilitators; the {s.refine} nearest rerun at "
            f"{s.refine_replications} fresh seeds and the nearest of them chosen")


def calibrated_toml(calibration: Calibration, name: str = "calibrated") -> str:
    """The calibrated scenario as TOML: the point's values, the provenance and the ensemble.

    Args:
        calibration: The calibration.
        name: The scenario's name.

    Returns:
        TOML text that :func:`kube_sim.experiments.scenario.load_scenario` reads.
    """
    s = calibration.settings
    point = {key: _round(value) for key, value in calibration.point.items()}
    base_values = {k: v for k, v in calibration.base.overrides.items() if k not in point}
    geography = calibration.base.params.geography
    own_district = geography != Parameters().geography
    where = (f" Run in {geography.name} (district file {geography.source}): use it with --district "
             f"{geography.source}." if own_district else "")
    title = "Calibrated assumptions" + (f" ({geography.name})" if own_district else "")
    lines = [f"name = {toml_value(name)}",
             f"title = {toml_value(title)}",
             "description = " + toml_value(
                 f"The assumptions that matter most, fitted by kube-sim calibrate (ABC-SMC) to {len(calibration.fit)} "
                 "targets from the Polewali Mandar study and DOMAIN.md; [calibration] says how and how well, "
                 f"[ensemble] holds the accepted parameter sets for --ensemble.{where}"),
             'base = "defaults"', ""]
    values = {**base_values, **point}
    for section in SECTIONS:
        keys = sorted(k for k in values if k.split(".")[0] == section)
        if keys:
            lines.append(f"[{section}]")
            lines += [f"{k.split('.', 1)[1]} = {toml_value(values[k])}" for k in keys]
            lines.append("")
    fit = calibration.fit
    lines += ["[calibration]",
              f"method = {toml_value(method_text(s))}",
              f"date = {toml_value(now_iso())}",
              f"package_version = {toml_value(__version__)}",
              f"git_commit = {toml_value(git_commit() or 'unknown')}",
              f"base_scenario = {toml_value(calibration.base.name)}",
              f"district = {toml_value(geography.name)}",
              f"district_file = {toml_value(geography.source or geography.name)}",
              f"seed = {s.seed}",
              f"months = {s.months}",
              f"runs = {calibration.runs}",
              f"distance = {_round(float(calibration.refined['distance_fresh_seeds'].min()))}",
              f"targets_in_band = {int(fit['in_band'].sum())}",
              f"targets = {len(fit)}",
              ""]
    lines.append("[calibration.priors]")
    lines += [f'"{f.key}" = [{toml_value(_round(f.low))}, {toml_value(_round(f.high))}]'
              for f in calibration.factors]
    lines.append("")
    for _, row in fit.iterrows():
        lines += ["[[calibration.fit]]", f"pattern = {toml_value(row['pattern'])}",
                  f"target = {toml_value(row['target'])}", f"source = {toml_value(row['source'])}",
                  f"estimate = {toml_value(_round(float(row['estimate'])))}",
                  f"ci_low = {toml_value(_round(float(row['ci_low'])))}",
                  f"ci_high = {toml_value(_round(float(row['ci_high'])))}",
                  f"in_band = {toml_value(bool(row['in_band']))}", ""]
    keys = [f.key for f in calibration.factors]
    lines += ["[ensemble]", f"keys = {toml_value(keys)}", "members = ["]
    lines += [f"  {toml_value([_round(member[k]) for k in keys])}," for member in calibration.ensemble]
    lines += ["]", ""]
    return "\n".join(lines)
