"""Mesa agents whose state is one row of a column table of the model."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Self

import mesa
from mesa.agentset import _HardKeyAgentSet
from mesa.model import ModelSignals

if TYPE_CHECKING:
    from kube_sim.model.model import KubeModel
    from kube_sim.model.tables import Column


class RowAgent(mesa.Agent):
    """An agent that is one row of the model's table named by :attr:`table`.

    Args:
        model: The model.
        index: Row in the table.
    """

    table: str = ""

    def __init__(self, model: KubeModel, index: int, *, registered: bool = True) -> None:
        if registered:
            super().__init__(model)
        else:  # the attributes mesa.Agent.__init__ sets, in its order; create_rows registers the agent
            self.model = model
            self.unique_id: int | None = None
            self.pos = None
        self.index = index

    @classmethod
    def create_rows(cls, model: KubeModel, rows: Iterable[int]) -> list[Self]:
        """Create one agent per row, registered with the model as :class:`mesa.Agent` registers one.

        A national run makes close to a million members in its funding rounds; made one by one, most
        of its time goes to Mesa's per-agent registration (a signal, a log message and two set
        insertions each). When nothing listens for the model's "agent added" signal and the class
        keeps no data sets, the agents are made here with the same attributes and ids, in the same
        order, and added to the model's agent sets in one step each; otherwise one by one, as Mesa
        does (tests check both give the same model).

        Args:
            model: The model.
            rows: Rows in the class's table, one agent each, in order.

        Returns:
            The agents.
        """
        if not _registers_in_bulk(model, cls):
            return [cls(model, int(row)) for row in rows]
        rows = [int(row) for row in rows]
        first = model.agent_id_counter
        agents = [cls(model, row, registered=False) for row in rows]  # made by the class: compact in memory
        for uid, agent in enumerate(agents, start=first):
            agent.unique_id = uid
        model.agent_id_counter = first + len(agents)
        added = dict.fromkeys(agents)
        model._all_agents._agents.update(added)
        by_type = model._agents_by_type.get(cls)
        if by_type is None:
            model._agents_by_type[cls] = _HardKeyAgentSet(agents, random=model.random)
        else:
            by_type._agents.update(added)
        return agents


def _registers_in_bulk(model: KubeModel, cls: type[mesa.Agent]) -> bool:
    """Whether agents of ``cls`` may skip Mesa's one-by-one registration (nobody would notice)."""
    return (not getattr(cls, "_datasets", None) and getattr(model, "_batch_context", None) is None
            and ("agents", ModelSignals.AGENT_ADDED) not in getattr(model, "subscribers", {})
            and isinstance(getattr(model, "_all_agents", None), _HardKeyAgentSet)
            and isinstance(getattr(model, "_agents_by_type", None), dict))


def row_value(column: Column[Any], cast: Callable[[Any], Any]) -> property:
    """A read-only property giving the agent's value in ``column`` of its table.

    Args:
        column: The column, as declared on the table's class (its label and unit make the docstring).
        cast: Turns the numpy scalar into a Python value (``float``, ``bool``, an enum, ...).

    Returns:
        The property.
    """
    name = column.name

    def read(agent: RowAgent) -> Any:
        return cast(getattr(getattr(agent.model, agent.table), name)[agent.index])

    return property(read, doc=f"{column.describe()} ({column.unit}).")
