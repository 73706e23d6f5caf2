"""The charts keep their panels as a picture and redraw only the lines, and look as if drawn whole."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from kube_sim.app import state
from kube_sim.app.charts import SeriesChart, round_up


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)


def _arms(model):
    return [("A", state.monthly_series(model), state.survival_curve(model))]


@pytest.fixture(scope="module")
def models():
    model = state.build_model(state.Settings())
    seen = []
    for month in range(1, 31):
        model.step()
        if month in (3, 4, 5, 13, 30):
            seen.append(_arms(model))
    return seen


def test_a_month_that_leaves_the_axes_redraws_only_the_lines_and_matches_a_whole_drawing(models):
    chart = SeriesChart(["A"])
    chart.update(models[0])
    chart.png()
    chart.update(models[1])
    quick = chart.png()
    whole = SeriesChart(["A"])
    whole.update(models[1])
    drawn = whole.png()
    assert whole.full_draws == 1
    assert chart.full_draws in (1, 2)  # 2 only if month 4 moved a value axis
    assert _pixels(quick).shape == _pixels(drawn).shape
    assert np.array_equal(_pixels(quick), _pixels(drawn))


def test_the_axes_move_in_whole_steps_and_always_hold_the_data(models):
    chart = SeriesChart(["A"])
    draws = []
    for arms in models:
        chart.update(arms)
        chart.png()
        draws.append(chart.full_draws)
        monthly = arms[0][1]
        for key in ("groups_running", "mean_member_income_rp"):
            if key in monthly:
                low, high = chart.axes[key].get_ylim()
                assert high >= monthly[key].max() and low <= max(0.0, monthly[key].min())
        assert chart.axes["groups_running"].get_xlim()[1] % 12 == 0
        assert chart.axes["groups_running"].get_xlim()[1] >= monthly.index.max()
    assert chart.axes["groups_running"].get_xlim() == (0.0, 36.0)
    assert draws[-1] > draws[0]  # month 13 and month 30 need longer axes


@pytest.mark.parametrize(("value", "expected"), [(0.7, 1.0), (1.0, 1.0), (1.01, 2.0), (2.3, 2.5), (3.0, 5.0),
                                                 (7.0, 10.0), (1234.0, 2000.0), (0.0021, 0.0025)])
def test_round_up(value, expected):
    assert round_up(value) == pytest.approx(expected)
