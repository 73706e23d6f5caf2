"""Golden numbers: the baseline at seed 7 over 96 months gives exactly the stored outcomes.

A change to any rule, parameter default or random draw moves these numbers. When the change is
meant, rewrite them with ``python scripts/refresh_golden.py`` (it prints what moved) and commit the
new file with the change.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load_refresh_script():
    spec = importlib.util.spec_from_file_location("refresh_golden", ROOT / "scripts" / "refresh_golden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_baseline_matches_the_golden_numbers():
    script = _load_refresh_script()
    stored = json.loads(script.GOLDEN.read_text(encoding="utf-8"))
    changed = script.differences(stored, script.compute())
    assert not changed, ("the baseline moved (run python scripts/refresh_golden.py if the change is meant):\n"
                         + "\n".join(changed))


def test_comparison_catches_a_change_in_the_last_digits():
    script = _load_refresh_script()
    stored = json.loads(script.GOLDEN.read_text(encoding="utf-8"))
    moved = json.loads(json.dumps(stored))
    moved["summary"]["survival"]["12"] *= 1 + 1e-8
    moved["monthly_totals"]["visits"] += 1
    assert script.differences(stored, moved) == [
        f"monthly_totals.visits: {stored['monthly_totals']['visits']!r} -> {moved['monthly_totals']['visits']!r}",
        f"summary.survival.12: {stored['summary']['survival']['12']!r} -> {moved['summary']['survival']['12']!r}",
    ]
    assert script.differences(stored, json.loads(json.dumps(stored))) == []
