"""Named random streams: common random numbers across scenarios.

Each process of the model draws from its own generator, seeded from the run seed and the stream's
name. Changing one policy (say, the facilitator ratio) then changes only the draws of the processes
it acts on; formation, business and behaviour draws stay paired across the arms of an experiment.

References:
    Starsim's ``distributions.py`` seeds each distribution from its name plus the run seed.
"""

from __future__ import annotations

import zlib

import numpy as np

STREAM_NAMES: tuple[str, ...] = (
    "district", "formation", "staffing", "business", "behaviour", "facilitation", "conflict",
)
"""The model's random streams, one per process."""


def stream_seed(seed: int, name: str) -> np.random.SeedSequence:
    """Return the seed sequence of one named stream.

    Args:
        seed: The run seed (a non-negative integer).
        name: The stream's name.

    Returns:
        A :class:`numpy.random.SeedSequence` that depends only on ``seed`` and ``name``.
    """
    return np.random.SeedSequence(entropy=seed, spawn_key=(zlib.crc32(name.encode()),))


def make_streams(seed: int) -> dict[str, np.random.Generator]:
    """Create one generator per stream in :data:`STREAM_NAMES`.

    Args:
        seed: The run seed (a non-negative integer).

    Returns:
        ``{stream name: Generator}``.

    Raises:
        ValueError: If the seed is negative or not an integer.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return {name: np.random.Generator(np.random.PCG64(stream_seed(int(seed), name))) for name in STREAM_NAMES}


def beta_with_mean(rng: np.random.Generator, mean: float, concentration: float, n: int) -> np.ndarray:
    """Draw ``n`` values in 0-1 from a beta distribution with the given mean and concentration.

    Args:
        rng: The stream to draw from.
        mean: Mean of the distribution (kept at least 0.001 from 0 and 1).
        concentration: Sum of the two beta shape parameters; higher means less spread.
        n: Number of draws.

    Returns:
        The draws.
    """
    return rng.beta(max(mean, 1e-3) * concentration, max(1 - mean, 1e-3) * concentration, n)
