"""Mesa agents whose state is one row of a column table of the model."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import mesa

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

    def __init__(self, model: KubeModel, index: int) -> None:
        super().__init__(model)
        self.index = index


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
