"""The model's agents: members, groups, facilitators and the agency."""

from kube_sim.model.agents.agency import Agency
from kube_sim.model.agents.facilitator import Facilitator
from kube_sim.model.agents.group import Group
from kube_sim.model.agents.member import Member

__all__ = ["Agency", "Facilitator", "Group", "Member"]
