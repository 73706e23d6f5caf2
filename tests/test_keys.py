"""The parameter keys code names (:mod:`kube_sim.common.keys`): each a declared parameter, spelled out once."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kube_sim
from kube_sim.common import keys
from kube_sim.model.parameters import PARAMETER_SPECS

PACKAGE = Path(kube_sim.__file__).parent
REGISTRY = {PACKAGE / "model" / "parameters.py", PACKAGE / "common" / "keys.py"}
"""Where keys are written out: the registry of parameters, and the module of the keys code names."""

KEYS = {name: value for name, value in vars(keys).items() if name.isupper()}


@pytest.mark.parametrize("name", sorted(KEYS))
def test_every_key_names_a_declared_parameter(name):
    assert KEYS[name] in PARAMETER_SPECS, f"keys.{name} = {KEYS[name]!r} is not in PARAMETER_SPECS"


def test_keys_are_distinct():
    assert len(set(KEYS.values())) == len(KEYS)


def _key_literals() -> dict[str, set[str]]:
    """Each parameter key written as a whole string literal, by the modules that write it (outside the registry)."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path in REGISTRY:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in PARAMETER_SPECS:
                found.setdefault(node.value, set()).add(str(path.relative_to(PACKAGE)))
    return found


def test_no_module_spells_out_a_key_of_the_keys_module():
    literals = _key_literals()
    spelled = {value: sorted(literals[value]) for value in KEYS.values() if value in literals}
    assert not spelled, f"use kube_sim.common.keys instead of the strings: {spelled}"


def test_a_key_written_out_is_written_in_one_module_only():
    shared = {key: sorted(modules) for key, modules in _key_literals().items() if len(modules) > 1}
    assert not shared, f"add these keys to kube_sim.common.keys: {shared}"
