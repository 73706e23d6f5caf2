"""Run settings' defaults and limits (not model parameters): kept apart so the command line starts fast.

The command line and the experiment files both check run lengths, seeds and replication counts
against the limits here.
"""

DEFAULT_MONTHS = 96
"""Default run length: three yearly cohorts, the first followed for eight years (assumption)."""

DEFAULT_SEED = 42
"""Default seed of a single run on the command line."""

DEFAULT_REPLICATIONS = 10
"""Default replications per design point of an experiment file."""

DEFAULT_MASTER_SEED = 1
"""Default master seed the replication seeds of a sweep or comparison derive from."""

MAX_MONTHS = 1200
"""Longest run accepted (100 years), a guard against typos."""

MAX_SEED = 2**63 - 1
"""Largest seed accepted (seeds are 63-bit non-negative integers)."""

MAX_REPLICATIONS = 100_000
"""Most replications per design point accepted."""

DEFAULT_VALIDATION_REPLICATIONS = 60
"""Paired replications per arm of ``kube-sim validate``: intervals of a few points, within 5 minutes on 2 cores."""
