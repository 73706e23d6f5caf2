"""A sweep's results folder: part files written as batches of runs finish, consolidated tables, manifest.

Layout of ``results/<experiment>/``::

    manifest.json          versions, experiment, design, seeds, arms, times, counts
    runs.parquet           one row per run
    groups.parquet         one row per group per run
    monthly.parquet        one row per run and month
    parts/runs/run-000012.arrow        one file per finished batch of runs, named by its first run
    parts/groups/run-000012.arrow      (while the sweep is unfinished; see :mod:`kube_sim.store.parts`)
    parts/monthly/run-000012.arrow

Every file is written whole or not at all (:func:`kube_sim.store.files.atomic_write`), so a sweep
killed at any moment leaves only whole files. Consolidation reads the parts in run order a batch at a
time and streams them into the three tables, so memory does not grow with the number of runs. When
every run is done the parts are removed.

Readers use :func:`read_table` (or :func:`load_runs`) and :func:`load_manifest`; they read a
finished sweep's tables and an unfinished sweep's parts alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kube_sim.common.errors import InputError
from kube_sim.common.i18n import N_
from kube_sim.store.files import atomic_write, read_json, write_json
from kube_sim.store.parts import (
    PARQUET_OPTIONS,
    TABLES,
    cluster_rows,
    committed_parts,
    concat_parts,
    finished_run_ids,
    part_clusters,
    read_parts,
)

MANIFEST_FILE = "manifest.json"
CONSOLIDATE_BATCH_BYTES = 2**23
"""Bytes of part rows (in memory) gathered before a write while consolidating (bounds the memory used)."""
CONSOLIDATE_BATCH_PARTS = 64
"""Parts gathered at most before a write (many one-row tables cost more than their bytes)."""


def write_manifest(folder: Path, manifest: dict[str, Any]) -> Path:
    """Write ``manifest.json`` atomically.

    Args:
        folder: The results folder.
        manifest: JSON-able data.

    Returns:
        The manifest's path.
    """
    return write_json(folder / MANIFEST_FILE, manifest)


# --- consolidation ---------------------------------------------------------------------------------

def consolidate_table(folder: Path, table: str, batch_bytes: int = CONSOLIDATE_BATCH_BYTES) -> int:
    """Stream one table's committed parts, in run order, into ``<table>.parquet``.

    Parts (a cluster at a time where their runs interleave, see
    :func:`~kube_sim.store.parts.part_clusters`) are gathered until their rows hold ``batch_bytes`` in memory
    (or :data:`CONSOLIDATE_BATCH_PARTS` parts), then written as one row group, so memory stays
    bounded however many runs there are. The table's schema is the first non-empty part's (in run
    order), so the result does not depend on the order in which runs finished or how they were
    batched. Empty parts add nothing.

    Args:
        folder: The results folder.
        table: ``"runs"``, ``"groups"`` or ``"monthly"``.
        batch_bytes: Bytes of rows gathered before a write.

    Returns:
        Rows written.
    """
    clusters = list(part_clusters(committed_parts(folder)))
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
            combined = concat_parts(pending, schema)
            if combined is None:  # nothing pending
                return
            if writer is None:
                writer = pq.ParquetWriter(tmp, combined.schema, **PARQUET_OPTIONS)
            writer.write_table(combined, row_group_size=max(combined.num_rows, 1))
            rows += combined.num_rows
            pending.clear()
            pending_bytes = 0

        try:
            for cluster in clusters:
                part = cluster_rows(folder, table, cluster, schema)
                if part is None:
                    continue
                if schema is None:
                    schema = part.schema
                pending.append(part)
                pending_bytes += part.nbytes
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

def read_table(folder: str | Path, table: str) -> pd.DataFrame:
    """Read one table of a sweep: its finished runs' parts while the sweep is unfinished, else the table.

    Parts are kept until every run is done, so while any exist they hold every finished run (the
    consolidated table of an interrupted sweep may lag behind them).

    Args:
        folder: A sweep's results folder.
        table: ``"runs"``, ``"groups"`` or ``"monthly"``.

    Returns:
        The table, in run order (empty when no finished run has rows in it).

    Raises:
        FileNotFoundError: If the folder has neither parts nor ``<table>.parquet``.
    """
    folder = Path(folder)
    if finished_run_ids(folder):
        rows = read_parts(folder, table)
        return rows.to_pandas() if rows is not None else pd.DataFrame()
    path = folder / f"{table}.parquet"
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
        FileNotFoundError: If the folder holds no runs.
    """
    return read_table(folder, "runs")


def load_manifest(folder: str | Path) -> dict[str, Any]:
    """Read ``manifest.json``.

    Args:
        folder: A sweep's results folder.

    Returns:
        The manifest.

    Raises:
        FileNotFoundError: If it is missing.
        InputError: If it is unreadable, malformed or not a JSON object.
    """
    path = Path(folder) / MANIFEST_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (is {folder} a sweep's results folder?)")
    return read_json(path, N_("a sweep's results"))


def saved_runs(folder: str | Path) -> tuple[int, int | None, bool]:
    """How many runs a sweep's folder holds, how many its sweep has, and whether it finished.

    Args:
        folder: A sweep's results folder.

    Returns:
        ``(saved, total, finished)``: runs saved (parts, else rows of ``runs.parquet``), the sweep's runs
        (None when the manifest does not say), and whether the manifest records the sweep as finished.
    """
    folder = Path(folder)
    saved = len(finished_run_ids(folder))
    if not saved and (folder / "runs.parquet").is_file():
        try:
            saved = pq.read_metadata(folder / "runs.parquet").num_rows
        except (OSError, pa.ArrowException):
            saved = 0
    try:
        manifest = load_manifest(folder)
    except (FileNotFoundError, InputError):
        return saved, None, False
    total = manifest.get("runs_total")
    return saved, int(total) if isinstance(total, int) else None, bool(manifest.get("finished"))
