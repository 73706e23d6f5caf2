"""The page's browser-drawn parts: the SVG charts and the district's data for its template."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from kube_sim.app import page, state, svg_charts
from kube_sim.app.charts import SeriesChart, axis_limits

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def arms():
    out = []
    for name, seed in (("A", 3), ("B", 4)):
        model = state.build_model(state.Settings(seed=seed))
        for _ in range(20):
            model.step()
        out.append((name, state.monthly_series(model), state.survival_curve(model)))
    return out


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(markup.replace("<svg ", f"<svg xmlns='{SVG[1:-1]}' ", 1))


def _points(polyline: ET.Element) -> np.ndarray:
    return np.array([[float(v) for v in p.split(",")] for p in polyline.get("points").split()])


def test_every_panel_is_valid_svg_with_one_line_per_arm_inside_its_frame(arms):
    for key in state.SERIES:
        root = _parse(svg_charts.panel_svg(key, arms, "en"))
        lines = root.findall(f"{SVG}polyline")
        assert {line.get("class").split()[-1] for line in lines} == {"kube-svg-arm-0", "kube-svg-arm-1"}
        for line in lines:
            xy = _points(line)
            assert (xy[:, 0] >= svg_charts.MARGIN_LEFT - 1e-6).all()
            assert (xy[:, 0] <= svg_charts.WIDTH - svg_charts.MARGIN_RIGHT + 1e-6).all()
            assert (xy[:, 1] >= svg_charts.MARGIN_TOP - 1e-6).all()
            assert (xy[:, 1] <= svg_charts.HEIGHT - svg_charts.MARGIN_BOTTOM + 1e-6).all()
        dashes = {line.get("stroke-dasharray") for line in lines}
        assert len(dashes) == 2  # arm B is dashed: the arms differ by more than colour


def test_a_line_maps_its_values_to_the_axes_the_png_export_uses(arms):
    key = "groups_running"
    (x0, x1), (y0, y1) = axis_limits(key, arms)
    chart = SeriesChart(["A", "B"])
    chart.update(arms)
    assert chart.axes[key].get_xlim() == (x0, x1) and chart.axes[key].get_ylim() == (y0, y1)
    root = _parse(svg_charts.panel_svg(key, arms[:1], "en"))
    xy = _points(root.find(f"{SVG}polyline"))
    data = arms[0][1][key]
    left, right = svg_charts.MARGIN_LEFT, svg_charts.WIDTH - svg_charts.MARGIN_RIGHT
    top, bottom = svg_charts.MARGIN_TOP, svg_charts.HEIGHT - svg_charts.MARGIN_BOTTOM
    back_x = x0 + (xy[:, 0] - left) / (right - left) * (x1 - x0)
    back_y = y0 + (bottom - xy[:, 1]) / (bottom - top) * (y1 - y0)
    tolerance_y = 0.05 / (bottom - top) * (y1 - y0) * 2
    np.testing.assert_allclose(back_x, data.index.to_numpy(dtype=float), atol=0.05 / (right - left) * (x1 - x0) * 2)
    np.testing.assert_allclose(back_y, data.to_numpy(dtype=float), atol=tolerance_y)


def test_missing_values_break_the_line_instead_of_joining_across():
    monthly = pd.DataFrame({"groups_running": [1.0, 2.0, np.nan, 4.0, 5.0]}, index=range(1, 6))
    root = _parse(svg_charts.panel_svg("groups_running", [("A", monthly, pd.Series(dtype=float))], "en"))
    assert [len(_points(line)) for line in root.findall(f"{SVG}polyline")] == [2, 2]


def test_tick_labels_follow_the_language():
    assert svg_charts.tick_text("groups_running", 12000.0, "en") == "12,000"
    assert svg_charts.tick_text("groups_running", 12000.0, "id") == "12.000"
    assert svg_charts.tick_text("survival", 0.25, "en") == "25%"
    ticks = svg_charts.ticks(0.0, 250.0)
    assert ticks[0] == 0.0 and ticks[-1] <= 250.0 and len(ticks) >= 3
    assert len(set(np.round(np.diff(ticks), 9))) == 1


def test_the_legend_names_every_arm(arms):
    markup = svg_charts.charts_html(["Baseline", "1:5"], arms, "en")
    assert "Baseline" in markup and "1:5" in markup
    assert markup.count("<svg class='kube-svg-panel") == len(state.SERIES)


def test_the_district_data_holds_every_group_once_with_its_state():
    model = state.build_model(state.Settings(seed=3))
    for _ in range(12):
        model.step()
    view = state.district_view(model)
    data = page.district_data(view)
    chips = [g for kec in data for village in kec["villages"] for g in village["groups"]]
    expected = [g for kec in view for village in kec.villages for g in village.groups]
    assert sorted(c["index"] for c in chips) == sorted(g.index for g in expected)
    assert len(chips) == model.groups.size
    by_index = {g.index: g for g in expected}
    for chip in chips:
        group = by_index[chip["index"]]
        assert chip["state"] == group.state and chip["unvisited"] == group.unvisited
        assert chip["colour"] == page.STATE_COLOURS[group.state]
