"""A sweep's results folder: per-run part files written as runs finish, consolidated tables, manifest.

Layout of ``results/<experiment>/``::

    manifest.json          versions, experiment, design, seeds, arms, times, counts
    runs.parquet           one row per run
    groups.parquet         one row per group per run
    monthly.parquet        one row per run and month
    parts/runs/run-000012.arrow        one file per finished run (while the sweep is unfinished),
    parts/groups/run-000012.arrow      as Arrow IPC: quick to write and to read back
    parts/monthly/run-000012.arrow

Every file is written under a temporary name and renamed into place, so a sweep killed at any moment
leaves only whole files. A run counts as finished when its ``parts/runs`` file exists; that file is
written last. Consolidation reads the parts in run order a batch at a time and streams them into the
three tables, so memory does not grow with the number of runs. When every run is done the parts are
removed.

Readers use :func:`load_runs`, :func:`load_groups`, :func:`load_monthly` and :func:`load_manifest`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kube_sim.experiments.rows import PARQUET_OPTIONS, read_part
from kube_sim.store.run_folder import atomic_write, dumps

TABLES: tuple[str, ...] = ("runs", "groups", "monthly")
MANIFEST_FILE = "manifest.json"
PARTS_DIR = "parts"
PART_PATTERN = re.compile(r"^run-(\d+)\.arrow$")
CONSOLIDATE_BATCH_BYTES = 2**21
"""Part-file bytes gathered before a write while consolidating (bounds the memory used)."""
CONSOLIDATE_BATCH_PARTS = 64
"""Parts gathered at most before a write (many one-row tables cost more than their bytes)."""


# --- writing ---------------------------------------------------------------------------------------

def write_bytes(path: Path, data: bytes) -> None:
    """Write a part file atomically: a temporary name in the same folder, then a rename.

    Only the sweep's driver writes parts, so a name made from its process id is its own.

    Args:
        path: Final path.
        data: Contents.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def part_path(folder: Path, table: str, run_id: int) -> Path:
    """Path of one run's part file of a table.

    Args:
        folder: The results folder.
        table: ``"runs"``, ``"groups"`` or ``"monthly"``.
        run_id: The run.

    Returns:
        ``folder/parts/<table>/run-<run_id>.arrow``.
    """
    return folder / PARTS_DIR / table / f"run-{run_id:06d}.arrow"


def write_part(folder: Path, run_id: int, runs: bytes, groups: bytes | None, monthly: bytes | None) -> None:
    """Save one finished run: its groups and monthly rows first, its runs row last (the commit).

    Args:
        folder: The results folder.
        run_id: The run.
        runs: The run's row (Arrow IPC bytes).
        groups: Its groups rows (None if it failed).
        monthly: Its monthly rows (None if it failed).
    """
    for table, data in (("groups", groups), ("monthly", monthly)):
        path = part_path(folder, table, run_id)
        if data is None:
            path.unlink(missing_ok=True)
        else:
            write_bytes(path, data)
    write_bytes(part_path(folder, "runs", run_id), runs)


def write_manifest(folder: Path, manifest: dict[str, Any]) -> Path:
    """Write ``manifest.json`` atomically.

    Args:
        folder: The results folder.
        manifest: JSON-able data.

    Returns:
        The manifest's path.
    """
    path = folder / MANIFEST_FILE
    text = dumps(manifest)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path


# --- parts -----------------------------------------------------------------------------------------

def _part_ids(directory: Path) -> list[int]:
    if not directory.is_dir():
        return []
    ids = []
    for entry in os.scandir(directory):
        match = PART_PATTERN.match(entry.name)
        if match:
            ids.append(int(match.group(1)))
    return sorted(ids)


def finished_run_ids(folder: Path) -> set[int]:
    """Runs whose rows are saved as parts.

    Args:
        folder: The results folder.

    Returns:
        Their run ids.
    """
    return set(_part_ids(folder / PARTS_DIR / "runs"))


def remove_stale_temporaries(folder: Path) -> int:
    """Delete temporary files left by a killed writer.

    Args:
        folder: The results folder.

    Returns:
        How many were removed.
    """
    removed = 0
    for directory in [folder, *(folder / PARTS_DIR / t for t in TABLES)]:
        if directory.is_dir():
            for path in directory.glob(".*.tmp"):
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def remove_parts(folder: Path) -> None:
    """Delete the part files (after consolidation of a finished sweep).

    Args:
        folder: The results folder.
    """
    shutil.rmtree(folder / PARTS_DIR, ignore_errors=True)


def consolidate_table(folder: Path, table: str, batch_bytes: int = CONSOLIDATE_BATCH_BYTES) -> int:
    """Stream one table's parts, in run order, into ``<table>.parquet``.

    Parts are gathered until their files hold ``batch_bytes`` (or
    :data:`CONSOLIDATE_BATCH_PARTS` parts), then written as one row group, so memory stays bounded
    however many runs there are. The table's schema is the first non-empty part's (in run order),
    so the result does not depend on the order in which runs finished. Empty parts add nothing.

    Args:
        folder: The results folder.
        table: ``"runs"``, ``"groups"`` or ``"monthly"``.
        batch_bytes: Part-file bytes gathered before a write.

    Returns:
        Rows written.
    """
    directory = folder / PARTS_DIR / table
    ids = _part_ids(directory)
    target = folder / f"{table}.parquet"
    rows = 0

    def write(tmp: Path) -> None:
        nonlocal rows
        writer: pq.ParquetWriter | None = None
        schema: pa.Schema | None = None
        pending: list[pa.Table] = []
        pending_bytes = 0

        def flush() -> None:
            nonlocal writer, rows, pending_bytes
            if not pending:
                return
            try:
                combined = pa.concat_tables(pending)
            except pa.ArrowInvalid:  # a part whose types differ (e.g. an all-null column): cast it
                combined = pa.concat_tables([t.cast(schema) for t in pending])
            if writer is None:
                writer = pq.ParquetWriter(tmp, combined.schema, **PARQUET_OPTIONS)
            writer.write_table(combined, row_group_size=max(combined.num_rows, 1))
            rows += combined.num_rows
            pending.clear()
            pending_bytes = 0

        try:
            for run_id in ids:
                path = part_path(folder, table, run_id)
                part = read_part(path)
                if part.num_rows == 0:
                    continue
                if schema is None:
                    schema = part.schema
                pending.append(part)
                pending_bytes += path.stat().st_size
                if pending_bytes >= batch_bytes or len(pending) >= CONSOLIDATE_BATCH_PARTS:
                    flush()
            flush()
            if writer is None:
                pq.write_table(pa.table({}), tmp)
        finally:
            if writer is not None:
                writer.close()

    atomic_write(target, write)
    return rows


def consolidate(folder: Path) -> dict[str, int]:
    """Consolidate every table of a results folder from its parts.

    Args:
        folder: The results folder.

    Returns:
        Rows written per table.
    """
    return {table: consolidate_table(folder, table) for table in TABLES}


# --- reading ---------------------------------------------------------------------------------------

def _load(folder: str | Path, table: str) -> pd.DataFrame:
    path = Path(folder) / f"{table}.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (is {folder} a sweep's results folder?)")
    return pd.read_parquet(path)


def load_runs(folder: str | Path) -> pd.DataFrame:
    """Read the runs table: one row per run, sorted by ``run_id``.

    Args:
        folder: A sweep's results folder.

    Returns:
        The table.

    Raises:
        FileNotFoundError: If ``runs.parquet`` is missing.
    """
    return _load(folder, "runs")


def load_groups(folder: str | Path) -> pd.DataFrame:
    """Read the groups table: one row per group per run (``duration_months`` and ``failed`` included).

    Args:
        folder: A sweep's results folder.

    Returns:
        The table.

    Raises:
        FileNotFoundError: If ``groups.parquet`` is missing.
    """
    return _load(folder, "groups")


def load_monthly(folder: str | Path) -> pd.DataFrame:
    """Read the monthly table: one row per run and month.

    Args:
        folder: A sweep's results folder.

    Returns:
        The table.

    Raises:
        FileNotFoundError: If ``monthly.parquet`` is missing.
    """
    return _load(folder, "monthly")


def load_manifest(folder: str | Path) -> dict[str, Any]:
    """Read ``manifest.json``.

    Args:
        folder: A sweep's results folder.

    Returns:
        The manifest.

    Raises:
        FileNotFoundError: If it is missing.
    """
    path = Path(folder) / MANIFEST_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (is {folder} a sweep's results folder?)")
    return json.loads(path.read_text(encoding="utf-8"))
