"""Shared fixtures and helpers for the tests."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from kube_sim.model.parameters import make_parameters
from kube_sim.model.run import run_model


def paired_outcomes(arm_a: dict, arm_b: dict, outcome: str, *, replications: int, months: int,
                    base: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Run two arms with the same seeds (common random numbers) and return an outcome per replication."""
    base = base or {}
    a, b = [], []
    for seed in range(1000, 1000 + replications):
        for arm, out in ((arm_a, a), (arm_b, b)):
            summary = run_model(make_parameters({**base, **arm}), seed=seed, months=months).summary
            value = summary
            for part in outcome.split("."):
                value = value[part]
            out.append(np.nan if value is None else value)
    return np.array(a, dtype=float), np.array(b, dtype=float)


def assert_greater(high: np.ndarray, low: np.ndarray, alpha: float = 0.01) -> float:
    """One-sided paired test that ``high`` exceeds ``low``; returns the p-value."""
    diff = high - low
    assert np.isfinite(diff).all(), "outcome missing in some replication"
    assert diff.mean() > 0, f"effect has the wrong sign: mean difference {diff.mean():.4g}"
    result = stats.wilcoxon(high, low, alternative="greater", zero_method="zsplit")
    assert result.pvalue < alpha, f"not significant: p = {result.pvalue:.3g}, mean difference {diff.mean():.4g}"
    return float(result.pvalue)


@pytest.fixture(scope="session")
def baseline_run():
    """One baseline run, shared by tests that only read it."""
    return run_model(seed=7, months=60)


def patch_model_runs(monkeypatch, *, fail=None, interrupt_at: int | None = None, delay_s: float = 0.0,
                     message: str = "a model failure for the test") -> dict:
    """Make the model's runs fail, stop or slow down, however the sweep batches them.

    Every run, alone or in a batch, goes through ``kube_sim.model.run.run_batch``; this wraps it.

    Args:
        monkeypatch: pytest's monkeypatch.
        fail: ``fail(params, seed)`` says which runs raise ``RuntimeError(message)`` (a run's own parameters,
            also in a batch whose runs have a set each).
        interrupt_at: The run (counted from 1, in the order asked for) that raises KeyboardInterrupt.
        delay_s: Seconds each run sleeps first.
        message: The failure's message.

    Returns:
        ``{"runs": runs asked for so far}``.
    """
    import time

    from kube_sim.model import run as runner

    real = runner.run_batch
    calls = {"runs": 0}

    def patched(params, seeds, **kwargs):
        seeds = list(seeds)
        per_run = params if isinstance(params, (list, tuple)) else [params] * len(seeds)
        for run_params, seed in zip(per_run, seeds, strict=True):
            calls["runs"] += 1
            if interrupt_at is not None and calls["runs"] == interrupt_at:
                raise KeyboardInterrupt
            if fail is not None and fail(run_params, seed):
                raise RuntimeError(message)
        if delay_s:
            time.sleep(delay_s * len(seeds))
        return real(params, seeds, **kwargs)

    monkeypatch.setattr(runner, "run_batch", patched)
    return calls
