"""The per-group event log: visits, conflicts, purchases, sales, failure. Tells a group's story."""

from __future__ import annotations

import numpy as np

from kube_sim.model.codes import EventKind


class EventLog:
    """Append-only log of (month, group, kind, value), stored as one chunk per call."""

    def __init__(self) -> None:
        self._chunks: list[tuple[int, int, np.ndarray, np.ndarray | float]] = []

    def add(self, month: int, groups: np.ndarray, kind: EventKind, values: np.ndarray | float = 0.0) -> None:
        """Record one kind of event for many groups in one month.

        Args:
            month: The month of the events.
            groups: Group indices (the array is kept: do not change it afterwards).
            kind: The event kind.
            values: One value per group, or one for all.
        """
        if len(groups) == 0:
            return
        if not np.isscalar(values):
            values = np.asarray(values, dtype=np.float64)
        self._chunks.append((month, int(kind), groups, values))

    def __len__(self) -> int:
        """Calls recorded (chunks of events), which grows whenever an event is added."""
        return len(self._chunks)

    def arrays(self) -> dict[str, np.ndarray]:
        """Return the log as columns ``month, group, kind, value``, in the order recorded."""
        if not self._chunks:
            return {"month": np.empty(0, np.int16), "group": np.empty(0, np.int32),
                    "kind": np.empty(0, np.int8), "value": np.empty(0, np.float64)}
        sizes = np.array([len(groups) for _, _, groups, _ in self._chunks])
        return {
            "month": np.repeat(np.array([c[0] for c in self._chunks], dtype=np.int16), sizes),
            "group": np.concatenate([c[2] for c in self._chunks]).astype(np.int32),
            "kind": np.repeat(np.array([c[1] for c in self._chunks], dtype=np.int8), sizes),
            "value": np.concatenate([np.broadcast_to(np.asarray(c[3], dtype=np.float64), (len(c[2]),))
                                     for c in self._chunks]),
        }

    def for_group(self, group: int) -> list[tuple[int, str, float]]:
        """Return one group's events as ``(month, kind name, value)``, in time order.

        Args:
            group: The group index.

        Returns:
            The group's story.
        """
        a = self.arrays()
        rows = np.flatnonzero(a["group"] == group)
        return [(int(a["month"][i]), EventKind(int(a["kind"][i])).name.lower(), float(a["value"][i])) for i in rows]
