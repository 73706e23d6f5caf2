"""Outcomes: Kaplan-Meier against a hand-computed case, censoring, null horizons."""

from __future__ import annotations

import numpy as np
import pytest

from kube_sim.model.outcomes import durations, survival_at, survival_curve


def test_kaplan_meier_hand_computed():
    # Failures at 2, 2, 5; censored at 3, 6, 8 (six groups).
    # S(t) = 1 until 2; at 2: 6 at risk, 2 fail -> 4/6; at 5: 3 at risk (2,2,3 gone), 1 fails -> 4/6 * 2/3 = 4/9.
    duration = np.array([2, 2, 3, 5, 6, 8], dtype=float)
    failed = np.array([True, True, False, True, False, False])
    s = survival_at(duration, failed, horizons=(1, 2, 4, 5, 8, 9))
    assert s["1"] == pytest.approx(1.0)
    assert s["2"] == pytest.approx(4 / 6)
    assert s["4"] == pytest.approx(4 / 6)
    assert s["5"] == pytest.approx(4 / 9)
    assert s["8"] == pytest.approx(4 / 9)
    assert s["9"] is None  # nobody followed that long


def test_no_failures_means_full_survival():
    s = survival_at(np.array([10.0, 20.0]), np.array([False, False]), horizons=(12, 24))
    assert s == {"12": 1.0, "24": None}


def test_durations_censor_at_run_end():
    d, failed = durations(np.array([1, 13, 25]), np.array([10, -1, -1]), 48)
    assert d.tolist() == [9.0, 35.0, 23.0]
    assert failed.tolist() == [True, False, False]


def test_survival_curve_band_contains_estimate():
    rng = np.random.default_rng(0)
    duration = rng.integers(1, 40, 200).astype(float)
    failed = rng.random(200) < 0.6
    curve = survival_curve(duration, failed)
    assert (curve["lower"] <= curve["survival"] + 1e-12).all()
    assert (curve["survival"] <= curve["upper"] + 1e-12).all()
    assert curve["survival"].is_monotonic_decreasing
