"""Mesa agents whose state is one row of a column table of the model."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import mesa

if TYPE_CHECKING:
    from kube_sim.model.model import KubeModel


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


def row_value(column: str, cast: Callable[[Any], Any], doc: str) -> property:
    """A read-only property giving the agent's value in ``column`` of its table.

    Args:
        column: Column name.
        cast: Turns the numpy scalar into a Python value (``float``, ``bool``, an enum, ...).
        doc: The property's docstring.

    Returns:
        The property.
    """
    def read(agent: RowAgent) -> Any:
        return cast(getattr(getattr(agent.model, agent.table), column)[agent.index])

    return property(read, doc=doc)
