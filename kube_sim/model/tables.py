"""Column tables: the agents' state as numpy arrays (one row per agent), and segment helpers.

Members and groups are Mesa agents, but their state lives here, one array per attribute, so that a
monthly process (production, engagement, conflict) costs a few array operations for all agents
instead of a Python call per agent.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import numpy as np


class ColumnTable:
    """A growable table of named numpy columns, accessed as attributes, with values derived from them.

    Each column is a view of the first ``size`` rows of a buffer with spare capacity, so appending
    rows costs amortised O(rows added). Views are replaced on every append: do not keep a column
    across an append.

    Values computed from the table (say, the rows of members still in a group) can be kept with
    :meth:`derived` until the table changes. The columns they depend on are *watched*: their views
    are read-only, so every change goes through :meth:`assign` or :meth:`append`, which forget the
    derived values. No caller has to remember to do it.

    Args:
        schema: ``{column: (dtype, default)}``.
        watched: Columns that derived values depend on; written only through :meth:`assign`.
    """

    def __init__(self, schema: dict[str, tuple[Any, Any]], watched: tuple[str, ...] = ()) -> None:
        unknown = set(watched) - set(schema)
        if unknown:
            raise KeyError(f"unknown columns {sorted(unknown)}")
        self._schema = schema
        self._watched = frozenset(watched)
        self._buffers = {name: np.empty(0, dtype=dtype) for name, (dtype, _default) in schema.items()}
        self._derived: dict[Hashable, Any] = {}
        self.size = 0
        self._refresh_views()

    def _refresh_views(self) -> None:
        for name, buffer in self._buffers.items():
            view = buffer[: self.size]
            if name in self._watched:
                view.flags.writeable = False
            setattr(self, name, view)

    def append(self, n: int, **values: Any) -> np.ndarray:
        """Add ``n`` rows; unnamed columns take their defaults.

        Args:
            n: Number of rows to add.
            **values: Column values (scalars or arrays of length ``n``).

        Returns:
            The indices of the new rows.

        Raises:
            KeyError: If a value names an unknown column.
        """
        unknown = set(values) - set(self._schema)
        if unknown:
            raise KeyError(f"unknown columns {sorted(unknown)}")
        start, end = self.size, self.size + n
        for name, (dtype, default) in self._schema.items():
            buffer = self._buffers[name]
            if end > len(buffer):
                grown = np.empty(max(end, 2 * len(buffer), 64), dtype=dtype)
                grown[:start] = buffer[:start]
                self._buffers[name] = buffer = grown
            buffer[start:end] = values.get(name, default)
        self.size = end
        self._refresh_views()
        self._derived.clear()
        return np.arange(start, end)

    def assign(self, column: str, rows: np.ndarray, values: Any) -> None:
        """Write ``values`` into ``column`` at ``rows`` and forget every derived value.

        Args:
            column: Column name.
            rows: Row indices (or a boolean mask over rows).
            values: A scalar or one value per row.
        """
        self._buffers[column][: self.size][rows] = values
        self._derived.clear()

    def derived(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """Return the value kept under ``key``, computing it first if the table changed since.

        Args:
            key: What the value is (include anything outside the table it depends on).
            compute: Computes the value from the table's watched columns.

        Returns:
            The value.
        """
        if key not in self._derived:
            self._derived[key] = compute()
        return self._derived[key]


def segment_starts(sorted_segments: np.ndarray) -> np.ndarray:
    """Return, for each position of a sorted segment-id array, the position where its segment starts."""
    n = len(sorted_segments)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    boundaries = np.flatnonzero(np.diff(sorted_segments)) + 1
    starts = np.concatenate([[0], boundaries])
    lengths = np.diff(np.concatenate([starts, [n]]))
    return np.repeat(starts, lengths)


def order_within(segments: np.ndarray, priority: np.ndarray, tiebreak: np.ndarray) -> np.ndarray:
    """Order items by segment, then by priority (highest first), then by tiebreak (lowest first).

    Args:
        segments: Segment id of each item (e.g. its facilitator).
        priority: Priority of each item.
        tiebreak: Tiebreak key of each item.

    Returns:
        The permutation that sorts the items.
    """
    return np.lexsort((tiebreak, -priority, segments))


def rank_within(segments: np.ndarray, priority: np.ndarray, tiebreak: np.ndarray) -> np.ndarray:
    """Return each item's rank (0 = first) within its segment, by priority then tiebreak.

    Args:
        segments: Segment id of each item.
        priority: Priority of each item (highest ranks first).
        tiebreak: Tiebreak key (lowest ranks first).

    Returns:
        Integer ranks, aligned with the inputs.
    """
    order = order_within(segments, priority, tiebreak)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - segment_starts(segments[order])
    return rank


def cumulative_within(segments: np.ndarray, priority: np.ndarray, tiebreak: np.ndarray,
                      amounts: np.ndarray) -> np.ndarray:
    """Running total of ``amounts`` within each segment, in priority order, including the item itself.

    Used to fill a budget (a facilitator's hours, an agency's money) in priority order.

    Args:
        segments: Segment id of each item.
        priority: Priority of each item (highest first).
        tiebreak: Tiebreak key (lowest first).
        amounts: What each item costs.

    Returns:
        The running totals, aligned with the inputs.
    """
    order = order_within(segments, priority, tiebreak)
    sorted_amounts = amounts[order]
    total = np.cumsum(sorted_amounts)
    starts = segment_starts(segments[order])
    before_segment = total[starts] - sorted_amounts[starts]
    running = np.empty(len(order), dtype=float)
    running[order] = total - before_segment
    return running
