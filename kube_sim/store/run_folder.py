"""Write one run's results to a folder, and read them back.

A run folder holds ``summary.json``, ``monthly`` and ``groups`` tables (Parquet and CSV),
``members.parquet``, ``events.parquet``, any figures, and ``manifest.json`` (versions, scenario,
every parameter, the district (name, file, content hash), seed, times, command line). Each file
is written whole or not at all (:func:`kube_sim.store.files.atomic_write`), so an interrupted run
never leaves a half-written file. The manifest is written first (``"finished": null``) and again
last, so a folder whose writing was cut short (a full disk) still says what it holds; a folder the
write created is removed again when the write fails. No statistics are computed here.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from kube_sim.common.i18n import N_
from kube_sim.common.provenance import environment, now_iso
from kube_sim.store.files import atomic_write, read_json, write_json
from kube_sim.store.lock import hold
from kube_sim.store.parts import PARQUET_OPTIONS

if TYPE_CHECKING:
    from kube_sim.experiments.scenario import Scenario
    from kube_sim.model.run import RunResult

SUMMARY_FILE = "summary.json"
MANIFEST_FILE = "manifest.json"


def write_table(frame: pd.DataFrame, folder: Path, stem: str, *, csv: bool = False) -> list[str]:
    """Write a table as ``<stem>.parquet`` (and ``<stem>.csv``), atomically.

    Args:
        frame: A tidy table (its index should already be a column or meaningless).
        folder: Output folder.
        stem: File name without extension.
        csv: Also write a CSV copy.

    Returns:
        The file names written.
    """
    names = [f"{stem}.parquet"]
    atomic_write(folder / names[0], lambda tmp: frame.to_parquet(tmp, index=False, **PARQUET_OPTIONS))
    if csv:
        names.append(f"{stem}.csv")
        atomic_write(folder / names[1], lambda tmp: frame.to_csv(tmp, index=False))
    return names


def write_figure(figure: Any, path: Path, dpi: int = 120) -> Path:
    """Save a matplotlib figure atomically (format from the file suffix).

    Args:
        figure: A matplotlib Figure.
        path: Final file path (``.png``, ``.pdf``, ``.svg``).
        dpi: Resolution for raster formats.

    Returns:
        ``path``.
    """
    fmt = path.suffix.lstrip(".") or "png"
    return atomic_write(path, lambda tmp: figure.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight"),
                        durable=False)


def _with_id(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Make the row id a column (``group``, ``member``) so the table is tidy in any format."""
    out = frame.copy()
    out.index.name = name
    return out.reset_index()


def write_run(result: RunResult, out_dir: str | Path, *, scenario: Scenario, seed: int, months: int,
              argv: list[str] | None = None, started: str | None = None,
              figures: dict[str, Any] | None = None) -> Path:
    """Write a run's tables, summary, figures and manifest to a folder.

    Args:
        result: The run's result.
        out_dir: Folder to write to (created if needed; files of the same name are replaced; held with
            :func:`kube_sim.store.lock.hold` while it is written).
        scenario: The scenario the run used.
        seed: The run seed.
        months: Months run.
        argv: The command line (default ``sys.argv``).
        started: When the run started (ISO 8601; default now).
        figures: ``{file name: matplotlib Figure}`` to save alongside, e.g. ``{"survival.png": fig}``.

    Returns:
        The output folder.

    Raises:
        FolderBusy: If another command is writing the folder.
        OSError: If a file cannot be written (the folder is removed again if this call created it).
    """
    started = started or now_iso()
    folder = Path(out_dir)
    created = not folder.exists()
    manifest: dict[str, Any] = {
        "environment": environment(),
        "scenario": {
            "name": scenario.name,
            "description": scenario.description,
            "path": str(scenario.path.resolve()) if scenario.path else None,
        },
        "overrides": scenario.overrides,
        "override_sources": scenario.sources,
        "parameters": scenario.params.to_dict(),
        "district": scenario.params.geography.record(),
        "seed": seed,
        "months": months,
        "started": started,
        "finished": None,
        "command": list(sys.argv if argv is None else argv),
        "files": [],
    }
    try:
        with hold(folder, manifest["command"]):
            write_json(folder / MANIFEST_FILE, manifest)  # first: a folder cut short still says what it is
            files = [write_json(folder / SUMMARY_FILE, result.summary).name]
            files += write_table(result.monthly.reset_index(drop=True), folder, "monthly", csv=True)
            files += write_table(_with_id(result.groups, "group"), folder, "groups", csv=True)
            files += write_table(_with_id(result.members, "member"), folder, "members")
            files += write_table(result.events.reset_index(drop=True), folder, "events")
            for name, figure in (figures or {}).items():
                files.append(write_figure(figure, folder / name).name)
            write_json(folder / MANIFEST_FILE, {**manifest, "finished": now_iso(), "files": files})
    except BaseException:
        if created:
            shutil.rmtree(folder, ignore_errors=True)  # nothing whole was kept: leave no folder behind
        raise
    return folder


def read_summary(run_dir: str | Path) -> dict[str, Any]:
    """Read a run folder's ``summary.json``.

    Args:
        run_dir: A folder written by :func:`write_run`.

    Returns:
        The run summary.

    Raises:
        InputError: If the file is missing or not a JSON object.
    """
    return read_json(Path(run_dir) / SUMMARY_FILE, N_("a run"))


def read_manifest(run_dir: str | Path) -> dict[str, Any]:
    """Read a run folder's ``manifest.json``.

    Args:
        run_dir: A folder written by :func:`write_run`.

    Returns:
        The manifest.

    Raises:
        InputError: If the file is missing or not a JSON object.
    """
    return read_json(Path(run_dir) / MANIFEST_FILE, N_("a run"))
