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
