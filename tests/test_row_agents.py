"""Agents made in bulk are registered exactly as Mesa registers agents made one by one."""

from __future__ import annotations

import pytest
from mesa.model import ModelSignals

from kube_sim.model.agents import row_agent
from kube_sim.model.agents.group import Group
from kube_sim.model.agents.member import Member
from kube_sim.model.model import KubeModel
from kube_sim.model.parameters import make_parameters

SMALL = make_parameters({"district.villages": 4, "funding.rounds": 2})


def _registry(model: KubeModel) -> dict[str, list[tuple[str, int, int | None]]]:
    """Every agent the model knows, by type: (class, unique id, table row)."""
    seen = {"all": [(type(a).__name__, a.unique_id, getattr(a, "index", None)) for a in model.agents]}
    for cls, agents in model.agents_by_type.items():
        seen[cls.__name__] = [(type(a).__name__, a.unique_id, getattr(a, "index", None)) for a in agents]
    return seen


def _run(monkeypatch, bulk: bool) -> KubeModel:
    if not bulk:
        monkeypatch.setattr(row_agent, "_registers_in_bulk", lambda model, cls: False)
    model = KubeModel(SMALL, seed=5)
    for _ in range(14):
        model.step()
    monkeypatch.undo()
    return model


def test_bulk_and_one_by_one_registration_give_the_same_agents(monkeypatch):
    bulk = _run(monkeypatch, True)
    single = _run(monkeypatch, False)
    assert len(bulk.member_agents) > 0 and len(bulk.group_agents) > 0
    assert _registry(bulk) == _registry(single)
    assert bulk.agent_id_counter == single.agent_id_counter
    assert [m.unique_id for m in bulk.member_agents] == [m.unique_id for m in single.member_agents]
    assert all(a.model is bulk and a.pos is None for a in bulk.member_agents)
    assert bulk.agents_by_type[Member].random is bulk.random
    member = bulk.member_agents[3]
    assert member.index == 3 and member.group == int(bulk.members.group[3])
    member.remove()  # Mesa's own removal works on an agent registered in bulk
    assert member not in bulk.agents and member not in bulk.agents_by_type[Member]


def test_a_listener_for_new_agents_hears_every_one():
    heard = []

    def hear(signal):  # kept alive here: Mesa holds its listeners weakly
        heard.append(signal)

    model = KubeModel(SMALL, seed=5)
    model.observe("agents", ModelSignals.AGENT_ADDED, hear)
    for _ in range(14):
        model.step()
    assert len(model.member_agents) > 0
    assert len(heard) == len(model.member_agents) + len(model.group_agents) + len(model.facilitator_agents)


@pytest.mark.parametrize("cls", [Member, Group])
def test_bulk_registration_is_refused_where_mesa_would_do_more(cls):
    model = KubeModel(SMALL, seed=1)
    assert row_agent._registers_in_bulk(model, cls)
    def hear(signal):
        pass

    model.observe("agents", ModelSignals.AGENT_ADDED, hear)
    assert not row_agent._registers_in_bulk(model, cls)
