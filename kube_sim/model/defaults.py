"""Run settings' defaults (not model parameters): kept apart so the command line starts fast."""

DEFAULT_MONTHS = 96
"""Default run length: three yearly cohorts, the first followed for eight years (assumption)."""

DEFAULT_SEED = 42
"""Default run seed of the command line."""
