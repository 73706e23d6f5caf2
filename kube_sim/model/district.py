"""The district: kecamatan, villages, travel times and each village's natural-resource fit.

Built from Polewali Mandar's 16 kecamatan and their 2010 census populations; villages are spread in
proportion to population. Mountain kecamatan are remote (longer facilitator travel) and suit cattle
(fodder); the coast suits kiosks; the lowland plain suits nurseries. ``district.replicas`` copies the
district (each copy with its own agency and fresh village draws) for province or national scale.

References:
    BPS 2010 census via Wikipedia; Wiki Aswaja NU (villages per kecamatan, BPS 2008).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kube_sim.model.parameters import Parameters

# name, 2010 population, terrain (0 coast/town, 1 lowland plain, 2 mountain), remote
KECAMATAN: tuple[tuple[str, int, int, bool], ...] = (
    ("Polewali", 54_843, 0, False),
    ("Campalagian", 52_307, 1, False),
    ("Wonomulyo", 45_269, 1, False),
    ("Binuang", 30_504, 0, False),
    ("Mapilli", 27_220, 1, False),
    ("Luyo", 26_692, 1, False),
    ("Balanipa", 24_021, 0, False),
    ("Tinambung", 22_317, 0, False),
    ("Tapango", 21_492, 2, False),
    ("Matakali", 21_310, 1, False),
    ("Tubbi Taramanu", 18_273, 2, True),
    ("Limboro", 16_981, 2, False),
    ("Alu", 11_980, 2, True),
    ("Anreapi", 9_273, 2, False),
    ("Bulo", 8_633, 2, True),
    ("Matangnga", 5_005, 2, True),
)


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
        kecamatan_remote: Whether each kecamatan is remote.
        kecamatan_travel_hours: Facilitator travel hours per visit in each kecamatan.
        village_kecamatan: Kecamatan index of each village.
        village_fit: Resource fit of each village for each business type, shape (villages, 3).
        replicas: Number of district copies.
    """

    kecamatan_names: tuple[str, ...]
    kecamatan_replica: np.ndarray
    kecamatan_remote: np.ndarray
    kecamatan_travel_hours: np.ndarray
    village_kecamatan: np.ndarray
    village_fit: np.ndarray
    replicas: int

    @property
    def n_villages(self) -> int:
        """Number of villages over all replicas."""
        return len(self.village_kecamatan)


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
    population = np.array([k[1] for k in KECAMATAN])
    villages_per_kec = apportion(p.villages, population)
    terrain = np.array([k[2] for k in KECAMATAN])
    remote = np.array([k[3] for k in KECAMATAN])
    n_kec = len(KECAMATAN)

    replica = np.repeat(np.arange(p.replicas), n_kec)
    kec_terrain = np.tile(terrain, p.replicas)
    kec_remote = np.tile(remote, p.replicas)
    travel = np.where(kec_remote, p.remote_travel_hours, p.near_travel_hours)
    village_kec = np.repeat(np.arange(n_kec * p.replicas), np.tile(villages_per_kec, p.replicas))
    mean_fit = terrain_fit(params)[kec_terrain[village_kec]]
    fit = np.clip(mean_fit + rng.normal(0.0, p.fit_noise, size=mean_fit.shape), p.min_fit, 1.0)
    names = tuple(k[0] for k in KECAMATAN) * p.replicas
    return District(
        kecamatan_names=names,
        kecamatan_replica=replica,
        kecamatan_remote=kec_remote,
        kecamatan_travel_hours=travel.astype(float),
        village_kecamatan=village_kec,
        village_fit=fit,
        replicas=p.replicas,
    )
