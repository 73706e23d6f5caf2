"""The model in other tools' shapes: a Mesa ``batch_run`` model class and an EMA Workbench function.

* :class:`BatchRunModel` is a ``mesa.Model`` taking keyword parameters (``__`` for the dot in a
  dotted key), so ``mesa.batch_run`` can drive it; its datacollector holds the monthly reporters
  and, at the last month, the run's outcomes (the flat keys of :func:`kube_sim.model.run.flat_outcomes`).
* :func:`ema_simulate` is :func:`kube_sim.model.run.simulate` made safe for EMA Workbench: NumPy
  scalars in, plain floats out (NaN instead of None), so it can be the ``function`` of an
  ``ema_workbench.Model``. See ``docs/INTEROP.md`` for both.
"""

from __future__ import annotations

import math
from typing import Any

import mesa
import numpy as np
import pandas as pd

from kube_sim.model.defaults import DEFAULT_MONTHS
from kube_sim.model.model import MONTHLY_REPORTERS, KubeModel
from kube_sim.model.outcomes import summarize
from kube_sim.model.parameters import make_parameters
from kube_sim.model.run import flat_outcomes, group_table, member_table, simulate


def _plain(value: Any) -> Any:
    """NumPy scalars as Python values (parameter checks accept only Python numbers)."""
    return value.item() if isinstance(value, np.generic) else value


def overrides_from_keywords(parameters: dict[str, Any]) -> dict[str, Any]:
    """Turn keyword parameters (``facilitators__groups_per_facilitator``) into dotted overrides.

    Args:
        parameters: Keyword parameters; ``__`` stands for the dot.

    Returns:
        ``{dotted key: value}`` with NumPy scalars made plain.
    """
    return {key.replace("__", "."): _plain(value) for key, value in parameters.items()}


def outcome_names() -> tuple[str, ...]:
    """The outcome keys the datacollector and :func:`ema_simulate` give (without ``scenario``)."""
    from kube_sim.experiments.rows import all_outcome_columns

    return tuple(c for c in all_outcome_columns() if c != "scenario")


class BatchRunModel(mesa.Model):
    """KubeModel with keyword parameters, for ``mesa.batch_run``.

    ``batch_run`` passes its ``rng`` values as ``seed`` (this class takes ``seed``). Monthly reporters
    are collected every month under their own names (prefixed ``monthly_`` where an outcome has the
    same name); the run's outcomes are collected at the last month and are None before it.

    Args:
        seed: Run seed (None draws one from the operating system: not reproducible).
        months: Months to run; the model stops itself then.
        **parameters: Parameter overrides, ``section__name=value``.

    Example:
        >>> from mesa.batchrunner import batch_run
        >>> rows = batch_run(BatchRunModel, {"months": 24, "facilitators__groups_per_facilitator": [5, 20]},
        ...                  rng=[1, 2], max_steps=1000, display_progress=False)  # doctest: +SKIP
    """

    def __init__(self, seed: int | None = None, months: int = DEFAULT_MONTHS, **parameters: Any) -> None:
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
        seed = int(_plain(seed))
        super().__init__(rng=seed)
        self.seed = seed
        self.months = int(_plain(months))
        self.kube = KubeModel(make_parameters(overrides_from_keywords(parameters)), seed=seed)
        self.outcomes: dict[str, Any] = {}
        names = outcome_names()
        reporters: dict[str, Any] = {"month": lambda m: m.kube.month}
        for name, report in MONTHLY_REPORTERS.items():
            key = f"monthly_{name}" if name in names else name
            reporters[key] = lambda m, report=report: report(m.kube)
        for name in names:
            reporters[name] = lambda m, name=name: m.outcomes.get(name)
        self.datacollector = mesa.DataCollector(model_reporters=reporters)

    def step(self) -> None:
        """One month; after the last one, compute the outcomes and stop."""
        self.kube.step()
        if self.kube.month >= self.months:
            self.outcomes = run_outcomes(self.kube, self.months)
            self.running = False
        self.datacollector.collect(self)


def run_outcomes(model: KubeModel, months: int) -> dict[str, Any]:
    """The flat outcomes of a model that has run (as :func:`kube_sim.model.run.run_model` computes them).

    Args:
        model: The model.
        months: Months it ran.

    Returns:
        Flat outcomes (``survival_12``, ``mean_member_income_rp``, ...).
    """
    events = pd.DataFrame(model.event_log.arrays())
    summary = summarize(group_table(model), member_table(model), events, dict(model.costs), months,
                        model.facilitators.size)
    return flat_outcomes(summary)


def ema_simulate(seed: int = 0, months: int = DEFAULT_MONTHS, **parameters: Any) -> dict[str, float]:
    """The model as a function for EMA Workbench: keyword parameters in, numeric outcomes out.

    Args:
        seed: Run seed.
        months: Months to run.
        **parameters: Overrides, ``section__name=value`` (NumPy scalars are accepted).

    Returns:
        ``{outcome: float}``; outcomes the run cannot give (survival past its length) are NaN.
    """
    raw = simulate(seed=int(_plain(seed)), months=int(_plain(months)), **overrides_from_keywords(parameters))
    out: dict[str, float] = {}
    for key, value in raw.items():
        if key in ("scenario", "seed"):
            continue
        out[key] = math.nan if value is None else float(value)
    return out
