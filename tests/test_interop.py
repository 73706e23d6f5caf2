"""The model under mesa.batch_run and as an EMA Workbench function."""

from __future__ import annotations

import math
import multiprocessing

import numpy as np
import pandas as pd
import pytest
from mesa.batchrunner import batch_run

from kube_sim.experiments.interop import BatchRunModel, ema_simulate
from kube_sim.model.run import simulate

MONTHS = 24


@pytest.fixture
def keep_start_method():
    """batch_run forces the 'spawn' start method globally; put the old one back afterwards."""
    method = multiprocessing.get_start_method(allow_none=True)
    yield
    multiprocessing.set_start_method(method, force=True)


def test_batch_run_returns_outcomes_equal_to_simulate(keep_start_method):
    rows = batch_run(BatchRunModel, {"months": MONTHS, "facilitators__groups_per_facilitator": [5, 20]},
                     rng=[1, 2], max_steps=1000, data_collection_period=-1, display_progress=False)
    frame = pd.DataFrame(rows)
    assert len(frame) == 4
    assert (frame["Step"] == MONTHS).all()
    for _, row in frame.iterrows():
        expected = simulate(seed=int(row["seed"]), months=MONTHS,
                            facilitators__groups_per_facilitator=int(row["facilitators__groups_per_facilitator"]))
        for key in ("survival_12", "mean_member_income_rp", "cost_total_rp", "groups_funded"):
            assert row[key] == pytest.approx(expected[key]), key
    assert frame["survival_24"].isna().all()  # the run is shorter than the horizon


def test_batch_run_model_collects_monthly_reporters():
    model = BatchRunModel(seed=3, months=6, members__initial_inactive_share=0.3)
    while model.running:
        model.step()
    data = model.datacollector.get_model_vars_dataframe()
    assert len(data) == 6
    assert data["month"].tolist() == [1, 2, 3, 4, 5, 6]
    assert data["survival_12"].isna().all()  # shorter than the horizon
    assert data["groups_funded"].iloc[-1] == model.outcomes["groups_funded"]
    assert "monthly_inactive_member_share" in data.columns


def test_ema_simulate_accepts_numpy_and_gives_floats():
    out = ema_simulate(seed=np.int64(1), months=np.int64(MONTHS),
                       facilitators__groups_per_facilitator=np.int64(5), grants__equipment_rp=np.float64(1e6))
    assert all(isinstance(v, float) for v in out.values())
    assert math.isnan(out["survival_60"])
    reference = simulate(seed=1, months=MONTHS, facilitators__groups_per_facilitator=5, grants__equipment_rp=1e6)
    assert out["survival_12"] == pytest.approx(reference["survival_12"])


def test_ema_workbench_model_runs():
    ema = pytest.importorskip("ema_workbench")
    model = ema.Model("kube", function=ema_simulate)
    model.uncertainties = [ema.RealParameter("members__initial_inactive_share", 0.0, 0.4)]
    model.levers = [ema.IntegerParameter("facilitators__groups_per_facilitator", 5, 30)]
    model.constants = [ema.Constant("months", MONTHS), ema.Constant("seed", 1)]
    model.outcomes = [ema.ScalarOutcome("survival_12"), ema.ScalarOutcome("mean_member_income_rp")]
    experiments, outcomes = ema.perform_experiments(model, scenarios=2, policies=2,
                                                    evaluator=ema.SequentialEvaluator(model))
    assert len(experiments) == 4
    assert np.isfinite(outcomes["survival_12"]).all()
    assert ((outcomes["survival_12"] >= 0) & (outcomes["survival_12"] <= 1)).all()
