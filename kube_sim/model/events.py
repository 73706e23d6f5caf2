"""The per-group event log: visits, conflicts, purchases, sales, failure. Tells a group's story."""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class EventKind(IntEnum):
    """Kinds of group events. ``value`` carries an amount (Rp) or a detail code."""

    FUNDED = 0  # decree and UEP grant; value: grant (Rp)
    BUSINESS_START = 1  # value: units bought
    VISIT = 2  # value: facilitator index
    CONFLICT = 3  # a free-riding conflict opens
    MEDIATED = 4  # the facilitator settles it
    ESCALATED = 5  # the facilitator passes it to the agency
    AGENCY_SETTLED = 6  # the agency settles it
    SELF_SETTLED = 7  # the members settle it themselves
    SALE = 8  # value: revenue (Rp)
    PAYOUT = 9  # value: profit shared (Rp)
    EQUIPMENT_PURCHASE = 10  # value: price (Rp), bought from savings
    EQUIPMENT_GRANT = 11  # value: grant (Rp)
    FOLLOW_UP_SUPPORT = 12  # value: top-up (Rp)
    FAILURE = 13  # value: cause code (see kube_sim.model.agents.group.FailureCause)


class EventLog:
    """Append-only log of (month, group, kind, value), stored as one chunk per call."""

    def __init__(self) -> None:
        self._chunks: list[tuple[int, int, np.ndarray, np.ndarray | float]] = []
        self.count = 0

    def add(self, month: int, groups: np.ndarray, kind: EventKind, values: np.ndarray | float = 0.0) -> None:
        """Record one kind of event for many groups in one month.

        Args:
            month: The month of the events.
            groups: Group indices (the array is kept: do not change it afterwards).
            kind: The event kind.
            values: One value per group, or one for all.
        """
        n = len(groups)
        if n == 0:
            return
        if not np.isscalar(values):
            values = np.asarray(values, dtype=np.float64)
        self._chunks.append((month, int(kind), groups, values))
        self.count += n

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
