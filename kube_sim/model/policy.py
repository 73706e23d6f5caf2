"""Mentoring patterns: how a facilitator chooses which of their groups to visit this month.

A pattern gives every group on a caseload a priority; each facilitator visits their groups in
priority order until their hours run out. Patterns are small classes named by a string, so that a
scenario file can choose one (``facilitators.pattern = "needs_based"``). A new pattern is a new
class registered in :data:`VISIT_PATTERNS`, not a new branch in the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CaseloadView:
    """What a facilitator knows of each group on a caseload (aligned arrays)."""

    months_since_visit: np.ndarray
    inactive_share: np.ndarray
    conflict_open: np.ndarray
    cohesion: np.ndarray
    short_of_capital: np.ndarray


class VisitPattern:
    """Base class: a pattern turns a caseload view into visit priorities (higher first)."""

    name: str = ""

    def priority(self, view: CaseloadView) -> np.ndarray:
        """Return each group's priority.

        Args:
            view: The groups on the caseloads.

        Returns:
            One priority per group.
        """
        raise NotImplementedError


class RoundRobin(VisitPattern):
    """Visit the group that has waited longest; everyone's turn comes round."""

    name = "round_robin"

    def priority(self, view: CaseloadView) -> np.ndarray:
        """Longest wait first."""
        return view.months_since_visit.astype(float)


class NeedsBased(VisitPattern):
    """Visit where the need is greatest: open conflicts, inactive members, low cohesion, no capital.

    Waiting time counts too (a month of waiting weighs a third of an open conflict), so a group
    without urgent needs still gets its turn before it is forgotten.
    """

    name = "needs_based"

    def priority(self, view: CaseloadView) -> np.ndarray:
        """Weighted need plus a small weight on waiting time."""
        return (
            3.0 * view.conflict_open
            + 2.0 * view.inactive_share
            + 2.0 * (1.0 - view.cohesion)
            + 1.0 * view.short_of_capital
            + 1.0 * view.months_since_visit
        )


VISIT_PATTERNS: dict[str, type[VisitPattern]] = {cls.name: cls for cls in (RoundRobin, NeedsBased)}
"""Patterns by the name scenario files use."""


def make_pattern(name: str) -> VisitPattern:
    """Return the pattern registered under ``name``.

    Args:
        name: A key of :data:`VISIT_PATTERNS`.

    Returns:
        A pattern instance.

    Raises:
        KeyError: If no pattern has that name.
    """
    return VISIT_PATTERNS[name]()
