"""The page's one-click exports hold the exact numbers of the table they come from, and say what they are."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from openpyxl import load_workbook

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
