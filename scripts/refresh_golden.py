"""Rewrite the golden numbers that tests/test_golden.py pins: the baseline at seed 7 over 96 months.

The golden file holds the run's summary and the total of every monthly column. Any change to the
model's rules, parameters or random draws moves them and fails the test; when that change is meant,
rewrite the file with this script and commit it with the change. The script prints every number
that moved, old and new::

    python scripts/refresh_golden.py           # rewrite tests/golden/baseline_seed7.json
    python scripts/refresh_golden.py --check   # exit 1 if the numbers differ; write nothing
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "baseline_seed7.json"
"""Where the golden numbers are kept."""

SEED = 7
MONTHS = 96
RELATIVE_TOLERANCE = 1e-9
"""Numbers agree when they differ by less than this share (floating-point noise only)."""


def compute() -> dict[str, Any]:
    """Run the baseline at the golden seed and return the numbers to pin.

    Returns:
        ``{"seed", "months", "summary", "monthly_totals"}``, JSON-ready.
    """
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from kube_sim.model.run import run_model

    result = run_model(seed=SEED, months=MONTHS, scenario="baseline")
    totals = {column: float(result.monthly[column].sum(skipna=True)) for column in result.monthly.columns}
    return {"seed": SEED, "months": MONTHS, "summary": result.summary, "monthly_totals": totals}


def differences(old: Any, new: Any, path: str = "") -> list[str]:
    """List every value that differs between two golden records, as ``key: old -> new``.

    Args:
        old: The stored record (or part of it).
        new: The freshly computed record (or part of it).
        path: Dotted key of the part compared.

    Returns:
        One line per difference; empty when the records agree within :data:`RELATIVE_TOLERANCE`.
    """
    if isinstance(old, dict) and isinstance(new, dict):
        lines = []
        for key in sorted(set(old) | set(new), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in old:
                lines.append(f"{where}: (absent) -> {new[key]!r}")
            elif key not in new:
                lines.append(f"{where}: {old[key]!r} -> (absent)")
            else:
                lines += differences(old[key], new[key], where)
        return lines
    numbers = (int, float)
    if (isinstance(old, numbers) and isinstance(new, numbers) and not isinstance(old, bool)
            and not isinstance(new, bool)):
        same = math.isclose(old, new, rel_tol=RELATIVE_TOLERANCE, abs_tol=0.0) or (math.isnan(old) and math.isnan(new))
        return [] if same else [f"{path}: {old!r} -> {new!r}"]
    return [] if old == new else [f"{path}: {old!r} -> {new!r}"]


def main(argv: list[str] | None = None) -> int:
    """Rewrite the golden file, or with ``--check`` only report what differs.

    Args:
        argv: Command-line arguments (``sys.argv[1:]`` when None).

    Returns:
        The exit status: 0, or 1 when ``--check`` finds a difference.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the numbers differ; write nothing")
    args = parser.parse_args(argv)
    new = compute()
    old = json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else {}
    changed = differences(old, new)
    if args.check:
        print("\n".join(changed) if changed else f"{GOLDEN} matches the model")
        return 1 if changed else 0
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(json.dumps(new, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if changed:
        print(f"rewrote {GOLDEN}; {len(changed)} numbers changed:")
        print("\n".join(f"  {line}" for line in changed))
    else:
        print(f"rewrote {GOLDEN}; no number changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
