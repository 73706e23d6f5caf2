"""Part files: one file per finished run and table, written while a sweep runs.

A part is an Arrow IPC file (quick to write and to read back): ``parts/<table>/run-000012.arrow``
under the results folder. A run counts as finished when its ``parts/runs`` file exists; that file is
written last. Parts stay until every run of the sweep is done and consolidated, so while a sweep is
unfinished its parts hold every finished run.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa

from kube_sim.store.files import TEMPORARY_GLOB, write_bytes

TABLES: tuple[str, ...] = ("runs", "groups", "monthly")
"""The tables of a sweep; ``runs`` is the one whose part marks a run as finished."""
PARTS_DIR = "parts"
PART_PATTERN = re.compile(r"^run-(\d+)\.arrow$")

PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd"}
"""Options of the Parquet tables (consolidated sweep tables and run folders)."""
PART_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")
"""Options of the per-run part files of groups and monthly rows (Arrow IPC, LZ4)."""
PART_OPTIONS_PLAIN = pa.ipc.IpcWriteOptions(compression=None)
"""Options of the one-row part files of the runs table (uncompressed: quicker to read)."""


def to_part_bytes(table: pa.Table, compress: bool = True) -> bytes:
    """Serialise one run's rows as an Arrow IPC file.

    Args:
        table: An Arrow table.
        compress: LZ4-compress the columns (worth it for many rows; not for one).

    Returns:
        The file's bytes.
    """
    sink = io.BytesIO()
    options = PART_OPTIONS if compress else PART_OPTIONS_PLAIN
    with pa.ipc.new_file(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return sink.getvalue()


def read_part(path: str | os.PathLike[str]) -> pa.Table:
    """Read a part file written from :func:`to_part_bytes`.

    Args:
        path: The file.

    Returns:
        Its table.
    """
    with pa.OSFile(os.fspath(path), "rb") as source:
        return pa.ipc.open_file(source).read_all()


def part_path(folder: Path, table: str, run_id: int) -> Path:
    """Path of one run's part file of a table.

    Args:
        folder: The results folder.
        table: One of :data:`TABLES`.
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
        runs: The run's row (from :func:`to_part_bytes`).
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


def part_ids(folder: Path, table: str) -> list[int]:
    """Runs with a part file of a table, in run order.

    Args:
        folder: The results folder.
        table: One of :data:`TABLES`.

    Returns:
        Their run ids, sorted.
    """
    directory = folder / PARTS_DIR / table
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
    return set(part_ids(folder, "runs"))


def concat_parts(parts: Iterable[pa.Table], schema: pa.Schema | None = None) -> pa.Table | None:
    """Stack part tables, casting to ``schema`` (the first part's) where their types differ.

    A part may differ in type from another when a column is all null in it.

    Args:
        parts: Non-empty part tables, in run order.
        schema: Schema to cast to when the types differ (default: the first part's).

    Returns:
        One table, or None when there are no parts.
    """
    parts = list(parts)
    if not parts:
        return None
    try:
        return pa.concat_tables(parts)
    except pa.ArrowInvalid:
        target = schema or parts[0].schema
        return pa.concat_tables([t.cast(target) for t in parts])


def read_parts(folder: Path, table: str) -> pa.Table | None:
    """Every finished run's rows of a table, in run order, read without changing the folder.

    Args:
        folder: The results folder.
        table: One of :data:`TABLES`.

    Returns:
        The rows, or None when the table has no non-empty part.
    """
    parts = (read_part(part_path(folder, table, run_id)) for run_id in part_ids(folder, table))
    return concat_parts(p for p in parts if p.num_rows)


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
            for path in directory.glob(TEMPORARY_GLOB):
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def remove_parts(folder: Path) -> None:
    """Delete the part files (after consolidation of a finished sweep).

    Args:
        folder: The results folder.
    """
    shutil.rmtree(folder / PARTS_DIR, ignore_errors=True)
