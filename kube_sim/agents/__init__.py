"""The model's agents: members, groups, facilitators and the agency."""

from kube_sim.agents.agency import Agency
from kube_sim.agents.facilitator import Facilitator
from kube_sim.agents.group import FailureCause, Group, GroupStatus
from kube_sim.agents.member import Member

__all__ = ["Agency", "Facilitator", "FailureCause", "Group", "GroupStatus", "Member"]
