"""Run a design: every arm times every replication, saved batch by batch, resumable, on any executor.

A :class:`SweepPlan` lists the arms (parameter sets), the replication seeds (the same in every arm:
common random numbers) and the run length. :func:`plan_experiment` makes one from an experiment
file, :func:`plan_comparison` from two scenarios. :func:`run_sweep` runs the plan's missing runs on
an executor (see :mod:`kube_sim.experiments.executors`), writes each finished batch of runs to its part files at once,
then consolidates the tables and the manifest (see :mod:`kube_sim.store.sweep_folder`).

Run ``run_id`` is ``arm * replications + replication`` (arm-major, replication-minor). A run that
raises is saved with status ``"failed"`` and its error; the sweep goes on. A sweep killed at any
moment keeps every finished batch (it loses at most the batches in flight); ``resume=True`` runs
only the missing ones and gives the same tables as an uninterrupted sweep.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
from tqdm import tqdm

from kube_sim.analysis.ensemble import ENSEMBLE_COLUMN
from kube_sim.common.errors import InputError
from kube_sim.common.i18n import _, fmt_fixed, ngettext
from kube_sim.common.provenance import environment, now_iso
from kube_sim.experiments import batching
from kube_sim.experiments.batching import BatchSettings
from kube_sim.experiments.executors import Executor, make_executor
from kube_sim.experiments.experiment import Experiment, replication_seeds
from kube_sim.experiments.rows import STATUS_OK, arm_label, arrow_type, kept_outcomes, runs_schema
from kube_sim.experiments.scenario import Scenario, display_path
from kube_sim.experiments.tasks import RunOutput, RunTask, execute, execute_batch, same_batch_key
from kube_sim.model.parameters import PARAMETER_SPECS, Parameters, make_parameters
from kube_sim.store import parts
from kube_sim.store import sweep_folder as store
from kube_sim.store.files import jsonable
from kube_sim.store.lock import hold


@dataclass(frozen=True)
class Arm:
    """One design point.

    Attributes:
        index: Arm number (design order).
        label: Short text such as ``groups_per_facilitator=5, hours_per_month=30``.
        params: Its parameters.
        factors: Its factor values by column (the runs table's factor columns).
        scenario: Scenario name recorded in its runs.
        parameters: What the manifest records as the arm's parameters (dotted keys).
        ensemble_params: Its parameters under each ensemble member (empty without an ensemble).
        name: The arm's name for readers (an experiment file's ``[arms]``, a compared scenario's name),
            or None; it does not change the runs.
    """

    index: int
    label: str
    params: Parameters
    factors: dict[str, Any]
    scenario: str
    parameters: dict[str, Any]
    ensemble_params: tuple[Parameters, ...] = ()
    name: str | None = None


@dataclass(frozen=True)
class SweepPlan:
    """Everything that decides a sweep's runs.

    Attributes:
        name: Experiment name.
        arms: The arms, in design order.
        seeds: Replication seeds (replication ``i`` uses ``seeds[i]`` in every arm).
        months: Run length.
        factor_types: Factor columns and their Arrow types.
        outcomes: Outcome columns kept.
        manifest: Experiment information for the manifest (file, text, design, factors, ...).
        ensemble: Parameter sets the replications cycle through (empty: none; see :func:`with_ensemble`).
        reference: The parameters the arms vary from (the base scenario; None: arm 0's).
    """

    name: str
    arms: tuple[Arm, ...]
    seeds: tuple[int, ...]
    months: int
    factor_types: dict[str, pa.DataType]
    outcomes: tuple[str, ...]
    manifest: dict[str, Any] = field(default_factory=dict)
    ensemble: tuple[dict[str, Any], ...] = ()
    reference: Parameters | None = None

    @property
    def members_used(self) -> int:
        """Ensemble members the replications cycle through (0 without an ensemble).

        Each member gets at least two seeds where the replications allow, so that the seed noise
        within a member can be told from the spread between members.
        """
        if not self.ensemble:
            return 0
        return max(1, min(len(self.ensemble), self.replications // 2))

    def member_of(self, replication: int) -> int | None:
        """The ensemble member a replication runs (``replication mod members_used``), or None."""
        return replication % self.members_used if self.ensemble else None

    @property
    def replications(self) -> int:
        """Replications per arm."""
        return len(self.seeds)

    @property
    def n_runs(self) -> int:
        """Runs in the sweep."""
        return len(self.arms) * len(self.seeds)

    def schema(self) -> pa.Schema:
        """The runs table's schema."""
        return runs_schema(self.factor_types, self.outcomes)

    def task(self, run_id: int, schema: pa.Schema | None = None) -> RunTask:
        """The task of one run.

        Args:
            run_id: ``arm * replications + replication``.
            schema: The runs schema (computed when None).

        Returns:
            The :class:`RunTask`.
        """
        arm = self.arms[run_id // self.replications]
        replication = run_id % self.replications
        params, factors = arm.params, arm.factors
        member = self.member_of(replication)
        if member is not None:
            params, factors = arm.ensemble_params[member], {**factors, ENSEMBLE_COLUMN: member}
        return RunTask(run_id=run_id, arm=arm.index, arm_label=arm.label, replication=replication,
                       seed=self.seeds[replication], months=self.months, scenario=arm.scenario, params=params,
                       factors=factors, schema=schema or self.schema())

    def tasks(self, run_ids: list[int]) -> Iterator[RunTask]:
        """Tasks of the given runs, made one at a time.

        Args:
            run_ids: Runs, in the order to submit them.

        Yields:
            Their tasks.
        """
        schema = self.schema()
        for run_id in run_ids:
            yield self.task(run_id, schema)

    def fingerprint(self) -> str:
        """A hash of everything that decides the runs' results (to check that a resume is the same sweep)."""
        data = {
            "months": self.months,
            "seeds": list(self.seeds),
            "outcomes": list(self.outcomes),
            "factors": {k: str(v) for k, v in self.factor_types.items()},
            "arms": [[a.label, a.scenario, jsonable(a.factors), jsonable(a.params.to_dict()),
                      a.params.geography.digest()] for a in self.arms],
        }
        if self.ensemble:
            data["ensemble"] = [[jsonable(p.to_dict()) for p in a.ensemble_params] for a in self.arms]
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def with_ensemble(plan: SweepPlan, calibrated: Scenario) -> SweepPlan:
    """The plan run over a calibration's ensemble: replication ``i`` uses member ``i mod members_used``.

    A member's values replace an arm's value of the same parameter wherever the arm holds the plan's
    reference value (the base scenario's); where the arm sets its own value (a factor it varies, or a
    compared scenario's own change) the arm's value stays. The seeds stay paired across arms, and so do the
    members: arm differences per replication carry both seed noise and parameter uncertainty.

    Args:
        plan: A plan.
        calibrated: The scenario holding the ensemble (``calibrated``).

    Returns:
        The plan with the ensemble.

    Raises:
        InputError: If the scenario has no ensemble.
    """
    if not calibrated.ensemble:
        raise InputError("has no [ensemble] table (run 'kube-sim calibrate' to make one)", source="--ensemble",
                         key=calibrated.name)
    reference = plan.reference or plan.arms[0].params
    arms = []
    for arm in plan.arms:
        member_params = []
        for member in calibrated.ensemble:
            changes = {key: value for key, value in member.items()
                       if _same_value(arm.params.get(key), reference.get(key))}
            member_params.append(make_parameters(changes, base=arm.params))
        arms.append(replace(arm, ensemble_params=tuple(member_params)))
    manifest = {**plan.manifest, "ensemble": {
        "name": calibrated.name, "path": str(calibrated.path) if calibrated.path else None,
        "members": [dict(m) for m in calibrated.ensemble], "calibration": jsonable(calibrated.calibration),
        "column": ENSEMBLE_COLUMN}}
    factor_types = {**plan.factor_types, ENSEMBLE_COLUMN: pa.int64()}
    planned = replace(plan, arms=tuple(arms), ensemble=tuple(calibrated.ensemble), factor_types=factor_types,
                      manifest=manifest)
    manifest["ensemble"]["members_used"] = planned.members_used
    return planned


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=0.0)
    return a == b


def plan_experiment(experiment: Experiment) -> SweepPlan:
    """The plan of an experiment file.

    Args:
        experiment: A loaded experiment (with any command-line overrides applied).

    Returns:
        The plan.

    Raises:
        InputError: If a design point gives inconsistent parameters.
    """
    points = experiment.design_points()
    params = experiment.arm_parameters()
    base = experiment.base_scenario
    arms = tuple(Arm(index=i, label=arm_label(point), params=p, factors=dict(point), scenario=base.name,
                     parameters=dict(point), name=experiment.arm_names.get(i))
                 for i, (point, p) in enumerate(zip(points, params, strict=True)))
    manifest = {
        "reference_arm": experiment.reference,
        "experiment_name": experiment.name,
        "description": experiment.description,
        "experiment_file": str(experiment.path) if experiment.path else None,
        "experiment_text": experiment.text,
        "base_scenario": scenario_entry(base),
        "factors": {f.key: f.levels() for f in experiment.factors},
        "parameter_notes": parameter_notes(f.key for f in experiment.factors),
        "master_seed": experiment.master_seed,
        "design": {"kind": experiment.design, "samples": experiment.samples,
                   "seed": experiment.design_seed if experiment.design != "factorial" else None,
                   "points": len(points)},
    }
    return SweepPlan(name=experiment.name, arms=arms, seeds=tuple(experiment.seeds()), months=experiment.months,
                     factor_types={f.key: arrow_type(f.key) for f in experiment.factors},
                     outcomes=kept_outcomes(experiment.outcomes), manifest=manifest, reference=base.params)


def scenario_entry(scenario: Scenario) -> dict[str, Any]:
    """A scenario as the manifest records it: name, file, its changes, every parameter's value and its district."""
    return {"name": scenario.name, "path": str(scenario.path) if scenario.path else None,
            "overrides": dict(scenario.overrides), "parameters": scenario.params.to_dict(),
            "district": scenario.params.geography.record()}


def parameter_notes(keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Unit, model default and meaning of the parameters an experiment varies, so readers need no model."""
    notes = {}
    for key in sorted(set(keys)):
        if key in PARAMETER_SPECS:
            spec = PARAMETER_SPECS[key]
            notes[key] = {"unit": spec.unit, "default": spec.default, "meaning": spec.doc}
    return notes


def plan_comparison(a: Scenario, b: Scenario, *, replications: int, months: int, master_seed: int) -> SweepPlan:
    """The plan of a paired comparison of two scenarios (arm 0 is ``a``, arm 1 is ``b``).

    Args:
        a: The reference scenario.
        b: The scenario compared with it.
        replications: Replications (paired seeds).
        months: Run length.
        master_seed: Seed the replication seeds derive from.

    Returns:
        The plan.
    """
    arms = tuple(Arm(index=i, label=f"scenario={s.name}", params=s.params, factors={}, scenario=s.name,
                     parameters=dict(s.overrides), name=s.name) for i, s in enumerate((a, b)))
    name = f"compare_{a.name}_vs_{b.name}"
    manifest = {
        "reference_arm": 0,
        "experiment_name": name,
        "description": f"Paired comparison of scenario {b.name} against {a.name}.",
        "experiment_file": None,
        "experiment_text": None,
        "base_scenario": scenario_entry(a),
        "factors": {"scenario": [a.name, b.name]},
        "parameter_notes": parameter_notes({*a.overrides, *b.overrides}),
        "design": {"kind": "scenarios", "samples": None, "seed": None, "points": 2},
    }
    return SweepPlan(name=name, arms=arms, seeds=tuple(replication_seeds(master_seed, replications)), months=months,
                     factor_types={}, outcomes=kept_outcomes(None), manifest={**manifest, "master_seed": master_seed},
                     reference=a.params)


# --- the driver ------------------------------------------------------------------------------------

@dataclass
class SweepSummary:
    """How a sweep went.

    Attributes:
        folder: The results folder.
        runs_total: Runs in the plan.
        runs_ok: Runs that finished.
        runs_failed: Runs that raised.
        runs_this_time: Runs executed by this call (the rest were saved before).
        wall_s: Wall time of this call.
        complete: Every run is saved.
    """

    folder: Path
    runs_total: int
    runs_ok: int = 0
    runs_failed: int = 0
    runs_this_time: int = 0
    wall_s: float = 0.0
    complete: bool = False

    @property
    def runs_per_s(self) -> float:
        """Runs executed per second of wall time in this call."""
        return self.runs_this_time / self.wall_s if self.wall_s > 0 else math.nan


class SweepAborted(RuntimeError):
    """The sweep stopped early (a worker died, the cluster went away); finished runs are saved."""


def format_duration(seconds: float) -> str:
    """Seconds as ``1 h 02 min``, ``3 min 05 s`` or ``4.2 s``.

    Args:
        seconds: A duration.

    Returns:
        Text.
    """
    if not math.isfinite(seconds):
        return _("unknown")
    if seconds < 60:
        return _("{seconds} s").format(seconds=fmt_fixed(seconds, 1))
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return _("{minutes} min {seconds} s").format(minutes=minutes, seconds=f"{secs:02d}")
    hours, minutes = divmod(minutes, 60)
    return _("{hours} h {minutes} min").format(hours=hours, minutes=f"{minutes:02d}")


def _manifest(plan: SweepPlan, started: str, finished: str | None, counts: Mapping[str, int],
              previous: Mapping[str, Any] | None, extra: Mapping[str, Any]) -> dict[str, Any]:
    env = environment()
    manifest: dict[str, Any] = {
        **env,
        **plan.manifest,
        "replications": plan.replications,
        "master_seed": plan.manifest.get("master_seed"),
        "months": plan.months,
        "seeds": list(plan.seeds),
        "arms": [{"arm": a.index, "arm_label": a.label, "name": a.name, "scenario": a.scenario,
                  "parameters": a.parameters} for a in plan.arms],
        "outcomes_kept": list(plan.outcomes),
        "district": plan.arms[0].params.geography.record() if plan.arms else None,
        "plan_fingerprint": plan.fingerprint(),
        "started": (previous or {}).get("started", started),
        "finished": finished,
        "resumed": list((previous or {}).get("resumed", [])),
        "runs_total": plan.n_runs,
        "runs_ok": counts.get("ok", 0),
        "runs_failed": counts.get("failed", 0),
        **extra,
    }
    if previous is not None:
        manifest["resumed"].append(started)
    return manifest


def _prepare_folder(plan: SweepPlan, folder: Path, resume: bool, overwrite: bool) -> dict[str, Any] | None:
    """Check the output folder; return the previous manifest when resuming."""
    if folder.exists() and not folder.is_dir():
        raise InputError("exists and is not a folder", source="--out", key=str(folder))
    manifest_path = folder / store.MANIFEST_FILE
    has_results = manifest_path.exists() or (folder / parts.PARTS_DIR).exists() or (folder / "runs.parquet").exists()
    if not has_results:
        return None
    if overwrite and not resume:
        for table in parts.TABLES:
            (folder / f"{table}.parquet").unlink(missing_ok=True)
        parts.remove_parts(folder)
        manifest_path.unlink(missing_ok=True)
        return None
    if not resume:
        raise InputError("already holds a sweep's results; add --resume to finish it, --overwrite to start again, "
                         "or choose another --out", source="--out", key=display_path(folder))
    try:
        previous = store.load_manifest(folder)
    except (FileNotFoundError, json.JSONDecodeError):
        raise InputError("has results but no readable manifest.json; cannot resume (use --overwrite)",
                         source="--out", key=display_path(folder)) from None
    if previous.get("plan_fingerprint") != plan.fingerprint():
        raise InputError("holds a different sweep (other design, seeds, months, outcomes, base parameters or "
                         "district); resume it with the same settings, or choose another --out",
                         source="--out", key=display_path(folder))
    return previous


def _count_statuses(folder: Path) -> dict[str, int]:
    path = folder / "runs.parquet"
    if not path.is_file():
        return {}
    import pyarrow.parquet as pq

    if "status" not in pq.read_schema(path).names:
        return {}
    status = pq.read_table(path, columns=["status"]).column("status").to_pylist()
    return {"ok": sum(s == STATUS_OK for s in status), "failed": sum(s != STATUS_OK for s in status)}


def _print_wrapped(text: str, width: int = 100) -> None:
    """Print a line of the sweep's account wrapped to the terminal width."""
    import textwrap

    print("\n".join(textwrap.fill(line, width) if line.strip() else line for line in text.split("\n")))


def run_sweep(plan: SweepPlan, folder: str | Path, *, backend: str = "local", workers: int = 1,
              scheduler: str | None = None, resume: bool = False, overwrite: bool = False, progress: bool = True,
              echo: Callable[[str], None] | None = _print_wrapped, dask_processes: bool = True,
              manifest_extra: Mapping[str, Any] | None = None, executor: Executor | None = None,
              batch: BatchSettings | None = None) -> SweepSummary:
    """Run a plan's missing runs and write the results folder.

    The folder is locked for the whole call (:mod:`kube_sim.store.lock`) before its contents are looked
    at, so a second writer (``overwrite`` included) is refused before it can delete or mix anything. A
    folder this call created is removed again if nothing could be saved in it.

    Args:
        plan: The sweep.
        folder: Results folder.
        backend: ``"local"`` or ``"dask"``.
        workers: Local processes (1: this process) or local Dask workers.
        scheduler: Dask scheduler address (None: a local cluster).
        resume: Finish a sweep started earlier in ``folder`` (only its missing runs are executed).
        overwrite: Delete results already in ``folder`` and start again.
        progress: Show a progress bar on stderr.
        echo: Prints the plan, the estimate and where the results are (None: silent).
        dask_processes: Local Dask workers as processes (False: threads).
        manifest_extra: More entries for the manifest (e.g. the command line).
        executor: An executor to use instead of making one (closed by the caller).
        batch: How runs are grouped into batches (default: :func:`kube_sim.experiments.batching.current`).

    Returns:
        The :class:`SweepSummary`.

    Raises:
        InputError: For an unusable folder, a different sweep in it, or a bad backend.
        FolderBusy: If another command is writing the folder.
        SweepAborted: If the executor failed (finished runs are saved; resume later).
        KeyboardInterrupt: When interrupted (finished runs are saved; resume later).
    """
    folder = Path(folder)
    if resume and overwrite:
        raise InputError("--resume and --overwrite contradict each other: give one", source="--overwrite")
    if folder.exists() and not folder.is_dir():
        raise InputError("exists and is not a folder", source="--out", key=display_path(folder))
    extra = dict(manifest_extra or {})
    created = not folder.exists()
    command = extra.get("command") or ["kube-sim", *sys.argv[1:]]
    try:
        with hold(folder, command) as lock:
            if lock.took_over is not None:
                (echo or (lambda _text: None))(f"{display_path(folder)}: taking over from "
                                               f"{lock.took_over.describe()}, which is no longer running")
            return _run_locked(plan, folder, backend=backend, workers=workers, scheduler=scheduler, resume=resume,
                               overwrite=overwrite, progress=progress, echo=echo, dask_processes=dask_processes,
                               extra=extra, executor=executor, batch=batch or batching.current())
    finally:
        if created and not (folder / store.MANIFEST_FILE).exists():
            shutil.rmtree(folder, ignore_errors=True)  # nothing was saved: leave no folder without a manifest


def _run_locked(plan: SweepPlan, folder: Path, *, backend: str, workers: int, scheduler: str | None, resume: bool,
                overwrite: bool, progress: bool, echo: Callable[[str], None] | None, dask_processes: bool,
                extra: dict[str, Any], executor: Executor | None, batch: BatchSettings) -> SweepSummary:
    """:func:`run_sweep` once the folder's lock is held."""
    say = echo or (lambda _text: None)
    started = now_iso()
    clock = time.perf_counter()
    previous = _prepare_folder(plan, folder, resume, overwrite)
    parts.remove_stale_temporaries(folder)
    parts.remove_uncommitted(folder)

    if previous is not None and previous.get("finished") and (folder / "runs.parquet").is_file():
        # Finished earlier: the tables are complete (any parts left are leftovers of the clean-up).
        parts.remove_parts(folder)
        counts = _count_statuses(folder)
        say(f"{plan.name}: all {plan.n_runs} runs were already done; results in {display_path(folder)}/")
        return SweepSummary(folder=folder, runs_total=plan.n_runs, runs_ok=counts.get("ok", 0),
                            runs_failed=counts.get("failed", 0), complete=True)
    done = parts.finished_run_ids(folder)
    todo = [run_id for run_id in range(plan.n_runs) if run_id not in done]
    del done

    store.write_manifest(folder, _manifest(plan, started, None, {}, previous, extra))
    summary = SweepSummary(folder=folder, runs_total=plan.n_runs)
    arms, reps = len(plan.arms), plan.replications
    say(f"{plan.name}: " + ngettext("{arms} arm", "{arms} arms", arms).format(arms=arms) + " x "
        + ngettext("{reps} replication", "{reps} replications", reps).format(reps=reps) + " = "
        + _("{runs} runs of {months} months").format(runs=plan.n_runs, months=plan.months)
        + (" " + _("({saved} saved before, {todo} to run)").format(saved=plan.n_runs - len(todo), todo=len(todo))
           if previous is not None else ""))

    own_executor = executor is None
    bar = None
    try:
        if todo:
            # A pilot run in this process times the model while the workers start.
            rest = todo[1:]
            if executor is None and rest:  # started first: its workers start up while the pilot runs
                executor = make_executor(backend, workers, scheduler, dask_processes=dask_processes)
            first = execute(plan.task(todo[0]))
            _save(folder, first)
            summary.runs_this_time += 1
            if executor is None:
                executor = make_executor(backend, workers, scheduler, dask_processes=dask_processes)
            bar = tqdm(total=plan.n_runs, initial=plan.n_runs - len(rest), desc=plan.name, unit="run",
                       file=sys.stderr, disable=not progress, dynamic_ncols=True,
                       mininterval=0.5 if sys.stderr.isatty() else 30.0)
            size = batch.size(batching.run_bytes([first.runs, first.groups, first.monthly]), len(rest),
                              executor.workers)
            timer = _Estimate(len(rest), executor.workers * size, time.perf_counter())
            timed = timer.after < len(rest)
            text = _("one run took {seconds} s here").format(seconds=fmt_fixed(first.duration_s, 2))
            if size > 1 and rest:
                text += _("; the other {runs} run in batches of up to {size}").format(runs=len(rest), size=size)
                if timed:
                    text += _("; the time they take is measured on the workers' first batches")
            elif timed:
                text += _("; the time the other {runs} take is measured on the workers' first runs").format(
                    runs=len(rest))
            say(text)
            for output in executor.map(execute_batch, batching.batches(plan.tasks(rest), same_batch_key, size)):
                _save(folder, output)
                summary.runs_this_time += len(output.run_ids)
                bar.update(len(output.run_ids))
                for _run in output.run_ids:
                    line = timer.finished_one(time.perf_counter(), first.duration_s, executor.describe())
                    if line:
                        bar.clear()
                        say(line)
    except KeyboardInterrupt:
        _stop(executor, own_executor, cancel=True, bar=bar)
        _finish_stopped(plan, folder, started, previous, extra, summary, clock)
        say(f"interrupted: {_saved(summary, plan, folder)}; finish with --resume")
        raise
    except InputError:
        _stop(executor, own_executor, cancel=True, bar=bar)
        _finish_stopped(plan, folder, started, previous, extra, summary, clock)
        raise
    except Exception as exc:
        _stop(executor, own_executor, cancel=True, bar=bar)
        _finish_stopped(plan, folder, started, previous, extra, summary, clock)
        cause = (f"cannot write {display_path(Path(exc.filename)) if exc.filename else display_path(folder)}: "
                 f"{exc.strerror or exc}" if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}")
        raise SweepAborted(f"the sweep stopped: {cause}; {_saved(summary, plan, folder)}; finish with --resume"
                           ) from exc
    _stop(executor, own_executor, cancel=False, bar=bar)
    _finish(plan, folder, started, previous, extra, summary, clock, complete=True)
    return summary


class _Estimate:
    """How long the rest of a sweep should take, measured on the workers themselves.

    A pilot run in one process says little about the workers: they take time to start, and on a
    shared machine they run slower than the pilot. So the estimate waits until the workers have
    finished a few runs (at least two per worker, or a tenth of the runs), then divides the runs
    left by the rate they were finished at since the first came back, and adds the time already spent.
    """

    def __init__(self, runs: int, workers: int, started: float) -> None:
        self.runs, self.started, self.done = runs, started, 0
        self.first_at: float | None = None
        self.after = min(runs, max(2 * max(workers, 1) + 1, runs // 10))
        self.said = runs == 0

    def finished_one(self, now: float, pilot_s: float, backend: str) -> str:
        """Count one finished run; the estimate's line once there are enough to time, else ""."""
        self.done += 1
        if self.first_at is None:
            self.first_at = now
        if self.said or self.done < self.after:
            return ""
        self.said = True
        left = self.runs - self.done
        rate = (self.done - 1) / (now - self.first_at) if now > self.first_at and self.done > 1 else 0.0
        rest = left / rate if rate > 0 else 0.0
        per_run = 1 / rate if rate > 0 else pilot_s
        if left == 0:
            return ""
        return backend + "; " + _("one run took {pilot} s here and the workers finish one every {per_run} s, so the "
                                  "remaining {left} runs should take about {duration}").format(
            pilot=fmt_fixed(pilot_s, 2), per_run=fmt_fixed(per_run, 2), left=left, duration=format_duration(rest))


def _saved(summary: SweepSummary, plan: SweepPlan, folder: Path) -> str:
    """How many runs are saved, in words (finished parts count even if the tables could not be merged)."""
    saved = max(summary.runs_ok + summary.runs_failed, len(parts.finished_run_ids(folder)))
    return f"{saved} of {plan.n_runs} runs are saved in {display_path(folder)}/"


def _finish_stopped(plan: SweepPlan, folder: Path, started: str, previous: Mapping[str, Any] | None,
                    extra: Mapping[str, Any], summary: SweepSummary, clock: float) -> None:
    """Merge what a stopped sweep saved; on a full disk the parts and the manifest written first stay as they are."""
    try:
        _finish(plan, folder, started, previous, extra, summary, clock, complete=False)
    except OSError:
        parts.remove_stale_temporaries(folder)


def _save(folder: Path, output: RunOutput) -> None:
    parts.write_part(folder, output.part_id, output.runs, output.groups, output.monthly)


def _stop(executor: Executor | None, own: bool, *, cancel: bool, bar: Any) -> None:
    if bar is not None:
        bar.close()
    if executor is not None and own:
        try:
            executor.close(cancel=cancel)
        except Exception:  # shutting down after a failure must not hide it
            pass


def _finish(plan: SweepPlan, folder: Path, started: str, previous: Mapping[str, Any] | None,
            extra: Mapping[str, Any], summary: SweepSummary, clock: float, complete: bool) -> None:
    """Consolidate the parts into the tables, write the manifest, and drop the parts of a finished sweep."""
    store.consolidate(folder)
    counts = _count_statuses(folder)
    summary.runs_ok = counts.get("ok", 0)
    summary.runs_failed = counts.get("failed", 0)
    summary.complete = complete and summary.runs_ok + summary.runs_failed == plan.n_runs
    summary.wall_s = time.perf_counter() - clock
    store.write_manifest(folder, _manifest(plan, started, now_iso() if summary.complete else None, counts,
                                           previous, extra))
    if summary.complete:
        parts.remove_parts(folder)
