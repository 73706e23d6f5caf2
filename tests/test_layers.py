"""The package's layers and the direction of their imports.

``common`` holds shared pieces with no model; ``model`` knows nothing of files, sweeps or plots;
``store`` reads and writes results without the model; ``analysis`` and ``reporting`` work on saved
results and never import the model; ``experiments`` runs the model; ``cli`` and ``app`` sit on top;
``shipped`` only carries the scenario and experiment files.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import kube_sim

PACKAGE_DIR = Path(kube_sim.__file__).parent

ALLOWED: dict[str, set[str]] = {
    "common": {"common"},
    "shipped": {"shipped"},
    "model": {"common", "model"},
    "store": {"common", "store"},
    "analysis": {"common", "store", "analysis"},
    "reporting": {"common", "store", "analysis", "reporting"},
    "experiments": {"common", "model", "store", "analysis", "experiments"},
    "app": {"common", "model", "store", "analysis", "reporting", "experiments", "app"},
    "cli": {"common", "model", "store", "analysis", "reporting", "experiments", "app", "cli"},
}
"""Layer -> the kube_sim layers its modules may import (at run time)."""


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "kube_sim" else None


def _runtime_imports(path: Path, module: str) -> set[str]:
    """kube_sim modules imported by a source file, outside ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("kube_sim.")}


def _modules() -> list[tuple[str, Path]]:
    out = []
    for info in pkgutil.walk_packages([str(PACKAGE_DIR)], prefix="kube_sim."):
        spec = info.module_finder.find_spec(info.name, None)  # type: ignore[call-arg]
        if spec is not None and spec.origin:
            out.append((info.name, Path(spec.origin)))
    return out


def test_every_module_belongs_to_a_known_layer():
    layers = {_layer_of(name) for name, _ in _modules()} - {None}
    assert layers <= set(ALLOWED), f"modules outside the known layers: {layers - set(ALLOWED)}"
    assert {"model", "experiments", "analysis", "reporting", "cli", "store", "common"} <= layers


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_what_it_may(layer: str):
    wrong = []
    for module, path in _modules():
        if _layer_of(module) != layer:
            continue
        for imported in _runtime_imports(path, module):
            target = _layer_of(imported)
            if target is not None and target not in ALLOWED[layer] and imported != "kube_sim.__version__":
                wrong.append(f"{module} imports {imported}")
    assert not wrong, "\n".join(wrong)


def _loaded_after(statement: str) -> list[str]:
    code = f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_model_loads_nothing_of_files_sweeps_or_plots():
    loaded = _loaded_after("import kube_sim.model.model, kube_sim.model.run")
    outside = [m for m in loaded if _layer_of(m) not in (None, "model", "common")]
    assert "kube_sim.model.model" in loaded
    assert not outside, f"importing the model loaded {outside}"
    assert not any(m == "matplotlib" or m.startswith("matplotlib.") for m in loaded)


def test_analysis_and_reporting_never_load_the_model():
    statement = "; ".join(f"import {name}" for name, _ in _modules()
                          if _layer_of(name) in ("analysis", "reporting", "store"))
    loaded = _loaded_after(statement)
    assert any(_layer_of(m) == "analysis" for m in loaded)
    assert not [m for m in loaded if _layer_of(m) == "model"]
    assert "mesa" not in loaded
