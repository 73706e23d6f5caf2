"""The page's one-click exports hold the exact numbers of the table they come from, and say what they are."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from PIL import Image

from kube_sim.app.charts import ARM_COLOURS
from kube_sim.app.compare import COMPARED_OUTCOMES, paired_replications
from kube_sim.app.exports import REPLICATION_COLUMNS, csv_bytes, file_name, replication_table, xlsx_bytes
from kube_sim.model.parameters import Parameters, make_parameters

INPUTS = ("baseline", "ratio_1_5", 1, 24, "polewali_mandar")


def _table() -> pd.DataFrame:
    return paired_replications(Parameters(), make_parameters({"facilitators.groups_per_facilitator": 5}),
                               seeds=[1, 2, 3], months=24)


def test_the_csv_and_the_workbook_hold_the_tables_exact_numbers():
    table = _table()
    frame = replication_table(INPUTS, table, {"survival_12": "Survival at 12 months"})
    assert list(frame.columns) == list(REPLICATION_COLUMNS)
    assert list(frame["outcome"]) == list(COMPARED_OUTCOMES)
    assert frame.loc[0, "label"] == "Survival at 12 months" and frame.loc[1, "label"] == "survival_24"
    assert (frame["scenario_b"] == "ratio_1_5").all() and (frame["months"] == 24).all()
    from_csv = pd.read_csv(io.BytesIO(csv_bytes(frame)))
    sheet = load_workbook(io.BytesIO(xlsx_bytes(frame))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == list(REPLICATION_COLUMNS)
    for column in ("mean_a", "mean_b", "diff", "low", "high"):
        exact = table[column].to_numpy(dtype=float)
        np.testing.assert_allclose(from_csv[column].to_numpy(dtype=float), exact, rtol=1e-12, equal_nan=True)
        from_sheet = np.array([np.nan if r[REPLICATION_COLUMNS.index(column)] is None
                               else r[REPLICATION_COLUMNS.index(column)] for r in rows[1:]], dtype=float)
        np.testing.assert_allclose(from_sheet, exact, rtol=1e-12, equal_nan=True)
    assert all(isinstance(r[REPLICATION_COLUMNS.index("n")], int) for r in rows[1:])


def test_file_names_say_what_the_file_holds_and_are_safe():
    assert file_name("kube-replications", INPUTS, ".csv") == \
        "kube-replications_baseline_vs_ratio_1_5_seed1_24m_polewali_mandar.csv"
    odd = ("a b", "c/d", 3, 36, "/tmp/my district.csv")
    name = file_name("kube-charts", odd, ".png")
    assert "/" not in name and " " not in name and name.endswith(".png")
    assert file_name("kube-charts", None, ".png") == "kube-charts.png"


def test_projector_mode_lives_in_the_address_and_keeps_its_other_parameters():
    page = pytest.importorskip("kube_sim.app.page")
    assert page.projector_on("projector=1") and page.projector_on("a=2&projector=1")
    assert not page.projector_on(None) and not page.projector_on("") and not page.projector_on("projector=10")
    assert page.projector_address("/", None, True) == "/?projector=1"
    assert page.projector_address("/", "a=2", True) == "/?a=2&projector=1"
    assert page.projector_address("/", "a=2&projector=1", False) == "/?a=2"
    assert page.projector_address("", "projector=1", False) == "/"
    for search in (None, "a=2", "projector=1"):  # on then off is where it started, less the switch
        on = page.projector_address("/", search, True).partition("?")[2]
        assert page.projector_on(on)
        assert not page.projector_on(page.projector_address("/", on, False).partition("?")[2])


def test_the_saved_charts_picture_shows_every_arm_at_its_month():
    page = pytest.importorskip("kube_sim.app.page")
    from kube_sim.app import state

    snaps = []
    for scenario in ("baseline", "ratio_1_5"):
        model = state.build_model(state.Settings(scenario=scenario, seed=2))
        for _ in range(14):
            model.step()
        snaps.append(state.snapshot(model, -1, "en"))
    png = page.charts_png(["A: Baseline", "B: 1:5"], snaps, "en")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (1080, 432)
    pixels = np.asarray(image.convert("RGB")).reshape(-1, 3)
    for colour in ARM_COLOURS:  # both arms' lines are drawn
        rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(pixels - rgb).sum(axis=1) < 30).sum() > 200, colour
    one_arm = page.charts_png(["A: Baseline"], snaps[:1], "en")
    assert one_arm != png
