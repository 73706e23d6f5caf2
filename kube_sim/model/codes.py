"""The model's codes: group stages, failure causes and event kinds. Plain enums, free of Mesa.

Tables store these as small integers; results store failure causes by name
(:data:`FAILURE_CAUSES`), so readers of saved results need no model import.
"""

from __future__ import annotations

from enum import IntEnum


class GroupStatus(IntEnum):
    """Stage of a group."""

    TRAINING = 0  # decreed and funded, being trained; business not started
    ACTIVE = 1  # business running
    FAILED = 2  # dissolved


class FailureCause(IntEnum):
    """Why a group failed (the first that applies, in this order of precedence)."""

    NONE = 0
    CONFLICT = 1  # a free-riding conflict left unresolved too long
    INACTIVE_MEMBERS = 2  # too few active members for too long
    LOW_COHESION = 3  # the group fell apart
    NO_CAPITAL = 4  # no stock and no cash to restock


FAILURE_CAUSES: tuple[str, ...] = tuple(cause.name.lower() for cause in FailureCause)
"""Failure cause names, indexed by :class:`FailureCause` code (``"none"`` first)."""


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
    FAILURE = 13  # value: cause code (see FailureCause)
    VILLAGE_HEAD_SETTLED = 14  # the village head settles a conflict
    COMPLAINT = 15  # members take an old conflict to the agency themselves
