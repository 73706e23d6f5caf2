"""What the page hands out in one click: the replication table as CSV or a workbook, the charts as PNG.

The tables here are tidy (one row per outcome) and hold the exact numbers, not the page's rounding;
every row names the inputs the numbers belong to (both arms, the seed, the months, the district), so a
file saved in class still says what it is a week later.
"""

from __future__ import annotations

import io

import pandas as pd

from kube_sim.store.files import safe_name

ReplicationInputs = tuple[str, str, int, int, str]
"""``(scenario A, scenario B, seed, months, district)``, as the page's replication table records them."""

REPLICATION_COLUMNS: tuple[str, ...] = ("outcome", "label", "n", "mean_a", "mean_b", "diff", "low", "high",
                                        "scenario_a", "scenario_b", "first_seed", "months", "district")
"""Columns of the exported replication table, in order."""


def replication_table(inputs: ReplicationInputs, table: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """The page's replication table as a tidy frame: one row per outcome with its inputs.

    Args:
        inputs: What the table was computed for.
        table: The table of :func:`kube_sim.app.compare.paired_replications` (``outcome, n, mean_a,
            mean_b, diff, low, high``; ``diff`` is B minus A, ``low``/``high`` its 95% paired interval).
        labels: Outcome key to the name the page shows (in the page's language).

    Returns:
        The frame, with the columns of :data:`REPLICATION_COLUMNS`.
    """
    scenario_a, scenario_b, seed, months, district = inputs
    frame = table[["outcome", "n", "mean_a", "mean_b", "diff", "low", "high"]].copy()
    frame.insert(1, "label", [labels.get(key, key) for key in frame["outcome"]])
    frame["n"] = frame["n"].astype(int)
    frame["scenario_a"] = scenario_a
    frame["scenario_b"] = scenario_b
    frame["first_seed"] = int(seed)
    frame["months"] = int(months)
    frame["district"] = district
    return frame[list(REPLICATION_COLUMNS)].reset_index(drop=True)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as UTF-8 CSV (full precision, no index)."""
    return frame.to_csv(index=False).encode("utf-8")


def xlsx_bytes(frame: pd.DataFrame, sheet: str = "replications") -> bytes:
    """A frame as an Excel workbook of one sheet, numbers as numbers."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name=sheet[:31], index=False)
    return buffer.getvalue()


def file_name(stem: str, inputs: ReplicationInputs | None, suffix: str) -> str:
    """A file name that says what the file holds: ``kube-replications_baseline_vs_ratio_1_5_seed1_36m.csv``.

    Args:
        stem: What the file is (``"kube-replications"``, ``"kube-charts"``).
        inputs: The inputs it belongs to, when it has them.
        suffix: The extension, with its dot.

    Returns:
        The name, with only letters, digits, ``-``, ``_`` and ``.``.
    """
    parts = [stem]
    if inputs is not None:
        scenario_a, scenario_b, seed, months, district = inputs
        parts.append(f"{scenario_a}_vs_{scenario_b}_seed{seed}_{months}m")
        if district:
            parts.append(district)
    return safe_name("_".join(parts), "-") + suffix
