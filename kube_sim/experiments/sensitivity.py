"""Global sensitivity designs (Morris screening, Sobol indices) built as sweep arms.

The factors are the parameters whose source in :mod:`kube_sim.model.parameters` says *assumption*,
read from :data:`~kube_sim.model.parameters.PARAMETER_SPECS` at run time. A list parameter (one
value per business type) gives one factor per entry, named ``key[type]``. Each factor is sampled on
the unit interval and mapped to its range: by default from half to twice its default value, within
the declared range (``span=2``); with ``span=None`` over the declared range itself; with
``span="declared"`` over the parameter's plausible range, the calibration's prior rule (the
``(range a-b)`` its source states, else half to twice its model default), always within its bounds. Integers take
whole values with equal shares of the unit interval; booleans are false below 0.5. Skipped, with
the reason recorded: text parameters (no scale), parameters whose range is not finite or is empty,
and the structural ones in :data:`STRUCTURAL` (scale, number of cohorts, and the caseload that is
the question itself).

Every design point is run at each caseload of ``caseloads`` (1:10 and 1:20 by default) with the
same replication seeds, so the sweep's arm ``point * len(caseloads) + c`` pairs with every other arm
of the same point, and a difference between caseloads is computed per point and seed. The plan runs
on :func:`kube_sim.experiments.sweep.run_sweep`: resumable, on local processes or Dask. The unit
design, the factors and their ranges go into the manifest, from which
:mod:`kube_sim.analysis.sensitivity` computes the indices without the model.

With ``variants`` (the *policy effects* design, :data:`POLICY_VARIANTS`) every point runs each named
variant instead of each caseload (the base, 1:5, 1:20, the equipment grant), with the same seeds, so
each point yields the policy effects as its outcomes; an *anchor* point, the base scenario itself,
runs after the design's points and gives the effects at the calibrated point.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from kube_sim.common import keys
from kube_sim.common.errors import InputError, ParameterError
from kube_sim.experiments.experiment import replication_seeds
from kube_sim.experiments.rows import kept_outcomes
from kube_sim.experiments.scenario import Scenario
from kube_sim.experiments.sweep import Arm, SweepPlan, parameter_notes, scenario_entry
from kube_sim.experiments.validation import ARMS as VALIDATION_ARMS
from kube_sim.model.parameters import BUSINESS_TYPES, PARAMETER_SPECS, ParameterSpec, make_parameters

POINT_COLUMN = "point"
"""Factor column of the runs table holding the design point's number."""

STRUCTURAL: dict[str, str] = {
    keys.REPLICAS: "structural: copies of the district scale the run, not a mechanism",
    keys.ROUNDS: "structural: the number of cohorts funded is a programme design, not a mechanism",
    keys.CASELOAD: "the caseload is the question: every point runs at each compared caseload",
}
"""Parameters never varied, with the reason."""

DECLARED = "declared"
"""Span mode: sample every factor over its plausible range (stated range, else the calibration prior rule)."""

REFERENCE = "reference"
"""Name of the variant that is the base scenario unchanged (the first of :data:`POLICY_VARIANTS`)."""

POLICY_VARIANTS: tuple[tuple[str, dict[str, Any]], ...] = (
    (REFERENCE, {}),
    ("ratio_1_5", {keys.CASELOAD: 5}),
    ("ratio_1_20", {keys.CASELOAD: 20}),
    ("equipment_grant", dict(VALIDATION_ARMS["equipment_grant"])),
)
"""The paired arms of the policy-effects design: the base, 1:5, 1:20 and the validation's equipment grant."""

MORRIS_LEVELS = 4
"""Grid levels of the Morris design (steps of 2/3 of the unit interval)."""

SETTINGS: dict[str, int] = {"trajectories": 10, "samples": 128, "replications": 3, "months": 64}
"""Sizes by default: Morris within about 15 minutes and Sobol (top 6) within about 30 on 2 cores."""

QUICK_SETTINGS: dict[str, int] = {"trajectories": 3, "samples": 16, "replications": 2, "months": 64}
"""Sizes of a quick first look: a few minutes."""


def setting(name: str, given: int | None, quick: bool = False) -> int:
    """One size of a sensitivity run: the one given, else the quick or the default one.

    Args:
        name: A key of :data:`SETTINGS`.
        given: The size asked for (None: not given).
        quick: Take :data:`QUICK_SETTINGS` for sizes not given.

    Returns:
        The size.
    """
    if given is not None:
        return given
    return (QUICK_SETTINGS if quick else SETTINGS)[name]


@dataclass(frozen=True)
class Factor:
    """One varied input: a parameter, or one entry of a list parameter.

    Attributes:
        name: Column name (``key`` or ``key[type]``).
        key: Dotted parameter key.
        entry: Index in a list parameter (None for a single value).
        kind: ``float``, ``int`` or ``bool``.
        low: Smallest value sampled.
        high: Largest value sampled.
        default: The base scenario's value.
        unit: The parameter's unit.
    """

    name: str
    key: str
    entry: int | None
    kind: str
    low: float
    high: float
    default: Any
    unit: str

    def value(self, u: float) -> Any:
        """The factor's value at a point of the unit interval.

        Args:
            u: From 0 to 1.

        Returns:
            A float, an int (equal shares of the interval per whole value) or a bool (true from 0.5).
        """
        if self.kind == "bool":
            return bool(u >= 0.5)
        if self.kind == "int":
            lo, hi = int(self.low), int(self.high)
            return min(hi, lo + math.floor(u * (hi - lo + 1)))
        return float(self.low + u * (self.high - self.low))


def is_assumption(spec: ParameterSpec) -> bool:
    """Whether a parameter's source marks it as an assumption.

    Args:
        spec: The parameter's metadata.

    Returns:
        True when its source mentions the word *assumption*.
    """
    return "assumption" in spec.source.lower()


def declared_range(spec: ParameterSpec, model_default: float) -> tuple[float, float] | str:
    """A parameter's plausible range, the calibration's prior rule, within its declared bounds.

    Args:
        spec: The parameter's metadata.
        model_default: Its model default (for a list parameter, the entry's).

    Returns:
        The ``(range a-b)`` its source states, else half to twice its model default, clipped to its
        bounds; or the reason it has none.
    """
    from kube_sim.experiments.calibration import SPAN, stated_range

    found = stated_range(spec)
    if found is None:
        if not model_default > 0:
            return f"no stated range and model default {model_default:g}: nothing to span"
        found = (model_default / SPAN, model_default * SPAN)
    low = found[0] if spec.low is None else max(found[0], spec.low)
    high = found[1] if spec.high is None else min(found[1], spec.high)
    return float(low), float(high)


def _range(spec: ParameterSpec, default: float, span: float | str | None,
           model_default: float | None = None) -> tuple[float, float] | str:
    """A numeric factor's range, or the reason it has none."""
    low, high = spec.low, spec.high
    if span == DECLARED:
        found = declared_range(spec, default if model_default is None else model_default)
        if isinstance(found, str):
            return found
        low, high = found
        span = None
    elif span is None and spec.bound:
        return "its upper bound only rules out nonsense, it is no range to sample (use --span F)"
    elif span is not None:
        assert not isinstance(span, str)
        if default <= 0:
            return f"default {default:g}: a span around it is empty (--span full uses the declared range)"
        low = default / span if low is None else max(low, default / span)
        high = default * span if high is None else min(high, default * span)
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return "range not finite"
    if isinstance(default, int):
        low, high = math.ceil(low), math.floor(high)
    if high <= low:
        return "range holds a single value"
    return float(low), float(high)


def _factors_of(spec: ParameterSpec, base: Any, span: float | str | None) -> list[Factor] | str:
    """The factors of one parameter, or the reason it is skipped."""
    if spec.type is str:
        return "a choice among named options, not on a scale"
    if spec.type is bool:
        return [Factor(spec.key, spec.key, None, "bool", 0.0, 1.0, base, spec.unit)]
    entries = list(enumerate(base)) if spec.type is tuple else [(None, base)]
    factors = []
    for index, default in entries:
        name = spec.key if index is None else f"{spec.key}[{_entry_name(index, len(base))}]"
        kind = "int" if isinstance(default, int) else "float"
        model_default = spec.default if index is None else spec.default[index]
        found = _range(spec, default, span, model_default)
        if isinstance(found, str):
            return found if index is None else f"{name}: {found}"
        factors.append(Factor(name, spec.key, index, kind, found[0], found[1], default, spec.unit))
    return factors


def _entry_name(index: int, length: int) -> str:
    return BUSINESS_TYPES[index] if length == len(BUSINESS_TYPES) else str(index)


def screen_factors(base: Scenario, span: float | str | None = 2.0,
                   only: Sequence[str] | None = None) -> tuple[list[Factor], dict[str, str]]:
    """The factors to vary: every assumption, or the named parameters or entries.

    Args:
        base: The base scenario (its values are the defaults the spans centre on).
        span: Sample from ``default / span`` to ``default * span`` within the declared range; None for
            the declared range; :data:`DECLARED` for the plausible range (see :func:`declared_range`).
        only: Parameter keys or factor names (``key[type]``) to vary instead of every assumption.

    Returns:
        The factors in registry order, and the skipped parameters with their reasons.

    Raises:
        InputError: If ``only`` names an unknown parameter or one that cannot be varied.
    """
    if only is not None:
        wanted = {name.split("[")[0] for name in only}
        unknown = sorted(w for w in wanted if w not in PARAMETER_SPECS)
        if unknown:
            raise InputError("unknown parameter", source="--parameters", key=unknown[0])
    factors: list[Factor] = []
    skipped: dict[str, str] = {}
    for key, spec in PARAMETER_SPECS.items():
        if only is not None and key not in wanted:
            continue
        if only is None and not is_assumption(spec):
            continue
        if key in STRUCTURAL:
            skipped[key] = STRUCTURAL[key]
            continue
        found = _factors_of(spec, base.params.get(key), span)
        if isinstance(found, str):
            skipped[key] = found
        else:
            factors.extend(f for f in found if only is None or key in only or f.name in only)
    if only is not None:
        bad = {name: skipped.get(name.split("[")[0], "not a factor") for name in only
               if name not in {f.name for f in factors} and name not in {f.key for f in factors}}
        if bad:
            name, reason = next(iter(bad.items()))
            raise InputError(f"cannot be varied: {reason}", source="--parameters", key=name)
    return factors, skipped


def morris_design(k: int, trajectories: int, seed: int) -> np.ndarray:
    """A Morris design on the unit cube: ``trajectories`` runs of ``k + 1`` points, one factor moving per step.

    Args:
        k: Factors.
        trajectories: Trajectories.
        seed: Seed of the design.

    Returns:
        A ``(trajectories * (k + 1), k)`` array of grid levels in [0, 1].
    """
    from SALib.sample import morris

    problem = {"num_vars": k, "names": [f"x{i}" for i in range(k)], "bounds": [[0.0, 1.0]] * k}
    return np.asarray(morris.sample(problem, trajectories, num_levels=MORRIS_LEVELS, seed=seed), dtype=float)


def sobol_design(k: int, base_samples: int, seed: int) -> np.ndarray:
    """A Saltelli design for first-order and total Sobol indices on the unit cube.

    Args:
        k: Factors.
        base_samples: Base sample size N (a power of 2).
        seed: Seed of the scrambled Sobol sequence.

    Returns:
        A ``(base_samples * (k + 2), k)`` array in [0, 1), in Saltelli's order.
    """
    from SALib.sample import sobol

    problem = {"num_vars": k, "names": [f"x{i}" for i in range(k)], "bounds": [[0.0, 1.0]] * k}
    return np.asarray(sobol.sample(problem, base_samples, calc_second_order=False, scramble=True, seed=seed),
                      dtype=float)


def point_overrides(base: Scenario, factors: Sequence[Factor], unit_row: Sequence[float]) -> dict[str, Any]:
    """The parameter values of one design point (list parameters rebuilt around their varied entries).

    Args:
        base: The base scenario.
        factors: The factors.
        unit_row: The point on the unit cube, one value per factor.

    Returns:
        ``{dotted key: value}``.
    """
    values: dict[str, Any] = {}
    for factor, u in zip(factors, unit_row, strict=True):
        value = factor.value(float(u))
        if factor.entry is None:
            values[factor.key] = value
        else:
            entries = list(values.get(factor.key, base.params.get(factor.key)))
            entries[factor.entry] = value
            values[factor.key] = tuple(entries)
    return values


def plan_sensitivity(method: str, base: Scenario, factors: Sequence[Factor], unit: np.ndarray, *,
                     caseloads: Sequence[int], replications: int, months: int, master_seed: int,
                     design: dict[str, Any], skipped: dict[str, str],
                     variants: Sequence[tuple[str, dict[str, Any]]] | None = None) -> SweepPlan:
    """The sweep of a sensitivity design: each point at each caseload (or variant), with paired seeds.

    Args:
        method: ``morris`` or ``sobol``.
        base: The base scenario.
        factors: The factors (columns of ``unit``).
        unit: The design on the unit cube, one row per point.
        caseloads: Groups per facilitator compared (the first is the reference).
        replications: Replications per point and caseload.
        months: Run length.
        master_seed: Seed the replication seeds derive from.
        design: How the design was made (trajectories or base samples, its seed), for the manifest.
        skipped: Parameters not varied, with the reason.
        variants: Named parameter changes run at every point instead of the caseloads (the first is the
            reference), e.g. :data:`POLICY_VARIANTS`; an anchor point, the base scenario, follows the design.

    Returns:
        The plan; arm ``point * len(caseloads) + c`` runs point ``point`` at ``caseloads[c]`` (with
        variants: ``point * len(variants) + v`` runs variant ``v``).

    Raises:
        InputError: If a design point gives inconsistent parameters.
    """
    arms: list[Arm] = []
    changes = (list(variants) if variants is not None
               else [(f"1:{c}", {keys.CASELOAD: c}) for c in caseloads])
    rows: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for row in unit:
        rows.append((point_overrides(base, factors, row),
                     {f.name: f.value(float(u)) for f, u in zip(factors, row, strict=True)}))
    if variants is not None:  # the anchor: the base scenario itself
        rows.append(({}, {f.name: base.params.get(f.key) if f.entry is None else base.params.get(f.key)[f.entry]
                          for f in factors}))
    for point, (overrides, values) in enumerate(rows):
        for label, change in changes:
            try:
                params = make_parameters({**overrides, **change}, base=base.params)
            except ParameterError as exc:
                raise InputError(f"design point {point} is not valid: {exc}", source="--parameters",
                                 key=exc.key) from None
            caseload = params.get(keys.CASELOAD)
            arms.append(Arm(index=len(arms), label=f"point {point}, {label}", params=params,
                            factors={POINT_COLUMN: point, **values, keys.CASELOAD: caseload}, scenario=base.name,
                            parameters={**{k: list(v) if isinstance(v, tuple) else v for k, v in overrides.items()},
                                        **change, keys.CASELOAD: caseload}))
    kinds = {"float": pa.float64(), "int": pa.int64(), "bool": pa.bool_()}
    factor_types = {POINT_COLUMN: pa.int64(), **{f.name: kinds[f.kind] for f in factors}, keys.CASELOAD: pa.int64()}
    name = f"sensitivity_{method}"
    sensitivity = {
        "method": method,
        "factors": [asdict(f) for f in factors],
        "skipped": skipped,
        "caseloads": ([int(base.params.get(keys.CASELOAD)) if keys.CASELOAD not in c else c[keys.CASELOAD]
                       for _, c in variants] if variants is not None else list(caseloads)),
        **({"variants": [name for name, _ in variants], "variant_changes": {n: c for n, c in variants},
            "anchor": True} if variants is not None else {}),
        "caseload_key": keys.CASELOAD,
        "point_column": POINT_COLUMN,
        "points": len(unit),
        "unit_design": np.round(unit, 12).tolist(),
        **design,
    }
    manifest = {
        "experiment_name": name,
        "description": f"{method.capitalize()} sensitivity of the base scenario's assumptions; every point at "
                       f"{', '.join(label for label, _ in changes)} with paired seeds.",
        "experiment_file": None,
        "experiment_text": None,
        "base_scenario": scenario_entry(base),
        "factors": {f.name: [f.low, f.high] for f in factors},
        "parameter_notes": parameter_notes([*(f.key for f in factors), keys.CASELOAD]),
        "master_seed": master_seed,
        "design": {"kind": method, "samples": len(unit), "seed": design.get("design_seed"), "points": len(unit)},
        "sensitivity": sensitivity,
    }
    return SweepPlan(name=name, arms=tuple(arms), seeds=tuple(replication_seeds(master_seed, replications)),
                     months=months, factor_types=factor_types, outcomes=kept_outcomes(None), manifest=manifest)
