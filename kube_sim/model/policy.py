"""Mentoring patterns: how a facilitator chooses which of their groups to visit this month.

A pattern gives every group on a caseload a priority; each facilitator visits their groups in
priority order until their hours run out (:func:`within_hours`). Patterns are small classes named
by a string, so that a scenario file can choose one (``facilitators.pattern = "needs_based"``). A
new pattern is a new class registered in :data:`VISIT_PATTERNS`, not a new branch in the model.
What a visit then does is :func:`kube_sim.model.agents.facilitator.visit`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kube_sim.model.tables import cumulative_within

if TYPE_CHECKING:
    from kube_sim.model.parameters import FacilitatorParams


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

    @classmethod
    def from_params(cls, p: FacilitatorParams) -> VisitPattern:
        """Build the pattern from the ``facilitators`` parameter section.

        Args:
            p: Facilitator parameters.

        Returns:
            The pattern.
        """
        return cls()

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


@dataclass(frozen=True)
class NeedsBased(VisitPattern):
    """Visit where the need is greatest: open conflicts, inactive members, low cohesion, no capital.

    Waiting time counts too (by default a month of waiting weighs a third of an open conflict), so a
    group without urgent needs still gets its turn before it is forgotten.

    Attributes:
        conflict: Weight of an open conflict not yet escalated.
        inactive: Weight of the share of inactive members.
        low_cohesion: Weight of ``1 - cohesion``.
        no_stock: Weight of holding no stock.
        waiting: Weight of each month since the last visit.
    """

    conflict: float
    inactive: float
    low_cohesion: float
    no_stock: float
    waiting: float
    name = "needs_based"

    @classmethod
    def from_params(cls, p: FacilitatorParams) -> NeedsBased:
        """Take the weights from the ``facilitators.needs_weight_*`` parameters."""
        return cls(conflict=p.needs_weight_conflict, inactive=p.needs_weight_inactive,
                   low_cohesion=p.needs_weight_low_cohesion, no_stock=p.needs_weight_no_stock,
                   waiting=p.needs_weight_waiting)

    def priority(self, view: CaseloadView) -> np.ndarray:
        """Weighted need plus a weight on waiting time."""
        return (
            self.conflict * view.conflict_open
            + self.inactive * view.inactive_share
            + self.low_cohesion * (1.0 - view.cohesion)
            + self.no_stock * view.short_of_capital
            + self.waiting * view.months_since_visit
        )


VISIT_PATTERNS: dict[str, type[VisitPattern]] = {cls.name: cls for cls in (RoundRobin, NeedsBased)}
"""Patterns by the name scenario files use."""


def make_pattern(p: FacilitatorParams) -> VisitPattern:
    """Return the pattern ``facilitators.pattern`` names, built from the facilitator parameters.

    Args:
        p: Facilitator parameters.

    Returns:
        A pattern instance.

    Raises:
        KeyError: If no pattern has that name.
    """
    return VISIT_PATTERNS[p.pattern].from_params(p)


def within_hours(facilitator: np.ndarray, priority: np.ndarray, tiebreak: np.ndarray, hours_needed: np.ndarray,
                 hours_available: np.ndarray) -> np.ndarray:
    """Which groups each facilitator visits: in priority order while the hours used stay within their hours.

    The first group that does not fit ends the facilitator's month.

    Args:
        facilitator: Facilitator of each group on a caseload.
        priority: The pattern's priority of each group (highest first).
        tiebreak: Order among equal priorities (lowest first).
        hours_needed: Hours a visit to each group takes, travel included.
        hours_available: The month's hours of each group's facilitator.

    Returns:
        Boolean mask over the groups: visited or not.
    """
    return cumulative_within(facilitator, priority, tiebreak, hours_needed) <= hours_available + 1e-9
