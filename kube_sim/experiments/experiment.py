"""Experiment files: which parameters to vary, how, over which base scenario, with which seeds.

An experiment is a TOML file in ``experiments/`` (or any path)::

    name = "staffing"                # optional: default the file's name without .toml
    description = "Caseload crossed with facilitator hours."   # optional
    base_scenario = "baseline"      # a scenario name or a path (default "baseline")
    district = "majene"             # optional: a district name or a CSV path (default Polewali Mandar)
    months = 96                     # run length (default 96)
    replications = 20               # seeds per design point (default 10)
    master_seed = 2024              # every replication seed derives from it (default 1)
    outcomes = ["survival_36", "mean_member_income_rp"]   # optional: outcome columns to keep
    reference = "status quo"        # optional: the arm the others are compared with (a name in [arms])

    [arms]                          # optional (factorial designs): names of design points
    "status quo" = { "facilitators.groups_per_facilitator" = 10, "facilitators.hours_per_month" = 20 }

    [design]
    kind = "factorial"              # "factorial" (default), "lhs" or "sobol"
    # samples = 64                  # design points, for lhs and sobol
    # seed = 7                      # sampling seed for lhs and sobol (default: master_seed)

    [factors]
    "facilitators.groups_per_facilitator" = [5, 10, 20, 30]     # a list of values (factorial)
    "facilitators.hours_per_month" = { low = 20, high = 80, steps = 4 }   # linspace (factorial)
    # "members.initial_inactive_share" = { low = 0.0, high = 0.4 }        # a range (lhs, sobol)

A factorial design crosses every factor's values (the last factor varies fastest). Latin hypercube
and Sobol designs draw ``samples`` points in the box of the factors' ranges with
``scipy.stats.qmc``. Values of integer parameters are rounded half up.

Replication ``i`` uses the same seed in every design point (common random numbers), so arms are
paired; see :func:`replication_seeds`.

``[arms]`` names design points of a factorial design: each name gives a value of every factor, and
those values must be one point of the design. ``reference`` names the arm reports compare every
other arm with (the planner's status quo); without it a report falls back to the arm equal to the
base scenario.

Every problem raises :class:`~kube_sim.common.errors.InputError` naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import numpy as np
from scipy.stats import qmc

from kube_sim.common.errors import InputError
from kube_sim.common.i18n import N_
from kube_sim.experiments.district_file import load_district, use_district
from kube_sim.experiments.files import (
    TomlFiles,
    display_path,
    file_name,
    looks_like_path,
    optional_text,
    parse_toml,
    read_text,
    suggestion,
)
from kube_sim.experiments.scenario import Scenario, load_scenario
from kube_sim.model.defaults import (
    DEFAULT_MASTER_SEED,
    DEFAULT_MONTHS,
    DEFAULT_REPLICATIONS,
    MAX_MONTHS,
    MAX_REPLICATIONS,
    MAX_SEED,
)
from kube_sim.model.parameters import SECTIONS, Parameters, coerce_value, make_parameters, spec_for

DESIGN_KINDS: tuple[str, ...] = ("factorial", "lhs", "sobol")
TOP_KEYS: tuple[str, ...] = (
    "name", "description", "base_scenario", "months", "replications", "master_seed", "outcomes", "reference", "arms",
    "design", "factors", "district",
)
DESIGN_KEYS: tuple[str, ...] = ("kind", "samples", "seed")
RANGE_KEYS: tuple[str, ...] = ("low", "high", "steps")
DEFAULT_BASE_SCENARIO = "baseline"
MAX_RUNS = 10_000_000


@dataclass(frozen=True)
class Factor:
    """One varied parameter.

    Attributes:
        key: Dotted parameter key.
        values: Explicit values (a list in the file, or a range with ``steps``), or None for a range.
        low: Lower end of a range (None for a list).
        high: Upper end of a range (None for a list).
    """

    key: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None

    def levels(self) -> list[Any]:
        """The values to record in the manifest: the list, or ``[low, high]`` for a range."""
        return list(self.values) if self.values is not None else [self.low, self.high]


@dataclass(frozen=True)
class Experiment:
    """A checked experiment file.

    Attributes:
        name: Short name (the file's name unless the file sets one); also the default results folder
            ``results/<name>``.
        description: What the experiment asks ("" when the file has none).
        path: The file (None when built in code).
        text: The file's text (recorded in the manifest).
        base_scenario: The scenario every design point starts from.
        months: Run length in months.
        replications: Seeds per design point.
        master_seed: Seed the replication seeds derive from.
        outcomes: Outcome columns to keep (None: all).
        design: ``"factorial"``, ``"lhs"`` or ``"sobol"``.
        samples: Design points drawn by lhs or sobol (None for factorial).
        design_seed: Seed of the lhs or sobol sampler.
        factors: The varied parameters, in file order.
        arm_names: Names the file gives design points, by point index (``[arms]``).
        reference: The point other arms are compared with (``reference``), or None.
    """

    name: str
    description: str
    path: Path | None
    text: str
    base_scenario: Scenario
    months: int = DEFAULT_MONTHS
    replications: int = DEFAULT_REPLICATIONS
    master_seed: int = DEFAULT_MASTER_SEED
    outcomes: tuple[str, ...] | None = None
    design: str = "factorial"
    samples: int | None = None
    design_seed: int | None = None
    factors: tuple[Factor, ...] = field(default_factory=tuple)
    arm_names: dict[int, str] = field(default_factory=dict)
    reference: int | None = None

    @property
    def source(self) -> str:
        """The file as errors name it."""
        return display_path(self.path) if self.path is not None else self.name

    def design_points(self) -> list[dict[str, Any]]:
        """The design's points, each ``{dotted key: value}`` in factor order.

        Returns:
            Factorial: the cross product of every factor's values. Lhs or sobol: ``samples`` points.
        """
        if self.design == "factorial":
            keys = [f.key for f in self.factors]
            return [dict(zip(keys, combo, strict=True)) for combo in
                    itertools.product(*(f.values or () for f in self.factors))]
        return _sample_points(self)

    def arm_parameters(self) -> list[Parameters]:
        """Validated parameters of every design point (base scenario plus the point's values).

        Returns:
            One :class:`Parameters` per design point, in design order.

        Raises:
            InputError: If a point gives inconsistent parameters (naming the file and key).
        """
        out = []
        for point in self.design_points():
            try:
                out.append(make_parameters(point, base=self.base_scenario.params))
            except InputError as exc:
                raise exc.located(self.source) from None
        return out

    def seeds(self) -> list[int]:
        """Replication seeds, one per replication (see :func:`replication_seeds`)."""
        return replication_seeds(self.master_seed, self.replications)

    def with_run_settings(self, *, replications: int | None = None, months: int | None = None) -> Experiment:
        """Return a copy with another number of replications or months (command-line overrides).

        Args:
            replications: New number of replications (None keeps the file's).
            months: New run length (None keeps the file's).

        Returns:
            The changed experiment.
        """
        changes: dict[str, Any] = {}
        if replications is not None:
            changes["replications"] = replications
        if months is not None:
            changes["months"] = months
        return dataclasses.replace(self, **changes) if changes else self


def replication_seeds(master_seed: int, n: int) -> list[int]:
    """Seeds of replications ``0..n-1``, derived from a master seed.

    Replication ``i`` gets ``SeedSequence(master_seed, spawn_key=(i,))``'s first 63 bits, so its seed
    depends only on the master seed and ``i``: the same in every arm (common random numbers), and
    unchanged when more replications are added.

    Args:
        master_seed: A non-negative integer.
        n: Number of replications.

    Returns:
        ``n`` seeds, each in ``[0, 2**63)``.
    """
    return [int(np.random.SeedSequence(master_seed, spawn_key=(i,)).generate_state(1, np.uint64)[0] >> np.uint64(1))
            for i in range(n)]


# --- sampling designs ------------------------------------------------------------------------------

def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def _cast(key: str, value: float) -> Any:
    """Round for integer parameters, then check type and range."""
    spec = spec_for(key)
    if spec.type is int:
        value = _round_half_up(value)
    return coerce_value(key, value)


def _sample_points(experiment: Experiment) -> list[dict[str, Any]]:
    d = len(experiment.factors)
    seed = experiment.design_seed if experiment.design_seed is not None else experiment.master_seed
    n = int(experiment.samples or 0)
    if experiment.design == "lhs":
        unit = qmc.LatinHypercube(d=d, rng=np.random.default_rng(seed)).random(n)
    else:
        unit = qmc.Sobol(d=d, scramble=True, rng=np.random.default_rng(seed)).random_base2(int(math.log2(n)))
    lows = np.array([f.low for f in experiment.factors], dtype=float)
    highs = np.array([f.high for f in experiment.factors], dtype=float)
    scaled = qmc.scale(unit, lows, highs) if d else unit
    return [{f.key: _cast(f.key, float(row[j])) for j, f in enumerate(experiment.factors)} for row in scaled]


# --- reading files ---------------------------------------------------------------------------------

EXPERIMENT_FILES = TomlFiles(kind=N_("experiment"), folder_name=N_("experiments"), env="KUBE_SIM_EXPERIMENTS")
"""Experiment files: by name in ``$KUBE_SIM_EXPERIMENTS`` or the shipped folder, or by path."""

list_experiment_names = EXPERIMENT_FILES.names


class _Reader:
    """Checks the parsed TOML of one file, raising errors that name the file and key."""

    def __init__(self, data: dict[str, Any], source: str) -> None:
        self.data = data
        self.source = source

    def fail(self, key: str | None, reason: str) -> InputError:
        return InputError(reason, source=self.source, key=key)

    def check_keys(self, table: dict[str, Any], allowed: tuple[str, ...], prefix: str = "") -> None:
        for key in table:
            if key not in allowed:
                raise self.fail(prefix + key, f"unknown key{suggestion(key, allowed, 'allowed', prefix)}")

    @overload
    def integer(self, table: dict[str, Any], key: str, default: int, low: int, high: int,
                prefix: str = "") -> int: ...

    @overload
    def integer(self, table: dict[str, Any], key: str, default: None, low: int, high: int,
                prefix: str = "") -> int | None: ...

    def integer(self, table: dict[str, Any], key: str, default: int | None, low: int, high: int,
                prefix: str = "") -> int | None:
        if key not in table:
            return default
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(prefix + key, f"expected a whole number, got {value!r}")
        if value < low:
            raise self.fail(prefix + key, f"{value} is below the minimum {low}")
        if value > high:
            raise self.fail(prefix + key, f"{value} is above the maximum {high:_}")
        return value


def _flatten_factors(reader: _Reader, table: dict[str, Any]) -> dict[str, Any]:
    """Factor keys as dotted strings, also when written unquoted (TOML then nests them)."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        nested = (key in SECTIONS and isinstance(value, dict)
                  and not (set(value) & {"low", "high", "steps"}))
        if nested:
            for name, inner in value.items():
                flat[f"{key}.{name}"] = inner
        else:
            flat[key] = value
    return flat


def _number(reader: _Reader, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise reader.fail(key, f"expected a number, got {value!r}")
    return float(value)


def _read_factor(reader: _Reader, key: str, value: Any, design: str) -> Factor:
    where = f"factors.{key}"
    try:
        spec = spec_for(key)
    except InputError as exc:
        raise InputError(exc.reason, source=reader.source, key=where) from None
    if spec.type is tuple:
        raise reader.fail(where, "list-valued parameters cannot be varied in an experiment")
    if isinstance(value, list):
        if design != "factorial":
            raise reader.fail(where, f"a {design} design needs a range {{ low = ..., high = ... }}, not a list")
        if not value:
            raise reader.fail(where, "expected at least one value")
        values = []
        for i, item in enumerate(value):
            try:
                checked = coerce_value(key, item)
            except InputError as exc:
                raise reader.fail(where, f"value {i + 1}: {exc.reason}") from None
            if checked in values:
                raise reader.fail(where, f"value {item!r} appears twice")
            values.append(checked)
        return Factor(key=key, values=tuple(values))
    if isinstance(value, dict):
        reader.check_keys(value, RANGE_KEYS, prefix=f"{where}.")
        if spec.type not in (int, float):
            raise reader.fail(where, f"a range needs a numeric parameter; list the values of this {spec.type.__name__}")
        for needed in ("low", "high"):
            if needed not in value:
                raise reader.fail(f"{where}.{needed}", "missing: a range needs low and high")
        low = _number(reader, f"{where}.low", value["low"])
        high = _number(reader, f"{where}.high", value["high"])
        for name, bound in (("low", low), ("high", high)):
            try:
                coerce_value(key, _round_half_up(bound) if spec.type is int else bound)
            except InputError as exc:
                raise reader.fail(f"{where}.{name}", exc.reason) from None
        if low > high:
            raise reader.fail(where, f"low ({low:g}) is above high ({high:g})")
        if "steps" in value:
            if design != "factorial":
                raise reader.fail(f"{where}.steps", f"steps is for factorial designs; a {design} design samples "
                                                    "the range")
            steps = reader.integer(value, "steps", None, 1, 10_000, prefix=f"{where}.")
            assert steps is not None
            grid = [low] if steps == 1 else list(np.linspace(low, high, steps))
            values = []
            for x in grid:
                cast = _cast(key, float(x))
                if cast not in values:
                    values.append(cast)
            return Factor(key=key, values=tuple(values))
        if design == "factorial":
            raise reader.fail(where, "a factorial design needs a list of values or a range with steps "
                                     "({ low = ..., high = ..., steps = ... })")
        return Factor(key=key, low=low, high=high)
    raise reader.fail(where, f"expected a list of values or a range {{ low = ..., high = ... }}, got {value!r}")


def _read_design(reader: _Reader) -> tuple[str, int | None, int | None]:
    table = reader.data.get("design", {})
    if not isinstance(table, dict):
        raise reader.fail("design", f'expected a table ([design] then kind = "..."), got {table!r}')
    reader.check_keys(table, DESIGN_KEYS, prefix="design.")
    kind = table.get("kind", "factorial")
    if kind not in DESIGN_KINDS:
        raise reader.fail("design.kind", f"expected one of {', '.join(DESIGN_KINDS)}, got {kind!r}")
    samples = reader.integer(table, "samples", None, 1, MAX_RUNS, prefix="design.")
    seed = reader.integer(table, "seed", None, 0, MAX_SEED, prefix="design.")
    if kind == "factorial":
        for key in ("samples", "seed"):
            if key in table:
                raise reader.fail(f"design.{key}", "only lhs and sobol designs take this; a factorial design "
                                                   "crosses the factors' values")
    elif samples is None:
        raise reader.fail("design.samples", f"missing: a {kind} design needs samples = N")
    elif kind == "sobol" and samples & (samples - 1):
        raise reader.fail("design.samples", f"a Sobol design needs a power of 2 (e.g. "
                                            f"{2 ** round(math.log2(samples))}), got {samples}")
    return kind, samples, seed


def _read_outcomes(reader: _Reader) -> tuple[str, ...] | None:
    if "outcomes" not in reader.data:
        return None
    value = reader.data["outcomes"]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise reader.fail("outcomes", f"expected a non-empty list of outcome names, got {value!r}")
    from kube_sim.experiments.rows import OUTCOME_COLUMNS

    for name in value:
        if name not in OUTCOME_COLUMNS:
            raise reader.fail("outcomes", f"unknown outcome {name!r}{suggestion(name, OUTCOME_COLUMNS, 'outcomes')}")
    return tuple(dict.fromkeys(value))


MAX_NAME_LENGTH = 80


def _read_arms(reader: _Reader, design: str, factors: tuple[Factor, ...],
               points: list[dict[str, Any]]) -> tuple[dict[int, str], int | None]:
    """The ``[arms]`` table (names of design points) and ``reference`` (the arm others are compared with)."""
    table = reader.data.get("arms", {})
    if not isinstance(table, dict):
        raise reader.fail("arms", f'expected a table ([arms] then "name" = {{ "section.key" = value, ... }}), '
                                  f"got {table!r}")
    if table and design != "factorial":
        raise reader.fail("arms", f"only a factorial design has arms to name; a {design} design samples its points")
    keys = [f.key for f in factors]
    names: dict[int, str] = {}
    for name, values in table.items():
        where = f"arms.{name}"
        if not name.strip() or len(name) > MAX_NAME_LENGTH:
            raise reader.fail(where, f"an arm's name needs 1 to {MAX_NAME_LENGTH} characters")
        if not isinstance(values, dict):
            raise reader.fail(where, f"expected a table of factor values, e.g. {{ \"{keys[0]}\" = ... }}, "
                                     f"got {values!r}")
        given = _flatten_factors(reader, values)
        for key in given:
            if key not in keys:
                hint = suggestion(key, keys, "factors")
                raise reader.fail(f"{where}.{key}", f"not a factor of this experiment{hint}")
        point: dict[str, Any] = {}
        for key in keys:
            if key not in given:
                raise reader.fail(f"{where}.{key}", "missing: an arm's name needs a value of every factor")
            try:
                point[key] = coerce_value(key, given[key])
            except InputError as exc:
                raise reader.fail(f"{where}.{key}", exc.reason) from None
        matches = [i for i, p in enumerate(points) if p == point]
        if not matches:
            raise reader.fail(where, "these values are not a point of the design (each must be one of the "
                                     "factor's values)")
        index = matches[0]
        if index in names:
            raise reader.fail(where, f"names the same arm as {names[index]!r}")
        names[index] = name
    reference = None
    if "reference" in reader.data:
        wanted = reader.data["reference"]
        if not isinstance(wanted, str):
            raise reader.fail("reference", f"expected the name of an arm in [arms], got {wanted!r}")
        by_name = {n: i for i, n in names.items()}
        if wanted not in by_name:
            hint = suggestion(wanted, list(by_name), "arms") if by_name else " (name it in [arms] first)"
            raise reader.fail("reference", f"no arm named {wanted!r}{hint}")
        reference = by_name[wanted]
    return names, reference


def parse_experiment(text: str, source: str, path: Path | None = None) -> Experiment:
    """Check the text of an experiment file and build the experiment.

    Args:
        text: TOML text.
        source: The file name errors should give.
        path: The file, if any (relative ``base_scenario`` paths are taken from its folder first).

    Returns:
        The experiment.

    Raises:
        InputError: For malformed TOML, an unknown key, a wrong type or range, or a bad base scenario.
    """
    data = parse_toml(text, source)
    reader = _Reader(data, source)
    reader.check_keys(data, TOP_KEYS)
    name = file_name(data, path, source, "experiment")
    description = optional_text(data, "description", source)
    base_name = optional_text(data, "base_scenario", source) or DEFAULT_BASE_SCENARIO
    months = reader.integer(data, "months", DEFAULT_MONTHS, 1, MAX_MONTHS)
    replications = reader.integer(data, "replications", DEFAULT_REPLICATIONS, 1, MAX_REPLICATIONS)
    master_seed = reader.integer(data, "master_seed", DEFAULT_MASTER_SEED, 0, MAX_SEED)
    outcomes = _read_outcomes(reader)
    kind, samples, design_seed = _read_design(reader)

    table = data.get("factors")
    if not isinstance(table, dict) or not table:
        raise reader.fail("factors", 'missing: an experiment needs a [factors] table, e.g. '
                                     '"facilitators.groups_per_facilitator" = [5, 10, 20]')
    factors = tuple(_read_factor(reader, key, value, kind) for key, value in _flatten_factors(reader, table).items())

    base_ref: str | Path = base_name
    if path is not None and looks_like_path(base_name):
        beside = (path.parent / base_name)
        if beside.is_file():
            base_ref = beside
    try:
        base = load_scenario(base_ref)
    except InputError as exc:
        raise InputError(f"base scenario: {exc.one_line()}", source=source, key="base_scenario") from None
    district = optional_text(data, "district", source)
    if district:
        base = _in_district(base, district, path, source)

    n_points = math.prod(len(f.values or ()) for f in factors) if kind == "factorial" else int(samples or 0)
    if n_points * replications > MAX_RUNS:
        raise reader.fail("replications", f"{n_points:_} design points x {replications:_} replications is more "
                                          f"than {MAX_RUNS:_} runs")
    experiment = Experiment(name=name, description=description, path=path, text=text, base_scenario=base,
                            months=int(months or DEFAULT_MONTHS), replications=int(replications or 1),
                            master_seed=int(master_seed or 0), outcomes=outcomes, design=kind, samples=samples,
                            design_seed=design_seed, factors=factors)
    names, reference = _read_arms(reader, kind, factors, experiment.design_points() if kind == "factorial" else [])
    experiment = dataclasses.replace(experiment, arm_names=names, reference=reference)
    experiment.arm_parameters()  # every point must give consistent parameters
    return experiment


def _in_district(base: Scenario, district: str, path: Path | None, source: str) -> Scenario:
    """The base scenario in the district the file names (a relative path is taken from the file's folder first)."""
    ref: str | Path = district
    beside = path.parent / district if path is not None else None
    if beside is not None and (looks_like_path(district) or district.endswith(".csv")) and beside.is_file():
        ref = beside
    try:
        return use_district(base, load_district(ref))
    except InputError as exc:
        raise InputError(f"district: {exc.one_line()}", source=source, key="district") from None


def load_experiment(name_or_path: str | Path) -> Experiment:
    """Read and check an experiment file.

    Args:
        name_or_path: An experiment name (a file in the experiments folder) or a path to a TOML file.

    Returns:
        The :class:`Experiment`.

    Raises:
        InputError: For a missing file, malformed TOML, an unknown key, a wrong type or a value out
            of range; the message names the file and the key.
    """
    path = EXPERIMENT_FILES.find(name_or_path)
    source = display_path(path)
    return parse_experiment(read_text(path, source), source, path)
