"""The district built for a run: kecamatan, villages, travel times and each village's natural-resource fit.

The district comes as data (:class:`~kube_sim.model.geography.DistrictMap` in
``params.geography``; Polewali Mandar by default): each kecamatan's villages, terrain and travel
hours per visit. Mountain villages suit cattle (fodder), the coast suits kiosks, the lowland plain
suits nurseries. ``district.villages`` above 0 spreads that many villages over the kecamatan in
proportion to population instead; ``district.travel_scale`` scales every travel time.
``district.replicas`` copies the district (each copy with its own agency and fresh village draws)
for province or national scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kube_sim.model.geography import TERRAINS
from kube_sim.model.parameters import Parameters


def terrain_fit(params: Parameters) -> np.ndarray:
    """Mean resource fit by terrain (rows: coast, lowland, mountain) and business type (columns).

    Args:
        params: Model parameters (``district.coast_fit``, ``district.lowland_fit``, ``district.mountain_fit``).

    Returns:
        Array of shape (3, business types).
    """
    p = params.district
    return np.array([p.coast_fit, p.lowland_fit, p.mountain_fit])


@dataclass(frozen=True)
class District:
    """Geography as arrays: kecamatan (over all replicas) and villages.

    Attributes:
        kecamatan_names: Name of each kecamatan (repeated per replica).
        kecamatan_replica: Replica (district copy) of each kecamatan.
        kecamatan_remote: Whether each kecamatan is remote (travel of
            :data:`~kube_sim.model.geography.REMOTE_TRAVEL_HOURS` or more per visit, before scaling).
        kecamatan_travel_hours: Facilitator travel hours per visit in each kecamatan.
        village_kecamatan: Kecamatan index of each village.
        village_fit: Resource fit of each village for each business type, shape (villages, 3).
        replicas: Number of district copies (over all runs of a batch).
        runs: Runs held (a batch of runs holds each run's copies after the previous run's).
    """

    kecamatan_names: tuple[str, ...]
    kecamatan_replica: np.ndarray
    kecamatan_remote: np.ndarray
    kecamatan_travel_hours: np.ndarray
    village_kecamatan: np.ndarray
    village_fit: np.ndarray
    replicas: int
    runs: int = 1

    @property
    def n_villages(self) -> int:
        """Number of villages over all replicas."""
        return len(self.village_kecamatan)

    @property
    def copies_per_run(self) -> int:
        """District copies of each run (``district.replicas``)."""
        return self.replicas // self.runs

    @property
    def kecamatan_per_run(self) -> int:
        """Kecamatan of each run (over its copies)."""
        return len(self.kecamatan_names) // self.runs

    @property
    def villages_per_run(self) -> int:
        """Villages of each run (over its copies)."""
        return self.n_villages // self.runs

    def copy_run(self) -> np.ndarray:
        """The run of each district copy."""
        return np.arange(self.replicas) // self.copies_per_run

    def village_run(self) -> np.ndarray:
        """The run of each village."""
        return np.arange(self.n_villages) // self.villages_per_run


def stack_districts(districts: Sequence[District]) -> District:
    """One district holding the copies of several runs' districts, run after run.

    Args:
        districts: Each run's district (the same map and ``district`` parameters, their own draws).

    Returns:
        The stacked district; run ``k``'s kecamatan, villages and copies follow run ``k - 1``'s.
    """
    if len(districts) == 1:
        return districts[0]
    first = districts[0]
    n_kec = len(first.kecamatan_names)
    return District(
        kecamatan_names=first.kecamatan_names * len(districts),
        kecamatan_replica=np.concatenate([d.kecamatan_replica + k * first.replicas for k, d in enumerate(districts)]),
        kecamatan_remote=np.concatenate([d.kecamatan_remote for d in districts]),
        kecamatan_travel_hours=np.concatenate([d.kecamatan_travel_hours for d in districts]),
        village_kecamatan=np.concatenate([d.village_kecamatan + k * n_kec for k, d in enumerate(districts)]),
        village_fit=np.concatenate([d.village_fit for d in districts]),
        replicas=first.replicas * len(districts),
        runs=len(districts),
    )


def apportion(total: int, weights: np.ndarray, minimum: int = 1) -> np.ndarray:
    """Split ``total`` into integer parts proportional to ``weights`` (largest remainder).

    Args:
        total: The number to split.
        weights: Non-negative weights, one per part.
        minimum: Smallest part.

    Returns:
        Integer parts that sum to ``max(total, minimum * len(weights))``.
    """
    weights = np.asarray(weights, dtype=float)
    n = len(weights)
    spare = max(total - minimum * n, 0)
    exact = spare * weights / weights.sum()
    parts = np.floor(exact).astype(int)
    remainder = spare - parts.sum()
    order = np.argsort(-(exact - parts), kind="stable")
    parts[order[:remainder]] += 1
    return parts + minimum


def build_district(params: Parameters, rng: np.random.Generator) -> District:
    """Build the district (all replicas) from the parameters.

    Args:
        params: Model parameters (``district`` section).
        rng: The ``district`` stream.

    Returns:
        The :class:`District`.
    """
    p = params.district
    geo = params.geography.kecamatan
    population = np.array([k.population for k in geo])
    villages_per_kec = apportion(p.villages, population) if p.villages else np.array([k.villages for k in geo])
    terrain = np.array([TERRAINS.index(k.terrain) for k in geo])
    remote = np.array([k.remote for k in geo])
    travel_one = np.array([k.travel_hours for k in geo], dtype=float) * p.travel_scale
    n_kec = len(geo)

    replica = np.repeat(np.arange(p.replicas), n_kec)
    kec_terrain = np.tile(terrain, p.replicas)
    kec_remote = np.tile(remote, p.replicas)
    travel = np.tile(travel_one, p.replicas)
    village_kec = np.repeat(np.arange(n_kec * p.replicas), np.tile(villages_per_kec, p.replicas))
    mean_fit = terrain_fit(params)[kec_terrain[village_kec]]
    fit = np.clip(mean_fit + rng.normal(0.0, p.fit_noise, size=mean_fit.shape), p.min_fit, 1.0)
    names = tuple(k.name for k in geo) * p.replicas
    return District(
        kecamatan_names=names,
        kecamatan_replica=replica,
        kecamatan_remote=kec_remote,
        kecamatan_travel_hours=travel,
        village_kecamatan=village_kec,
        village_fit=fit,
        replicas=p.replicas,
    )
