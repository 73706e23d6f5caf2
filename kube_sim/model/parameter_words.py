"""The parameters' words a planner reads: each parameter's name, unit and meaning, for the message catalogs.

A report or a brief names the parameters an experiment varied with their unit and meaning
(:func:`kube_sim.common.catalog.parameter_name` reads a name from its key), and translates
them where it shows them; the catalogs (:mod:`kube_sim.common.catalog`) take them from here.
"""

from __future__ import annotations

from kube_sim.common.catalog import parameter_name
from kube_sim.model.parameters import PARAMETER_SPECS


def parameter_messages() -> list[str]:
    """Every parameter's name, unit and meaning, in declaration order.

    Returns:
        The English messages.
    """
    out = []
    for key, spec in PARAMETER_SPECS.items():
        out.append(parameter_name(key))
        out.extend(text for text in (spec.unit, spec.doc) if text)
    return out
