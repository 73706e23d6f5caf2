"""The README's examples are what the commands print (written by scripts/readme_figures.py)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("readme_figures", ROOT / "scripts" / "readme_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _block(name: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- {name}:start -->\n```\n(.*?)```\n<!-- {name}:end -->", text, re.S)
    assert match, f"README.md has no generated {name} block"
    return match.group(1)


def test_the_demo_in_the_readme_is_what_make_demo_prints(script):
    block = _block("demo")
    assert block == script.demo(), "README.md's demo is stale: run python scripts/readme_figures.py"
    # It opens with today, as every answer does, and counts households lifted out of poverty.
    assert block.splitlines()[1].startswith("Today (this run: baseline, Polewali Mandar")
    assert "Households lifted out of poverty:" in block


def test_the_planners_question_in_the_readme_is_what_compare_prints(script):
    block = _block("question")
    assert block == script.question(), "README.md's question is stale: run python scripts/readme_figures.py"
    assert block.count("Today (A: baseline") == 2 and block.count("per Rp 1 miliar (95% CI") >= 4
