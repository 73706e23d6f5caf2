"""Column tables: the agents' state as numpy arrays (one row per agent), and segment helpers.

Members and groups are Mesa agents, but their state lives here, one array per attribute, so that a
monthly process (production, engagement, conflict) costs a few array operations for all agents
instead of a Python call per agent.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, ClassVar, overload

import numpy as np
import numpy.typing as npt


class Column[ScalarT: np.generic]:
    """One column of a :class:`ColumnTable`, declared once on the table's class with its meaning.

    On a table the column reads as a numpy array of ``dtype`` with one value per row (type checkers see
    ``numpy.typing.NDArray[dtype]``); on the table's class it reads as this declaration, whose unit and
    labels the app and the docs show.

    Args:
        dtype: numpy scalar type of the values.
        default: Value of a new row that is not given one.
        unit: Unit of the values (``"Rp"``, ``"months"``, ``"0-1"``, ``"code"``, ...).
        label: What the column holds, in a few words (English).
        label_id: The same in Bahasa Indonesia, where the app shows it.
        meaning: A longer explanation for the docs, when the label needs one.
        watched: Derived values depend on the column: its view is read-only, and every change goes
            through :meth:`ColumnTable.assign` (or :meth:`ColumnTable.append`).
    """

    def __init__(self, dtype: type[ScalarT], default: object, *, unit: str, label: str, label_id: str = "",
                 meaning: str = "", watched: bool = False) -> None:
        self.dtype = dtype
        self.default = default
        self.unit = unit
        self.label = label
        self.label_id = label_id
        self.meaning = meaning
        self.watched = watched
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    # A table keeps each column's current view in its instance dictionary, which shadows this
    # (non-data) descriptor: reading a column costs a plain attribute look-up.
    @overload
    def __get__(self, table: None, owner: type | None = None) -> Column[ScalarT]: ...

    @overload
    def __get__(self, table: ColumnTable, owner: type | None = None) -> npt.NDArray[ScalarT]: ...

    def __get__(self, table: ColumnTable | None, owner: type | None = None) -> Column[ScalarT] | npt.NDArray[ScalarT]:
        if table is None:
            return self
        raise AttributeError(f"column {self.name!r} has no view yet")  # views are set in ColumnTable.__init__

    if TYPE_CHECKING:  # in-place operators (``table.hours += x``) write the view back; at run time the
        # instance dictionary takes it, so the descriptor stays a non-data one.
        def __set__(self, table: ColumnTable, value: npt.NDArray[ScalarT]) -> None: ...

    def describe(self) -> str:
        """The column's meaning in one phrase, capitalised: its meaning, or its label when it has none."""
        text = self.meaning or self.label
        return text[:1].upper() + text[1:]

    def __repr__(self) -> str:
        return f"Column({self.name}: {np.dtype(self.dtype).name}, {self.unit}, {self.label!r})"


class ColumnTable:
    """A growable table of named numpy columns, accessed as attributes, with values derived from them.

    A subclass declares its columns as class attributes, each a :class:`Column`::

        class Ledger(ColumnTable):
            cash = Column(np.float64, 0.0, unit="Rp", label="Cash")

    Each column is a view of the first ``size`` rows of a buffer with spare capacity, so appending
    rows costs amortised O(rows added). Views are replaced on every append: do not keep a column
    across an append.

    Values computed from the table (say, the rows of members still in a group) can be kept with
    :meth:`derived` until the table changes. The columns they depend on are *watched*: their views
    are read-only, so every change goes through :meth:`assign` or :meth:`append`, which forget the
    derived values. No caller has to remember to do it.

    Attributes:
        columns: The declared columns by name, in declaration order (a class attribute).
        size: Number of rows.
    """

    columns: ClassVar[dict[str, Column[Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        columns: dict[str, Column[Any]] = {}
        for klass in reversed(cls.__mro__):
            columns.update({name: value for name, value in vars(klass).items() if isinstance(value, Column)})
        clashes = sorted(set(columns) & {*dir(ColumnTable), "size"})
        if clashes:
            raise TypeError(f"{cls.__name__}: column names {clashes} clash with ColumnTable's own attributes")
        cls.columns = columns

    def __init__(self) -> None:
        self._watched = frozenset(name for name, column in self.columns.items() if column.watched)
        self._buffers = {name: np.empty(0, dtype=column.dtype) for name, column in self.columns.items()}
        self._derived: dict[Hashable, Any] = {}
        self.size = 0
        self._refresh_views()

    def _refresh_views(self) -> None:
        views = self.__dict__
        for name, buffer in self._buffers.items():
            view = buffer[: self.size]
            if name in self._watched:
                view.flags.writeable = False
            views[name] = view

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
        unknown = set(values) - set(self.columns)
        if unknown:
            raise KeyError(f"unknown columns {sorted(unknown)}")
        start, end = self.size, self.size + n
        for name, column in self.columns.items():
            buffer = self._buffers[name]
            if end > len(buffer):
                grown = np.empty(max(end, 2 * len(buffer), 64), dtype=column.dtype)
                grown[:start] = buffer[:start]
                self._buffers[name] = buffer = grown
            buffer[start:end] = values.get(name, column.default)
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
    running = np.empty(len(order), dtype=float)
    if len(order) == 0:
        return running
    sorted_segments = segments[order]
    # Each segment's total is summed from its own first item (one row of a grid per segment), so it
    # does not depend on what other segments hold: the same in a run alone and in a batch of runs.
    position = np.arange(len(order)) - segment_starts(sorted_segments)
    segment_row = np.concatenate([[0], np.cumsum(np.diff(sorted_segments) != 0)])
    grid = np.zeros((int(segment_row[-1]) + 1, int(position.max()) + 1))
    grid[segment_row, position] = amounts[order]
    running[order] = np.cumsum(grid, axis=1)[segment_row, position]
    return running
