"""Part files: the rows of each finished batch of runs, one file per batch and table, written while a sweep runs.

A part is an Arrow IPC file (quick to write and to read back): ``parts/<table>/run-000012.arrow``
under the results folder holds the rows of one batch of runs (one run or many), named by its first
run. Its ``parts/runs`` file, one row per run of the batch, is written last and commits the batch:
a batch counts as finished when that file exists, and its ``groups`` and ``monthly`` parts count only
then (a writer killed in between leaves parts that no reader uses and a resumed sweep removes).
Parts stay until every run of the sweep is done and consolidated, so while a sweep is unfinished its
parts hold every finished run.

The runs of one part are in run order, but two parts may interleave (a resumed sweep's batch may
span runs saved before): :func:`committed_parts` says which runs each part holds, and
:func:`part_clusters` groups the parts whose runs interleave, so that readers give the rows in run
order holding only one cluster in memory at a time.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from kube_sim.store.files import TEMPORARY_GLOB, write_bytes

TABLES: tuple[str, ...] = ("runs", "groups", "monthly")
"""The tables of a sweep; ``runs`` is the one whose part commits a batch."""
PARTS_DIR = "parts"
PART_PATTERN = re.compile(r"^run-(\d+)\.arrow$")
RUN_ID = "run_id"
"""The column every part has: the run each row belongs to."""

PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd"}
"""Options of the Parquet tables (consolidated sweep tables and run folders)."""
PART_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")
"""Options of the part files of groups and monthly rows (Arrow IPC, LZ4)."""
PART_OPTIONS_PLAIN = pa.ipc.IpcWriteOptions(compression=None)
"""Options of the part files of the runs table (a row per run: uncompressed, quicker to read)."""


def to_part_bytes(table: pa.Table, compress: bool = True) -> bytes:
    """Serialise one batch's rows as an Arrow IPC file.

    Args:
        table: An Arrow table.
        compress: LZ4-compress the columns (worth it for many rows; not for a few).

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


def part_path(folder: Path, table: str, part_id: int) -> Path:
    """Path of one part file of a table.

    Args:
        folder: The results folder.
        table: One of :data:`TABLES`.
        part_id: The part's first run.

    Returns:
        ``folder/parts/<table>/run-<part_id>.arrow``.
    """
    return folder / PARTS_DIR / table / f"run-{part_id:06d}.arrow"


def write_part(folder: Path, part_id: int, runs: bytes, groups: bytes | None, monthly: bytes | None) -> None:
    """Save one finished batch: its groups and monthly rows first, its runs rows last (the commit).

    Args:
        folder: The results folder.
        part_id: The batch's first run.
        runs: The batch's rows of the runs table (from :func:`to_part_bytes`).
        groups: Its groups rows (None if it has none).
        monthly: Its monthly rows (None if it has none).
    """
    for table, data in (("groups", groups), ("monthly", monthly)):
        path = part_path(folder, table, part_id)
        if data is None:
            path.unlink(missing_ok=True)
        else:
            write_bytes(path, data)
    write_bytes(part_path(folder, "runs", part_id), runs)


def part_ids(folder: Path, table: str) -> list[int]:
    """Parts of a table on disk (committed or not), by their first run, in order.

    Args:
        folder: The results folder.
        table: One of :data:`TABLES`.

    Returns:
        Their part ids, sorted.
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


@dataclass(frozen=True)
class Part:
    """A committed part: its id (first run) and the runs it holds.

    Attributes:
        part_id: The name's number.
        run_ids: Its runs, in order.
    """

    part_id: int
    run_ids: tuple[int, ...]

    @property
    def first(self) -> int:
        """Its lowest run."""
        return self.run_ids[0] if self.run_ids else self.part_id

    @property
    def last(self) -> int:
        """Its highest run."""
        return self.run_ids[-1] if self.run_ids else self.part_id


def committed_parts(folder: Path) -> list[Part]:
    """Every committed part (one with a ``runs`` file), with its runs, ordered by its first run.

    Args:
        folder: The results folder.

    Returns:
        The parts.
    """
    found = []
    for part_id in part_ids(folder, "runs"):
        runs = read_part(part_path(folder, "runs", part_id)).column(RUN_ID).to_numpy()
        found.append(Part(part_id, tuple(int(r) for r in np.sort(runs))))
    return sorted(found, key=lambda p: (p.first, p.part_id))


def part_clusters(parts: list[Part]) -> Iterator[list[Part]]:
    """The parts in run order, gathered where their runs interleave (each cluster's runs follow the last's).

    Args:
        parts: From :func:`committed_parts` (ordered by first run).

    Yields:
        Lists of parts; most hold one part.
    """
    cluster: list[Part] = []
    reach = -1
    for part in parts:
        if cluster and part.first > reach:
            yield cluster
            cluster = []
        cluster.append(part)
        reach = max(reach, part.last)
    if cluster:
        yield cluster


def finished_run_ids(folder: Path) -> set[int]:
    """Runs whose rows are saved as parts.

    Args:
        folder: The results folder.

    Returns:
        Their run ids.
    """
    return {run for part in committed_parts(folder) for run in part.run_ids}


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


def cluster_rows(folder: Path, table: str, cluster: list[Part], schema: pa.Schema | None = None) -> pa.Table | None:
    """The rows of a table that a cluster of parts holds, in run order.

    Args:
        folder: The results folder.
        table: One of :data:`TABLES`.
        cluster: From :func:`part_clusters`.
        schema: Schema to cast to where the parts' types differ.

    Returns:
        The rows, or None when the cluster has none in this table.
    """
    tables = []
    for part in cluster:
        path = part_path(folder, table, part.part_id)
        if path.is_file():
            rows = read_part(path)
            if rows.num_rows:
                tables.append(rows)
    combined = concat_parts(tables, schema)
    if combined is None or len(tables) == 1:
        return combined
    return combined.sort_by(RUN_ID)  # a stable sort: each run's rows keep their order


def read_parts(folder: Path, table: str) -> pa.Table | None:
    """Every finished run's rows of a table, in run order, read without changing the folder.

    Args:
        folder: The results folder.
        table: One of :data:`TABLES`.

    Returns:
        The rows, or None when the table has no non-empty part.
    """
    chunks = (cluster_rows(folder, table, cluster) for cluster in part_clusters(committed_parts(folder)))
    return concat_parts(chunk for chunk in chunks if chunk is not None)


def remove_uncommitted(folder: Path) -> int:
    """Delete the groups and monthly parts of batches whose runs part was never written (a killed writer's).

    Args:
        folder: The results folder.

    Returns:
        How many were removed.
    """
    committed = set(part_ids(folder, "runs"))
    removed = 0
    for table in TABLES[1:]:
        for part_id in part_ids(folder, table):
            if part_id not in committed:
                part_path(folder, table, part_id).unlink(missing_ok=True)
                removed += 1
    return removed


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
